"""Sign-in end to end: Debian's Chromium, the app served by `streamlit run`, and a real OpenID
Connect provider (oidc-provider-mock) on 127.0.0.1, where each test types the e-mail address
it signs in with on the provider's authorization form.

The app server gets its `[auth]` block from a temporary secrets.toml given with Streamlit's
`--secrets.files` option (st.login reads Streamlit's own secrets); the same file, through
SITUATION_ROOM_SECRETS, holds EDITORS and VIEWERS at its top level.
"""

from __future__ import annotations

import os
import re
import shutil
import threading

import pytest

from data_sources.feeds.connectors import CONNECTORS
from devtools.replay_server import FEED_KEYS
from tests.test_browser import ARTIFACTS, CHROMIUM, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium missing"),
]

EDITOR = "editor@example.org"
VIEWER = "viewer@partner.example"  # listed by domain
OUTSIDER = "outsider@elsewhere.example"
UNVERIFIED = "unverified@example.org"  # an editor's domain, but the provider has not verified it
STRING_FALSE = "string-false@example.org"  # an editor's domain, `"email_verified": "false"`
LOOK_ALIKE = "\u017fam@partner.example"  # ſam: Unicode case folding made it a viewer
MAIN = "[data-testid='stMainBlockContainer']"
SIDEBAR = "[data-testid='stSidebar']"
STORES: dict[str, str] = {}  # the sign-in server's store, for tokens made beside it


@pytest.fixture(scope="module")
def oidc_provider():
    """oidc-provider-mock's Flask app served on a free port of 127.0.0.1 in a thread; any
    client id and secret are accepted, and the user is whoever the form says."""
    import oidc_provider_mock
    import werkzeug.serving

    def user(sub: str, verified: object) -> oidc_provider_mock.User:
        return oidc_provider_mock.User(sub=sub, claims={"email": sub, "email_verified": verified})

    users = [
        user(UNVERIFIED, False),
        user(STRING_FALSE, "false"),  # the claim as a string: not the boolean true
        user(LOOK_ALIKE, True),
        *(user(sub, True) for sub in (EDITOR, VIEWER, OUTSIDER)),
    ]
    provider = oidc_provider_mock.app(require_nonce=True, user_claims=users)
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def signin_server(oidc_provider, loaded_db, feed_server, tmp_path_factory):
    """The app with sign-in configured, on a private copy of the loaded store, its feeds
    pointed at the replay server."""
    folder = tmp_path_factory.mktemp("signin")
    db = folder / "store.sqlite"
    shutil.copyfile(loaded_db, db)
    secrets = folder / "secrets.toml"
    secrets.write_text(
        f'EDITORS = "{EDITOR}, @example.org"\n'
        'VIEWERS = "@partner.example"\n'
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'  # Streamlit fills the port
        'cookie_secret = "a-long-random-test-cookie-secret-0123456789"\n'
        'client_id = "situation-room"\n'
        'client_secret = "situation-room-test-client-secret"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n'
    )
    feed_server.clear()
    env = {
        "DATABASE_URL": f"sqlite:///{db}",
        "SITUATION_ROOM_SECRETS": str(secrets),
        **FEED_KEYS,
        **{cls.base_url_setting: feed_server.base_url for cls in CONNECTORS.values()},
        "HXL_URLS": feed_server.base_url + "/files/aleppo_prices.csv",
        "HTTP_CACHE_DIR": str(folder / "cache"),
        "HTTP_READ_TIMEOUT": "5",
        "HTTP_BACKOFF_BASE": "0.05",
    }
    STORES["signin"] = env["DATABASE_URL"]
    with streamlit_server(env, ("--secrets.files", str(secrets))) as base:
        yield base
    feed_server.clear()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"signin_{name}.png"), full_page=True)


def sign_in(chromium, base: str, email: str, path: str = "/"):
    """A fresh browser (no cookies) opens the app, presses Sign in, types `email` as the user
    on the provider's form and comes back signed in; returns the page."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(base + path)
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.wait_for_url("**/authorize**", timeout=30_000)
    page.locator("input[name='sub']").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(base + "/**", timeout=30_000)
    page.locator("[data-testid='stMainBlockContainer'] h1").first.wait_for(timeout=60_000)
    return page


def assert_sign_in_page(page) -> None:
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    main = page.locator(MAIN).inner_text()
    assert "Situation Room — sign in" in main and "humanitarian dashboard" in main
    assert page.get_by_role("button", name="Refresh now").count() == 0
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0
    # no page of the dashboard is offered either
    assert page.get_by_role("link", name="Data").count() == 0


@pytest.mark.parametrize("path", ["/", "/data", "/trends?cities=Aleppo"])
def test_anonymous_visitor_sees_only_the_sign_in_page(signin_server, chromium, path):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(signin_server + path)
    assert_sign_in_page(page)
    page.wait_for_timeout(1500)  # nothing else arrives later
    assert_sign_in_page(page)
    assert "Page not found" not in page.content()
    shot(page, "anonymous" + path.split("?")[0].replace("/", "_"))
    context.close()


def test_editor_signs_in_and_refreshes(signin_server, chromium):
    page = sign_in(chromium, signin_server, EDITOR, "/data")
    sidebar = page.locator(SIDEBAR)
    sidebar.get_by_text(f"Signed in as {EDITOR} (editor)").wait_for(timeout=30_000)
    assert sidebar.get_by_role("button", name="Sign out").count() == 1
    page.goto(signin_server + "/data")
    button = page.get_by_role("button", name="Refresh now")
    button.wait_for(timeout=60_000)
    # the page offers an incremental refresh of the chosen cities' countries, nothing more
    assert "incremental refresh" in page.locator(MAIN).inner_text()
    assert page.get_by_role("textbox", name="Countries (ISO3)").count() == 0
    button.click()
    page.get_by_text("Refresh finished").first.wait_for(timeout=120_000)
    # and the next one from the page waits for REFRESH_COOLDOWN, which the page says
    page.get_by_text("the next is possible at").first.wait_for(timeout=30_000)
    shot(page, "editor_refreshed")
    assert page.locator("[data-testid='stException']").count() == 0
    for secret in FEED_KEYS.values():
        assert secret not in page.content()
    page.context.close()


def test_viewer_signs_in_and_has_no_refresh(signin_server, chromium):
    page = sign_in(chromium, signin_server, VIEWER, "/data")
    page.locator(SIDEBAR).get_by_text(f"Signed in as {VIEWER} (viewer)").wait_for(timeout=30_000)
    page.goto(signin_server + "/data")
    page.get_by_text("Sources and freshness").wait_for(timeout=60_000)
    page.get_by_text("is for the dashboard's editors").wait_for(timeout=30_000)
    assert page.locator("h1").first.inner_text() == "Data"
    assert page.get_by_role("button", name="Refresh now").count() == 0
    shot(page, "viewer_data")
    # every page is there to look at
    page.goto(signin_server + "/trends")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1", timeout=60_000
    )
    # signing out: back to the sign-in page
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    # Streamlit sends the browser to the provider's end-session page when it has one
    page.get_by_role("button", name=re.compile("^(End session|Sign in)$")).first.wait_for(
        timeout=30_000
    )
    if page.get_by_role("button", name="End session").count():
        page.get_by_role("button", name="End session").click()
        page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.goto(signin_server + "/data")
    assert_sign_in_page(page)
    page.context.close()


def test_outsider_is_refused_with_a_message(signin_server, chromium):
    page = sign_in(chromium, signin_server, OUTSIDER, "/data")
    main = page.locator(MAIN)
    main.get_by_text("is not on this dashboard's list of viewers").wait_for(timeout=30_000)
    assert OUTSIDER in main.inner_text()
    assert page.locator("h1").first.inner_text() == "Situation Room — access refused"
    assert page.get_by_role("button", name="Refresh now").count() == 0
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    page.get_by_role("button", name="Sign out").wait_for(timeout=30_000)
    page.goto(signin_server + "/trends")
    main.get_by_text("is not on this dashboard's list of viewers").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.locator(".js-plotly-plot").count() == 0
    shot(page, "outsider_refused")
    page.context.close()


def test_unverified_address_is_refused_even_in_an_editors_domain(signin_server, chromium):
    page = sign_in(chromium, signin_server, UNVERIFIED, "/data")
    main = page.locator(MAIN)
    main.get_by_text("the sign-in provider has not verified the address").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Refresh now").count() == 0
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    page.context.close()


@pytest.mark.parametrize("email", [STRING_FALSE, LOOK_ALIKE])
def test_a_string_claim_and_a_look_alike_address_are_refused(signin_server, chromium, email):
    page = sign_in(chromium, signin_server, email)
    main = page.locator(MAIN)
    main.get_by_text("access refused").first.wait_for(timeout=60_000)
    assert page.get_by_role("link", name="Data").count() == 0
    assert page.locator(".js-plotly-plot").count() == 0
    assert page.get_by_role("button", name="Refresh now").count() == 0
    page.context.close()


def _cookie_header(context) -> str:
    return "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())


def test_the_routes_beside_the_pages_answer_anonymous_requests_with_401(signin_server):
    """No cookie, a forged cookie, an unknown token: 401 and no figure, not even the version."""
    import httpx

    paths = ["/api/v1/ping", "/api/v1/series?city=Aleppo&metric=food_price",
             "/img/trends.png?cities=Aleppo", "/embed/trends?cities=Aleppo",
             "/brief/pdf?cities=Aleppo", "/brief/html?cities=Aleppo",
             "/download/figures.csv?cities=Aleppo"]  # fmt: skip
    from web import routes

    # every route the registry mounts is behind the rules (a new route gets checked here)
    assert all(r.path.startswith(routes.PROTECTED) for r in routes.relative_routes())
    assert {p.split("?")[0].rsplit("/", 1)[0] for p in paths} >= {
        r.path.rsplit("/", 1)[0] for r in routes.relative_routes() if "{" in r.path
    }
    for headers in (
        {},
        {"Cookie": "_streamlit_user=forged"},
        {"Authorization": "Bearer sr_not-a-token"},
    ):
        for path in paths:
            answer = httpx.get(signin_server + path, headers=headers, timeout=60)
            assert answer.status_code == 401, (path, headers, answer.text)
            assert "data_version" not in answer.text and "SYP" not in answer.text
            assert answer.headers["www-authenticate"].startswith("Bearer")
    # a chat's preview of a private page names the view, never a figure or its image
    card = httpx.get(
        signin_server + "/trends?cities=Aleppo&metric=Food+price",
        headers={"User-Agent": "Slackbot-LinkExpanding 1.0"},
        timeout=120,
    )
    assert card.status_code == 200 and "og:title" in card.text
    assert "og:image" not in card.text and "sign in" in card.text


def test_a_download_is_served_only_to_the_user_whose_session_made_it(signin_server, chromium):
    """A viewer's ZIP from the Data page: the viewer gets it; the same address without a
    cookie is 401 and with another signed-in user's cookie 404 (as if it were not there).
    The streamed CSV's link opens for the viewer and is 401 without the cookie."""
    import httpx

    page = sign_in(chromium, signin_server, VIEWER, "/data")
    page.goto(signin_server + "/data")
    button = page.get_by_role("button", name="Download ZIP (CSV, HXL, README of sources)")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=120_000) as made:
        button.click()
    url = made.value.url
    assert "/media/" in url
    mine = page.context.request.get(url)
    assert mine.status == 200 and mine.body().startswith(b"PK"), mine.status
    assert httpx.get(url).status_code == 401
    streamed = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert "/download/figures.csv?" in streamed
    csv = page.context.request.get(streamed)
    assert csv.status == 200 and csv.body().startswith(b"city,"), csv.status
    assert httpx.get(streamed, timeout=60).status_code == 401
    other = sign_in(chromium, signin_server, EDITOR, "/")
    theirs = httpx.get(url, headers={"Cookie": _cookie_header(other.context)})
    assert theirs.status_code == 404 and not theirs.content.startswith(b"PK")
    other.context.close()
    page.context.close()


def test_a_cookie_kept_from_before_sign_out_opens_nothing(signin_server, chromium):
    """Sign-out is remembered server-side: the cookie a viewer had (copied before signing out)
    gets the sign-in page in a fresh browser and 401 from the routes."""
    import httpx

    page = sign_in(chromium, signin_server, VIEWER, "/")
    kept = page.context.cookies()
    header = _cookie_header(page.context)
    ping = httpx.get(signin_server + "/api/v1/ping", headers={"Cookie": header})
    assert ping.status_code == 200 and ping.json()["ok"] is True
    page.locator(SIDEBAR).get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name=re.compile("^(End session|Sign in)$")).first.wait_for(
        timeout=30_000
    )
    page.context.close()
    assert httpx.get(signin_server + "/api/v1/ping", headers={"Cookie": header}).status_code == 401
    replay = chromium.new_context(viewport={"width": 1400, "height": 1000})
    replay.add_cookies(kept)
    again = replay.new_page()
    again.goto(signin_server + "/data")
    assert_sign_in_page(again)
    shot(again, "kept_cookie_after_sign_out")
    replay.close()


def test_a_personal_token_opens_the_routes_until_it_is_revoked(signin_server):
    """A viewer's token (made as the sidebar makes it) answers 200; revoked, 401."""
    import httpx
    import sqlalchemy as sa

    from web import tokens

    engine = sa.create_engine(STORES["signin"])
    try:
        token = tokens.create(engine, VIEWER, "viewer", "R script")
        bearer = {"Authorization": f"Bearer {token}"}
        answer = httpx.get(signin_server + "/api/v1/ping", headers=bearer)
        assert answer.status_code == 200 and answer.json()["ok"] is True
        assert tokens.revoke(engine, VIEWER, tokens.digest(token)) == 1
        assert httpx.get(signin_server + "/api/v1/ping", headers=bearer).status_code == 401
    finally:
        engine.dispose()


def test_a_private_embed_key_opens_its_one_view_cookie_less_until_revoked(signin_server, chromium):
    """A signed-in viewer makes a private embed key from the Trends page's Embed popover; the
    snippet's address opens that chart with no cookie (as an `<iframe>` elsewhere asks), and
    nothing else: another parameter, another page, an image, or the key once its token is
    revoked is 401. plotly.js (no figure in it) is served to the embed cookie-less."""
    import html as html_lib
    import re

    import httpx

    from data_sources.store.engine import make_engine
    from web import tokens

    page = sign_in(chromium, signin_server, VIEWER, "/")
    page.goto(signin_server + "/trends?cities=Aleppo")
    main = page.locator(MAIN)
    main.get_by_role("heading", name="Trends").wait_for(timeout=60_000)
    main.get_by_role("button", name="Embed").click(timeout=60_000)
    page.get_by_role("button", name="Make a private embed key").click(timeout=60_000)
    code = page.locator("[data-testid='stCode'] code").filter(has_text="key=").first
    code.wait_for(timeout=60_000)
    src = html_lib.unescape(re.search(r'src="([^"]+)"', code.inner_text()).group(1))
    assert "/embed/trends?" in src and "key=" in src and "as_of=" in src
    page.context.close()

    # pasted on another site: the iframe, in a browser holding no cookie, draws the chart
    elsewhere = chromium.new_context()
    host = elsewhere.new_page()
    host.set_content(f'<iframe src="{html_lib.escape(src)}" width="900" height="620"></iframe>')
    host.frame_locator("iframe").locator(".plot-container svg.main-svg").first.wait_for(
        timeout=60_000
    )
    assert elsewhere.cookies() == []
    elsewhere.close()
    opened = httpx.get(src, timeout=120)  # no cookie, no token
    assert opened.status_code == 200, opened.text
    assert "plotly.min.js" in opened.text and "Open the live view" in opened.text
    assert httpx.get(signin_server + "/embed/plotly.min.js", timeout=60).status_code == 200
    for other in (
        src.replace("cities=Aleppo", "cities=Mosul"),
        src.replace("/embed/trends?", "/embed/compare?"),
        src.replace("/embed/trends?", "/img/trends.png?"),
        re.sub(r"key=[0-9a-f]{16}\.", "key=0000000000000000.", src),
    ):
        assert httpx.get(other, timeout=60).status_code == 401, other

    engine = make_engine(STORES["signin"])
    made = [t for t in tokens.list_for(engine, VIEWER) if t["label"].startswith("embed: trends")]
    assert made and not made[0]["revoked_at"]
    tokens.revoke(engine, VIEWER, made[0]["token_hash"])
    assert httpx.get(src, timeout=60).status_code == 401
