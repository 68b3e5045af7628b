"""Downloads: the normalized figures as CSV, as HXL-tagged CSV, and as a ZIP with a README.

Pure functions (DataFrame in, bytes out) so the files a user downloads are testable as files.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pandas as pd

EXPORT_COLUMNS = {
    "city": "#loc+name", "country_iso3": "#country+code", "metric": "#indicator+code",
    "qualifier": "#indicator+type", "site": "#loc+site", "period_start": "#date+start",
    "period_end": "#date+end", "value": "#indicator+value+num", "unit": "#indicator+unit",
    "estimate": "#indicator+estimate", "source": "#meta+source", "origin": "#org+name",
    "source_url": "#meta+url", "citation": "#meta+citation", "retrieved_at": "#date+retrieved",
    "revision": "#meta+revision", "licence": "#meta+licence",
}


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reindex(columns=list(EXPORT_COLUMNS)).copy()
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    return _tidy(df).to_csv(index=False).encode("utf-8")


def to_hxl_csv(df: pd.DataFrame) -> bytes:
    """CSV with the HXL hashtag row under the header, as HDX tools expect."""
    tidy = _tidy(df)
    tags = pd.DataFrame([EXPORT_COLUMNS])
    return pd.concat([tags, tidy.astype(object)], ignore_index=True).to_csv(
        index=False).encode("utf-8")


def readme(df: pd.DataFrame, licences: dict[str, str]) -> str:
    lines = [
        "# Situation Room export",
        "",
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {len(df):,} figures.",
        "",
        "Files: `figures.csv` (plain) and `figures_hxl.csv` (HXL hashtag row under the header).",
        "Each row keeps its source, the link it came from and its citation.",
        "",
        "## Sources and licences",
    ]
    for source in sorted(df["source"].dropna().unique()):
        lines.append(f"- **{source}**: {licences.get(source, 'see source_url of each row')}")
    origins = df.drop_duplicates("source_url")[["origin", "source_url", "citation"]].head(200)
    lines += ["", "## Links", *[f"- {r.origin}: {r.source_url} ({r.citation})"
                                for r in origins.itertuples() if r.source_url]]
    return "\n".join(lines) + "\n"


def to_zip(df: pd.DataFrame, licences: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", readme(df, licences))
        archive.writestr("figures.csv", to_csv(df))
        archive.writestr("figures_hxl.csv", to_hxl_csv(df))
    return buffer.getvalue()
