"""Situation Room: entry point. Navigation, the shared city picker, and the store on first start."""

import streamlit as st

from data_sources import roles
from views import access, common

st.set_page_config(page_title="Situation Room", page_icon="🛰️", layout="wide")
# st.dataframe's own "Download as CSV" (and clipboard copy) writes cells unguarded: a feed's
# `=HYPERLINK(…)` would run in a spreadsheet. Off, whatever config.toml is read; the app's own
# downloads are spreadsheet-safe (data_sources/formats/export.py).
st.set_option("client.disableDataExport", True)

OVERVIEW = st.Page(
    "views/overview.py",
    title="Overview",
    icon=":material/dashboard:",
    url_path="home",  # served at "/" as the default page; /overview is the alias below
    default=True,
)


def _overview_link() -> None:
    """The default page lives at "/": a link to /overview lands there, parameters kept."""
    # every value of a repeated parameter (`cities=A&cities=B`), not only the last one
    st.switch_page(OVERVIEW, query_params={k: st.query_params.get_all(k) for k in st.query_params})


PAGES = [
    OVERVIEW,
    st.Page("views/trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
    st.Page(
        "views/compare.py",
        title="Compare sources",
        icon=":material/compare_arrows:",
        url_path="compare",
    ),
    st.Page("views/map.py", title="Map", icon=":material/map:", url_path="map"),
    st.Page("views/data.py", title="Data", icon=":material/table:", url_path="data"),
    st.Page(_overview_link, title="Overview", url_path="overview", visibility="hidden"),
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
        st.Page(access.sign_in_page, title="Sign in", url_path=path, default=path == "home")
        for path in ("home", "trends", "compare", "map", "data", "overview")
    ]
    st.navigation(GATE, position="hidden").run()
    st.stop()

page = st.navigation(PAGES)
if page.url_path == "overview":
    page.run()  # to "/" with the link's parameters, before any widget binds one of them
access.sidebar(role)  # the signed-in name and "Sign out" (nothing for a local run)
store_ready = common.store_guard(_open_store)  # unreachable or foreign store: a plain message
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
