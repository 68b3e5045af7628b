"""What the server answers beside the pages, in the same process (`serve.py`'s `st.App`): the
read-only API, chart images, embeds, briefs, preview cards for link unfurlers, and the access
rules every one of them follows. Starlette routes and middleware, no Streamlit script code."""
