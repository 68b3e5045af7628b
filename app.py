"""Situation Room: entry point. Navigation, the shared city picker, and the store on first start."""

import streamlit as st

from views import common

st.set_page_config(page_title="Situation Room", page_icon="🛰️", layout="wide")

PAGES = [
    st.Page(
        "views/overview.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    ),
    st.Page("views/trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
    st.Page(
        "views/compare.py",
        title="Compare sources",
        icon=":material/compare_arrows:",
        url_path="compare",
    ),
    st.Page("views/map.py", title="Map", icon=":material/map:", url_path="map"),
    st.Page("views/data.py", title="Data", icon=":material/table:", url_path="data"),
]

page = st.navigation(PAGES)
common.engine()  # the first start loads the bundled snapshot; later starts reuse the store
st.session_state["place_ids"] = common.selected_cities()
st.sidebar.caption(
    "Situation Room shows figures as their sources published them, with a link "
    "to each. Figures disagree; the Compare sources page shows where."
)
page.run()
common.show_link_problems()
