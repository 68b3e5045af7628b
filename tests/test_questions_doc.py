"""docs/questions.md: every worked question's link opens its page without a link problem or
an error, and the page shows the numbers the answer quotes (each block's `expect:` comment).
A change that moves an answer, or a link the pages no longer read, fails here."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.apptest import open_page
from tests.conftest import ROOT
from tests.test_credentials import page_text
from views.pages import PAGES

DOC = ROOT / "docs" / "questions.md"
LINK = re.compile(r"\[Open the answer\]\((http://localhost:8501/[^)]+)\)\s*<!-- expect: (.+?) -->")
SCRIPTS = {p.url_path: p.script for p in PAGES}


def answers() -> list[tuple[str, dict[str, list[str]], list[str]]]:
    found = []
    for url, expect in LINK.findall(DOC.read_text(encoding="utf-8")):
        parts = urlsplit(url)
        found.append((parts.path.strip("/"), parse_qs(parts.query), expect.split(" | ")))
    return found


def test_the_page_holds_five_questions_each_with_an_answer_link():
    assert len(answers()) == 5
    assert all(path in SCRIPTS for path, _, _ in answers())


@pytest.mark.parametrize("path,params,expected", answers(), ids=lambda a: str(a)[:40])
def test_each_link_opens_the_answer_it_quotes(path, params, expected, loaded_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", loaded_url)
    at = open_page(SCRIPTS[path], **{k: v if len(v) > 1 else v[0] for k, v in params.items()})
    assert not at.exception, [e.message for e in at.exception]
    problems = [w.value for w in at.warning if "link" in w.value.lower()]
    assert not problems, problems
    text = page_text(at)
    missing = [fragment for fragment in expected if fragment not in text]
    assert not missing, (path, missing)
