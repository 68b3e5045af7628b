"""The settings registry holds every setting the code reads (issue 21, item 4).

The source is scanned, not listed: every name passed to `setting()`/`number()`/`getenv`, read
from `os.environ`, named by a connector attribute (`*_setting`, `setting_name=`, `*_settings`)
or expanded by a shell script or the compose file must be declared in
`data_sources/settings_registry.py`, which the docs' settings page is generated from.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from data_sources import settings, settings_registry, sources
from data_sources.feeds.connectors import CONNECTORS

ROOT = Path(__file__).resolve().parents[1]
PYTHON_DIRS = ("data_sources", "views", "web", "bench", "devtools", "scripts")
PYTHON_FILES = ("app.py", "serve.py")
# shell and container files whose ${NAME} expansions are settings (the Makefile's variables are
# make's own, not the code's)
SHELL_FILES = ("scripts/start-app", "scripts/start-worker", "scripts/prepare-store")
OTHER_FILES = ("compose.yaml", "Dockerfile")
READERS = {"setting", "number", "getenv"}
SHELL_NAME = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


def _name_of(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _strings(node: ast.AST | None) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _named_setting(name: str) -> bool:
    return name.endswith(("_setting", "_settings")) or name == "setting_name"


def python_reads(source: str) -> set[str]:
    """Setting names a Python module reads, found by walking its syntax tree."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            is_reader = _name_of(func) in READERS
            is_environ_get = _name_of(func) == "get" and _name_of(
                getattr(func, "value", None) or func
            ) in {"environ", "secrets"}
            if (is_reader or is_environ_get) and node.args:
                found.update(_strings(node.args[0]))
            for kw in node.keywords:
                if kw.arg and _named_setting(kw.arg):
                    found.update(_strings(kw.value))
        elif isinstance(node, ast.Subscript) and _name_of(node.value) in {"environ", "secrets"}:
            found.update(_strings(node.slice))
        elif isinstance(node, ast.Compare) and any(
            _name_of(c) in {"environ", "secrets"} for c in node.comparators
        ):
            found.update(_strings(node.left))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_named_setting(_name_of(t)) for t in targets):
                found.update(_strings(node.value))
    return found


def shell_reads(text: str) -> set[str]:
    return set(SHELL_NAME.findall(text))


def scan(root: Path) -> dict[str, set[str]]:
    """Every setting name read under `root`, with the files that read it."""
    reads: dict[str, set[str]] = {}

    def add(names: set[str], path: Path) -> None:
        for name in names:
            reads.setdefault(name, set()).add(str(path.relative_to(root)))

    files = [root / f for f in PYTHON_FILES]
    for folder in PYTHON_DIRS:
        files += sorted((root / folder).rglob("*.py"))
    for path in files:
        if path.is_file() and "migrations/versions" not in path.as_posix():
            add(python_reads(path.read_text(encoding="utf-8")), path)
    for name in (*SHELL_FILES, *OTHER_FILES):
        path = root / name
        if path.is_file():
            add(shell_reads(path.read_text(encoding="utf-8")), path)
    return reads


def test_every_setting_the_code_reads_is_in_the_registry():
    reads = scan(ROOT)
    missing = {n: sorted(f) for n, f in reads.items() if n not in settings_registry.BY_NAME}
    assert not missing, f"settings read but not declared in settings_registry.py: {missing}"
    # the scan sees the ways settings are read today (a scan that found nothing proves nothing)
    for name in ("DATABASE_URL", "HTTP_CACHE_TTL", "UCDP_ACCESS_TOKEN", "HAPI_BASE_URL", "PORT"):
        assert name in reads, name


def test_the_registry_holds_no_setting_nothing_reads():
    reads = scan(ROOT)
    unread = sorted(set(settings_registry.BY_NAME) - set(reads))
    assert not unread, f"declared in settings_registry.py but read nowhere: {unread}"


@pytest.mark.parametrize(
    "code",
    [
        'from data_sources import settings\nsettings.setting("NEW_FEED_TOKEN")\n',
        'from data_sources.settings import number\nnumber("NEW_FEED_TOKEN")\n',
        'import os\nos.environ.get("NEW_FEED_TOKEN", "x")\n',
        'import os\nos.environ["NEW_FEED_TOKEN"]\n',
        'import os\nos.getenv("NEW_FEED_TOKEN")\n',
        'class C:\n    base_url_setting = "NEW_FEED_TOKEN"\n',
        'auth = HeaderKeyAuth("x-key", setting_name="NEW_FEED_TOKEN")\n',
        'Source(key="new", secret_settings=("NEW_FEED_TOKEN",))\n',
    ],
)
def test_the_scan_finds_a_new_read_of_an_undeclared_setting(tmp_path, code):
    """The guard can fail: a module that reads an undeclared name in any of the ways the code
    reads settings is caught."""
    (tmp_path / "data_sources").mkdir()
    (tmp_path / "data_sources" / "new_feed.py").write_text(code, encoding="utf-8")
    reads = scan(tmp_path)
    assert reads == {"NEW_FEED_TOKEN": {"data_sources/new_feed.py"}}
    assert "NEW_FEED_TOKEN" not in settings_registry.BY_NAME


def test_the_scan_finds_a_shell_script_setting(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "start-app").write_text(
        'exec "$PYTHON" -m streamlit run app.py --server.port="${NEW_PORT:-8501}"\n'
    )
    assert set(scan(tmp_path)) == {"PYTHON", "NEW_PORT"}


def test_reading_an_undeclared_setting_is_a_clear_error():
    with pytest.raises(settings_registry.UnknownSetting) as caught:
        settings.setting("NO_SUCH_SETTING")
    assert str(caught.value).startswith("setting NO_SUCH_SETTING is not declared in")


def test_an_unset_setting_falls_back_to_the_registry_default(monkeypatch, tmp_path):
    monkeypatch.setenv("SITUATION_ROOM_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.delenv("HTTP_CACHE_TTL", raising=False)
    monkeypatch.delenv("REFRESH_COUNTRIES", raising=False)
    settings.reload()
    try:
        assert settings.number("HTTP_CACHE_TTL") == 900.0
        assert settings.setting("REFRESH_COUNTRIES") == "IRQ,SYR"
        monkeypatch.setenv("HTTP_CACHE_TTL", "12")
        assert settings.number("HTTP_CACHE_TTL") == 12.0
    finally:
        settings.reload()


def test_secret_in_the_registry_agrees_with_what_is_scrubbed():
    """`secret` in the reference is what the scrubbing treats as a credential: the source
    registry's secret and URL settings, DATABASE_URL's password, and the compose password."""
    scrubbed = {*sources.secret_settings(), *sources.url_settings(), "DATABASE_URL"}
    declared = {s.name for s in settings_registry.SETTINGS if s.secret}
    assert declared - {"POSTGRES_PASSWORD"} == scrubbed


def test_every_connector_base_url_default_is_the_registry_default():
    for name, cls in CONNECTORS.items():
        entry = settings_registry.get(cls.base_url_setting)
        assert entry.default == cls.default_base_url, name


def test_every_setting_read_as_a_number_has_a_numeric_default():
    numeric = {
        m
        for path in (ROOT / "data_sources").rglob("*.py")
        for m in re.findall(r'\bnumber\("([A-Z0-9_]+)"', path.read_text(encoding="utf-8"))
    }
    assert "HTTP_ATTEMPTS" in numeric
    for name in numeric:
        assert float(settings_registry.default(name) or "nan") >= 0, name


def test_http_config_defaults_are_the_registry_defaults(monkeypatch, tmp_path):
    """`HttpConfig()` (tests build one directly) and `HttpConfig.from_settings()` with nothing
    set agree: the dataclass's defaults cannot drift from the documented ones."""
    from data_sources.feeds.client import HttpConfig

    monkeypatch.setenv("SITUATION_ROOM_SECRETS", str(tmp_path / "none.toml"))
    for s in settings_registry.SETTINGS:
        if s.name.startswith("HTTP_"):
            monkeypatch.delenv(s.name, raising=False)
    settings.reload()
    try:
        assert HttpConfig.from_settings() == HttpConfig()
    finally:
        settings.reload()
