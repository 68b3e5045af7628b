"""One job: turn the parameters of any link this app ever gave out into the form its widgets
read today, and say what in a link cannot be used. Pure (a dict in, a dict and messages out).

Widgets bound to the URL (`bind="query-params"`) write the text they show for an option (its
`format_func` label) and read only that back; toggles write `true`/`false`; a multiselect
repeats its parameter (`cities=Homs&cities=Aleppo`). Links made before that hold codes
(`metric=food_price`, `place=geonames:99072`, `revisions=1`, `market=(all)`), cities joined by
commas, in any case or as GeoNames ids, and a parameter may be given twice: this module maps
all of those to today's form, so every old link opens the view it always opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import process

from data_sources.model.metrics import METRICS
from data_sources.sources import SOURCES
from views import escape
from views.text import safe

TOGGLES = ("cumulative", "percapita", "revisions", "reports")
MULTI = ("cities",)
UNTOUCHED = ("as_of", "since", "until")  # read by the pages themselves, never by a widget
MAX_CITIES = 20
OLD_LABELS = {  # a code an old link holds → the label today's widget shows for it
    "market": {
        "(all)": "each market",
        "(median)": "median of markets (min–max)",
        # links copied before markets stopped being averaged: the view that replaced it
        "all markets (mean)": "each market",
    },
    "qualifier": {"": "(total)"},
}
TRUTH = {"1": "true", "0": "false", "true": "true", "false": "false"}


@dataclass
class Translated:
    """A link's parameters in today's form, and the messages about what was left out."""

    params: dict[str, list[str]]
    problems: list[str] = field(default_factory=list)


def canonical(
    raw: Mapping[str, Sequence[str]],
    city_names: Sequence[str] = (),
    city_ids: Mapping[str, str] | None = None,
    place_labels: Mapping[str, str] | None = None,
) -> Translated:
    """`raw` (every value of every parameter, as the address gave them) in today's form.

    `city_names` are the cities the picker offers, `city_ids` maps a GeoNames id to its name,
    `place_labels` a place id to the label the place pickers show. A parameter given twice with
    different values keeps its first (Streamlit's own reading keeps the last) and is named in
    a message; an unknown city is dropped with a suggestion."""
    out = Translated({})
    for param, values in raw.items():
        values = [str(v) for v in values]
        if param in UNTOUCHED and values:
            out.params[param] = [_first(param, values, out.problems)]
        elif param in MULTI:
            out.params[param] = _cities(values, city_names, city_ids or {}, out.problems)
        elif values:
            first = _first(param, values, out.problems)
            out.params[param] = [_single(param, first, place_labels or {})]
    return Translated({k: v for k, v in out.params.items() if v}, out.problems)


def _first(param: str, values: list[str], problems: list[str]) -> str:
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        shown = ", ".join(f"“{safe(v)}”" for v in distinct[:5])
        problems.append(
            f"The link sets {safe(param)} {len(distinct)} times ({shown}); using the first, "
            f"“{safe(distinct[0])}”."
        )
    return distinct[0]


def _single(param: str, value: str, place_labels: Mapping[str, str]) -> str:
    """One value as today's widget writes it: the label of a code, invisible characters taken
    out as the widgets' labels take them out (`views.text.plain`)."""
    if param in TOGGLES:
        return TRUTH.get(value.strip().lower(), value)
    if param == "metric" and value in METRICS:
        return METRICS[value].label
    if param == "source" and value in SOURCES:
        return SOURCES[value].title
    if param == "place" and value in place_labels:
        return place_labels[value]
    value = OLD_LABELS.get(param, {}).get(value, value)
    return escape.plain(value, 200)


def _cities(
    values: list[str], names: Sequence[str], ids: Mapping[str, str], problems: list[str]
) -> list[str]:
    """`cities=A,B`, `cities=A&cities=B` or both, names in any case or GeoNames ids: every city
    named is chosen, in order, once."""
    by_name = {n.casefold(): n for n in names}
    items: list[str] = []
    for value in values:
        whole = value.strip()
        items += [whole] if whole.casefold() in by_name else whole.split(",")
    chosen: list[str] = []
    for item in [x.strip() for x in items if x.strip()][:MAX_CITIES]:
        name = by_name.get(item.casefold()) or ids.get(item)
        if name:
            chosen.append(name)
        else:
            problems.append(
                f"Unknown city “{safe(item)}” in the link: no figures are stored for "
                f"it.{suggest(item, names)}"
            )
    return list(dict.fromkeys(chosen))


def suggest(value: str, options: Sequence[str], shown: Mapping[str, str] | None = None) -> str:
    """ " Did you mean “…”?" with the closest option (as `shown` names it: a code's label), or
    nothing when none is close."""
    found = process.extractOne(str(value), list(options), score_cutoff=60) if options else None
    if not found:
        return ""
    return f" Did you mean “{safe((shown or {}).get(found[0], found[0]), 120)}”?"
