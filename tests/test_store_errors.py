"""What a host sees when the store cannot be used: one message in plain words on the page and
from the command line, naming the store without its password, never a traceback."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from devtools.ports import free_port

from .conftest import ROOT
from .test_cli import run

PASSWORD = "s3cret-pw-never-shown"
TRACEBACK_SIGNS = ("Traceback", 'File "', "sqlalchemy.exc", "psycopg.")


def unreachable_url() -> str:
    """A port of 127.0.0.1 nothing listens on: connecting is refused at once."""
    return f"postgresql+psycopg://situation:{PASSWORD}@127.0.0.1:{free_port()}/store"


def page_text(at: AppTest) -> str:
    parts = [e.value for e in at.error] + [m.value for m in at.markdown]
    parts += [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def open_app(monkeypatch, url: str, page: str | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if page:
        at.switch_page(str(ROOT / page))
    return at.run()


def assert_plain(at: AppTest, expected: str) -> str:
    assert not at.exception, [e.message for e in at.exception]
    messages = [e.value for e in at.error]
    assert len(messages) == 1, messages
    message = " ".join(messages[0].split())
    assert expected in message
    text = page_text(at)
    assert PASSWORD not in text
    assert not any(sign in text for sign in TRACEBACK_SIGNS)
    # the rest of the app still serves: the sidebar's note is there
    assert any("Situation Room shows figures" in c.value for c in at.sidebar.caption)
    return message


@pytest.mark.parametrize("page", [None, "views/data.py"])
def test_unreachable_database_is_a_plain_message_on_the_page(monkeypatch, page):
    url = unreachable_url()
    message = assert_plain(
        open_app(monkeypatch, url, page), "Cannot reach the database at postgresql+psycopg://"
    )
    port = sa.make_url(url).port
    assert f"situation:***@127.0.0.1:{port}/store (connection refused)" in message
    assert "Check DATABASE_URL" in message


def test_database_the_user_may_not_create_tables_in(monkeypatch, pg_server):
    # an empty database, and a user without the right to create this release's tables there
    url = sa.make_url(pg_server.new_database())
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        conn.exec_driver_sql(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    admin.dispose()
    reader = url.set(username=role, password=PASSWORD).render_as_string(hide_password=False)
    refused = "the database refused: permission denied"
    message = assert_plain(open_app(monkeypatch, reader), refused)
    assert "as a database user allowed to create and alter tables" in message
    done = run(reader, "series", "--city", "Aleppo", "--metric", "food_price")
    assert done.returncode == 1
    assert refused in " ".join(done.stderr.split())


def test_a_file_that_is_not_a_database(monkeypatch, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("date,price\n" + "2016-01-15,165\n" * 500)
    message = assert_plain(open_app(monkeypatch, f"sqlite:///{path}"), "does not hold the tables")
    assert "file is not a database" in message


def test_tables_gone_while_the_app_runs(monkeypatch, loaded_url):
    at = open_app(monkeypatch, loaded_url, "views/data.py")
    assert not at.exception and not at.error
    engine = sa.create_engine(loaded_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE rejects")
    engine.dispose()
    st.cache_data.clear()  # the page asks the store again, as it does once its cache expires
    at.run()
    message = assert_plain(at, "does not hold the tables")
    assert "rejects" in message


@pytest.mark.parametrize(
    "args",
    [
        ("series", "--city", "Aleppo", "--metric", "food_price"),
        ("series", "--city", "Aleppo", "--metric", "food_price", "--format", "json"),
        ("load-snapshot",),
    ],
)
def test_unreachable_database_is_a_plain_message_from_the_command_line(args):
    url = unreachable_url()
    done = run(url, *args)
    assert done.returncode == 1
    assert done.stdout == ""
    message = " ".join(done.stderr.split())
    port = sa.make_url(url).port
    assert message.startswith(
        f"Cannot reach the database at postgresql+psycopg://situation:***@127.0.0.1:{port}/store "
        "(connection refused). Check DATABASE_URL"
    )
    assert PASSWORD not in done.stderr
    assert not any(sign in done.stderr for sign in TRACEBACK_SIGNS)


def test_postgresql_stores_give_up_connecting_after_a_while(pg_server):
    # a firewall that drops packets would otherwise keep the page spinning for minutes
    from data_sources.store.engine import open_store

    engine = open_store(pg_server.new_database())
    assert engine.url.query["connect_timeout"] == "10"
    engine.dispose()
    own = open_store(pg_server.new_database() + "?connect_timeout=3")
    assert own.url.query["connect_timeout"] == "3"  # the host's own choice is kept
    own.dispose()
