"""How places are labelled in pickers and links (pure: the pages and the image routes share it)."""

from __future__ import annotations

import pandas as pd


def place_labels(places: pd.DataFrame) -> dict[str, str]:
    """A label per place id, different for every place (a link holds the label): a district or
    governorate is named with its kind, never taken for the city of its name, and a name
    still shared (two cities, two countries) gets its country, then its id."""
    kinds = ("district", "governorate")
    labels = {
        p: f"{n} ({k})" if k in kinds else str(n)
        for p, n, k in zip(places.place_id, places.name, places.kind, strict=True)
    }
    iso3 = dict(zip(places.place_id, places.country_iso3, strict=True))
    for step in (lambda p: f"{labels[p]} ({iso3[p]})", lambda p: f"{labels[p]} [{p}]"):
        counts = pd.Series(labels).value_counts()
        shared = [p for p, label in labels.items() if counts[label] > 1]
        labels.update({p: step(p) for p in shared})
    return labels
