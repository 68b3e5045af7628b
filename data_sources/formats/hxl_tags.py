"""What an HXL column means: one table of tag patterns → (metric, unit), read with libhxl's
tag-pattern semantics, so that a column's hashtag *and attributes* decide its meaning.

Why a table and not a first match: a real COD population file tags its columns
`#population+f, #population+m, #population, #population+infants+age0_4+f, …`. Taking the first
column matching `#population` stored the female count as the population. Here:

- a pattern `#affected+killed` matches a column whose hashtag is `#affected` and whose
  attributes include `killed` (libhxl: included attributes must all be there, `-attr` ones
  must not); of the rows that match, the most specific (most attributes) wins;
- a column's remaining attributes must all be understood: sex and age attributes (`+f`, `+m`,
  `+age0_4`, `+children`, …) make the column a *breakdown* of the figure (stored with the
  breakdown as its qualifier); `+total`, `+ind`, `+num` or none make it the *total*; any other
  attribute (`+aid_healthworker`, `+crsv`) names a group the table does not know, so the column
  is not read (and the import says so) rather than counted as something it is not;
- two columns that mean the same (metric, breakdown) are ambiguous: the import stops, naming
  them, until the user chooses with `--column HEADER_OR_TAG=METRIC` (or `=skip`).

Real variants (`#affected+healthworker+injured`, `#inneed`, `#affected+inneed`) are rows of the
table, not special cases in the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SKIP = "skip"

# attributes that say a figure is the whole (libhxl: `+total`; HXL's `+ind` = individuals,
# as opposed to `+hh` households, which no row of the table accepts)
TOTAL_ATTRIBUTES = frozenset({"total", "ind", "all", "num", "reported", "value"})
SEX = {"f": "female", "female": "female", "women": "female", "girls": "female",
       "m": "male", "male": "male", "men": "male", "boys": "male"}  # fmt: skip
AGE_GROUPS = frozenset({"infants", "children", "adolescents", "adults", "elderly", "youth"})
AGE_BAND = re.compile(r"^age(\d+)(?:_(\d+)|plus)?$")


@dataclass(frozen=True)
class TagPattern:
    """A libhxl tag pattern: a hashtag, attributes it must have, attributes it must not."""

    hashtag: str
    include: frozenset[str]
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> TagPattern:
        text = re.sub(r"\s+", "", text).lower()
        head = re.match(r"#[\w]+", text)
        if not head:
            raise ValueError(f"not an HXL tag pattern: {text!r}")
        include, exclude = set(), set()
        for sign, attr in re.findall(r"([+-])([\w]+)", text[head.end() :]):
            (include if sign == "+" else exclude).add(attr)
        return cls(head.group(0), frozenset(include), frozenset(exclude))

    def matches(self, hashtag: str, attributes: frozenset[str]) -> bool:
        return (
            hashtag == self.hashtag
            and self.include <= attributes
            and not (self.exclude & attributes)
        )

    def __str__(self) -> str:
        return (
            self.hashtag
            + "".join(f"+{a}" for a in sorted(self.include))
            + "".join(f"-{a}" for a in sorted(self.exclude))
        )


@dataclass(frozen=True)
class FigureRow:
    pattern: TagPattern
    metric: str
    unit: str


def _row(pattern: str, metric: str, unit: str = "people") -> FigureRow:
    return FigureRow(TagPattern.parse(pattern), metric, unit)


# The tag table of figure sheets. Order does not matter: the most specific matching row wins.
FIGURE_TABLE: list[FigureRow] = [
    _row("#affected+idps", "idps"),
    _row("#affected+returnees", "returnees"),
    _row("#affected+refugees", "refugees_from"),
    _row("#affected+killed", "conflict_fatalities"),
    _row("#affected+killed+civilians", "civilians_killed"),
    _row("#affected+injured", "civilians_injured"),
    _row("#affected+injured+civilians", "civilians_injured"),
    _row("#affected+killed+healthworker", "healthworkers_killed"),
    _row("#affected+injured+healthworker", "healthworkers_injured"),
    _row("#affected+kidnapped+healthworker", "healthworkers_kidnapped"),
    _row("#affected+killed+aidworker", "aidworkers_killed"),
    _row("#affected+injured+aidworker", "aidworkers_injured"),
    _row("#affected+kidnapped+aidworker", "aidworkers_kidnapped"),
    _row("#affected+killed+teacher", "educators_killed"),
    _row("#affected+injured+teacher", "educators_injured"),
    _row("#affected+kidnapped+teacher", "educators_kidnapped"),
    _row("#affected+killed+student", "students_killed"),
    _row("#affected+injured+student", "students_injured"),
    _row("#affected+kidnapped+student", "students_kidnapped"),
    _row("#inneed", "people_in_need"),
    _row("#affected+inneed", "people_in_need"),
    _row("#targeted", "people_targeted"),
    _row("#reached", "people_reached"),
    _row("#population", "population"),
    _row("#event+num", "conflict_events", "events"),
]


# hashtags of counts: a column of one that is not read is listed by the import (place, date
# and description columns are read elsewhere or are not figures)
FIGURE_HASHTAGS = frozenset({r.pattern.hashtag for r in FIGURE_TABLE} | {"#indicator"})


@dataclass(frozen=True)
class Column:
    """One tagged column as the reader sees it."""

    index: int
    header: str
    tag_text: str  # normalized, e.g. "#affected+healthworker+killed"
    hashtag: str
    attributes: frozenset[str]

    def describe(self) -> str:
        return f"'{self.header}' ({self.tag_text})"


@dataclass(frozen=True)
class FigureColumn:
    """A column read as figures: its metric, unit and breakdown ('' for the total)."""

    column: Column
    metric: str
    unit: str
    breakdown: str


@dataclass
class ColumnReading:
    """How a sheet's columns are read: figure columns, and the tagged columns not read with
    the reason (shown by the import so that nothing is dropped silently)."""

    figures: list[FigureColumn] = field(default_factory=list)
    ignored: list[tuple[Column, str]] = field(default_factory=list)


class AmbiguousColumns(ValueError):
    """Several columns mean the same figure: the user must choose."""


def normalized_tag(text: str) -> str:
    return re.sub(r"\s+", "", text or "").lower()


def breakdown_of(attributes: frozenset[str]) -> tuple[str, set[str]]:
    """The breakdown label the sex and age attributes make ('' for none) and the attributes
    that are neither."""
    sex, ages, groups, rest = "", "", [], set()
    for attr in attributes:
        band = AGE_BAND.match(attr)
        if attr in SEX:
            sex = SEX[attr]
        elif band:
            low, high = band.group(1), band.group(2)
            ages = f"age {int(low)}–{int(high)}" if high else f"age {int(low)}+"
        elif attr in AGE_GROUPS:
            groups.append(attr)
        elif attr not in TOTAL_ATTRIBUTES:
            rest.add(attr)
    age = ages or ", ".join(sorted(groups))
    return ", ".join(p for p in (age, sex) if p), rest


def read_column(column: Column) -> tuple[FigureRow | None, str, str]:
    """(table row, breakdown, reason) for one column; the row is None when the column is not
    a figure the table knows, with the reason why."""
    matching = [r for r in FIGURE_TABLE if r.pattern.matches(column.hashtag, column.attributes)]
    if not matching:
        return None, "", "no row of the tag table matches"
    best = max(len(r.pattern.include) for r in matching)
    top = {(r.metric, r.unit): r for r in matching if len(r.pattern.include) == best}
    if len(top) > 1:
        names = ", ".join(sorted(m for m, _ in top))
        return None, "", f"matches rows of different metrics ({names})"
    row = next(iter(top.values()))
    breakdown, rest = breakdown_of(column.attributes - row.pattern.include)
    if rest:
        unknown = ", ".join(f"+{a}" for a in sorted(rest))
        return None, "", f"attribute {unknown} names a group the tag table does not know"
    return row, breakdown, ""


def parse_choices(items: list[str] | None) -> dict[str, str]:
    """`--column KEY=METRIC` options as {normalized key: metric}; KEY is a column's header or
    its HXL tag, METRIC a metric name or `skip`."""
    choices: dict[str, str] = {}
    for item in items or []:
        key, sep, metric = item.rpartition("=")
        if not sep or not key.strip() or not metric.strip():
            raise ValueError(f"--column {item!r}: expected HEADER_OR_TAG=METRIC (or =skip)")
        choices[_choice_key(key)] = metric.strip()
    return choices


def _choice_key(text: str) -> str:
    text = text.strip()
    return normalized_tag(text) if text.startswith("#") else text.casefold()


def read_columns(
    columns: list[Column], choices: dict[str, str], known_metrics: dict[str, str]
) -> ColumnReading:
    """Each column's reading by the tag table and the user's `--column` choices; raises
    AmbiguousColumns when two columns mean the same figure, and ValueError for a choice that
    names no column or no metric. `known_metrics` maps metric → unit for chosen columns."""
    reading = ColumnReading()
    chosen: dict[int, str] = {}
    for key, metric in choices.items():
        hits = [c for c in columns if key in (c.header.strip().casefold(), c.tag_text)]
        if not hits:
            raise ValueError(f"--column: no column has the header or tag {key!r}")
        if len(hits) > 1:
            named = ", ".join(c.describe() for c in hits)
            raise ValueError(
                f"--column: {key!r} names {len(hits)} columns ({named}); give the header instead"
            )
        if metric != SKIP and metric not in known_metrics:
            raise ValueError(f"--column: unknown metric {metric!r}")
        chosen[hits[0].index] = metric
    by_figure: dict[tuple[str, str], list[FigureColumn]] = {}
    for column in columns:
        if column.index in chosen:
            metric = chosen[column.index]
            if metric == SKIP:
                reading.ignored.append((column, "skipped by --column"))
                continue
            breakdown, _ = breakdown_of(column.attributes)
            figure = FigureColumn(column, metric, known_metrics[metric], breakdown)
        else:
            row, breakdown, reason = read_column(column)
            if row is None:
                if column.hashtag in FIGURE_HASHTAGS:  # a count the table does not read
                    reading.ignored.append((column, reason))
                continue
            figure = FigureColumn(column, row.metric, row.unit, breakdown)
        by_figure.setdefault((figure.metric, figure.breakdown), []).append(figure)
    for (metric, breakdown), figures in by_figure.items():
        picked = [f for f in figures if f.column.index in chosen]
        if len(figures) > 1 and len(picked) != 1:
            named = ", ".join(f.column.describe() for f in figures)
            what = metric + (f" ({breakdown})" if breakdown else "")
            raise AmbiguousColumns(
                f"{len(figures)} columns would all be read as {what}: {named}. Choose one with "
                f"--column 'HEADER={metric}' (the others are then not read), or leave a "
                "column out with --column 'HEADER=skip'"
            )
        keep = picked[0] if picked else figures[0]
        reading.figures.append(keep)
        reading.ignored.extend(
            (f.column, f"another column was chosen for {metric}") for f in figures if f is not keep
        )
    return reading


# Place and date columns: field -> tag patterns, first match wins (real variants are rows:
# Insecurity Insight writes `#country+iso`/`#country_iso`, `#admin1`, `#lat`, `#long`).
PLACE_TABLE: dict[str, list[TagPattern]] = {
    field_name: [TagPattern.parse(p) for p in patterns]
    for field_name, patterns in {
        # COD tables name the country as admin 0 (`#adm0+code`: ISO2, `#adm0+name`)
        "country_iso3": [
            "#country+code",
            "#country+iso",
            "#country+iso3",
            "#country_iso",
            "#adm0+code",
            "#country+name",
            "#adm0+name",
        ],
        "admin1": ["#adm1+name", "#admin1+name", "#adm1-code", "#admin1-code"],
        "admin2": ["#adm2+name", "#admin2+name", "#admin2-code"],
        "pcode": ["#adm2+code", "#admin2+code"],
        # a governorate's p-code: the p-code of a row placed by its admin-1 area only
        "admin1_pcode": ["#adm1+code", "#admin1+code"],
        "lat": ["#geo+lat", "#lat"],
        "lon": ["#geo+lon", "#long", "#lon", "#geo+long"],
    }.items()
}


def find_place_column(columns: list[Column], field_name: str) -> int | None:
    """The index of the first column of a place field (see PLACE_TABLE), None if none."""
    for pattern in PLACE_TABLE[field_name]:
        for column in columns:
            if pattern.matches(column.hashtag, column.attributes):
                return column.index
    return None


# Price sheets (WFP and kin): the commodity decides the metric; food is what is left.
PRICE_TABLE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^\s*exchange rate", re.I), "exchange_rate"),
    (re.compile(r"^\s*(fuel|diesel|petrol|gasoline|kerosene|cooking gas)", re.I), "fuel_price"),
    (re.compile(r"^\s*wage", re.I), "wage"),
    (re.compile(r"^\s*water", re.I), "water_price"),
]
NON_FOOD_CATEGORIES = frozenset({"non-food", "currency"})


def price_metric(commodity: str, category: str = "") -> str:
    """The metric of a price row: exchange rates, fuel, wages and water are their own; another
    non-food item is a non-food price; the rest is food."""
    for pattern, metric in PRICE_TABLE:
        if pattern.search(commodity or ""):
            return metric
    if (category or "").strip().lower() in NON_FOOD_CATEGORIES:
        return "nonfood_price"
    return "food_price"
