"""One job: the moment a view shows and the link to it. The as-of banner (which moment, how many
figures changed since, the way back to the latest) and *Copy link to this exact view*, whose
address holds every control of the page and the data version pinned."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from data_sources.store import asof
from data_sources.store.engine import database_url
from views import url_state
from views.cached import changed_since, newest_retrieval, oldest_retrieval
from views.text import safe


def as_of_banner() -> None:
    """In an as-of view: what moment, how many figures changed since, a way to the latest."""
    text = url_state.as_of_text()
    if text:
        moment = asof.parse_as_of(text)
        moved = changed_since(database_url(), text)
        st.info(
            f"As of {safe(asof.describe(moment), 80)}: the figures the store held then. "
            f"{moved:,} figure{'s have' if moved != 1 else ' has'} changed since.",
            icon=":material/history:",
        )
        first = oldest_retrieval(database_url())
        if first and moment < asof.parse_as_of(first):
            st.warning(
                f"Nothing to show as of this moment: the store's first figures were retrieved "
                f"{safe(asof.describe(asof.parse_as_of(first)), 80)}. An as-of moment is when "
                "figures were retrieved, not the period they describe: pick a moment after "
                "that, or see the latest.",
                icon=":material/history_toggle_off:",
            )
        if st.button("See the latest", key="as_of_latest", icon=":material/update:"):
            url_state.see_the_latest()
            st.rerun()


def copy_link() -> None:
    """The link to this exact view: drawn after the page ran, so it holds every control the
    page drew (defaults too, which the address itself leaves out), with the current data
    version pinned."""
    text = url_state.as_of_text()
    pinned = text or newest_retrieval(database_url())
    with st.sidebar.expander("Copy link to this exact view", icon=":material/link:"):
        if pinned:
            st.caption(
                "This link shows these very figures later too, even after new figures or "
                "revisions are stored (the figures as of "
                f"{safe(asof.describe(asof.parse_as_of(pinned)), 80)})."
            )
            st.code(pinned_link(pinned), language=None, wrap_lines=True)
        else:
            st.caption("The store holds no figures yet.")


def pinned_link(pinned: str) -> str:
    """The page's address with its parameters and `as_of` set to `pinned`."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    params.update(url_state.bound_values())
    params["as_of"] = [pinned]
    base = str(st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params, doseq=True)}"


def share_chart(page: str) -> None:
    """Under a page's chart: the chart as PNG, SVG and PDF (`/img/<page>.<fmt>`, the citation
    drawn on) and the `<iframe>` snippet of its embed (`/embed/<page>`), for this exact view
    with the data version pinned, as *Copy link to this exact view* pins it."""
    pinned = url_state.as_of_text() or newest_retrieval(database_url())
    if not pinned:
        return
    base, query = chart_addresses(pinned_link(pinned))
    row = st.container(horizontal=True)  # each button as wide as its label
    for fmt in ("png", "svg", "pdf"):
        row.link_button(fmt.upper(), f"{base}/img/{page}.{fmt}?{query}")
    with row.popover("Embed", icon=":material/code:"):
        st.caption("Paste on a web page: this chart, these figures, with its sources.")
        key = _private_key(page, query)
        if key is not None:
            query = f"{query}&{urlencode({'key': key})}"
        st.code(embed_snippet(f"{base}/embed/{page}?{query}"), language="html", wrap_lines=True)


def download_links(columns) -> None:
    """The Data page's CSV and HXL-tagged CSV as links to `/download/…` (web/downloads.py)
    for this exact view, as-of pinned: streamed from the database page by page, so a file of
    any size keeps the server's memory flat (a Streamlit download is built in memory)."""
    pinned = url_state.as_of_text() or newest_retrieval(database_url())
    if not pinned:
        return
    base, query = chart_addresses(pinned_link(pinned))
    for column, (label, name) in zip(
        columns,
        (("Download CSV", "figures.csv"), ("Download HXL-tagged CSV", "figures_hxl.csv")),
        strict=True,
    ):
        column.link_button(label, f"{base}/download/{name}?{query}", width="stretch")


def _private_key(page: str, query: str) -> str | None:
    """With sign-in, an `<iframe>` on another site sends no cookie: a signed-in viewer makes a
    key for this one view (web/embed_keys.py; revocable as the token "embed: …" in API
    tokens). None without sign-in, or until the key is made."""
    from urllib.parse import parse_qs

    from data_sources import roles
    from views import access

    if not access.auth_configured():
        return None
    role, owner = access.current_role(), str(access._user().get("email") or "")
    if role not in (roles.VIEWER, roles.EDITOR) or not owner:
        return None
    made = st.session_state.setdefault("_embed_keys", {})
    wanted = (page, query)
    if wanted not in made:
        st.caption(
            "This instance needs sign-in, and a page elsewhere sends none: make a key that "
            "opens this one view (these figures, nothing else) without signing in."
        )
        if not st.button("Make a private embed key", key=f"_embed_key_{page}"):
            return None
        from views.store_access import engine
        from web import embed_keys

        params = parse_qs(query, keep_blank_values=True)
        made[wanted] = embed_keys.make(engine(), owner, role, page, params)
    st.caption(
        "Anyone with this snippet sees this view. Revoke it under API tokens "
        "(“embed: …”) to close it."
    )
    return made[wanted]


def chart_addresses(link: str) -> tuple[str, str]:
    """A page's link (`https://host/base/trends?…`, or the default page's `https://host/base/`)
    as the app's root (`https://host/base`) and the link's query, for the image, embed and
    brief addresses beside the page."""
    from views.pages import url_paths

    address, _, query = link.partition("?")
    head, _, last = address.rstrip("/").rpartition("/")
    if address.endswith("/") or last not in url_paths():
        return address.rstrip("/"), query  # the default page is the root itself
    return head, query


def brief_buttons(place_ids: list[str]) -> None:
    """The printable brief of these places (`/brief/pdf|html`), at this view's moment."""
    pinned = url_state.as_of_text() or newest_retrieval(database_url())
    if not pinned or not place_ids:
        return
    root, _ = chart_addresses(pinned_link(pinned))
    query = urlencode({"cities": place_ids, "as_of": pinned}, doseq=True)
    with st.container(horizontal=True):  # each button as wide as its label
        st.link_button("Brief (PDF)", f"{root}/brief/pdf?{query}", icon=":material/print:")
        st.link_button("Brief (HTML)", f"{root}/brief/html?{query}")


def embed_snippet(src: str) -> str:
    from html import escape

    return (
        f'<iframe src="{escape(src)}" width="100%" height="620" '
        'style="border:0" loading="lazy" title="Situation Room chart"></iframe>'
    )
