"""Write requirements.txt from pyproject.toml: the dependencies plus the PostgreSQL driver (the
`postgres` extra). Streamlit Community Cloud and other hosts install requirements.txt with pip;
pyproject.toml stays the one place dependencies are declared, and tests/test_hosting.py checks
that the two agree. Run `python3 scripts/requirements.py` after changing pyproject.toml."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("postgres",)  # a hosted store is PostgreSQL: its driver is not optional there


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The text of requirements.txt for `pyproject`."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = [
        "# Generated from pyproject.toml by scripts/requirements.py: do not edit by hand.",
        "# Read by Streamlit Community Cloud and other hosts (pip install -r requirements.txt).",
        *project["dependencies"],
    ]
    for extra in EXTRAS:
        lines.append(f"# extra: {extra}")
        lines.extend(project["optional-dependencies"][extra])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = ROOT / "requirements.txt"
    target.write_text(requirements())
    sys.stdout.write(f"wrote {target.relative_to(ROOT)}\n")
