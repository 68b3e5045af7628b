"""One job: the view lives in the URL. Widgets are bound to it by Streamlit itself
(`bind="query-params"`: the widget's key is the parameter, its value is written as the label
it shows, a default is left out, an invalid value is dropped); this module adds only what
Streamlit does not do: a link of any earlier form is put in today's form once per session
(`views.link_format`), an unknown or hostile value is said in plain words with a suggestion
instead of being dropped silently, a repeated parameter keeps its first value, and `as_of`
(no widget) is kept across pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import streamlit as st

from data_sources.store import asof
from views import escape, link_format
from views.text import plain, safe

PROBLEMS = "_link_problems"  # session state: messages about the link, shown by the next page
TRANSLATED = "_link_translated"  # session state: the link was put in today's form
BOUND = "_bound_values"  # session state: this run's bound widgets and what each wrote
AS_OF = "_as_of"  # session state: the as-of text of this session's view ("" for now)


# -- messages about the link ----------------------------------------------------------------
def link_problem(message: str) -> None:
    st.session_state.setdefault(PROBLEMS, []).append(message)


def show_link_problems() -> None:
    for message in dict.fromkeys(st.session_state.pop(PROBLEMS, [])):
        st.warning(message, icon="⚠️")


def first_value(param: str) -> str | None:
    """The link's first value for `param` (Streamlit's own `get` keeps the last one)."""
    values = st.query_params.get_all(param)
    return str(values[0]) if values else None


# -- a link of an earlier form ----------------------------------------------------------------
def translate_link(
    page,
    city_names: Sequence[str],
    city_ids: Mapping[str, str],
    place_labels: Callable[[], Mapping[str, str]],
) -> None:
    """On a session's first run, before any widget reads the URL: put the link in today's form
    (`link_format.canonical`) and, if that changed it, reopen `page` at the new address (one
    rerun; Streamlit's widgets read the address the page was opened with)."""
    if st.session_state.get(TRANSLATED):
        return
    st.session_state[TRANSLATED] = True
    raw = {k: [str(v) for v in st.query_params.get_all(k)] for k in st.query_params}
    labels = place_labels() if "place" in raw else {}
    out = link_format.canonical(raw, city_names, city_ids, labels)
    for message in out.problems:
        link_problem(message)
    if out.params != raw:
        st.switch_page(page, query_params=out.params)


# -- widgets bound to the URL ---------------------------------------------------------------
def begin_run() -> None:
    """A full run starts: no widget has written its value yet."""
    st.session_state[BOUND] = {}


def bound_values() -> dict[str, list[str]]:
    """Every bound widget of this run and the text it writes to the URL, defaults included
    (the address itself leaves defaults out): what a link to this exact view must hold."""
    return dict(st.session_state.get(BOUND, {}))


def _record(param: str, values: list[str]) -> None:
    st.session_state.setdefault(BOUND, {})[param] = values


def select(
    label: str,
    options: Sequence[str],
    param: str,
    default: str | None = None,
    *,
    format_func: Callable[[str], str] = str,
    widget=None,
    what: str = "value",
    **kwargs,
) -> str | None:
    """A selectbox (or radio/select_slider via `widget`) bound to the URL parameter `param`.
    Options are codes, shown (and written to the URL) through `format_func`."""
    options = list(options)
    if not options:
        return None
    widget = widget or st.selectbox
    # options are shown as text by selectbox and select_slider, as Markdown by radio
    shown = (lambda o: safe(format_func(o), 200)) if widget is st.radio else plain(format_func)
    default = default if default in options else options[0]
    if param not in st.session_state:  # the widget's first draw: the link decides
        _check(param, {shown(o): o for o in options}, shown(default), what)
    if widget is st.select_slider:
        kwargs["value"] = default
    else:
        kwargs["index"] = options.index(default)
    value = widget(label, options, key=param, bind="query-params", format_func=shown, **kwargs)
    _record(param, [shown(value)])
    return value


def _check(param: str, labels: Mapping[str, str], default: str, what: str) -> None:
    """A value the widget cannot take: Streamlit drops it; we say so, and what came instead."""
    raw = first_value(param)
    if raw is None or raw in labels:
        return
    codes = {str(code): label for label, code in labels.items()}
    shown = {**{label: label for label in labels}, **codes}
    link_problem(
        f"The link asks for {what} “{safe(raw)}”, which is not available here."
        f"{link_format.suggest(raw, list(shown), shown)} Showing “{safe(default, 120)}” instead."
    )


def toggle(label: str, param: str, default: bool = False, **kwargs) -> bool:
    """A toggle bound to the URL parameter `param` (`true`/`false`; older links' 1/0 are
    translated by `translate_link`)."""
    if param not in st.session_state:
        raw = first_value(param)
        if raw is not None and raw.strip().lower() not in ("true", "false"):
            link_problem(f"The link sets {safe(param)} to “{safe(raw)}”; use true or false.")
    value = st.toggle(label, value=default, key=param, bind="query-params", **kwargs)
    _record(param, ["true" if value else "false"])
    return value


def multiselect(label: str, options: Sequence[str], param: str, default: list[str], **kwargs):
    """A multiselect bound to `param` (repeated in the URL: `cities=A&cities=B`)."""
    picked = st.multiselect(
        label, list(options), default=default, key=param, bind="query-params", **kwargs
    )
    _record(param, list(picked))
    return picked


def url_text(param: str, default: str) -> str:
    """A text input's first value: the URL's (cut short), else `default`."""
    raw = first_value(param)
    return default if raw is None else escape.plain(raw, 60)


# -- as of a moment ---------------------------------------------------------------------------
def as_of_text() -> str | None:
    """The moment the view shows (`as_of=` in the link, kept across pages), as the URL
    spells it; None for now. A value that is not a date or time is a link problem: the
    latest figures are shown with the message. No widget shows it, so it is kept here."""
    if AS_OF not in st.session_state:
        raw = first_value("as_of")
        text = ""
        if raw is not None and raw.strip():
            try:
                moment, said = asof.clamp(asof.parse_as_of(raw), _store_moments())
                text = asof.format_as_of(moment) if moment else ""
                if said:
                    link_problem(said)
            except asof.AsOfError as exc:
                link_problem(f"The link's as_of: {safe(str(exc), 200)} Showing the latest figures.")
        st.session_state[AS_OF] = text
    text = st.session_state[AS_OF]
    if text:
        if st.query_params.get_all("as_of") != [text]:
            st.query_params["as_of"] = text
    else:
        st.query_params.pop("as_of", None)
    return text or None


def as_of() -> datetime | None:
    return asof.parse_as_of(as_of_text())


def _store_moments() -> list:
    """The store's moments; none (no clamping, no snapping) when the store cannot be read:
    the page's own store guard says why."""
    from views.store_access import store_moments

    try:
        return store_moments()
    except Exception:  # noqa: BLE001 - an unreachable store is reported by store_guard
        return []


def as_of_key() -> str | None:
    """The view's moment as the cached queries take it: the newest store moment at or
    before the link's (`asof.snap`). Every link between two loads names the same view, so
    they share one cache entry: the cache holds at most one entry per load, whatever times
    the links arrive with, and a new `as_of` costs what a cached view costs."""
    text = as_of_text()
    if text is None:
        return None
    return asof.format_as_of(asof.snap(asof.parse_as_of(text), _store_moments()))


def see_the_latest() -> None:
    """Leave the as-of view."""
    st.session_state[AS_OF] = ""
    st.query_params.pop("as_of", None)
