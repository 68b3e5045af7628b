"""Schema migrations on real stores, SQLite and PostgreSQL.

The pre-migration stores are fixtures made by the code released at 44ede93 (how:
tests/fixtures/pre_migration/README.md): a SQLite file, and a plain `pg_dump` of the same
figures stored in PostgreSQL by that code. Upgrading them must keep every figure, revision and
log row as it was, byte for byte as the database returns it.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from data_sources.errors import StoreError
from data_sources.store import migrations, query
from data_sources.store.engine import make_engine
from data_sources.store.migrations import BASELINE_COLUMNS
from data_sources.store.tables import metadata
from tests import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pre_migration"
SQLITE_FIXTURE = FIXTURES / "store_44ede93.sqlite"
PG_FIXTURE = FIXTURES / "store_44ede93_postgresql.sql"

OBSERVATION_COLUMNS = (
    "series_id, period_start, period_end, revision, value, is_current, retrieved_at"
)


def load_pg_dump(pg_server, url: str) -> None:
    """psql (the dump is psql's plain format), as the postgres user when we are root."""
    database = sa.make_url(url).database
    command = [
        str(pg_server.bin / "psql"),
        *("-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg_server.port)),
        *("-U", "postgres", "-d", database),
    ]
    if pg_server.as_root:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(
        command, input=PG_FIXTURE.read_text(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def old_store_url(backend, request, tmp_path) -> str:
    """A private copy of the store made by the 44ede93 release, on this test's backend."""
    if backend == "sqlite":
        path = tmp_path / "old.sqlite"
        shutil.copyfile(SQLITE_FIXTURE, path)
        return f"sqlite:///{path}"
    pg_server = request.getfixturevalue("pg_server")
    url = pg_server.new_database()
    load_pg_dump(pg_server, url)
    return url


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every released table, as the driver returns it (no schema changes)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    rows = {}
    with engine.connect() as conn:
        rows["observations"] = conn.exec_driver_sql(
            f"SELECT {OBSERVATION_COLUMNS}, provenance_id, fetch_id FROM observations "
            "ORDER BY series_id, period_start, period_end, revision"
        ).fetchall()
        for table, columns in BASELINE_COLUMNS.items():
            if table == "observations":
                continue
            names = sorted(columns)
            quoted = ", ".join(f'"{c}"' for c in names)
            rows[table] = conn.exec_driver_sql(
                f"SELECT {quoted} FROM {table} ORDER BY {quoted}"
            ).fetchall()
    engine.dispose()
    return rows


def version(url: str) -> list[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = [r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
    engine.dispose()
    return found


def schema_diff(engine) -> list:
    """Alembic's autogenerate comparison of today's `metadata` with the database."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_head_is_read_from_versions_as_alembic_reads_it():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations.HERE))
    assert migrations.head() == script.get_current_head()
    assert migrations.revisions() == {s.revision: s.down_revision for s in script.walk_revisions()}


def test_pre_migration_store_upgrades_keeping_every_figure(old_store_url, backend):
    before = snapshot(old_store_url)
    # 478 prices and 4 reported figures, two of the prices with a second revision
    assert len(before["observations"]) == 484
    assert sum(1 for r in before["observations"] if r[3] == 2) == 2
    assert len(before["fetch_log"]) == 3 and len(before["rejects"]) == 2
    with pytest.raises(sa.exc.DBAPIError):
        version(old_store_url)  # made before migrations: no alembic_version

    engine = make_engine(old_store_url)

    assert version(old_store_url) == [migrations.head()]
    after = snapshot(old_store_url)
    for table, rows in before.items():
        assert after[table] == rows, table
    inspector = sa.inspect(engine)
    assert "locks" in inspector.get_table_names()
    fetch_columns = {c["name"] for c in inspector.get_columns("fetch_log")}
    assert {"pages_not_modified", "pages_cached"} <= fetch_columns
    assert schema_diff(engine) == []

    # the pages' read path sees the figures: Aleppo's wheat flour prices, current values only
    aleppo = query.cities(engine).query("name == 'Aleppo'").place_id.tolist()
    assert aleppo
    frame = query.series_frame(engine, aleppo, "food_price", unit="SYP/KG")
    assert len(frame) > 50
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM observations o JOIN series s USING (series_id) "
            "WHERE s.metric = 'food_price' AND s.unit = 'SYP/KG' AND o.is_current "
            f"AND s.place_id IN ({', '.join(repr(p) for p in aleppo)})"
        ).scalar()
    assert len(frame) == stored
    engine.dispose()


def test_downgrade_to_baseline_and_up_again_keeps_every_figure(old_store_url):
    engine = make_engine(old_store_url)
    figures = snapshot(old_store_url)
    migrations.downgrade(engine, "0001")
    assert version(old_store_url) == ["0001"]
    assert "locks" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    engine = make_engine(old_store_url)
    assert version(old_store_url) == [migrations.head()]
    assert snapshot(old_store_url) == figures
    assert schema_diff(engine) == []
    engine.dispose()


def test_store_older_than_the_baseline_gets_its_page_counts(tmp_path):
    """Stores made before the live feeds lacked fetch_log.pages/requests (they were added
    by hand at start); they are added before the store is stamped."""
    path = tmp_path / "older.sqlite"
    shutil.copyfile(SQLITE_FIXTURE, path)
    with sqlite3.connect(path) as con:
        con.execute("ALTER TABLE fetch_log DROP COLUMN pages")
        con.execute("ALTER TABLE fetch_log DROP COLUMN requests")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    assert version(url) == [migrations.head()]
    assert schema_diff(engine) == []
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT pages, requests FROM fetch_log").fetchall()
    assert rows == [(None, None)] * 3
    engine.dispose()


def test_fresh_store_is_created_at_head_matching_the_tables_in_store_py(store_url):
    """A column added to store.py without a revision (or the reverse) fails here."""
    engine = make_engine(store_url)
    assert version(store_url) == [migrations.head()]
    assert schema_diff(engine) == []
    engine.dispose()


def _shape(engine) -> dict:
    """What compare_metadata does not look at: named check constraints (as the database
    renders them) and, on SQLite, the clustered (WITHOUT ROWID) tables."""
    inspector = sa.inspect(engine)
    shape = {}
    for table in metadata.sorted_tables:
        shape[table.name] = _shape_checks(inspector, table.name)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            shape["without rowid"] = sorted(
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE sql LIKE '%WITHOUT ROWID%'"
                )
            )
    return shape


def test_check_constraints_and_clustering_match_store_py(store_url, backend, request, tmp_path):
    if backend == "sqlite":
        reference_url = f"sqlite:///{tmp_path / 'reference.sqlite'}"
    else:
        reference_url = request.getfixturevalue("pg_server").new_database()
    reference = sa.create_engine(reference_url, poolclass=sa.pool.NullPool)
    metadata.create_all(reference)
    engine = make_engine(store_url)
    expected = _shape(reference)
    assert [c[0] for c in expected["observations"]] == ["period_order", "revision_positive"]
    assert [c[0] for c in expected["series"]] == ["estimate_kind"]
    if backend == "sqlite":
        assert expected["without rowid"] == ["observations"]
    assert _shape(engine) == expected
    engine.dispose()
    reference.dispose()


def _described(engine) -> dict:
    """The whole schema as the database reports it: columns (type, null, comment), keys,
    foreign keys, unique constraints, indexes, checks; and SQLite's clustered tables."""
    inspector = sa.inspect(engine)
    described = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        described[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("comment"))
                for c in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i["unique"])
                for i in inspector.get_indexes(table)
            ),
            "checks": _shape_checks(inspector, table),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            described["without rowid"] = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE sql LIKE '%WITHOUT ROWID%' ORDER BY 1"
                )
            ]
    return described


def _shape_checks(inspector, table: str) -> list:
    """Check constraints without PostgreSQL's casts: a pg_dump round trip re-parses
    `kind in ('city', ...)` and the server then prints the same test with other casts."""
    checks = inspector.get_check_constraints(table)
    return sorted(
        (c["name"], re.sub(r"::[a-z ]+(\[\])?", "", " ".join(c["sqltext"].split()))) for c in checks
    )


def test_baseline_revision_is_the_schema_the_44ede93_release_created(
    old_store_url, store_url, backend
):
    """0001 is written out by hand: it must be exactly what that release's create_all made."""
    engine = make_engine(store_url, migrate=False)
    assert migrations.upgrade(engine, "0001") == (None, "0001")
    old = sa.create_engine(old_store_url, poolclass=sa.pool.NullPool)
    expected = _described(old)
    assert set(expected) >= {"observations", "fetch_log", "places", "series", "meta"}
    assert _described(engine) == expected
    old.dispose()
    engine.dispose()


def test_store_made_by_main_before_migrations_is_stamped(store_url):
    """Between 44ede93 and migrations, main created the tables of revision 0002 with
    create_all (no alembic_version): made here by upgrading to 0002 and dropping the stamp."""
    raw = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    migrations.upgrade(raw, "0002")
    with raw.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.exec_driver_sql("INSERT INTO meta (key, value) VALUES ('snapshot', 'abc')")
    raw.dispose()
    engine = make_engine(store_url)
    assert version(store_url) == [migrations.head()]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM meta").scalar() == "abc"
    engine.dispose()


def test_up_to_date_store_costs_one_query(store_url):
    make_engine(store_url).dispose()
    engine = sa.create_engine(store_url)
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    migrations.ensure_current(engine)
    assert statements == ["SELECT version_num FROM alembic_version"]
    engine.dispose()


def test_unknown_revision_is_a_plain_store_error(store_url, tmp_path):
    make_engine(store_url).dispose()
    raw = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with raw.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0999'")
    raw.dispose()
    with pytest.raises(StoreError) as caught:
        make_engine(store_url)
    message = str(caught.value)
    assert "0999" in message and "newer release" in message and "DATABASE_URL" in message
    assert "SELECT" not in message and "Traceback" not in message
    assert version(store_url) == ["0999"]  # left as it was

    done = cli.run(store_url, "migrate")
    assert done.returncode == 1
    assert "newer release" in done.stderr and "Traceback" not in done.stderr
    assert cli.run(store_url, "migrate", "--check").returncode == 1
    other = cli.run(store_url, "series", "--city", "Aleppo", "--metric", "food_price")
    assert other.returncode == 1
    assert "newer release" in other.stderr and "Traceback" not in other.stderr


def test_user_not_allowed_to_create_tables_gets_a_plain_store_error(pg_server):
    url = pg_server.new_database()
    reader = f"reader_{sa.make_url(url).database}"  # roles are cluster-wide: one per test
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {reader} LOGIN")
        conn.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    admin.dispose()
    reader_url = sa.make_url(url).set(username=reader).render_as_string(hide_password=False)
    with pytest.raises(StoreError) as caught:
        make_engine(reader_url)
    message = str(caught.value)
    assert "permission denied" in message and "Nothing was changed" in message
    assert "allowed to create and alter tables" in message
    assert version_table_absent(url)


def version_table_absent(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return not sa.inspect(engine).has_table("alembic_version")
    finally:
        engine.dispose()


def test_store_whose_tables_match_no_release_is_refused_untouched(tmp_path):
    path = tmp_path / "odd.sqlite"
    shutil.copyfile(SQLITE_FIXTURE, path)
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE rejects")
        con.execute("ALTER TABLE series ADD COLUMN colour TEXT")
    with pytest.raises(StoreError) as caught:
        make_engine(f"sqlite:///{path}")
    message = str(caught.value)
    assert "rejects missing" in message and "series has unexpected column(s) colour" in message
    assert "move it aside" in message
    with sqlite3.connect(path) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" not in tables and "locks" not in tables


def test_migrate_command_twice_then_check(old_store_url):
    assert cli.run(old_store_url, "migrate", "--check").returncode == 1
    first = cli.run(old_store_url, "migrate")
    assert first.returncode == 0, first.stderr
    head = migrations.head()
    assert "before: revision none" in first.stdout
    assert f"after:  revision {head} (up to date)" in first.stdout
    figures = snapshot(old_store_url)
    second = cli.run(old_store_url, "migrate")
    assert second.returncode == 0, second.stderr
    assert f"before: revision {head}" in second.stdout
    assert f"after:  revision {head} (up to date)" in second.stdout
    assert snapshot(old_store_url) == figures
    assert version(old_store_url) == [head]
    check = cli.run(old_store_url, "migrate", "--check")
    assert check.returncode == 0 and "up to date" in check.stdout


RACER = """
import sys, time
import alembic.command, alembic.script  # imported before the start line, as a warm process
from data_sources.store.engine import make_engine
url, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
make_engine(url).dispose()
print("ok")
"""


@pytest.mark.parametrize("racers", [4])
def test_processes_starting_together_on_a_fresh_store_all_succeed(store_url, racers):
    start = time.time() + 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, store_url, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(racers)
    ]
    outcomes = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outcomes, strict=True):
        assert proc.returncode == 0 and out.strip() == "ok", err
    assert version(store_url) == [migrations.head()]
    engine = make_engine(store_url)
    assert schema_diff(engine) == []
    engine.dispose()
