"""Suppression comments, compatible with flake8 7.

``# noqa`` silences every finding of the statement it is written on, ``# noqa: MEM101,MEM2``
only the listed codes (matched by prefix). A comment on any physical line of a multi-line
statement applies to the whole statement. ``# memlint: noqa`` on a line of its own skips a file,
``# memlint: noqa: MEM201`` silences codes in the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

NOQA_INLINE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
NOQA_FILE = re.compile(
    r"^[ \t\f]*#[ \t]*memlint[ \t]*:[ \t]*noqa"
    r"(?P<rest>[ \t]*:[ \t]*(?P<codes>[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*))?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_SPLIT = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class FileDirective:
    """``skip_all`` for a bare ``# memlint: noqa``; otherwise the codes silenced file-wide."""

    skip_all: bool = False
    codes: tuple[str, ...] = ()


def parse_codes(text: str) -> tuple[str, ...]:
    return tuple(c.upper() for c in _SPLIT.split(text.strip()) if c)


_MAYBE_FILE_DIRECTIVE = re.compile(r"memlint[ \t]*:", re.IGNORECASE)


def file_directive(source: str) -> FileDirective:
    if _MAYBE_FILE_DIRECTIVE.search(source) is None:
        return FileDirective()
    codes: list[str] = []
    for match in NOQA_FILE.finditer(source):
        if match.group("codes") is None:
            return FileDirective(skip_all=True)
        codes.extend(parse_codes(match.group("codes")))
    return FileDirective(codes=tuple(codes))


def code_matches(code: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(code.startswith(p) for p in patterns)


@dataclass
class NoqaComment:
    row: int
    codes: tuple[str, ...] | None  # None: blanket
    used: set[str] = field(default_factory=set)
    column: int = 0  # 0-based column of the comment's ``#``
    text: str = ""  # the whole comment
    match_span: tuple[int, int] = (0, 0)  # the noqa part, offsets within ``text``


@dataclass
class NoqaMap:
    """For each physical row: the row range of its statement and the noqa comments found there."""

    statement_of_row: dict[int, tuple[int, int]]
    comments: dict[tuple[int, int], list[NoqaComment]]

    def statement_range(self, row: int) -> tuple[int, int]:
        return self.statement_of_row.get(row, (row, row))

    def suppressing(self, row: int, code: str) -> NoqaComment | None:
        for comment in self.comments.get(self.statement_range(row), ()):
            if comment.codes is None or code_matches(code, comment.codes):
                return comment
        return None


def build_noqa_map(source: str) -> NoqaMap:
    """Group physical rows into statements with the tokenizer; fall back to one row each."""
    statement_of_row: dict[int, tuple[int, int]] = {}
    comments: dict[tuple[int, int], list[NoqaComment]] = {}
    pending: list[tuple[int, int, str]] = []
    start_row: int | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                pending.append((tok.start[0], tok.start[1], tok.string))
                if start_row is None:
                    _close(tok.start[0], tok.start[0], pending, statement_of_row, comments)
                    pending = []
                continue
            if tok.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
                continue
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if start_row is not None:
                    _close(start_row, tok.end[0], pending, statement_of_row, comments)
                pending, start_row = [], None
                continue
            if start_row is None:
                start_row = tok.start[0]
    except (tokenize.TokenError, SyntaxError):
        pass
    # Any comment not yet attached (tokenizer stopped early): one row each.
    for row, column, text in pending:
        _close(row, row, [(row, column, text)], statement_of_row, comments)
    return NoqaMap(statement_of_row, comments)


def _close(
    first: int,
    last: int,
    pending: list[tuple[int, int, str]],
    statement_of_row: dict[int, tuple[int, int]],
    comments: dict[tuple[int, int], list[NoqaComment]],
) -> None:
    span = (first, last)
    for row in range(first, last + 1):
        statement_of_row.setdefault(row, span)
    for row, column, text in pending:
        match = NOQA_INLINE.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        comments.setdefault(span, []).append(
            NoqaComment(
                row=row,
                codes=parse_codes(codes) if codes else None,
                column=column,
                text=text,
                match_span=match.span(),
            )
        )


def _comments_by_row(source: str) -> dict[int, tuple[int, str]]:
    """The comment token (column, text) on each row, found with the tokenizer."""
    out: dict[int, tuple[int, str]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = (tok.start[1], tok.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def add_noqa_to_source(source: str, wanted: dict[int, set[str]]) -> tuple[str, int]:
    """Add ``# noqa: CODES`` to the given rows (merging into an existing ``# noqa: ...``)."""
    from memlint.sources import LineIndex

    index = LineIndex(source)
    comments = _comments_by_row(source)
    edits: list[tuple[int, int, str]] = []
    for row, codes in sorted(wanted.items()):
        line = index.line_text(row)
        start = index.line_start(row)
        comment = comments.get(row)
        if comment is not None:
            column, text = comment
            match = NOQA_INLINE.search(text)
            if match is not None:
                if match.group("codes") is None:
                    continue  # a blanket noqa already covers everything
                present = parse_codes(match.group("codes"))
                merged = ", ".join(sorted(set(present) | codes))
                new_text = text[: match.start()] + f"# noqa: {merged}" + text[match.end() :]
                edits.append((start + column, start + column + len(text), new_text))
                continue
        end = start + len(line)
        edits.append((end, end, f"  # noqa: {', '.join(sorted(codes))}"))
    out, cursor = [], 0
    for begin, end, text in edits:
        out.append(source[cursor:begin])
        out.append(text)
        cursor = end
    out.append(source[cursor:])
    return "".join(out), len(edits)
