"""Text from a feed, a file, a link or the store, made inert for the sink it is shown in.

Nothing a source says is rendered as markup. Three sinks, three functions, all pure (no
Streamlit import, so charts.py and the exports use them too):

- `md(text)`: every Streamlit sink that renders Markdown — `st.markdown`, `st.caption`,
  alerts (`st.info/warning/error/success`), `st.toast`, `help=` tooltips, metric and expander
  labels, subheaders, progress texts. Every ASCII punctuation character is backslash-escaped
  (CommonMark allows that for all of them), which disarms HTML, links and images, emphasis,
  code, headings (ATX `#` and setext `===`/`---`), lists, tables, Streamlit's directives
  (`:red[…]`, `:blue-badge[…]`, `:material/icon:`, `:emoji:`), `$` math, entities (`&lt;`)
  and bare autolinks (GFM links `https://…`, `www.…` and `a@b.org` even escaped: a word joiner,
  U+2060, keeps them text). Line breaks become spaces: one message, one line.
- `html(text)`: plotly text (titles, subtitles, legend names, hover fields, annotations, map
  labels), which plotly draws from a subset of HTML (`<a href>`, `<b>`, `<br>`, `<span
  style>`…) and `$…$` LaTeX: `&`, `<`, `>` and `$` become entities, which plotly
  turns back into the characters themselves.
- `plain(text)`: sinks that show text as text (selectbox options via `format_func`,
  dataframe cells, metric values): only the invisible characters go (see below) and the text is
  cut short; escaping here would show the backslashes.

All three first remove NUL and the other control characters (to a space) and the Unicode
bidirectional overrides and isolates (RTL override U+202E and its kin), which would make a
figure's text read backwards or hide what follows it.

`link(url)` is for dataframe link columns: an http(s) URL (with its credentials removed) or
nothing, never `javascript:` or `data:`.
"""

from __future__ import annotations

import html as _html
import re
import string

# C0 and C1 controls (NUL, newline, tab, ESC…) and DEL
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# bidi embeddings/overrides/isolates and marks, zero-width joiners and the BOM, line and
# paragraph separators: invisible, and able to reorder or hide the text around them
_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_HTML_EXTRA = {"$": "&#36;"}
JOINER = "\u2060"  # WORD JOINER: invisible, not a word character
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|www)(?=\\[:.])")


def plain(text: object, limit: int | None = None) -> str:
    """Invisible and control characters removed (controls become one space), cut to `limit`
    characters with an ellipsis."""
    text = "" if text is None else str(text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROLS.sub(" ", text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def md(text: object, limit: int | None = None) -> str:
    """For every Streamlit sink that renders Markdown: shows `text` literally."""
    out = _MD_SPECIAL.sub(r"\\\1", plain(text, limit))
    # GFM autolinks bare addresses in the text *after* escapes are undone (`https\://x` still
    # becomes a link, `a\@b.org` a mailto:): an invisible word joiner keeps them text
    out = _AUTOLINK.sub("\\1" + JOINER, out)
    return out.replace("\\@", JOINER + "\\@")


def unmd(text: object) -> str:
    """`md`'s text back as plain text (for a sink that is no Markdown: an HTML brief)."""
    return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", str(text)).replace(
        JOINER, ""
    )


def html(text: object, limit: int | None = None) -> str:
    """For plotly text (pseudo-HTML): shows `text` literally."""
    # quotes matter only inside a tag, and with `<` escaped there is none
    escaped = _html.escape(plain(text, limit), quote=False)
    return "".join(_HTML_EXTRA.get(c, c) for c in escaped) if "$" in escaped else escaped


def link(url: object) -> str | None:
    """A URL for a dataframe link column: http(s) only, credentials removed; else None."""
    from data_sources.redact import redact_url

    text = plain(url).strip()
    if not re.match(r"(?i)https?://", text):
        return None
    return redact_url(text)
