"""Reading and writing Python source without losing a byte.

A file is decoded once (PEP 263 cookie, UTF-8 BOM) with its newlines kept as they are, so that
fixes can be applied as text edits on the original and encoded back to identical bytes outside the
edited ranges.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import tokenize
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from memlint.diagnostics import Location


class SourceError(Exception):
    """The file cannot be read or decoded; the message is meant for the user."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    raw: bytes
    text: str
    encoding: str

    @property
    def newline(self) -> str:
        return detect_newline(self.text)


def detect_newline(text: str) -> str:
    """The first line ending used in ``text``; ``\\n`` when there is none."""
    index = text.find("\n")
    if index == -1:
        return "\r" if "\r" in text else "\n"
    return "\r\n" if index > 0 and text[index - 1] == "\r" else "\n"


def decode_source(raw: bytes, path: str = "<unknown>") -> SourceFile:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        if "invalid or missing" in str(exc.msg):  # no cookie and not UTF-8 in the first lines
            encoding = "utf-8"
        else:
            raise SourceError(f"cannot detect the encoding: {exc.msg}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"cannot decode as {encoding}: byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        ) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding cookie") from None
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def read_source(path: str | os.PathLike[str]) -> SourceFile:
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    return decode_source(raw, str(path))


def encode_source(text: str, encoding: str) -> bytes:
    """Encode back with the file's own encoding (``utf-8-sig`` restores the BOM)."""
    return text.encode(encoding)


class LineIndex:
    """Maps between offsets in a text and 1-based rows / 0-based columns.

    Rows end at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as Python's tokenizer and LibCST count them.
    """

    def __init__(self, text: str) -> None:
        starts = [0]
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            if ch == "\n":
                starts.append(i + 1)
            elif ch == "\r":
                if i + 1 < n and text[i + 1] == "\n":
                    i += 1
                starts.append(i + 1)
            i += 1
        self._starts = starts
        self._length = n
        self._text = text

    def offset(self, row: int, column: int) -> int:
        """Offset of a 1-based ``row`` and 0-based ``column``."""
        if row > len(self._starts):
            return self._length
        return min(self._starts[row - 1] + column, self._length)

    def location(self, offset: int) -> Location:
        """The 1-based row and 1-based column of ``offset``."""
        row = bisect_right(self._starts, offset)
        return Location(row, offset - self._starts[row - 1] + 1)

    def line_start(self, row: int) -> int:
        return self._starts[row - 1]

    def line_text(self, row: int) -> str:
        """The text of ``row`` without its line ending."""
        start = self._starts[row - 1]
        end = self._starts[row] if row < len(self._starts) else self._length
        return self._text[start:end].rstrip("\r\n")


class ChangedOnDisk(SourceError):
    pass


def write_source_atomically(path: str, original_raw: bytes, new_raw: bytes) -> None:
    """Replace the file's bytes with ``new_raw`` so that any failure leaves the original intact.

    The write goes to the symlink's target; the file's mode is kept; a file that changed since it
    was read (``original_raw``) is left alone. A file with several hard links is rewritten in
    place (replacing it would split the links), guarded by a backup copy.
    """
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
        with open(target, "rb") as handle:
            current = handle.read()
    except OSError as exc:
        raise SourceError(f"cannot re-read before writing: {exc.strerror or exc}") from None
    if current != original_raw:
        raise ChangedOnDisk("changed on disk since it was read; not overwritten")
    if st.st_nlink > 1:
        _rewrite_in_place(target, original_raw, new_raw)
        return
    directory = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".memlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except (PermissionError, AttributeError):
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _rewrite_in_place(target: str, original_raw: bytes, new_raw: bytes) -> None:
    directory = os.path.dirname(target) or "."
    fd, backup = tempfile.mkstemp(prefix=".memlint-backup-", dir=directory)
    with os.fdopen(fd, "wb") as handle:
        handle.write(original_raw)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        with open(target, "r+b") as handle:
            handle.write(new_raw)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with open(target, "r+b") as handle:
            handle.write(original_raw)
            handle.truncate()
        raise
    finally:
        os.unlink(backup)
