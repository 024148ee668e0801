"""The values that flow from rules to reporters.

Everything here is a frozen, picklable dataclass so that results can cross process boundaries
(worker pools) and be cached without any LibCST object attached.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Applicability(str, enum.Enum):
    """How safe a fix is to apply without a human reading it (ruff's three levels)."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "display-only"


class FixAvailability(str, enum.Enum):
    """What a rule promises about fixes, documented per rule and checked against fixtures."""

    NONE = "none"
    SOMETIMES = "sometimes"
    ALWAYS = "always"


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based row and 1-based column (in characters), as flake8 and ruff print them."""

    row: int
    column: int


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` (offsets into the decoded text) with ``content``."""

    start: int
    end: int
    content: str
    start_location: Location
    end_location: Location


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``code`` is ``None`` for a syntax error, which is reported like a finding."""

    path: str
    code: str | None
    message: str
    location: Location
    end_location: Location
    fix: Fix | None = None
    rule_name: str | None = None
    noqa_row: int | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.location.row, self.location.column, self.code or "")


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be (fully) analysed.

    ``severity`` is ``"error"`` for a crash inside memlint (exit status 2) and ``"warning"`` for
    valid Python that the parser cannot handle (skipped, exit status unaffected).
    """

    path: str
    message: str
    severity: str = "error"
    rule: str | None = None
    traceback: str | None = None


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    fixed_source: str | None = None
    fixes_applied: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    #: Set when ``fixed_source`` is: what is needed to write it back or show a diff.
    original_source: str | None = None
    original_raw: bytes | None = None
    encoding: str | None = None
