"""The registry of settings: every setting the code reads, declared once.

A setting is an environment variable, or the same name at the top level of
`.streamlit/secrets.toml` (`settings.setting` reads both, environment first). Each entry says its
default, what it means, whether its value is a credential, and who reads it. `settings.setting`
refuses a name that is not here and falls back to the default declared here, so a default is
written in one place; `tests/test_settings_registry.py` scans the source for names read any
other way (shell scripts, `os.environ`, connector attributes) and fails on one that is missing;
the docs' settings page (`docs/hooks.py`) is generated from this list.

Which settings are secret for scrubbing is still the source registry's to say
(`sources.secret_settings`, `sources.url_settings`) plus `DATABASE_URL`'s password; the test
checks that `secret` here agrees with it.

Pure data: no imports from the rest of the package, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

# who reads a setting: the Python package (app, CLI and worker alike), a shell script, or a
# benchmark
PACKAGE = "app, CLI, worker"
START_APP = "scripts/start-app"
START_WORKER = "scripts/start-worker"
SCRIPTS = "scripts/*"
COMPOSE = "compose.yaml"
BENCH = "bench"


@dataclass(frozen=True)
class Setting:
    """One setting. `default` is the text a reader falls back to (None: unset, the feature is
    off or the setting is required); `group` orders the generated reference."""

    name: str
    default: str | None
    meaning: str
    group: str
    secret: bool = False
    read_by: str = PACKAGE


def _base_url(feed: str, url: str, title: str) -> Setting:
    return Setting(
        f"{feed.upper()}_BASE_URL",
        url,
        f"Base URL of the {title} feed (a mirror, a proxy, or the tests' replay server).",
        "Feed base URLs",
    )


def _key(name: str, meaning: str) -> Setting:
    return Setting(name, None, meaning, "Feed credentials", secret=True)


SETTINGS: tuple[Setting, ...] = (
    # -- the store --------------------------------------------------------------------------
    Setting(
        "DATABASE_URL",
        "sqlite:///data/situation_room.sqlite",
        "The store: a SQLAlchemy URL, e.g. postgresql+psycopg://user:password@host:5432/db"
        " (needs the `postgres` extra). Its password is scrubbed like a key.",
        "Store",
        secret=True,
    ),
    Setting(
        "STORE_LOCK_TIMEOUT",
        "60",
        "Seconds a writer waits for another process's write to end before giving up with"
        " 'the store is busy' (SQLite's busy timeout, PostgreSQL's lock_timeout).",
        "Store",
    ),
    Setting(
        "SITUATION_ROOM_SECRETS",
        ".streamlit/secrets.toml",
        "Path of the TOML file read after the environment for every other setting."
        " Read from the environment only.",
        "Store",
    ),
    # -- refresh ----------------------------------------------------------------------------
    Setting(
        "REFRESH_COUNTRIES",
        "IRQ,SYR",
        "ISO3 codes, comma separated: the countries a refresh covers when none are named.",
        "Refresh",
    ),
    Setting(
        "REFRESH_CITIES",
        "Aleppo,Mosul",
        "City names, comma separated: the cities a refresh covers when none are named.",
        "Refresh",
    ),
    Setting(
        "REFRESH_OVERLAP_DAYS",
        "90",
        "How many days before the newest stored period an incremental refresh asks again,"
        " so that revised figures are picked up.",
        "Refresh",
    ),
    Setting(
        "REFRESH_PARALLEL",
        "4",
        "How many feeds are fetched side by side (they are stored one at a time).",
        "Refresh",
    ),
    Setting(
        "REFRESH_LOCK_LEASE",
        "120",
        "Seconds the refresh lock is leased for: a holder killed without a word blocks the"
        " next refresh at most this long.",
        "Refresh",
    ),
    Setting(
        "REFRESH_COOLDOWN",
        "10m",
        "Least time between two refreshes started from the Data page (10m, 1h, plain"
        " seconds; 0 turns it off). Held in the store, so across processes.",
        "Refresh",
    ),
    Setting(
        "REFRESH_EVERY",
        "6h",
        "The worker's interval (s, m, h, d): `scripts/start-worker` passes it to"
        " `refresh --every`.",
        "Refresh",
        read_by=f"{START_WORKER}, {COMPOSE}",
    ),
    Setting(
        "FEED_MAX_PAGES",
        "10000",
        "Most pages one feed request may send before it fails as a paging loop.",
        "Refresh",
    ),
    # -- HTTP -------------------------------------------------------------------------------
    Setting("HTTP_CONNECT_TIMEOUT", "5", "Seconds to connect to a feed's server.", "HTTP"),
    Setting("HTTP_READ_TIMEOUT", "30", "Seconds to wait for a feed's answer.", "HTTP"),
    Setting(
        "HTTP_ATTEMPTS",
        "4",
        "Attempts per request on timeouts, resets, 5xx, 429 and 503.",
        "HTTP",
    ),
    Setting(
        "HTTP_BACKOFF_BASE",
        "1",
        "Seconds of the first wait before a retry; doubles per attempt, with full jitter.",
        "HTTP",
    ),
    Setting("HTTP_BACKOFF_MAX", "30", "Longest wait between two attempts, in seconds.", "HTTP"),
    Setting(
        "HTTP_RETRY_AFTER_MAX",
        "120",
        "Longest Retry-After (seconds) honoured; a longer one fails the feed at once.",
        "HTTP",
    ),
    Setting(
        "HTTP_REQUESTS_PER_SECOND",
        "4",
        "Per-host rate limit of every feed request (0: no limit).",
        "HTTP",
    ),
    Setting(
        "HTTP_CACHE_DIR",
        "data/http_cache",
        "Directory of the cached feed responses (ETag / Last-Modified).",
        "HTTP",
    ),
    Setting(
        "HTTP_CACHE_TTL",
        "900",
        "Seconds a cached response is reused without asking the server (an explicit refresh"
        " revalidates regardless).",
        "HTTP",
    ),
    # -- feeds ------------------------------------------------------------------------------
    _key(
        "HAPI_APP_IDENTIFIER",
        "HDX HAPI app identifier: base64 of 'app-name:email' (hapi.humdata.org/docs).",
    ),
    _key("DTM_SUBSCRIPTION_KEY", "IOM DTM API v3 subscription key (dtm.iom.int)."),
    _key("UCDP_ACCESS_TOKEN", "UCDP API access token (ucdp.uu.se/apidocs)."),
    _key("ACLED_USERNAME", "ACLED account name (OAuth password grant)."),
    _key("ACLED_PASSWORD", "ACLED account password (OAuth password grant)."),
    _key("RELIEFWEB_APPNAME", "ReliefWeb approved app name (apidoc.reliefweb.int)."),
    Setting(
        "HXL_URLS",
        None,
        "HXL-tagged CSV addresses, comma separated, refreshed by the `hxl` feed. A password"
        " written inside one (user:password@host) is scrubbed like a key.",
        "Feed settings",
        secret=True,
    ),
    Setting(
        "UCDP_VERSION", "25.1", "Version of UCDP's GED the `ucdp` feed asks for.", "Feed settings"
    ),
    Setting(
        "UCDP_PAGE_SIZE",
        "1000",
        "Events per page the `ucdp` feed asks for.",
        "Feed settings",
    ),
    _base_url("hapi", "https://hapi.humdata.org", "HDX HAPI"),
    _base_url("dtm", "https://dtmapi.iom.int", "IOM DTM"),
    _base_url("wfp", "https://data.humdata.org", "WFP food prices (HDX CKAN)"),
    _base_url("ucdp", "https://ucdpapi.pcr.uu.se", "UCDP GED"),
    _base_url("acled", "https://acleddata.com", "ACLED"),
    _base_url("reliefweb", "https://api.reliefweb.int", "ReliefWeb"),
    _base_url("unhcr", "https://api.unhcr.org", "UNHCR"),
    _base_url("fts", "https://api.hpc.tools", "OCHA FTS"),
    Setting(
        "HXL_BASE_URL",
        "",
        "Declared because every connector names a base URL; the `hxl` feed reads the whole"
        " addresses in HXL_URLS and uses no base.",
        "Feed base URLs",
    ),
    # -- access -----------------------------------------------------------------------------
    Setting(
        "EDITORS",
        None,
        "E-mail addresses or @domains, comma separated, who may refresh from the Data page"
        " once sign-in is configured (unset: nobody).",
        "Sign-in and roles",
    ),
    Setting(
        "VIEWERS",
        None,
        "E-mail addresses or @domains, comma separated: when set, the only signed-in people"
        " who see anything (unset: anyone signed in).",
        "Sign-in and roles",
    ),
    # -- chart images -----------------------------------------------------------------------
    Setting(
        "BROWSER_PATH",
        "/usr/bin/chromium",
        "The Chromium that draws the chart images (/img/…; kaleido reads this name). Debian's"
        " by default: no browser is ever downloaded.",
        "Chart images",
    ),
    Setting(
        "PUBLIC_URL",
        None,
        "The address people reach the app at, base path included (https://example.org/"
        "situation-room): preview cards link their image and view there. Unset: the request's"
        " own scheme and host (X-Forwarded-Proto and -Host from a proxy).",
        "Chart images",
    ),
    # -- hosting scripts --------------------------------------------------------------------
    Setting(
        "PYTHON",
        "python3",
        "The interpreter the scripts run (e.g. .venv/bin/python).",
        "Hosting scripts",
        read_by=SCRIPTS,
    ),
    Setting(
        "HOST",
        "0.0.0.0",
        "Address `scripts/start-app` serves on.",
        "Hosting scripts",
        read_by=START_APP,
    ),
    Setting(
        "PORT",
        "8501",
        "Port `scripts/start-app` serves on (and the Docker health check asks).",
        "Hosting scripts",
        read_by=f"{START_APP}, Dockerfile",
    ),
    Setting(
        "POSTGRES_PASSWORD",
        None,
        "Password of the store's PostgreSQL role, typed as it is (no URL quoting): with"
        " POSTGRES_HOST set and DATABASE_URL unset, the store's URL is built from the POSTGRES_*"
        " parts. The compose file requires it (from `.env`).",
        "Store",
        secret=True,
        read_by=f"{PACKAGE}, {COMPOSE}",
    ),
    Setting(
        "POSTGRES_HOST",
        None,
        "Host of the store's PostgreSQL; when set (and DATABASE_URL is not), the store's URL is"
        " built from POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB"
        " with SQLAlchemy's URL.create, so no character of the password needs quoting.",
        "Store",
    ),
    Setting("POSTGRES_PORT", "5432", "Port of the store's PostgreSQL (a number).", "Store"),
    Setting("POSTGRES_USER", None, "Role the app connects to PostgreSQL as.", "Store"),
    Setting(
        "POSTGRES_DB",
        None,
        "Database of the store on PostgreSQL (default: the role's name).",
        "Store",
    ),
    Setting(
        "STREAMLIT_SERVER_BASE_URL_PATH",
        None,
        "Streamlit's own `server.baseUrlPath` as an environment variable: the path prefix the app"
        " is served under behind a proxy; the image's health check asks under it.",
        "Hosting scripts",
        read_by="Dockerfile",
    ),
    Setting(
        "IMPORT_MAX_BYTES",
        "100000000",
        "Largest file (bytes) `import` reads; larger files are refused before parsing (an import"
        " holds about 25 times the file in memory).",
        "Import",
    ),
    Setting(
        "ZIP_MAX_RATIO",
        "100",
        "Largest expansion ratio of a ZIP member over 1 MB that `import` reads (a ZIP bomb is"
        " refused).",
        "Import",
    ),
    Setting(
        "SECRET_QUERY_PARAMS",
        None,
        "Extra URL query parameters (comma-separated) whose values are credentials and are masked"
        " wherever a URL is stored or shown (sig, signature, X-Amz-*, token, key… always are).",
        "Secrets",
    ),
    Setting(
        "PROVIDERS_WITHOUT_EMAIL_VERIFIED",
        None,
        "Sign-in providers (the `[auth.<name>]` section, or `default` for a flat `[auth]`) that"
        " never send `email_verified`; for them a missing claim counts as verified. For every"
        " other provider only the boolean `true` verifies an address.",
        "Sign-in",
    ),
    # -- benchmarks -------------------------------------------------------------------------
    Setting(
        "PEER",
        "pandas",
        "Which peer `bench/peer_app.py` serves (pandas or duckdb); set by `bench.run`.",
        "Benchmarks",
        read_by=BENCH,
    ),
    Setting(
        "BENCH_CSV",
        None,
        "The scaled CSV `bench/peer_app.py` reads; set by `bench.run`.",
        "Benchmarks",
        read_by=BENCH,
    ),
    Setting(
        "BENCH_PARQUET",
        None,
        "The scaled Parquet file `bench/peer_app.py` reads; set by `bench.run`.",
        "Benchmarks",
        read_by=BENCH,
    ),
    Setting(
        "UCDP_GED_CSV",
        "/work/shared/data/ucdp-ged/conflict_data_irq.csv",
        "The UCDP file `bench/import_memory.py` imports.",
        "Benchmarks",
        read_by=BENCH,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class UnknownSetting(KeyError):
    """A name read as a setting that the registry does not declare: declare it here."""

    def __str__(self) -> str:
        return (
            f"setting {self.args[0]} is not declared in data_sources/settings_registry.py;"
            " add it there with its default and meaning"
        )


def get(name: str) -> Setting:
    """The entry for `name`; `UnknownSetting` for a name no entry declares."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownSetting(name) from None


def default(name: str) -> str | None:
    """The registry's default of `name` (None: unset)."""
    return get(name).default
