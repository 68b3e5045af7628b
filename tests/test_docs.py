"""The docs site (issue 21, item 3): built strictly by MkDocs, its reference pages generated from
the code, every page in the navigation, and a README kept short.

`make test` builds the site with `mkdocs build --strict` too; this file checks what a build
that succeeds can still get wrong.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys

import yaml

from data_sources import settings_registry
from data_sources.cli import build_parser
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(nav) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        for value in entry.values():
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_settings_page_lists_every_setting_with_its_default_and_secrecy():
    page = hooks().settings_markdown()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) == len(settings_registry.SETTINGS)
    for s in settings_registry.SETTINGS:
        row = next(r for r in rows if r.startswith(f"| `{s.name}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        shown = '""' if s.default == "" else s.default
        assert cells[1] == ("*(unset)*" if s.default is None else f"`{shown}`")
        assert cells[2] == ("yes" if s.secret else "no")


def test_the_cli_page_is_the_parsers_help_for_every_command():
    page = hooks().cli_markdown()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert len(commands) >= 8
    for name, sub in commands.items():
        assert f"## `{name}`" in page
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:  # hidden on purpose (a test's switch)
                continue
            for option in action.option_strings:
                assert option in page, (name, option)


def test_every_page_is_in_the_navigation_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = set(nav_pages(config["nav"]))
    generated = set(hooks().GENERATED)
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert listed - generated == on_disk
    assert generated <= listed


def test_the_readme_is_short_and_links_only_to_pages_that_exist():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), target


def test_the_site_builds_strictly(tmp_path):
    """The same build `make docs` and `make test` run: a broken link, a page missing from the
    navigation or a generator that fails is an error."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    settings_html = (tmp_path / "reference" / "settings" / "index.html").read_text()
    assert "HTTP_CACHE_TTL" in settings_html and "DATABASE_URL" in settings_html
