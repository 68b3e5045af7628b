"""The registry of pages: every page's title, address, icon and script, declared once.

`app.py` builds its navigation from it, the sign-in gate answers at every one of its
addresses (a deep link to /data too), the old `/overview` link is an alias here, and the tests
and benchmarks that visit "every page" read it, so a new page is one entry here plus its
script (and its expectations in the tests that check what each page shows).

Pure data: no Streamlit, so tests, benchmarks and `views/logic` may import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    title: str  # the navigation's label and the page's own title (st.title)
    url_path: str  # Streamlit's url_path; the default page is served at "/"
    icon: str
    script: str  # the page's file, relative to the project root
    default: bool = False

    @property
    def address(self) -> str:
        """The path a reader types: "/" for the default page, else "/<url_path>"."""
        return "/" if self.default else f"/{self.url_path}"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("Overview", "home", ":material/dashboard:", "views/overview.py", default=True),
    PageSpec("Trends", "trends", ":material/show_chart:", "views/trends.py"),
    PageSpec("Compare sources", "compare", ":material/compare_arrows:", "views/compare.py"),
    PageSpec("Map", "map", ":material/map:", "views/map.py"),
    PageSpec("Data", "data", ":material/table:", "views/data.py"),
)

# old addresses of the default page still given out in links (/overview): they open it at "/",
# parameters kept
ALIASES: tuple[str, ...] = ("overview",)

DEFAULT = next(p for p in PAGES if p.default)


def url_paths() -> list[str]:
    """Every address the app answers at (pages and aliases): the sign-in gate covers them."""
    return [p.url_path for p in PAGES] + list(ALIASES)
