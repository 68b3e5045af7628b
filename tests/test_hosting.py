"""The hosting recipe as a host would run it: the scripts that Dockerfile and compose.yaml call,
run here as they are (no container engine runs here, so this is what the containers would do).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa
import yaml

from data_sources.snapshot import MANIFEST

from .conftest import ROOT

SCRIPTS = {"prepare": "scripts/prepare-store", "app": "scripts/start-app"}
SCRIPTS["worker"] = "scripts/start-worker"


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON": sys.executable,
        "COLUMNS": "200",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        **extra,
    }


def _figures(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM observations")).scalar_one()
    finally:
        engine.dispose()


def test_dockerfile_and_compose_run_the_tested_scripts():
    """compose.yaml's services and the Dockerfile start exactly the scripts tested below, and
    the image's health check is Streamlit's own endpoint."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "prepare", "app", "worker"}
    for name in ("prepare", "app", "worker"):
        assert services[name]["entrypoint"] == [SCRIPTS[name]], name
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert services["app"]["depends_on"]["prepare"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["prepare"]["depends_on"]["db"]["condition"] == "service_healthy"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["scripts/start-app"\]$', dockerfile, re.M)
    assert "/_stcore/health" in dockerfile
    assert "'.[postgres]'" in dockerfile  # the driver the compose DATABASE_URL names
    for script in SCRIPTS.values():
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), script
    env_example = (ROOT / ".env.example").read_text()
    for name in re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()):
        assert re.search(rf"^{name}=", env_example, re.M), f"{name} missing from .env.example"


def _run(script: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_prepare_store_migrates_and_loads_once(store_url, loaded_url):
    """A fresh database comes out at this release's schema with the whole snapshot; a second
    run (the next container start) changes nothing."""
    env = _env(DATABASE_URL=store_url)
    first = _run(SCRIPTS["prepare"], env)
    assert first.returncode == 0, first.stderr
    figures = _figures(store_url)
    assert figures == _figures(loaded_url) > 50_000
    second = _run(SCRIPTS["prepare"], env)
    assert second.returncode == 0, second.stderr
    assert _figures(store_url) == figures
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        fetches = conn.execute(sa.text("SELECT count(*) FROM fetch_log")).scalar_one()
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert fetches == len(MANIFEST) == 6  # one load per snapshot file, not repeated
    assert version


def test_prepare_store_from_several_processes_at_once(backend, store_url):
    """Several app containers starting together on an empty database: one migrates and loads,
    the others wait for it; every one ends well and nothing is stored twice."""
    env = _env(DATABASE_URL=store_url)
    procs = [
        subprocess.Popen(
            [str(ROOT / SCRIPTS["prepare"])],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        loads = conn.execute(
            sa.text("SELECT count(*) FROM fetch_log WHERE target LIKE 'snapshot:%'")
        ).scalar_one()
    engine.dispose()
    assert loads == len(MANIFEST)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_start_app_serves_under_a_base_path(backend, loaded_url):
    """What the app container runs, behind a proxy's path: health at the prefixed endpoint
    and the page itself served there."""
    port = _free_port()
    env = _env(
        DATABASE_URL=loaded_url,
        HOST="127.0.0.1",
        PORT=str(port),
        STREAMLIT_SERVER_BASE_URL_PATH="situation-room",
    )
    proc = subprocess.Popen(
        [str(ROOT / SCRIPTS["app"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/situation-room"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/_stcore/health", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.5)
        assert health is not None and health.text == "ok"
        page = httpx.get(f"{base}/trends", timeout=10)
        assert page.status_code == 200 and "<noscript>" in page.text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_start_worker_prepares_the_store_and_refreshes_on_schedule(feeds, store_url):
    """What the worker container runs: the store is prepared (schema, snapshot), then the
    configured feeds are refreshed every REFRESH_EVERY until SIGTERM, which ends it cleanly."""
    env = _env(DATABASE_URL=store_url, REFRESH_EVERY="1s", REFRESH_COUNTRIES="SYR", HXL_URLS="")
    proc = subprocess.Popen(
        [str(ROOT / SCRIPTS["worker"]), "--source", "unhcr"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = sa.create_engine(store_url)

    def unhcr_runs() -> int:
        try:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(
                        "SELECT count(*) FROM fetch_log WHERE source = 'unhcr' AND target NOT LIKE 'snapshot:%'"
                    )
                ).scalar_one()
        except sa.exc.DBAPIError:
            return 0  # tables not there yet: the worker is still preparing the store

    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and unhcr_runs() < 2:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert unhcr_runs() >= 2
        assert _figures(store_url) > 50_000  # the snapshot was loaded first
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "worker: refreshing every 1s" in out
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM locks")).scalar_one() == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
