"""Situation Room as one ASGI server: the pages (app.py) and, beside them, the routes of
web/routes.py (API, images, embeds, briefs), the access middleware and the store opened at
start. `streamlit run serve.py` (scripts/start-app, the container, the tests) runs it."""

import streamlit as st
from streamlit import config

from web import lifespan, middleware, routes

app = st.App(
    "app.py",
    routes=routes.mounted(config.get_option("server.baseUrlPath") or ""),
    middleware=middleware.stack(),
    lifespan=lifespan.lifespan,
)
