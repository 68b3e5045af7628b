"""Secrets that cannot be outrun (issue 19, items 1 and 2).

The canary: every secret setting of the source registry (enumerated from `sources.py`, never
listed here) and an `HXL_URLS` address carrying a token as its user name, `sig=`,
`X-Amz-Signature=` and a bare `key=`, each set to a distinctive canary. A feed on the replay
server echoes what it receives (the request line percent-encoded and decoded, upper-cased, every
header and its base64, the body) in an error body, after a redirect and in a header; the
refresh runs in-process (logs at DEBUG) and through the command line (its stdout and stderr).
Then no fragment of 6 characters of any canary, in any of the forms a feed echoes, is found in
the logs, the command's output, any row of any table of the store (SQLite and PostgreSQL), the
Overview and Data pages as a viewer and as an editor, or the CSV, HXL and ZIP downloads.

The redirect: two replay servers on two ports; a redirect from the feed's own to the other
sends none of the feed's credentials along (header, query key, bearer token, Basic
user-info), while a redirect within the feed's origin keeps them."""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import os
import subprocess
import sys
import zipfile
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
import sqlalchemy as sa
from streamlit import config

from data_sources import settings, sources
from data_sources.errors import store_error
from data_sources.feeds import FeedClient
from data_sources.feeds.connectors import CONNECTORS, Scope
from data_sources.feeds.refresh import refresh
from data_sources.store.engine import make_engine
from devtools.replay_server import FeedServer
from tests.apptest import prepare
from tests.conftest import ROOT, store_dump
from tests.test_credentials import page_text
from tests.test_feeds import DATA_PATH

FRAGMENT = 6  # a run of this many characters of a canary counts as a leak
TOKEN_PATH = "/oauth/token"


def canary(i: int) -> str:
    """A secret no text holds by chance, with the characters that change when encoded."""
    return f"Qz{i}W/k+Vr=j%Tm&p Y{i}x"


def keyed_sources() -> list[str]:
    return [k for k, s in sources.SOURCES.items() if s.secret_settings or s.url_settings]


def forms(secret: str) -> set[str]:
    """The forms of `secret` a feed echoes; a fragment of any of them is a leak."""
    raw = secret.encode()
    found = {secret, secret.upper(), quote(secret, safe=""), quote(secret), quote_plus(secret)}
    for shift in range(3):  # base64 of the secret at each alignment (as inside `user:secret`)
        text = base64.b64encode(b"\0" * shift + raw).decode()
        found.add(text[4 if shift else 0 : (shift + len(raw)) // 3 * 4])
    return found


def leaks(text: str | bytes, canaries: dict[str, str]) -> dict[str, list[str]]:
    """Each canary's fragments found in `text` (any case)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lowered = text.lower()
    out: dict[str, list[str]] = {}
    for name, secret in canaries.items():
        hits = {
            form[i : i + FRAGMENT]
            for form in forms(secret)
            for i in range(len(form) - FRAGMENT + 1)
            if form[i : i + FRAGMENT].lower() in lowered
        }
        if hits:
            out[name] = sorted(hits)
    return out


@pytest.fixture
def canaries(feeds, monkeypatch) -> dict[str, str]:
    """Every secret setting of the registry a canary; HXL_URLS a signed address with a token
    as user name."""
    values = {name: canary(i) for i, name in enumerate(sources.secret_settings())}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    token, sig, amz, key = "ghpQz8Wk3Vr7jTm2pY", "Sg9Qz4Wk7Vr1", "Am7Qz2Wk9Vr4", "Ky5Qz1Wk8Vr3"
    base = feeds.base_url.replace("http://", f"http://{token}:x@")
    monkeypatch.setenv(
        "HXL_URLS",
        f"{base}{DATA_PATH['hxl']}?sig={sig}&X-Amz-Signature={amz}&key={key}&X-Amz-Date=20261202",
    )
    settings.reload()
    return {**values, "HXL token": token, "HXL sig": sig, "HXL amz": amz, "HXL key": key}


def echo_everything(feeds, paths) -> None:
    """Each path: one redirect within the feed's origin (the query echoed in Location), then
    an error page that echoes the request, for every request after."""
    for path in paths:
        feeds.fault(path, "redirect", times=1, arg=feeds.base_url)
        feeds.fault(path, "echo", times=-1, arg=400)


SCOPE = Scope(["SYR", "IRQ", "BGD"], ["Aleppo", "Mosul"])


def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data_sources", *args],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True, timeout=600,
    )  # fmt: skip


@pytest.mark.slow  # a container build / every sink of every secret: make test only
def test_no_fragment_of_any_canary_reaches_any_sink(
    canaries, feeds, loaded_url, backend, caplog, monkeypatch, request
):
    keyed = keyed_sources()
    assert {"hapi", "dtm", "ucdp", "acled", "reliefweb", "hxl"} <= set(keyed)
    engine = make_engine(loaded_url)
    sinks: dict[str, str | bytes] = {}
    # the signed HXL address stored as the figures' link (what the downloads carry)
    assert refresh(engine, ["hxl"], SCOPE)[0].status == "ok"
    # every keyed feed echoes, in-process with every logger at DEBUG
    caplog.set_level(logging.DEBUG)
    echo_everything(feeds, [DATA_PATH[s] for s in keyed])
    reports = refresh(engine, keyed, SCOPE)
    feeds.clear()
    feeds.fault(TOKEN_PATH, "echo", times=-1, arg=400)  # ACLED's token form echoed
    reports += refresh(engine, ["acled"], SCOPE)
    # the feeds did receive the canaries (else nothing was tried): the token form's password
    assert canaries["ACLED_PASSWORD"] in unquote_plus(
        feeds.requests_to(TOKEN_PATH)[-1].body.decode()
    )
    sinks["log"] = "\n".join(r.getMessage() for r in caplog.records)
    sinks["reports"] = "\n".join(f"{r.error} {r.notes}" for r in reports)
    # the command line: the same echoes, its whole output
    feeds.clear()
    echo_everything(feeds, [DATA_PATH[s] for s in keyed])
    done = cli(loaded_url, "refresh", "--source", *keyed, "--country", "SYR", "IRQ", "BGD",
               "--city", "Aleppo", "Mosul")  # fmt: skip
    assert b"summary" in done.stdout + done.stderr, done.stderr.decode()[-2000:]
    sinks["cli stdout"], sinks["cli stderr"] = done.stdout, done.stderr
    # every row of every table of the store
    sinks["store"] = store_dump(engine)
    engine.dispose()
    assert "HTTP 400" in sinks["store"] and "HTTP 400" in sinks["reports"]
    # the pages, as a viewer and as an editor
    from views import access

    monkeypatch.setattr(access, "auth_configured", lambda: True)
    details = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")  # a failure says what it was
    request.addfinalizer(lambda: config.set_option("client.showErrorDetails", details))
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    monkeypatch.setenv("EDITORS", "ed@example.org")
    monkeypatch.setenv("VIEWERS", "@partner.example")
    # the pages draw what the store holds through one query layer, checked on both backends
    # above; as viewer and editor they cost most of this test, so one backend opens them all
    # and the other the Data page (the fetch log, where feed errors show) as a viewer
    views = [("views/overview.py", {"cities": "Aleppo"}), ("views/data.py", {})]
    people = [("viewer", "v@partner.example"), ("editor", "ed@example.org")]
    if backend != "sqlite":
        views, people = views[1:], people[:1]
    for who, email in people:
        for page, params in views:
            at = prepare(page, **params)
            at.user = {"is_logged_in": True, "email": email, "email_verified": True}
            at.run()
            assert not at.exception, [(e.message, e.stack_trace) for e in at.exception]
            sinks[f"{page} as {who}"] = page_text(at)
    # every download
    for fmt in ("csv", "hxl", "zip"):
        got = cli(loaded_url, "export", "--format", fmt, "--city", "Aleppo")
        assert got.returncode == 0, got.stderr.decode()
        sinks[f"{fmt} download"] = got.stdout
    archive = zipfile.ZipFile(io.BytesIO(sinks["zip download"]))
    for name in archive.namelist():
        sinks[f"zip:{name}"] = archive.read(name)
    assert b"aleppo_prices.csv" in sinks["csv download"]  # the link is there, scrubbed

    found = {sink: hit for sink, text in sinks.items() if (hit := leaks(text, canaries))}
    assert found == {}, found


def test_a_database_password_in_the_query_is_never_shown(monkeypatch):
    secret = "Pq7Zx2Wv9Lk4"
    url = f"postgresql+psycopg://situation@127.0.0.1:9/store?password={secret}&sslmode=disable"
    monkeypatch.setenv("DATABASE_URL", url)
    settings.reload()
    engine = sa.create_engine(url)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        message = str(store_error(exc, url))
    assert "Cannot reach the database" in message
    assert secret not in message and "password=***" in message


# -- credentials stay with their origin -------------------------------------------------------
@pytest.fixture
def other_origin():
    server = FeedServer().start()
    yield server
    server.stop()


def sent(server: FeedServer) -> str:
    return "\n".join(f"{r.path}?{r.query} {r.headers} {r.body!r}" for r in server.log)


@pytest.mark.parametrize("source", ["hapi", "dtm", "ucdp", "acled", "reliefweb", "hxl"])
def test_a_redirect_to_another_origin_carries_no_credential(canaries, feeds, other_origin, source):
    feeds.fault(DATA_PATH[source], "redirect", times=-1, arg=other_origin.base_url)
    with FeedClient(source) as client:
        try:
            for _ in CONNECTORS[source]().fetch(client, SCOPE):
                pass
        except Exception as exc:  # noqa: BLE001 - the other origin is no feed: it may well fail
            print("fetch ended:", exc)
    own = sent(feeds)
    assert other_origin.log, "the redirect was not followed"
    arrived = sent(other_origin)
    assert leaks(arrived, canaries) == {}, arrived[:2000]
    assert "authorization" not in arrived.lower()
    assert "ocp-apim-subscription-key" not in arrived.lower()
    assert "x-ucdp-access-token" not in arrived.lower()
    assert own  # the first request went to the feed, with its credentials
    if source in ("dtm", "ucdp"):
        assert leaks(own, canaries)


def test_a_redirect_within_the_origin_keeps_the_credentials(canaries, feeds):
    feeds.fault(DATA_PATH["dtm"], "redirect", times=1, arg=feeds.base_url)
    with FeedClient("dtm") as client:
        client.get_json(feeds.base_url + DATA_PATH["dtm"], auth=_dtm_auth())
    key = canaries["DTM_SUBSCRIPTION_KEY"]
    got = [r.headers.get("ocp-apim-subscription-key") for r in feeds.requests_to(DATA_PATH["dtm"])]
    assert got == [key, key]


def _dtm_auth():
    from data_sources.feeds.auth import HeaderKeyAuth

    return HeaderKeyAuth("Ocp-Apim-Subscription-Key", "DTM_SUBSCRIPTION_KEY")


ECHO_FORMS = {
    "raw": lambda s: s,
    "percent-encoded": lambda s: quote(s, safe=""),
    "percent-encoded, lower-case hex": lambda s: quote(s, safe="").lower(),
    "form-encoded": quote_plus,
    "upper-case": str.upper,
    "lower-case": str.lower,
    "base64": lambda s: base64.b64encode(s.encode()).decode(),
    "base64 of user:secret": lambda s: base64.b64encode(b"analyst:" + s.encode()).decode(),
    "url-safe base64": lambda s: base64.urlsafe_b64encode(s.encode()).decode(),
    "JSON-escaped": lambda s: json.dumps(s)[1:-1],
    "HTML-escaped": html.escape,
}


def test_every_echo_form_of_every_secret_is_scrubbed(canaries):
    """The matrix at the level of `redact`: each secret setting × each echo form, and a
    secret straddling the 120th character of an error snippet."""
    from data_sources.feeds.errors import snippet
    from data_sources.redact import redact

    through = []
    for name in sources.secret_settings():
        secret = canaries[name]
        for form, encode in ECHO_FORMS.items():
            if leaks(redact(f"echo: {encode(secret)} end"), {name: secret}):
                through.append((name, form))
        if leaks(snippet("x" * 80 + " error for app_identifier=" + secret), {name: secret}):
            through.append((name, "cut at 120 characters"))
    assert through == []
    # signed links and a token as user name, configured or not
    from data_sources.redact import redact_url

    shown = redact_url(os.environ["HXL_URLS"])
    assert leaks(shown, {k: v for k, v in canaries.items() if k.startswith("HXL")}) == {}
    other = redact_url(
        "https://x.example/f?sig=ZZsigQQ77&X-Amz-Credential=AKIAQ7&x_api_token=TTok7"
    )
    assert other == "https://x.example/f?sig=***&X-Amz-Credential=***&x_api_token=***"
