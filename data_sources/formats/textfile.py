"""Open a file someone wants to import as text, or refuse it in one line saying why.

A CSV saved by a spreadsheet may be UTF-8 (with or without a byte-order mark), UTF-16 (Excel's
"Unicode text", always with a mark), or a legacy code page such as latin-1 / Windows-1252, which
cannot be told apart from each other by looking at the bytes. So: a byte-order mark decides;
otherwise the file must be valid UTF-8, or the user names its encoding (`--encoding`). A file
with NUL bytes and no mark is not text at all (a spreadsheet's .xlsx, a zip, an image). The
whole file is checked before anything is parsed, so the message can name the exact line and
column of the first byte that is not text, and nothing is written.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import TextIO

SNIFF = 64 * 1024
BLOCK = 1 << 20
BOMS = [  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


class UnreadableText(ValueError):
    """The file is not text in an encoding we can know; the message says where and what to do."""


def detect_encoding(head: bytes, name: str, encoding: str | None = None) -> str:
    """The codec for a file starting with `head`: the user's, its byte-order mark's, or UTF-8.
    Refuses a file with NUL bytes and no mark (binary, or UTF-16 without a mark)."""
    if encoding:
        try:
            return codecs.lookup(encoding).name
        except LookupError:
            raise UnreadableText(f"{name}: unknown encoding '{encoding}'") from None
    for bom, codec in BOMS:
        if head.startswith(bom):
            return codec
    if b"\x00" in head:
        at = head.index(b"\x00")
        raise UnreadableText(
            f"{name}: not a text file (a NUL byte at byte {at + 1:,}; a spreadsheet's .xlsx, "
            "a zip or an image?): export it as CSV UTF-8 and import that"
        )
    return "utf-8"


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (1-based, counted in bytes) of byte `offset` of `data`."""
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def check_decodable(path: Path, codec: str, name: str) -> None:
    """Decode the whole file block by block (memory stays one block); raise UnreadableText
    naming the line and column of the first byte that is not `codec` text."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines = 0  # newlines in the blocks before this one
    carry = 0  # bytes of the last line of the blocks before this one
    with path.open("rb") as handle:
        while True:
            block = handle.read(BLOCK)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # the decoder's object is what it held back from the last block, then this one
                start = max(0, exc.start - (len(exc.object) - len(block)))
                line, column = _position(block, start)
                column += carry if line == 1 else 0
                raise UnreadableText(
                    f"{name}: not {_label(codec)} text: byte 0x{block[start : start + 1].hex().upper()}"
                    f" at line {lines + line}, column {column} cannot be decoded; save the file "
                    "as CSV UTF-8, or name its encoding (e.g. --encoding latin-1)"
                ) from None
            if not block:
                return
            lines += block.count(b"\n")
            cut = block.rfind(b"\n")
            carry = len(block) - cut - 1 if cut >= 0 else carry + len(block)


def _label(codec: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}.get(
        codec, codec
    )


def open_text(path: Path, encoding: str | None = None, name: str | None = None) -> TextIO:
    """The file as a text stream (newlines untranslated, for the csv module), after checking
    that every byte decodes. Raises UnreadableText (and OSError when it cannot be read)."""
    name = name or path.name
    with path.open("rb") as handle:
        head = handle.read(SNIFF)
    codec = detect_encoding(head, name, encoding)
    check_decodable(path, codec, name)
    return io.TextIOWrapper(path.open("rb"), encoding=codec, errors="strict", newline="")


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """Downloaded bytes as text, by the same rules as a file."""
    codec = detect_encoding(data[:SNIFF], name, encoding)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise UnreadableText(
            f"{name}: not {_label(codec)} text: byte 0x{data[exc.start : exc.start + 1].hex().upper()}"
            f" at line {line}, column {column} cannot be decoded; save the file as CSV UTF-8, "
            "or name its encoding (e.g. --encoding latin-1)"
        ) from None
