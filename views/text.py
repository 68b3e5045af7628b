"""How a value from a link, a feed, a file or the store is put on a page: shown literally, cut
short (the page-side names of `views.escape`)."""

from __future__ import annotations

from collections.abc import Callable

from views import escape


def safe(text: object, limit: int = 60) -> str:
    """For any Streamlit sink that renders Markdown (markdown, captions, alerts, help)."""
    return escape.md(text, limit)


def plain(format_func: Callable[[str], str]) -> Callable[[str], str]:
    """`format_func` for widgets that show options as text: invisible characters removed. The
    text it returns is also what a widget bound to the URL writes there."""
    return lambda option: escape.plain(format_func(option), 200)
