"""The docs' recipes, followed: each step a recipe marks is applied to a copy of the repository
and the result is run (issue 21, item 3), so a recipe that stops working fails here.

A recipe marks its steps with an HTML comment before a fenced block:
`<!-- recipe: new PATH -->` (the block is a new file), `<!-- recipe: after PATH | TEXT -->`
(inserted after the first line holding TEXT), `<!-- recipe: replace PATH | TEXT -->` (that
line replaced). A walk-through of code already in the repository marks its quotes with
`<!-- excerpt: PATH -->`: the quote must be in that file, word for word.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

RECIPES = ROOT / "docs" / "recipes"
MARK = re.compile(
    r"<!-- (recipe|excerpt): (?:(new|after|replace) )?([^|>]+?)(?: \| (.+?))? -->\n```[a-z]*\n"
    r"(.*?)\n```",
    re.DOTALL,
)
# what a copy needs to run the app and the CLI (no tests, no fixtures, no benchmarks)
COPIED = ("app.py", "data_sources", "views", "static", ".streamlit", "pyproject.toml")


@dataclass(frozen=True)
class Step:
    kind: str  # recipe | excerpt
    op: str  # new | after | replace | "" (an excerpt)
    path: str
    anchor: str
    text: str


def steps(page: str) -> list[Step]:
    text = (RECIPES / page).read_text(encoding="utf-8")
    return [
        Step(kind, op or "", path.strip(), (anchor or "").strip(), body)
        for kind, op, path, anchor, body in MARK.findall(text)
    ]


def apply(step: Step, root: Path) -> None:
    """One recipe step on the copy at `root`; an anchor that is not there fails the test."""
    path = root / step.path
    if step.op == "new":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(step.text + "\n", encoding="utf-8")
        return
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next((i for i, line in enumerate(lines) if step.anchor in line), None)
    assert at is not None, f"{step.path} has no line holding {step.anchor!r}"
    if step.op == "after":
        lines[at + 1 : at + 1] = step.text.split("\n")
    else:
        lines[at : at + 1] = step.text.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")


def copy_repo(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def run_in(root: Path, *args: str, url: str) -> subprocess.CompletedProcess:
    """A Python process that imports the copy's code (PYTHONPATH first), not this checkout's."""
    env = {**os.environ, "PYTHONPATH": str(root), "DATABASE_URL": url, "COLUMNS": "200"}
    env["SITUATION_ROOM_SECRETS"] = str(root / "no-secrets.toml")
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


SCHEMA_DIFF = """
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
import data_sources.store.tables as tables
assert tables.__file__.startswith({root!r}), tables.__file__
engine = sa.create_engine({url!r})
with engine.connect() as conn:
    ctx = MigrationContext.configure(conn, opts={{"compare_type": True}})
    print(compare_metadata(ctx, tables.metadata))
"""


@pytest.mark.parametrize("steps_taken", ["all", "table only"])
def test_migration_recipe_upgrades_a_store_of_this_release(tmp_path, store_url, steps_taken):
    """The recipe's two files move a store made by this release to a schema that matches the
    copy's tables exactly; the table change alone (the revision forgotten) does not."""
    from data_sources.store.engine import make_engine

    make_engine(store_url).dispose()  # a store at this release's head, made by this code
    root = copy_repo(tmp_path / "copy")
    recipe = steps("add-a-migration.md")
    assert [s.op for s in recipe if s.kind == "recipe"] == ["after", "new"]
    for step in recipe if steps_taken == "all" else recipe[:1]:
        apply(step, root)

    migrate = run_in(root, "-m", "data_sources", "migrate", url=store_url)
    diff = run_in(root, "-c", SCHEMA_DIFF.format(root=str(root), url=store_url), url=store_url)
    assert diff.returncode == 0, diff.stderr
    if steps_taken == "all":
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        new = next(s for s in recipe if s.op == "new")
        revision = re.search(r'^revision = "(\w+)"', new.text, re.M).group(1)
        assert revision in migrate.stdout
        assert diff.stdout.strip() == "[]"
        check = run_in(root, "-m", "data_sources", "migrate", "--check", url=store_url)
        assert check.returncode == 0, check.stdout + check.stderr
    else:
        assert "wikidata" in diff.stdout  # the store lacks the column the code expects


APP_TEST = """
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=240)
at.switch_page({page!r})
at.run()
assert not at.exception, [e.value for e in at.exception]
print("TITLE", [t.value for t in at.title])
print("ROWS", at.dataframe[0].value["source"].tolist())
"""


def test_page_recipe_opens_the_new_page_from_the_apps_navigation(tmp_path):
    root = copy_repo(tmp_path / "copy")
    for step in steps("add-a-page.md"):
        apply(step, root)
    code = APP_TEST.format(app=str(root / "app.py"), page=str(root / "views/sources.py"))
    done = run_in(root, "-c", code, url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert done.returncode == 0, done.stdout + done.stderr
    from data_sources import sources

    assert "TITLE ['Sources']" in done.stdout
    for entry in sources.SOURCES.values():
        assert repr(entry.title) in done.stdout
    # the sign-in gate answers at every address of the copy's registry: the new one too
    gate = run_in(
        root, "-c", "from views.pages import url_paths; print(url_paths())", url="sqlite://"
    )
    assert gate.returncode == 0, gate.stderr
    assert "'sources'" in gate.stdout


def test_page_recipe_without_the_navigation_step_fails(tmp_path):
    """The navigation step is needed: without it `switch_page` finds no such page."""
    root = copy_repo(tmp_path / "copy")
    apply(steps("add-a-page.md")[0], root)  # the page file only
    code = APP_TEST.format(app=str(root / "app.py"), page=str(root / "views/sources.py"))
    done = run_in(root, "-c", code, url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert "TITLE ['Sources']" not in done.stdout


@pytest.mark.parametrize("page", ["add-a-feed.md", "add-a-metric.md"])
def test_walkthrough_quotes_are_the_code(page):
    """A walk-through quotes the repository's own example; a quote that drifted from the code
    fails here."""
    quotes = [s for s in steps(page) if s.kind == "excerpt"]
    assert quotes, f"{page} quotes no code"
    for quote in quotes:
        code = (ROOT / quote.path).read_text(encoding="utf-8")
        assert quote.text in code, f"{page}: quote not found in {quote.path}:\n{quote.text}"


def test_a_step_whose_anchor_is_gone_fails(tmp_path):
    root = copy_repo(tmp_path / "copy")
    step = Step("recipe", "after", "app.py", "no such line", "x = 1")
    with pytest.raises(AssertionError, match="no line holding"):
        apply(step, root)
