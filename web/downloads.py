"""`GET /download/figures.csv|figures_hxl.csv?<the Data page's link parameters>`: every
figure the Data page's filters select, as the page's CSV or HXL-tagged CSV, streamed page by
page from the database (`query.series_pages`, `export.stream_csv`): the same bytes as the
in-memory file and `export --format csv|hxl`, with the server's memory flat whatever the
size. A link the page would not open as asked is a 400 in plain text."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from data_sources.formats import export
from data_sources.store import query
from views.logic import figure_for, page_figures
from web import store
from web.images import link_params

FILES = {"figures.csv": False, "figures_hxl.csv": True}  # file -> HXL-tagged
ALL = page_figures.ALL


def figures(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in FILES:
        return PlainTextResponse("Downloads are figures.csv or figures_hxl.csv.", status_code=404)
    engine = store.engine()
    raw = link_params(request)
    try:
        _, when = figure_for.link_moment(raw, engine)
        choice = page_figures.data_choice(raw, engine, when)
    except figure_for.LinkError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    except figure_for.NothingToDraw as exc:
        return PlainTextResponse(str(exc), status_code=404)
    pages = query.series_pages(
        engine,
        choice.place_ids,
        None if choice.metric == ALL else choice.metric,
        sources=None if choice.source == ALL else [choice.source],
        as_of=when,
        window=choice.days,
    )
    saved = "situation_room_hxl.csv" if FILES[name] else "situation_room.csv"
    return StreamingResponse(
        export.stream_csv(pages, hxl=FILES[name]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{saved}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES = [Route("/download/{name}", figures)]
