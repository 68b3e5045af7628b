"""Every connector on the real recorded payloads in ../shared/data, end to end.

    python -m bench.real_payloads [--shared ../shared/data] [--feed hapi]

Each payload is served by the replay server (devtools/replay_server.py) the way the live API would
answer, then refreshed into a fresh SQLite store; printed per feed: records served, rows in
(figures the connector made), stored (new), added up, rejected by reason and skipped by
reason. DTM and ACLED values stay in ../shared/data: nothing here is written to the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

from data_sources import settings
from data_sources.feeds.connectors import Scope
from data_sources.feeds.refresh import refresh
from data_sources.store import query
from data_sources.store.engine import make_engine
from data_sources.store.ingest import REASON_DETAIL
from devtools.replay_server import FEED_KEYS, FIXTURES, SHARED, FeedServer, hapi_records


def payloads(shared: Path) -> dict[str, tuple[Scope, callable]]:
    """feed -> (scope, a function that loads the real payload into the server)."""
    hapi_files = {
        "idps": shared / "iom-dtm" / "hdx_hapi_idps_global.csv",
        "conflict-events": shared / "acled-hdx" / "hdx_hapi_conflict_event_global_2025.csv",
        "food-prices": shared / "wfp-food-prices" / "hdx_hapi_food_price_global_2017.csv",
    }
    samples = shared / "api-samples"
    out = {}

    def load_hapi(server: FeedServer) -> Scope:
        countries = set()
        for name in server.data["hapi"]:
            records = hapi_records(hapi_files[name]) if name in hapi_files else []
            server.data["hapi"][name] = records
            countries |= {r["location_code"] for r in records}
        return Scope(sorted(countries))

    def load_dtm(server: FeedServer) -> Scope:
        tcd = json.loads(
            (samples / "iom-dtm" / "displacement-admin2-admin0pcode-tcd.json").read_text()
        )
        server.data["dtm"] = {"TCD": tcd}
        return Scope(["TCD"])

    def load_ucdp(server: FeedServer) -> Scope:
        server.data["ucdp"] = json.loads(
            (samples / "ucdp" / "gedevents_25.1_pagesize1_page0.json").read_text()
        )["Result"]
        return Scope(["ETH"])

    def load_unhcr(server: FeedServer) -> Scope:
        items = json.loads(
            (samples / "unhcr" / "population_v1_year2024_coaTUR_limit5.json").read_text()
        )["items"]
        server.data["unhcr"] = items  # origin "-": served with any origin's answer
        return Scope(["TUR"])

    def load_reliefweb(server: FeedServer) -> Scope:
        recorded = FIXTURES / "reliefweb" / "recorded_v1_reports_NPL.json"
        server.data["reliefweb"] = {"Kathmandu": json.loads(recorded.read_text())["data"]}
        return Scope(["NPL"], ["Kathmandu"])

    out["reliefweb"] = load_reliefweb

    out["hapi"] = load_hapi
    out["dtm"] = load_dtm
    out["ucdp"] = load_ucdp
    out["unhcr"] = load_unhcr
    return out


def run(shared: Path, feeds: list[str] | None) -> list[dict]:
    server = FeedServer().start()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SITUATION_ROOM_SECRETS"] = str(Path(tmp) / "none.toml")
            os.environ["HTTP_CACHE_DIR"] = str(Path(tmp) / "cache")
            os.environ["HTTP_CACHE_TTL"] = "0"
            os.environ["HTTP_REQUESTS_PER_SECOND"] = "0"
            os.environ.update(FEED_KEYS)
            from data_sources.feeds.connectors import CONNECTORS

            for cls in CONNECTORS.values():
                os.environ[cls.base_url_setting] = server.base_url
            settings.reload()
            for feed, load in payloads(shared).items():
                if feeds and feed not in feeds:
                    continue
                scope = load(server)
                engine = make_engine(f"sqlite:///{tmp}/{feed}.sqlite")
                report = refresh(engine, [feed], scope)[0]
                rejects = query.rejected(engine, limit=10**7, source=feed)
                reasons = (
                    rejects["reason"]
                    .str.replace(REASON_DETAIL, "", regex=True)
                    .str.strip()
                    .value_counts()
                )
                results.append({"feed": feed, "report": report, "reasons": reasons.to_dict()})
                engine.dispose()
    finally:
        server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--feed", action="append")
    args = parser.parse_args()
    for item in run(args.shared, args.feed):
        r = item["report"]
        print(f"== {item['feed']}: {r.status} {r.error}")
        print(f"   rejects in the store by reason: {item['reasons']}")
        for key, value in vars(r).items():
            if key not in ("source", "status", "error") and value not in ("", 0, 0.0, {}, None):
                print(
                    f"   {key}: {value if not isinstance(value, float) or math.isnan(value) else round(value, 2)}"
                )


if __name__ == "__main__":
    main()
