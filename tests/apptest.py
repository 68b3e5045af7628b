"""Open a page of the app as a deep link does, through Streamlit's AppTest: the one way the
tests open a page without a browser."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from views.pages import DEFAULT

HOME = DEFAULT.script  # served at "/": switching to its file would open the /overview alias


def prepare(page: str | None = None, **params: str) -> AppTest:
    """The app with `params` in its URL, switched to `page` (the Overview when None), not yet
    run: for tests that set a user or patch something first."""
    # a bound against a hang only: a loaded 2-core machine drew the Data page in 130 s
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    for key, value in params.items():
        at.query_params[key] = value
    if page and page != HOME:
        at.switch_page(str(ROOT / page))  # open the page directly, as a deep link does
    return at


def open_page(page: str | None = None, **params: str) -> AppTest:
    return prepare(page, **params).run()
