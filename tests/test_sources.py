"""Reading and writing source without losing a byte, and atomic writes under failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memlint import sources
from memlint.sources import (
    ChangedOnDisk,
    LineIndex,
    SourceError,
    decode_source,
    encode_source,
    read_source,
    write_source_atomically,
)


@pytest.mark.parametrize(
    "raw",
    [
        b"x = 1\n",
        b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n",
        b"x = 1\r\ny = 2\r\n",
        b"x = 1\ry = 2\r",
        b"x = 1\r\ny = 2\nz = 3\r",
        b"# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n",
        b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n",
        b"\x0cx = 1\n\ty = 2\n",
        b"",
    ],
)
def test_round_trip_is_byte_exact(raw: bytes) -> None:
    source = decode_source(raw)
    assert encode_source(source.text, source.encoding) == raw


def test_decode_errors_are_clear() -> None:
    with pytest.raises(SourceError, match="cannot decode as utf-8: byte 0xff"):
        decode_source(b"x = '\xff'\n")
    with pytest.raises(SourceError, match="encoding"):
        decode_source(b"# coding: klingon\nx = 1\n")


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_source(tmp_path / "missing.py")
    with pytest.raises(SourceError, match="is a directory"):
        read_source(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where chmod cannot make a file unreadable: simulate it.
    target = tmp_path / "locked.py"
    target.write_text("x = 1\n")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(SourceError, match="permission denied"):
        read_source(target)


def test_line_index_counts_every_newline_style() -> None:
    text = "a\r\nbb\rccc\nd"
    index = LineIndex(text)
    assert [index.line_text(r) for r in (1, 2, 3, 4)] == ["a", "bb", "ccc", "d"]
    assert index.offset(3, 1) == text.index("ccc") + 1
    assert index.location(text.index("d")).row == 4


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o640)
    write_source_atomically(str(target), b"old\n", b"new\n")
    assert target.read_bytes() == b"new\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]  # no temporary file left behind


def test_changed_on_disk_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_bytes(b"edited by the user\n")
    with pytest.raises(ChangedOnDisk):
        write_source_atomically(str(target), b"what memlint read\n", b"fixed\n")
    assert target.read_bytes() == b"edited by the user\n"


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_failure_while_writing_leaves_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "a.py"
    target.write_bytes(b"original\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    if failing == "replace":
        monkeypatch.setattr(sources.os, "replace", boom)
    elif failing == "fsync":
        monkeypatch.setattr(sources.os, "fsync", boom)
    else:
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, handle: object) -> None:
                self.handle = handle

            def __enter__(self) -> Full:
                return self

            def __exit__(self, *exc: object) -> None:
                self.handle.close()  # type: ignore[attr-defined]

            def write(self, data: bytes) -> None:
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(sources.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(OSError):
        write_source_atomically(str(target), b"original\n", b"fixed\n")
    assert target.read_bytes() == b"original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_hard_linked_file_is_rewritten_in_place(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_bytes(b"old\n")
    twin = tmp_path / "twin.py"
    os.link(target, twin)
    write_source_atomically(str(target), b"old\n", b"new\n")
    assert twin.read_bytes() == b"new\n" and target.stat().st_ino == twin.stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "twin.py"]
