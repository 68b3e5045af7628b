"""The curated table of figures quoted in published reports -> observations.

Each row names the organisation that produced the figure (`original_source`), the page it was
read on (`source_url`) and, where retrieved, the sentence verbatim (`quote`). The organisation
becomes the dataset, so Compare sources can set one organisation's figure against another's.
"""

from __future__ import annotations

import pandas as pd

from data_sources.model.validation import conform
from data_sources.sources import BUNDLED

REQUIRED = [
    "period_start",
    "period_end",
    "place",
    "metric",
    "value",
    "unit",
    "estimate",
    "original_source",
    "source_url",
]


class ReportedFormatError(ValueError):
    pass


def parse_reported(df: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ReportedFormatError(f"{name}: missing column(s) {', '.join(missing)}")
    df = df.reset_index(drop=True)
    out = df.assign(
        source="reported",
        dataset=df["original_source"],
        place_raw=df["place"],
        citation=df.get("cited_in", ""),
        licence=BUNDLED["reported_figures.csv"].licence,
        row_ref=[f"{name}:{i + 2}" for i in range(len(df))],
    )
    return conform(out)
