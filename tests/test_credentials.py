"""Credentials never leave the server (issue 11, item 4): a canary password and key in an
`HXL_URLS` address (`https://user:password@host/…?token=…`), refreshed from the replay server,
are found nowhere a person or a file can see: the command's output, every row of the store,
every page, every download (CSV, HXL CSV, the ZIP's files)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pandas as pd
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from data_sources import settings
from data_sources.store.engine import make_engine

from .conftest import ROOT, store_dump

PASSWORD = "CANARY-pw-7731"
TOKEN = "CANARY-tok-9912"
SECRETS = (PASSWORD, TOKEN)


def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_sources", *args],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True, timeout=300,
    )  # fmt: skip


def page_text(at: AppTest) -> str:
    """Everything a page sends: every element's fields, every table's cells, every figure."""
    parts = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(json.dumps(MessageToDict(proto), ensure_ascii=False))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def test_a_credential_in_a_feed_address_is_found_nowhere(feeds, loaded_url, monkeypatch):
    base = feeds.base_url.replace("http://", f"http://analyst:{PASSWORD}@")
    address = f"{base}/files/aleppo_prices.csv?token={TOKEN}"
    monkeypatch.setenv("HXL_URLS", address)
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    settings.reload()

    # the log: the command's whole output
    done = cli(loaded_url, "refresh", "--source", "hxl", "--country", "SYR")
    assert done.returncode == 0, done.stderr.decode()
    output = done.stdout + done.stderr
    assert b"summary:" in output
    # the request really carried them: the replay server saw the key and the Basic credentials
    seen = feeds.requests_to("/files/aleppo_prices.csv")
    assert seen and seen[-1].query.get("token") == TOKEN
    assert "authorization" in {k.lower() for k in seen[-1].headers}

    # the store: every row of every table (on SQLite the file's bytes, WAL included)
    engine = make_engine(loaded_url)
    stored = store_dump(engine)
    engine.dispose()
    assert "aleppo_prices.csv" in stored  # the link is kept, without its credentials
    # the pages
    shown = {}
    for page, params in [
        ("views/overview.py", {"cities": "Aleppo"}),
        # the feed's own figures (Aleppo holds 20,000 more; the table shows the first 5,000)
        ("views/data.py", {"place": "geonames:170063", "source": "hxl:aleppo_prices"}),
        ("views/trends.py", {"cities": "Aleppo"}),
        ("views/map.py", {}),
    ]:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        if page != "views/overview.py":
            at.switch_page(str(ROOT / page))
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        shown[page] = page_text(at)
    # the downloads, as the Data page's buttons give them (the CLI builds the same bytes)
    files = {}
    for fmt in ("csv", "hxl", "zip"):
        got = cli(loaded_url, "export", "--format", fmt, "--city", "Aleppo")
        assert got.returncode == 0, got.stderr.decode()
        files[fmt] = got.stdout
    archive = zipfile.ZipFile(io.BytesIO(files["zip"]))
    for name in archive.namelist():
        files[f"zip:{name}"] = archive.read(name)

    for secret in SECRETS:
        assert secret.encode() not in output, "in the command's output"
        assert secret not in stored, "in the store"
        for page, text in shown.items():
            assert secret not in text, f"on {page}"
        for name, data in files.items():
            assert secret.encode() not in data, f"in the {name} download"
    # and the address is shown, scrubbed, where a reader looks for provenance
    scrubbed = "http://analyst:***@127.0.0.1"
    assert scrubbed in shown["views/data.py"]
    rows = pd.read_csv(io.BytesIO(files["csv"]))
    assert rows.source_url.str.startswith(scrubbed).any()
    assert scrubbed.encode() in files["zip:README.md"]
