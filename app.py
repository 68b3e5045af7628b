"""Situation Room: entry point. Navigation, the shared city picker, and the store on first start."""

import streamlit as st

from data_sources import roles
from views import access, common, pages, tokens_panel

st.set_page_config(page_title="Situation Room", page_icon="🛰️", layout="wide")
# st.dataframe's own "Download as CSV" (and clipboard copy) writes cells unguarded: a feed's
# `=HYPERLINK(…)` would run in a spreadsheet. Off, whatever config.toml is read; the app's own
# downloads are spreadsheet-safe (data_sources/formats/export.py).
st.set_option("client.disableDataExport", True)

PAGES = [
    st.Page(p.script, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
    for p in pages.PAGES
]  # the registry (views/pages.py); the default page is served at "/"
DEFAULT = PAGES[pages.PAGES.index(pages.DEFAULT)]


def _alias_link() -> None:
    """An old address of the default page (/overview) lands at "/", parameters kept."""
    # every value of a repeated parameter (`cities=A&cities=B`), not only the last one
    st.switch_page(DEFAULT, query_params={k: st.query_params.get_all(k) for k in st.query_params})


PAGES += [
    st.Page(_alias_link, title=pages.DEFAULT.title, url_path=alias, visibility="hidden")
    for alias in pages.ALIASES
]


def _open_store() -> None:
    """The first start loads the bundled snapshot; later starts reuse the store."""
    common.engine()
    common.start_run()  # the store's data version: every cached query of this run is for it
    common.begin_run()  # no widget has written its value to the URL yet
    common.translate_link(page)  # a link of an earlier form: reopened in today's form, once
    st.session_state["place_ids"] = common.selected_cities()


role = access.current_role()  # sign-in configured ([auth] in secrets): editor, viewer, ...
if role not in roles.CAN_SEE:
    # anonymous or refused: the sign-in page at every address (a deep link to /data too),
    # and nothing that opens the store or draws a figure
    GATE = [
        st.Page(
            access.sign_in_page,
            title="Sign in",
            url_path=path,
            default=path == pages.DEFAULT.url_path,
        )
        for path in pages.url_paths()
    ]
    st.navigation(GATE, position="hidden").run()
    st.stop()

page = st.navigation(PAGES)
if page.url_path in pages.ALIASES:
    page.run()  # to "/" with the link's parameters, before any widget binds one of them
access.sidebar(role)  # the signed-in name and "Sign out" (nothing for a local run)
store_ready = common.store_guard(_open_store)  # unreachable or foreign store: a plain message
if store_ready:
    common.store_guard(lambda: tokens_panel.sidebar(role))  # API tokens (sign-in configured)
st.sidebar.caption(
    "Situation Room shows figures as their sources published them, with a link "
    "to each. Figures disagree; the Compare sources page shows where."
)
if store_ready:
    common.watch_for_new_data()  # an open tab redraws by itself when new figures are stored
    common.store_guard(common.as_of_banner)  # as_of= in the link: which moment, and the way back
    if common.store_guard(page.run):
        common.store_guard(common.copy_link)  # after the page: the link holds all its parameters
common.show_link_problems()
