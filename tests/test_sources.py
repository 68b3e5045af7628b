"""One registry per source (issue 12, item 2): every fact about a source (title, licence,
citation, link, secret settings) is declared once in `data_sources/sources.py`; the connectors,
the bundled snapshot, scrubbing, the ZIP's README and SOURCES.md follow it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from dataclasses import replace

import pytest
import sqlalchemy as sa

from data_sources import settings, sources
from data_sources.feeds import FeedError
from data_sources.feeds.connectors import CONNECTORS, Connector
from data_sources.formats import export
from data_sources.formats.hxl import parse_hxl_csv
from data_sources.redact import redact, redact_url
from data_sources.snapshot import MANIFEST, SNAPSHOT_DIR, sources_md
from data_sources.store.ingest import ingest

from .conftest import ROOT, store_dump

CANARY = "CANARY-newfeed-5521"


def cli(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"DATABASE_URL": url} if url else {})}
    return subprocess.run(
        [sys.executable, "-m", "data_sources", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_every_connector_reads_its_facts_from_its_registry_entry():
    for name, cls in CONNECTORS.items():
        entry = sources.SOURCES[name]
        assert cls.source is entry
        assert (cls.licence, cls.citation, cls.homepage) == (
            entry.licence,
            entry.citation,
            entry.url,
        )
        assert cls.required_settings == entry.required_settings
    # the refresh panel's names and the settings a feed waits for, as before the registry
    assert CONNECTORS["unhcr"].title == "UNHCR population API"
    assert CONNECTORS["acled"].required_settings == ("ACLED_USERNAME", "ACLED_PASSWORD")
    assert CONNECTORS["hxl"].required_settings == ("HXL_URLS",)


def test_a_connector_without_an_entry_fails_when_declared():
    with pytest.raises(KeyError, match="source 'nofeed' has no entry in data_sources/sources.py"):

        class NoFeed(Connector):  # noqa: F841 - declaring it is the test
            source = sources.source("nofeed")


def test_every_bundled_file_is_a_registered_redistributable_source():
    assert [m.file for m in MANIFEST] == list(sources.BUNDLED)
    for item in MANIFEST:
        assert (SNAPSHOT_DIR / item.file).is_file()
        assert sources.SOURCES[item.source].redistributable, item.file
    assert {s.key for s in sources.SOURCES.values() if not s.redistributable} == {"dtm", "acled"}


def test_the_store_records_the_registrys_licence_and_citation_for_each_bundled_file(
    loaded_url,
):
    engine = sa.create_engine(loaded_url)
    try:
        with engine.connect() as conn:
            stored = {
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT DISTINCT s.source, p.licence, p.citation FROM series s "
                    "JOIN observations o ON o.series_id = s.series_id "
                    "JOIN provenance p ON p.provenance_id = o.provenance_id"
                )
            }
    finally:
        engine.dispose()
    assert {s for s, _, _ in stored} <= set(sources.SOURCES)
    for entry in sources.BUNDLED.values():
        if entry.citation:  # reported figures: each row cites its own report
            assert (entry.source, entry.licence, entry.citation) in stored, entry.file
        else:
            assert {lic for s, lic, _ in stored if s == entry.source} == {entry.licence}


def test_sources_md_is_what_the_registry_generates():
    text = (SNAPSHOT_DIR / "SOURCES.md").read_text(encoding="utf-8")
    assert sources_md.disagreements(text) == [], (
        "regenerate: python -m data_sources sources --markdown > data_sources/snapshot/SOURCES.md"
    )
    for entry in sources.BUNDLED.values():
        assert f"`{entry.file}`" in text and entry.licence in text
    assert "IOM DTM and ACLED data are **not** here" in text


def test_a_change_to_the_registry_alone_makes_sources_md_disagree(monkeypatch):
    text = (SNAPSHOT_DIR / "SOURCES.md").read_text(encoding="utf-8")
    wfp = sources.BUNDLED["wfp_food_prices_syr.csv"]
    monkeypatch.setitem(sources.BUNDLED, wfp.file, replace(wfp, licence="CC BY-NC 4.0"))
    found = sources_md.disagreements(text)
    assert len(found) == 1 and "CC BY-NC 4.0" in found[0] and "wfp_food_prices_syr" in found[0]
    # and a hand edit of the file is caught the same way
    edited = text.replace("| CC BY 4.0. ", "| CC BY-SA 4.0. ", 1)
    monkeypatch.setitem(sources.BUNDLED, wfp.file, wfp)
    assert len(sources_md.disagreements(edited)) == 1


def test_the_sources_command_prints_the_registry_and_sources_md():
    listing = cli("sources")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == list(sources.SOURCES)
    acled = next(ln for ln in lines if ln.startswith("acled\t"))
    assert "secret settings: ACLED_USERNAME, ACLED_PASSWORD" in acled
    markdown = cli("sources", "--markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout == (SNAPSHOT_DIR / "SOURCES.md").read_text(encoding="utf-8")


def test_the_zip_readme_gives_each_sources_registered_attribution(monkeypatch):
    line = "WFP VAM food prices via HDX — CC BY-IGO"
    assert export.licences()["wfp"] == line == sources.SOURCES["wfp"].attribution
    assert export.licences()["ucdp"] == (
        "Uppsala Conflict Data Program, Georeferenced Event Dataset (GED) — "
        "CC BY 4.0 (UCDP); cite Sundberg & Melander 2013 and Davies et al."
    )
    newer = replace(sources.SOURCES["wfp"], line="WFP market monitor — CC BY-IGO")
    monkeypatch.setitem(sources.SOURCES, "wfp", newer)
    rows = _wfp_rows(2)
    readme = zipfile.ZipFile(io.BytesIO(export.to_zip(rows, export.licences()))).read("README.md")
    assert "- **wfp**: WFP market monitor — CC BY-IGO" in readme.decode()


def _wfp_rows(count: int, url: str = "https://data.humdata.org/dataset/x"):
    """The first rows of the bundled WFP file (real prices), read as an import reads them."""
    text = (SNAPSHOT_DIR / "wfp_food_prices_syr.csv").read_text(encoding="utf-8")
    head = "\n".join(text.splitlines()[: 2 + count]) + "\n"
    return parse_hxl_csv(
        head, name="wfp_head.csv", source="wfp", country_iso3="SYR", source_url=url,
        citation="WFP", licence="CC BY-IGO",
    ).assign(origin="wfp", retrieved_at=None)  # fmt: skip


@pytest.fixture
def new_feed(monkeypatch):
    """A source added to the registry only: its key setting is nowhere else."""
    entry = sources.Source(
        key="newfeed",
        title="New feed",
        licence="CC BY 4.0",
        citation="New feed API",
        url="https://newfeed.example.org/docs",
        secret_settings=("NEWFEED_KEY",),
        secret_params=("sig",),
    )
    monkeypatch.setitem(sources.SOURCES, entry.key, entry)
    monkeypatch.setenv("NEWFEED_KEY", CANARY)
    settings.reload()
    yield entry
    settings.reload()


def test_a_secret_declared_only_in_the_registry_is_scrubbed_from_messages(new_feed):
    assert "NEWFEED_KEY" in settings.secret_names()
    url = f"https://newfeed.example.org/v1/{CANARY}/rows?country=SYR&sig=abc123"
    shown = redact_url(url)
    assert CANARY not in shown and "abc123" not in shown
    assert shown == "https://newfeed.example.org/v1/***/rows?country=SYR&sig=***"
    error = FeedError("newfeed", url, f"401: key {CANARY} refused")
    assert CANARY not in str(error) and "abc123" not in str(error)
    assert "key *** refused" in str(error)
    assert redact(f"GET {url} failed") == f"GET {shown} failed"


def test_a_secret_declared_only_in_the_registry_is_never_stored(new_feed, empty_engine):
    url = f"https://newfeed.example.org/v1/rows?key_id={CANARY}&sig=abc123"
    rows = _wfp_rows(3, url=url).drop(columns=["origin", "retrieved_at"])
    result = ingest(empty_engine, rows, source="wfp", target=url)
    assert result.rows_new == len(rows) == 6  # 3 rows: a price in SYP and in USD each
    dump = store_dump(empty_engine)
    assert "newfeed.example.org/v1/rows" in dump  # the link is kept, without its secrets
    assert CANARY not in dump and "abc123" not in dump


def _stored_provenance(engine) -> set[tuple[str, str, str, str]]:
    with engine.connect() as conn:
        return {
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT DISTINCT s.source, s.metric, p.licence, p.citation FROM series s "
                "JOIN observations o ON o.series_id = s.series_id "
                "JOIN provenance p ON p.provenance_id = o.provenance_id"
            )
        }


def test_a_feed_stores_its_registry_citation_and_that_of_each_relayed_table(feeds, empty_engine):
    """HDX HAPI relays WFP's prices and ACLED's events: their rows carry the registry's
    citations of those tables, the rest HAPI's own."""
    from .test_feeds import run

    assert run(empty_engine, "hapi").status == "ok"
    stored = _stored_provenance(empty_engine)
    hapi = sources.SOURCES["hapi"]
    prices = hapi.dataset("food-prices")
    assert ("hapi", "food_price", "CC BY-IGO", prices.citation) in stored
    assert prices.citation == "WFP VAM market prices via HDX HAPI"
    events = hapi.dataset("conflict-events")
    assert ("hapi", "conflict_events", hapi.licence, events.citation) in stored
    assert ("hapi", "idps", hapi.licence, hapi.citation) in stored


def test_the_pages_badges_and_captions_follow_the_registry(loaded_url, monkeypatch):
    """Rename a source and change its attribution line in the registry alone: the Overview's
    freshness badge and its "Sources:" caption say the new words."""
    from streamlit.testing.v1 import AppTest

    wfp = replace(
        sources.SOURCES["wfp"], title="WFP market monitor", line="WFP market monitor — CC BY-IGO"
    )
    monkeypatch.setitem(sources.SOURCES, "wfp", wfp)
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["cities"] = "Aleppo"
    at.run()
    assert not at.exception
    badges = "\n".join(m.value for m in at.markdown)
    assert "**WFP market monitor**" in badges and "**WFP food prices**" not in badges
    line = next(c.value for c in at.caption if c.value.startswith("Sources: "))
    assert "WFP market monitor — CC BY\\-IGO" in line  # shown literally (views/escape.py)
    assert "WFP VAM food prices" not in line
