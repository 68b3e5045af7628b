"""The Data page's downloads import back into another team's instance with the same figures,
places, sources, citations, quotes and links (both backends, through the command line)."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import sqlalchemy as sa

from data_sources.store import query
from tests.test_cli import run

SAME = [
    "place_id", "metric", "qualifier", "site", "unit", "estimate", "source", "dataset",
    "period_start", "period_end", "value", "source_url", "citation", "quote", "licence",
]  # fmt: skip


def figures(url: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        ids = query.all_places(engine).place_id.tolist()
        frame = query.series_frame(engine, ids)[SAME]
    finally:
        engine.dispose()
    return frame.sort_values(SAME).reset_index(drop=True)


def test_export_imports_back_with_the_same_figures(tmp_path, loaded_url, store_url):
    """Reported figures (quotes, links, a region) as a ZIP, UNHCR's country figures as HXL CSV
    and Aleppo's figures (WFP markets as sites) as a ZIP, exported from one store and
    imported into an empty one."""
    for fmt, args in (
        ("zip", ["--source", "reported"]),
        ("hxl", ["--source", "unhcr"]),
        ("zip", ["--city", "Aleppo"]),
    ):
        part = tmp_path / f"part-{args[1]}.{'zip' if fmt == 'zip' else 'csv'}"
        done = run(loaded_url, "export", "--format", fmt, *args, "--output", str(part))
        assert done.returncode == 0, done.stderr
        imported = run(store_url, "import", str(part))
        assert imported.returncode == 0, imported.stderr + imported.stdout
        assert "rejected" in imported.stdout
    before, after = figures(loaded_url), figures(store_url)
    engine = sa.create_engine(loaded_url)
    cities = query.cities(engine)
    engine.dispose()
    aleppo = cities.loc[cities.name == "Aleppo", "place_id"].tolist()
    exported = before.source.isin(["reported", "unhcr"]) | before.place_id.isin(aleppo)
    before = before[exported]
    assert len(after) > 100
    pd.testing.assert_frame_equal(after, before.reset_index(drop=True), check_dtype=False)
    # the seed's figures are among them: Airwars' 2,013 against the Pentagon's 173
    killed = after[
        (after.place_id == "region:iraq-and-syria") & (after.metric == "civilians_killed")
    ]
    assert sorted(killed.value) == [173.0, 2013.0]
    assert killed.source_url.str.startswith("http").all()
    reported = after[after.source == "reported"]
    assert reported.quote.str.len().gt(0).sum() >= 20  # the verbatim sentences came along


def test_a_zip_without_the_hxl_file_is_a_clear_error(tmp_path, store_url):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    done = run(store_url, "import", str(path))
    assert done.returncode == 2
    assert "no figures_hxl.csv in it (not a Situation Room export)" in done.stderr
    assert io.StringIO(done.stdout).read() == ""


def test_a_district_and_a_region_come_back_as_themselves(tmp_path, loaded_url, store_url):
    """Pages and exports name a district "Jebel Saman (district)": imported back, it is the
    same district (same id, kind, figures), not a city nor a new place named with its kind;
    likewise the region of the reported figures."""
    for args in (["--city", "Jebel Saman"], ["--source", "reported"]):
        part = tmp_path / f"{args[1]}.csv"
        done = run(loaded_url, "export", "--format", "hxl", *args, "--output", str(part))
        assert done.returncode == 0, done.stderr
        assert run(store_url, "import", str(part)).returncode == 0
    engine = sa.create_engine(store_url)
    try:
        found = query.all_places(engine).set_index("place_id")
    finally:
        engine.dispose()
    assert found.loc["adm2:SYR:SY0200", ["name", "kind"]].tolist() == [
        "Jebel Saman",
        "district",
    ]
    assert "region:iraq-and-syria" in found.index
    assert not found.name.str.contains(r"\((?:district|governorate|region)\)").any()
    before, after = figures(loaded_url), figures(store_url)
    district = before[before.place_id == "adm2:SYR:SY0200"].reset_index(drop=True)
    back = after[after.place_id == "adm2:SYR:SY0200"].reset_index(drop=True)
    assert len(district) > 1000
    pd.testing.assert_frame_equal(back, district, check_dtype=False)
