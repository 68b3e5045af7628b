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
import pandas as pd
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
        assert services[name]["environment"]["POSTGRES_HOST"] == "db", name
    assert services["app"]["depends_on"]["prepare"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["prepare"]["depends_on"]["db"]["condition"] == "service_healthy"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^ENTRYPOINT \["scripts/start-app"\]$', dockerfile, re.M)
    assert "_stcore/health" in dockerfile  # run for real in test_start_app_serves_under_a_base_path
    assert "-r requirements.txt" in dockerfile  # with the PostgreSQL driver (psycopg)
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
    assert "already in the store; nothing to load" in second.stdout + second.stderr  # said
    assert "already in the store" not in first.stdout + first.stderr
    assert _figures(store_url) == figures
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        fetches = conn.execute(sa.text("SELECT count(*) FROM fetch_log")).scalar_one()
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert fetches == len(MANIFEST)  # one load per snapshot file, not repeated
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
        # the image's HEALTHCHECK command as the engine runs it, under the same base path
        check = dict(dockerfile_steps((ROOT / "Dockerfile").read_text()))["HEALTHCHECK"]
        command = json.loads(check[check.index("CMD") + 3 :])
        ran = subprocess.run(
            command, env={**env, "PORT": str(port)}, capture_output=True, text=True, timeout=30
        )
        assert ran.returncode == 0 and ran.stdout == "ok", ran.stderr
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


# --- the image, built as an engine would (no container engine runs here) --------------------

import fnmatch  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote  # noqa: E402


def dockerfile_steps(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments dropped, `\\` continuations joined, as the
    engine's parser reads them."""
    steps, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        instruction, _, args = full.partition(" ")
        steps.append((instruction.upper(), args.strip()))
    return steps


def dockerignore(root: Path) -> list[str]:
    path = root / ".dockerignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return [ln.strip().lstrip("/") for ln in lines if ln.strip() and not ln.startswith("#")]


def ignored(rel: str, patterns: list[str]) -> bool:
    """Whether the build context leaves `rel` out: the last matching pattern wins (`!` keeps),
    a pattern matching a folder leaves out everything under it, `**` matches any depth."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        pat = pattern[1:] if keep else pattern
        forms = {pat, pat.replace("**/", "")} if pat.startswith("**/") else {pat}
        hit = any(
            fnmatch.fnmatchcase(prefix, form) or fnmatch.fnmatchcase(prefix, "*/" + form)
            if form != pat
            else fnmatch.fnmatchcase(prefix, form)
            for prefix in prefixes
            for form in forms
        )
        if hit:
            result = not keep
    return result


def build_context(root: Path) -> set[str]:
    """The files the engine sends: every file of the work tree the .dockerignore keeps."""
    patterns = dockerignore(root)
    files = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not ignored(rel_dir + d, patterns)]
        files |= {rel_dir + f for f in filenames if not ignored(rel_dir + f, patterns)}
    return files


# what a RUN step may do outside the image's own folder is stood in for by these shell
# functions: apt-get asks this machine's Debian archive for each package, useradd records the
# user, chown checks its paths exist; every other command (pip, mkdir, ...) runs for real
RUN_PRELUDE = r"""
apt-get() {
  case "$1" in
    update) return 0 ;;
    install) shift; for p in "$@"; do case "$p" in -*) ;; *)
      apt-cache show "$p" >/dev/null 2>&1 || { echo "E: Unable to locate package $p" >&2; return 100; } ;;
    esac; done ;;
    *) echo "apt-get $1: not emulated" >&2; return 1 ;;
  esac
}
useradd() { echo "$*" >> "$STAGE_USERS"; }
chown() { shift; for p in "$@"; do [ -e "$p" ] || { echo "chown: $p: no such file" >&2; return 1; }; done; }
rm() { for a in "$@"; do case "$a" in /var/lib/apt/*) return 0 ;; esac; done; command rm "$@"; }
"""


def emulated_build(root: Path, stage: Path, venv: Path) -> list[str]:
    """Build the Dockerfile of `root` into `stage` (standing for the image's file system at its
    WORKDIR) step by step; returns what each step did. Fails (AssertionError) where the engine
    would: a COPY source missing from the build context, a RUN step exiting non-zero."""
    context = build_context(root)
    done, workdir = [], None
    users = stage.parent / "users"
    users.parent.mkdir(parents=True, exist_ok=True)
    users.write_text("")
    for instruction, args in dockerfile_steps((root / "Dockerfile").read_text()):
        if instruction == "WORKDIR":
            workdir = args
            stage.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, dest = shlex.split(args)
            assert not any(s.startswith("--") for s in sources), "COPY flags are not emulated"
            target = stage / dest.removeprefix(workdir or "").lstrip("/")
            for source in sources:
                src = source.rstrip("/") if source not in (".", "./") else ""
                picked = sorted(
                    f for f in context if not src or f == src or f.startswith(src + "/")
                )
                assert picked, f"COPY {source}: not in the build context (Dockerfile: {args})"
                for f in picked:
                    if src and f == src:  # a file: into the folder (dest ends with /) or as dest
                        out = target / Path(f).name if dest.endswith("/") else target
                    else:
                        out = target / (f[len(src) + 1 :] if src else f)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(root / f, out)
            done.append(f"COPY {args}: {len(picked)} files")
        elif instruction == "RUN":
            command = args.replace(f"{workdir}/", f"{stage}/") if workdir else args
            proc = subprocess.run(
                ["bash", "-euc", RUN_PRELUDE + command],
                cwd=stage,
                env={
                    **os.environ,
                    "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
                    "VIRTUAL_ENV": str(venv),
                    "STAGE_USERS": str(users),
                },
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert proc.returncode == 0, f"RUN {args}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            done.append(f"RUN {args[:60]}")
        else:
            done.append(f"{instruction} {args}")
    return done


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    """A new venv with nothing but requirements.txt installed by pip, as Community Cloud and
    the image install it (from this machine's package index and wheel cache: no network)."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "-r", str(ROOT / "requirements.txt")],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


@pytest.mark.slow  # a container build / every sink of every secret: make test only
def test_the_image_builds_step_by_step(clean_venv, tmp_path):
    """Every COPY source is in the build context (after .dockerignore), every RUN step runs in
    order on the files copied so far, and the result holds what the entry point, the health
    check and the compose services run: the store can be prepared from the image's files with
    the image's packages alone."""
    stage = tmp_path / "image" / "app"
    steps = emulated_build(ROOT, stage, clean_venv)
    assert any(s.startswith("RUN pip install") for s in steps), steps
    entry = json.loads(dict(dockerfile_steps((ROOT / "Dockerfile").read_text()))["ENTRYPOINT"])
    for script in [entry[0], *SCRIPTS.values()]:
        assert os.access(stage / script, os.X_OK), script
    assert "situation" in (tmp_path / "image" / "users").read_text()
    assert not (stage / ".env").exists() and not (stage / ".git").exists()
    prepared = subprocess.run(
        [str(stage / SCRIPTS["prepare"])],
        cwd=stage,
        env=_env(
            PYTHON=str(clean_venv / "bin/python"),
            DATABASE_URL=f"sqlite:///{tmp_path}/image.sqlite",
            PYTHONPATH="",
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert prepared.returncode == 0, prepared.stderr[-3000:]
    assert _figures(f"sqlite:///{tmp_path}/image.sqlite") > 50_000


@pytest.mark.slow  # a container build / every sink of every secret: make test only
def test_the_build_fails_where_an_engine_would(clean_venv, tmp_path):
    """The emulation is no rubber stamp: the Dockerfile before issue 20 (`COPY charts.py
    app.py ./`, charts.py having moved to views/) stops at that COPY."""
    root = tmp_path / "ctx"
    shutil.copytree(
        ROOT, root, ignore=shutil.ignore_patterns(".venv", ".git", "data", "test-artifacts")
    )
    text = (root / "Dockerfile").read_text()
    (root / "Dockerfile").write_text(
        text.replace(
            "COPY requirements.txt ./", "COPY requirements.txt ./\nCOPY charts.py app.py ./"
        )
    )
    with pytest.raises(AssertionError, match=r"COPY charts.py: not in the build context"):
        emulated_build(root, tmp_path / "image" / "app", clean_venv)


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint missing: pip install -e '.[test]'"
    done = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


COMPOSE_SCHEMA = ROOT / "tests/fixtures/compose-spec/compose-spec.json"


def test_compose_file_is_valid_by_the_compose_spec_schema():
    """compose.yaml against the Compose Specification's own JSON schema (vendored: see
    tests/fixtures/compose-spec/SOURCE.md); a misspelt key is caught by the same check."""
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    jsonschema.validate(compose, schema)
    compose["services"]["app"]["enviroment"] = {"X": "1"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, schema)


def test_compose_passes_database_parts_not_a_pasted_url():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name in ("prepare", "app", "worker"):
        env = compose["services"][name]["environment"]
        assert "DATABASE_URL" not in env, name
        assert env["POSTGRES_HOST"] == "db" and env["POSTGRES_PASSWORD"].startswith(
            "${POSTGRES_PASSWORD"
        ), name


# --- Community Cloud and other PaaS: requirements.txt -----------------------------------------


def test_requirements_txt_agrees_with_pyproject():
    """requirements.txt is what scripts/requirements.py makes of pyproject.toml today, and
    holds every dependency and the PostgreSQL driver."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import requirements as generator
    finally:
        sys.path.pop(0)
    assert (ROOT / "requirements.txt").read_text() == generator.requirements(), (
        "requirements.txt is stale: run python3 scripts/requirements.py"
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = [
        ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if not ln.startswith("#")
    ]
    assert listed == [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    assert any(ln.startswith("psycopg") for ln in listed)


def test_migrate_without_the_driver_is_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "data_sources", "migrate"],
        cwd=tmp_path,
        env=_env(
            DATABASE_URL="postgresql+psycopg2://me:Zq7secretX@127.0.0.1:1/x", PYTHONPATH=str(ROOT)
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = (done.stdout + done.stderr).strip()
    assert done.returncode == 1
    assert "Traceback" not in said and len(said.splitlines()) == 1, said
    assert "needs a database driver that is not installed (psycopg2)" in said
    assert "Zq7secretX" not in said


# --- credentials built, not pasted --------------------------------------------------------------

PASSWORDS = ["p@ss/w#rd", "Zq:7%41?&+x y", "a b@c/d#e:f%g?h&i+jQ", "%%Zz//@@##", "Qx 9 +&?"]


def fragments(password: str) -> set[str]:
    """Every piece of 4 characters or more of the password, as typed and as quoted in a URL."""
    out = set()
    for form in {password, quote(password, safe=""), quote(password, safe=" +")}:
        out |= {form[i : i + 4] for i in range(len(form) - 3)}
    return out


def assert_no_fragment(text: str, password: str) -> None:
    leaked = sorted(f for f in fragments(password) if f in text)
    assert not leaked, f"pieces of the password shown: {leaked} in {text[:500]!r}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again once this returns


def _settings_cases(password: str, port: int) -> dict[str, dict[str, str]]:
    """The ways a host gives the store's password: parts, a quoted URL, a pasted (unquoted) one,
    and a URL no parser reads."""
    quoted = quote(password, safe="")
    return {
        "parts": dict(
            POSTGRES_HOST="127.0.0.1",
            POSTGRES_PORT=str(port),
            POSTGRES_USER="situation_room",
            POSTGRES_PASSWORD=password,
            POSTGRES_DB="situation_room",
        ),
        "quoted url": dict(
            DATABASE_URL=f"postgresql+psycopg://situation_room:{quoted}@127.0.0.1:{port}/sr"
        ),
        "pasted url": dict(
            DATABASE_URL=f"postgresql+psycopg://situation_room:{password}@127.0.0.1:{port}/sr"
        ),
        "not a url": dict(DATABASE_URL=f"situation_room:{password}@127.0.0.1:{port}"),
    }


def _page_text(env: dict[str, str], monkeypatch) -> str:
    """Every element of the Overview as a visitor's session gets it (AppTest), with `env` set."""
    from data_sources import settings
    from tests.apptest import open_page

    for name in ("DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PASSWORD", "POSTGRES_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.reload()
    import streamlit as st

    st.cache_resource.clear()
    at = open_page()
    return "\n".join(
        str(getattr(el, "value", "") or getattr(el, "body", ""))
        for kind in ("error", "warning", "info", "markdown", "caption", "exception", "title")
        for el in getattr(at, kind)
    )


@pytest.mark.parametrize("password", PASSWORDS)
def test_no_piece_of_a_password_on_page_log_or_error(password, monkeypatch, capsys, caplog):
    """Whatever way the password is given and whatever it holds, the page and the command
    line's output and log say the database cannot be reached (or the URL cannot be read) and
    never show a piece of it."""
    from data_sources import cli

    port = _closed_port()
    for case, env in _settings_cases(password, port).items():
        text = _page_text(env, monkeypatch)
        assert "database" in text.lower() or "DATABASE_URL" in text, (case, text[:300])
        assert_no_fragment(text, password)
        capsys.readouterr()
        assert cli.main(["migrate"]) != 0, case
        out = capsys.readouterr()
        assert_no_fragment(out.out + out.err + caplog.text, password)


def test_parts_make_the_url_sqlalchemy_reads_back():
    from data_sources.store.engine import postgres_url

    for password in PASSWORDS:
        url = sa.make_url(
            postgres_url(host="db", port="5432", user="u s", password=password, database="d")
        )
        assert (url.username, url.password, url.host, url.port, url.database) == (
            "u s", password, "db", 5432, "d",
        )  # fmt: skip


def test_sqlite_fallback_when_no_database_is_configured(monkeypatch):
    """POSTGRES_PASSWORD alone (an .env copied without a host) keeps the embedded SQLite file,
    and the password stays a secret the redaction removes."""
    from data_sources import redact, settings
    from data_sources.store.engine import database_url

    for name in ("DATABASE_URL", "POSTGRES_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTGRES_PASSWORD", PASSWORDS[1])
    settings.reload()
    assert database_url() == "sqlite:///data/situation_room.sqlite"
    assert_no_fragment(
        redact.redact(f"said {PASSWORDS[1]} and {quote(PASSWORDS[1], safe='')}"), PASSWORDS[1]
    )


def _scram_role(pg_server, password: str) -> str:
    """A role with `password` on the test cluster, which asks it of that role (scram) although
    the cluster trusts everyone else; returns the database's name."""
    name = "pw_" + os.urandom(4).hex()
    admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("SET password_encryption = 'scram-sha-256'")
        literal = "'" + password.replace("'", "''") + "'"  # DDL takes no bound parameters
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN PASSWORD {literal}".replace("%", "%%"))
        conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {name}")
    hba = Path(pg_server.data) / "pg_hba.conf"
    hba.write_text(f"host all {name} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    with admin.connect() as conn:
        conn.exec_driver_sql("SELECT pg_reload_conf()")
    admin.dispose()
    return name


@pytest.mark.parametrize("password", PASSWORDS[:3])
def test_parts_reach_a_real_postgresql_and_a_wrong_password_leaks_nothing(
    pg_server, password, tmp_path
):
    """On a real PostgreSQL that checks the password: the parts open the store (migrate works),
    and the same parts with the password's last character dropped are refused in plain words
    without a piece of either password."""
    role = _scram_role(pg_server, password)
    parts = dict(
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(pg_server.port),
        POSTGRES_USER=role,
        POSTGRES_PASSWORD=password,
        POSTGRES_DB=role,
    )

    def migrate(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "data_sources", "migrate"],
            cwd=tmp_path,
            env=_env(PYTHONPATH=str(ROOT), **env),
            capture_output=True,
            text=True,
            timeout=180,
        )

    good = migrate(**parts)
    assert good.returncode == 0, good.stdout + good.stderr
    assert_no_fragment(good.stdout + good.stderr, password)
    wrong = migrate(**{**parts, "POSTGRES_PASSWORD": password[:-1]})
    said = wrong.stdout + wrong.stderr
    assert wrong.returncode == 1 and "the user or password was refused" in said, said
    assert_no_fragment(said, password)


# --- behind nginx under a base path: every page, every request -------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BASE_PATH = "situation-room"
PAGES = ["", "trends", "compare", "map", "data"]
CHARTED = {"trends", "compare", "map"}  # the pages that draw a plotly chart


def nginx_config(app_port: int, listen: int, folder: Path) -> str:
    """deploy/nginx.conf as it is, with only what differs on a test machine changed: the port
    it listens on, the app processes it sends to, and folders a non-root user may write."""
    text = (ROOT / "deploy/nginx.conf").read_text()
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    text, servers = re.subn(r"(?m)^(\s*)server 127\.0\.0\.1:\d+;\n", "", text)
    assert servers >= 1, "deploy/nginx.conf names no app process"
    text = text.replace(
        "hash $situation_room_key consistent;",
        f"hash $situation_room_key consistent;\n        server 127.0.0.1:{app_port};",
    )
    text = text.replace("/var/log/nginx/", f"{folder}/")
    temp = "".join(
        f"    {kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return text.replace("http {\n", "http {\n" + temp, 1) + ""


@pytest.fixture
def behind_nginx(loaded_url, tmp_path):
    """The app as scripts/start-app serves it under /situation-room/, behind Debian's nginx
    running the repo's config; yields nginx's base URL."""
    assert Path(NGINX).exists(), "nginx missing: make nginx"
    app_port, listen = _free_port(), _free_port()
    env = _env(
        DATABASE_URL=loaded_url,
        HOST="127.0.0.1",
        PORT=str(app_port),
        STREAMLIT_SERVER_BASE_URL_PATH=BASE_PATH,
    )
    app = subprocess.Popen(
        [str(ROOT / SCRIPTS["app"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(app_port, listen, tmp_path))
    pid = tmp_path / "nginx.pid"
    nginx = [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", f"pid {pid}; daemon off;"]
    proxy = subprocess.Popen(nginx, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{listen}/{BASE_PATH}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert app.poll() is None and proxy.poll() is None, proxy.stderr.read()
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the app never answered through nginx"
            time.sleep(0.5)
        yield base
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=30)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_every_page_through_nginx_under_a_base_path(backend, behind_nginx, browser):
    """Every page opened in Chromium through nginx at /situation-room/: a chart drawn, the Map's
    outline fetched from under the base path and drawn, and no request of any page answered
    4xx/5xx (the outline at /app/static/ would be a 404 that leaves the map blank)."""
    redirect = httpx.get(behind_nginx, timeout=10)  # /situation-room without its slash
    assert redirect.status_code == 301 and redirect.headers["location"].endswith(f"/{BASE_PATH}/")
    context = browser.new_context()
    failed: list[str] = []
    outlines: list[str] = []
    for name in PAGES:  # each opened as a deep link (a fresh page load), as a shared link is
        page = context.new_page()
        page.on(
            "response",
            lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "requestfailed",
            lambda r: (
                failed.append(f"{r.failure} {r.url}")
                if "ERR_ABORTED" not in (r.failure or "")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: outlines.append(f"{r.status} {r.url}") if "world_110m" in r.url else None,
        )
        page.goto(f"{behind_nginx}/{name}", wait_until="networkidle")
        if name in CHARTED:
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=180_000)
        else:
            page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=180_000)
        if name == "map":
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .geo path.land, "
                ".js-plotly-plot .geo .countries path').length > 0",
                timeout=120_000,
            )
            assert outlines and all(
                o.startswith("200 ") and f"/{BASE_PATH}/app/static/" in o for o in outlines
            ), outlines
        page.wait_for_load_state("networkidle")
        assert not page.locator("[data-testid='stException']").count(), name
        page.close()
    cookies = {c["name"] for c in context.cookies()}
    assert "situation_room_upstream" in cookies  # the sticky-session key nginx hands out
    context.close()
    assert not failed, failed


# --- the recipe's as-of example ------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_as_of_before_the_first_retrieval_is_explained(backend, loaded_url, monkeypatch):
    """The hosting docs' as-of example (the day after the snapshot's retrieval) shows figures;
    a moment before the store's first retrieval (the old example, 2016-12-16, a period the
    figures describe, not a moment they were retrieved) says why the page is empty."""
    from data_sources import settings
    from data_sources.snapshot import RETRIEVED
    from tests.apptest import open_page

    monkeypatch.setenv("DATABASE_URL", loaded_url)
    settings.reload()
    example = (RETRIEVED + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert f"as_of={example}" in (ROOT / "docs/hosting.md").read_text()
    shown = open_page(as_of=example)
    assert not shown.warning and not shown.exception
    assert any("the figures the store held then" in i.value for i in shown.info)
    early = open_page(as_of="2016-12-16")
    said = " ".join(w.value for w in early.warning).replace("\\", "")
    assert "first figures were retrieved (2026-11-24" in said, said
    assert "not the period they describe" in said


def test_systemd_units_start_the_tested_scripts():
    """deploy/*.service: one unit for the app and one for the worker, each ExecStart one of the
    scripts the tests above run, with the store given as parts in its EnvironmentFile."""
    import configparser

    found = {}
    for unit in sorted((ROOT / "deploy").glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read_string(unit.read_text())
        exec_start = parser["Service"]["ExecStart"].split()
        found[unit.name] = exec_start[0].rsplit("/", 2)[-2:]
        assert parser["Service"]["EnvironmentFile"], unit.name
        assert parser["Install"]["WantedBy"] == "multi-user.target"
    assert found == {
        "situation-room-app.service": SCRIPTS["app"].split("/"),
        "situation-room-worker.service": SCRIPTS["worker"].split("/"),
    }


def test_nginx_config_is_complete_and_accepted_by_nginx(tmp_path):
    """deploy/nginx.conf is a whole file (`events {}`, `http {}`) that `nginx -t` accepts, with
    the websocket headers and cookie-based stickiness (not ip_hash)."""
    text = (ROOT / "deploy/nginx.conf").read_text()
    assert re.search(r"(?m)^http \{", text) and re.search(r"(?m)^events \{", text)
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "hash $situation_room_key consistent;" in text and "ip_hash;" not in text
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(8501, _free_port(), tmp_path))
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(conf), "-g", f"pid {tmp_path}/pid;"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_requirements_install_and_the_app_opens_on_postgresql(
    backend, clean_venv, pg_server, tmp_path
):
    """What Community Cloud does: requirements.txt into a clean venv (pip), then the app from
    that venv on PostgreSQL given as parts with a password full of URL characters; the page is
    served and the store prepared (migrations, the snapshot)."""
    password = PASSWORDS[2]
    role = _scram_role(pg_server, password)
    port = _free_port()
    python = str(clean_venv / "bin/python")
    env = _env(
        PYTHON=python,
        PYTHONPATH="",
        HOST="127.0.0.1",
        PORT=str(port),
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(pg_server.port),
        POSTGRES_USER=role,
        POSTGRES_PASSWORD=password,
        POSTGRES_DB=role,
    )
    env.pop("DATABASE_URL", None)
    log = tmp_path / "app.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ROOT / SCRIPTS["app"])],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 600
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        page = httpx.get(f"http://127.0.0.1:{port}/trends", timeout=10)
        assert page.status_code == 200 and "<noscript>" in page.text
        url = sa.URL.create(
            "postgresql+psycopg",
            username=role,
            password=password,
            host="127.0.0.1",
            port=pg_server.port,
            database=role,
        )
        assert _figures(url) > 50_000
        assert_no_fragment(log.read_text(), password)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
