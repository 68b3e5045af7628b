"""`GET /brief/html|pdf?cities=Aleppo&cities=Mosul&as_of=…`: the city brief
(views/logic/brief.py), one printable page per city, as self-contained HTML or as PDF printed
by Debian's Chromium. The CLI's `brief` writes the same bytes (`brief_bytes`).

Briefs are cached per (cities, moment, data version, format) in a bounded LRU; a link that
cannot be made is a 400 in plain text, never a traceback."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from data_sources.settings import setting
from views.logic import brief as logic
from web import previews, render, routes, store
from web.images import ImageCache, link_params

LOG = logging.getLogger("situation_room.brief")
CACHE = ImageCache(size=16)
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _svg(figure, width: int, height: int) -> str:
    text = render.render(figure, "svg", width=width, height=height).decode("utf-8")
    return text[text.find("<svg") :]  # inline: no XML declaration


def brief_bytes(engine, cities: list[str], as_of, fmt: str, origin: str = "") -> bytes:
    """The brief as HTML or PDF bytes (BriefError: it cannot be made as asked). `origin`:
    where the live view is (PUBLIC_URL when not given), for the link printed on it."""
    origin = origin or (setting("PUBLIC_URL") or "").strip().rstrip("/")
    made = logic.build(engine, cities, as_of)
    document = logic.brief_html(made, _svg, origin)
    if fmt == "html":
        return document.encode("utf-8")
    return render.html_pdf(document)


def brief(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in MEDIA:
        return PlainTextResponse("A brief is /brief/html or /brief/pdf.", status_code=400)
    params = link_params(request)
    unknown = sorted(set(params) - {"cities", "as_of"})
    if unknown:
        return PlainTextResponse(
            f"Unknown parameter: {unknown[0][:40]!r} (a brief takes cities and as_of).",
            status_code=400,
        )
    cities = params.get("cities", [])
    as_of = (params.get("as_of") or [None])[0]
    host = request.headers.get("x-forwarded-host", request.headers.get("host", ""))
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    origin = previews.public_origin(scheme.split(",")[0].strip(), host.split(",")[0].strip(),
                                    routes.base_path())  # fmt: skip
    key = (tuple(cities), as_of, store.cache_version(), fmt, origin)
    body = CACHE.get(key)
    if body is None:
        try:
            body = brief_bytes(store.engine(), cities, as_of, fmt, origin)
        except logic.BriefError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        except render.RenderError as exc:
            LOG.warning("brief failed: %s", exc)
            return PlainTextResponse("The brief could not be drawn; try again.", status_code=503)
        CACHE.put(key, body)
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f'inline; filename="situation-room-brief.{fmt}"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            # the HTML brief runs nothing and loads nothing from elsewhere
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; font-src data:",
        },
    )


ROUTES = [Route("/brief/{fmt}", brief)]
