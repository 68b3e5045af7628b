"""One job: mark a test that reads a real file from `../shared/data` (IOM DTM and ACLED files
that may never be committed, and the large UCDP/HAPI files), so its absence is said, never
hidden.

On a machine without the folder the test is skipped with a reason that starts with
`MISSING_SHARED` and the run's summary counts what did not run. Where the folder must be there
(CI on this machine: `.ci/run` sets REQUIRE_SHARED_DATA=1), conftest turns such a skip into a
failure, so a moved or renamed file cannot turn fourteen tests into fourteen quiet passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TAG = "MISSING_SHARED"


def missing(*paths: Path) -> list[Path]:
    return [p for p in paths if not p.exists()]


def reason(*paths: Path) -> str:
    gone = missing(*paths)
    return f"{TAG}: {', '.join(str(p) for p in gone)} not on this machine" if gone else ""


def needs_shared(*paths: Path) -> pytest.MarkDecorator:
    """`@needs_shared(SHARED / "ucdp-ged" / "x.csv")`: skipped, loudly, when a file is absent."""
    return pytest.mark.skipif(bool(missing(*paths)), reason=reason(*paths) or "present")


def skip_unless_shared(*paths: Path) -> None:
    """The same inside a test body (for a path computed there)."""
    if missing(*paths):
        pytest.skip(reason(*paths))
