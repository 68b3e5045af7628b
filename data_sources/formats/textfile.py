"""Open a file someone wants to import as text, or refuse it in one line saying why.

A CSV saved by a spreadsheet may be UTF-8 (with or without a byte-order mark), UTF-16 (Excel's
"Unicode text", always with a mark), or a legacy code page such as latin-1 / Windows-1252, which
cannot be told apart from each other by looking at the bytes. So: a byte-order mark decides;
otherwise the file must be valid UTF-8, or the user names its encoding (`--encoding`). A file
with NUL bytes and no mark is not text at all (a spreadsheet's .xlsx, a zip, an image). The
whole file is checked before anything is parsed, so the message can name the exact line and
column of the first byte that is not text, and nothing is written.

Whatever arrives is read with limits, so that no file can exhaust the machine: only regular
files are opened (a FIFO would block forever, `/dev/zero` never ends), opened without blocking;
a file larger than `IMPORT_MAX_BYTES` (a setting, default 100 MB: an import holds about 25
times the file in memory) is refused before it is parsed; a NUL anywhere (not only in the first
64 KB) refuses the file; only text encodings are accepted for `--encoding` (Python's codec
registry also holds base64, zlib, rot13: byte-to-byte or text-to-text transforms).
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

SNIFF = 64 * 1024
BLOCK = 1 << 20
BOMS = [  # longest first: UTF-32's little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


MAX_BYTES = 100_000_000


class UnreadableText(ValueError):
    """The file is not text in an encoding we can know; the message says where and what to do."""


def max_bytes() -> int:
    """The largest input an import reads (`IMPORT_MAX_BYTES`, bytes)."""
    from data_sources import settings

    return int(settings.number("IMPORT_MAX_BYTES", MAX_BYTES))


def too_large(name: str, limit: int) -> UnreadableText:
    return UnreadableText(
        f"{name}: larger than {limit:,} bytes, the most an import reads (split the file, or "
        "raise IMPORT_MAX_BYTES if the machine has the memory: about 25 times the file)"
    )


def open_regular(path: Path, name: str) -> BinaryIO:
    """The file opened for reading if it is a regular file no larger than the limit.

    Opened with O_NONBLOCK (a FIFO's open waits for a writer), then checked on the open
    descriptor (no window between a check and the open)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(info.st_mode)
                else "a named pipe (FIFO)"
                if stat.S_ISFIFO(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise UnreadableText(f"{name}: {kind}, not a file: only regular files are imported")
        limit = max_bytes()
        if info.st_size > limit:
            raise too_large(name, limit)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle


def _text_codec(encoding: str, name: str) -> str:
    """The codec named `encoding`, if it turns bytes into text."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise UnreadableText(f"{name}: unknown encoding '{encoding}'") from None
    # rot13, base64, hex, zlib, bz2, uu, quopri are transforms, not text encodings: Python
    # marks them so (the flag `str.encode` itself checks)
    if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        raise UnreadableText(
            f"{name}: '{encoding}' is not a text encoding (name one such as utf-8, latin-1, "
            "cp1252, utf-16)"
        )
    return info.name


def detect_encoding(head: bytes, name: str, encoding: str | None = None) -> str:
    """The codec for a file starting with `head`: the user's, its byte-order mark's, or UTF-8.
    Refuses a file with NUL bytes and no mark (binary, or UTF-16 without a mark)."""
    if encoding:
        return _text_codec(encoding, name)
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


def _not_text(name: str, codec: str, exc: UnicodeError) -> UnreadableText:
    """A decoder's failure that names no byte (utf-16 without a mark, a codec that always
    fails) as one line."""
    return UnreadableText(
        f"{name}: cannot be read as {_label(codec)} ({exc}); save the file as CSV UTF-8, or "
        "name its encoding (e.g. --encoding latin-1)"
    )


def _nul_found(name: str, line: int) -> UnreadableText:
    return UnreadableText(
        f"{name}: not a text file (a NUL byte on line {line:,}; a spreadsheet's .xlsx, a zip "
        "or an image?): export it as CSV UTF-8 and import that"
    )


def check_decodable(handle: BinaryIO, codec: str, name: str, limit: int | None = None) -> None:
    """Decode the whole stream block by block (memory stays one block); raise UnreadableText
    naming the line and column of the first byte that is not `codec` text, the line of a NUL
    character (text has none; a NUL past the first 64 KB is still binary), or the limit
    passed when the stream holds more than `limit` bytes."""
    limit = max_bytes() if limit is None else limit
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines = 0  # newlines in the blocks before this one
    carry = 0  # bytes of the last line of the blocks before this one
    text_lines = 0  # newlines in the text decoded so far
    total = 0
    while True:
        block = handle.read(BLOCK)
        total += len(block)
        if total > limit:
            raise too_large(name, limit)
        try:
            text = decoder.decode(block, final=not block)
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
        except UnicodeError as exc:
            raise _not_text(name, codec, exc) from None
        if "\x00" in text:
            raise _nul_found(name, text_lines + text[: text.index("\x00")].count("\n") + 1)
        text_lines += text.count("\n")
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
    that it is a regular file within the size limit and that every byte decodes. Raises
    UnreadableText (and OSError when it cannot be read)."""
    name = name or path.name
    handle = open_regular(path, name)
    try:
        head = handle.read(SNIFF)
        codec = detect_encoding(head, name, encoding)
        handle.seek(0)
        check_decodable(handle, codec, name)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return io.TextIOWrapper(handle, encoding=codec, errors="strict", newline="")


def read_limited(stream: BinaryIO, name: str, limit: int | None = None) -> bytes:
    """All of `stream` (a ZIP member, a download) if it holds at most `limit` bytes: read in
    blocks, so that a member whose header lies about its size stops at the limit."""
    limit = max_bytes() if limit is None else limit
    parts, total = [], 0
    while block := stream.read(BLOCK):
        total += len(block)
        if total > limit:
            raise too_large(name, limit)
        parts.append(block)
    return b"".join(parts)


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    """Downloaded bytes as text, by the same rules as a file."""
    limit = max_bytes()
    if len(data) > limit:
        raise too_large(name, limit)
    codec = detect_encoding(data[:SNIFF], name, encoding)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise UnreadableText(
            f"{name}: not {_label(codec)} text: byte 0x{data[exc.start : exc.start + 1].hex().upper()}"
            f" at line {line}, column {column} cannot be decoded; save the file as CSV UTF-8, "
            "or name its encoding (e.g. --encoding latin-1)"
        ) from None
    except UnicodeError as exc:
        raise _not_text(name, codec, exc) from None
    if "\x00" in text:
        raise _nul_found(name, text[: text.index("\x00")].count("\n") + 1)
    return text
