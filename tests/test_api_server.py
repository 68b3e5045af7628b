"""End to end: the API through the real server (`streamlit run serve.py`) under a base path,
as a script outside reaches it."""

from __future__ import annotations

import io
import json

import httpx
import pandas as pd

from devtools.streamlit_server import running
from tests.cli import run


def test_series_through_the_real_server_under_its_base_path(loaded_db, tmp_path):
    """One server start, on SQLite (test_api compares both stores)."""
    import shutil

    shutil.copyfile(loaded_db, tmp_path / "store.sqlite")
    loaded_url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    args = ["--city", "Aleppo", "--metric", "food_price", "--unit", "SYP/KG"]
    printed = run(loaded_url, "series", *args, "--format", "json")
    assert printed.returncode == 0, printed.stderr
    with running(
        "serve.py",
        env={"DATABASE_URL": loaded_url},
        args=("--server.baseUrlPath", "situation-room"),
        log=tmp_path / "server.log",
    ) as server:
        query = "city=Aleppo&metric=food_price&unit=SYP/KG&limit=10000"
        answer = httpx.get(f"{server.base}/situation-room/api/v1/series?{query}", timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rows"] == json.loads(printed.stdout)
        csv = httpx.get(f"{server.base}/situation-room/api/v1/series?{query}&format=csv",
                        timeout=60)  # fmt: skip
        assert len(pd.read_csv(io.BytesIO(csv.content))) == len(json.loads(printed.stdout))
        refused = httpx.get(f"{server.base}/situation-room/api/v1/series?colour=red", timeout=60)
        assert refused.status_code == 400 and "colour" in refused.json()["error"]
