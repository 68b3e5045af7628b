"""`GET /img/<page>.png|.svg|.pdf?<the page's link parameters>`: the chart a page draws for
that link, as an image that carries its own citation (title, unit, as-of moment, every
source's citation and licence), for reports and slides.

Images are cached per (page, the view's parameters in the page's own form, data version,
format), and per the link as given, in a bounded LRU: a new load of figures is a new version, so nothing stale is served,
and one popular view costs one render. A link the page would not draw as asked is a 400 in
plain text (never a traceback); a view without figures a 404."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from views.logic import figure_for
from web import render, store

LOG = logging.getLogger("situation_room.images")
MAX_IMAGES = 64
MEDIA = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


class ImageCache:
    """The newest `size` images, by key (bounded: a stream of distinct links cannot grow it)."""

    def __init__(self, size: int = MAX_IMAGES) -> None:
        self.size = size
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


CACHE = ImageCache()


def link_params(request: Request) -> dict[str, list[str]]:
    """Every value of every parameter, in the order the link gives them."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def linked_view(page: str, request: Request) -> figure_for.LinkedView | Response:
    """The page's view for the request's link, or the plain-text answer saying why not."""
    try:
        # a private embed's key (web/embed_keys.py) was checked by the middleware: not a choice
        params = {k: v for k, v in link_params(request).items() if k != "key"}
        return figure_for.view_for(page, params, store.engine())
    except figure_for.LinkError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    except figure_for.NothingToDraw as exc:
        return PlainTextResponse(str(exc), status_code=404)


def cache_key(view: figure_for.LinkedView, version: str, fmt: str) -> tuple:
    params = tuple(sorted((k, tuple(v)) for k, v in view.params.items()))
    return (view.page, params, version, fmt)


def image(request: Request) -> Response:
    page, fmt = request.path_params["page"], request.path_params["fmt"]
    if fmt not in MEDIA:
        return PlainTextResponse("Images are .png, .svg or .pdf.", status_code=400)
    version = store.cache_version()
    # the link as given: a repeat of it costs no query (the version read first, so a load
    # between here and the render files the image under the older version, never the newer)
    asked = ("link", page, tuple((k, tuple(v)) for k, v in sorted(link_params(request).items())))
    body = CACHE.get((*asked, version, fmt))
    if body is None:
        view = linked_view(page, request)
        if isinstance(view, Response):
            return view
        key = cache_key(view, version, fmt)
        body = CACHE.get(key)
        if body is None:
            try:
                figure = figure_for.printed(view)
                size = {"width": figure.layout.width, "height": figure.layout.height}
                body = render.render(figure, fmt, **size)
            except render.RenderError as exc:
                LOG.warning("chart image failed: %s", exc)
                return PlainTextResponse(
                    "The image could not be drawn; try again.", status_code=503
                )
            CACHE.put(key, body)
        CACHE.put((*asked, version, fmt), body)
    name = f"situation-room-{page}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            # an SVG opened on its own is a document: it may run nothing
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


ROUTES = [Route("/img/{page}.{fmt}", image)]
