"""Preview cards: a page's link fetched by a link unfurler (Slack, Teams, WhatsApp, an e-mail
client's proxy…) gets HTML with Open Graph and Twitter-card tags naming that view, instead of
Streamlit's empty shell, which every path shares and which only JavaScript fills in.

Unfurlers are told apart by their User-Agent (`UNFURLERS`); a browser, even one that says
nothing about itself, still gets the app. The card is the page's own view
(views/logic/figure_for.py, the same as /img/ and /embed/): its title, the newest figure per
place with its date and source, and `og:image`, the PNG of that exact view (/img/…), pinned
to the moment the figures are as of. With sign-in configured, the card names the view only:
no figure, no image.

Cards are cached per (origin, page, link, data version) in a bounded LRU; a new load is a new
version. Every text is escaped for HTML; nothing from the link becomes markup or a URL that
leaves this server."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from urllib.parse import parse_qsl, urlencode

from data_sources.settings import setting
from data_sources.store import asof
from views import escape, pages
from views.logic import figure_for
from web import access, routes, store
from web.images import ImageCache

LOG = logging.getLogger("situation_room.previews")
# the User-Agent words of link unfurlers and mail proxies (none runs a page's JavaScript)
UNFURLER_WORDS = (
    "Slackbot", "Slack-ImgProxy", "Twitterbot", "facebookexternalhit", "Facebot", "WhatsApp",
    "Discordbot", "TelegramBot", "LinkedInBot", "SkypeUriPreview", "MicrosoftPreview",
    "Iframely", "Embedly", "redditbot", "Mastodon", "Bluesky", "Applebot", "Pinterestbot",
    "vkShare", "Mattermost-Bot", "Rocket.Chat", "Google-PageRenderer", "Yahoo! Slurp",
)  # fmt: skip
UNFURLERS = re.compile("|".join(map(re.escape, UNFURLER_WORDS)), re.IGNORECASE)
SITE = "Situation Room"
CARDS = ImageCache(size=256)  # bounded: a stream of distinct links cannot grow it


def is_unfurler(user_agent: str) -> bool:
    return bool(UNFURLERS.search(user_agent or ""))


def page_for(path: str) -> pages.PageSpec | None:
    """The page a path (relative to the base path) addresses, if any: `/`, `/trends`, `/trends/`,
    an alias (`/overview`)."""
    name = path.strip("/")
    if not name or name in pages.ALIASES:
        return pages.DEFAULT
    return next((p for p in pages.PAGES if p.url_path == name), None)


def public_origin(scheme: str, host: str, base: str) -> str:
    """Where this app is reached, for the absolute links a card needs: PUBLIC_URL when the
    host set it (behind a proxy), else the request's own scheme and Host under the base path.
    A Host header that is no host name is refused (no link is printed from it)."""
    configured = (setting("PUBLIC_URL") or "").strip().rstrip("/")
    if configured:
        return configured
    if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:]+\](:\d{1,5})?", host or ""):
        return ""
    return f"{'https' if scheme == 'https' else 'http'}://{host}{base}"


def card(page: pages.PageSpec, params: dict[str, list[str]], origin: str) -> str:
    """The card's HTML for `page` at the link `params` (every value of every parameter)."""
    private = access.auth_configured()
    title, description, image, live = _content(page, params, origin, private)
    return _html(title, description, image, live)


def _content(page, params, origin: str, private: bool) -> tuple[str, str, str, str]:
    engine = store.engine()
    query = urlencode(params, doseq=True)
    # no origin (a Host header that is no host name): no link at all, not a relative one
    live = f"{origin}{page.address}" + (f"?{query}" if query else "") if origin else ""
    if page.url_path in figure_for.PAGES:
        try:
            view = figure_for.view_for(page.url_path, params, engine)
        except (figure_for.LinkError, figure_for.NothingToDraw) as exc:
            return f"{page.title} — {SITE}", str(exc), "", live
        pinned = urlencode(view.params, doseq=True)
        live = f"{origin}{page.address}?{pinned}" if origin else ""
        if private:
            return view.title, f"{SITE}: sign in to see the figures.", "", live
        moment = f"Figures as of {asof.describe(view.as_of)}." if view.as_of else ""
        sources = "; ".join(dict.fromkeys(r.title for r in view.sources))
        said = " · ".join(view.latest) or "No figures for this choice"
        description = f"{said}. {moment}" + (f" Sources: {sources}." if sources else "")
        image = f"{origin}/img/{page.url_path}.png?{pinned}" if origin else ""
        return view.title, description, image, live
    return f"{page.title} — {SITE}", SITE, "", live  # a page without a picture yet


def _html(title: str, description: str, image: str, live: str) -> str:
    e = html.escape
    title, description = escape.plain(title, 200), escape.plain(description, 600)
    tags = [
        ("og:site_name", SITE),
        ("og:type", "website"),
        ("og:title", title),
        ("og:description", description),
        ("twitter:card", "summary_large_image" if image else "summary"),
        ("twitter:title", title),
        ("twitter:description", description),
    ]
    if live:
        tags.append(("og:url", live))
    if image:
        tags += [("og:image", image), ("og:image:type", "image/png"), ("twitter:image", image)]
        tags.append(("og:image:alt", title))
    metas = "".join(
        f'<meta {"name" if k.startswith("twitter:") else "property"}="{e(k)}" content="{e(v)}">'
        for k, v in tags
    )
    link = f'<p><a href="{e(live)}">Open the view</a></p>' if live else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><meta name='description' content=\"{e(description)}\">"
        f"{metas}</head><body><h1>{e(title)}</h1><p>{e(description)}</p>{link}</body></html>"
    )


def _params(query_string: bytes) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


class PreviewMiddleware:
    """Answers an unfurler's GET of a page address with the card; everything else passes."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not is_unfurler(headers.get(b"user-agent", "")):
            return await self.app(scope, receive, send)
        base = routes.base_path()
        rel = routes.relative(scope["path"], base)
        page = page_for(rel) if rel is not None else None
        if page is None:
            return await self.app(scope, receive, send)
        params = _params(scope.get("query_string", b""))
        scheme = headers.get(b"x-forwarded-proto", scope.get("scheme", "http")).split(",")[0]
        host = headers.get(b"x-forwarded-host", headers.get(b"host", "")).split(",")[0].strip()
        origin = public_origin(scheme.strip(), host, base)
        try:
            body = await asyncio.to_thread(_cached_card, page, params, origin)
        except Exception as exc:  # noqa: BLE001 - a card never breaks the page: the app answers
            LOG.warning("preview card failed: %s", type(exc).__name__)
            return await self.app(scope, receive, send)
        payload = body.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"cache-control", b"private, max-age=300"),
                    (b"vary", b"User-Agent"),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload}
        )


def _cached_card(page: pages.PageSpec, params: dict[str, list[str]], origin: str) -> str:
    key = (
        origin,
        page.url_path,
        tuple((k, tuple(v)) for k, v in sorted(params.items())),
        store.cache_version(),
        access.auth_configured(),
    )
    found = CARDS.get(key)
    if found is None:
        found = card(page, params, origin)
        CARDS.put(key, found)
    return found
