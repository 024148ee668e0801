"""What every format shares: paths as the user should see them, and fixability under the settings."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from memlint.diagnostics import Applicability, Diagnostic, FileResult, Fix
from memlint.reporters import ReportOptions

#: The name standard input is reported under when no ``--stdin-filename`` is given.
STDIN = "-"


def iter_diagnostics(results: Sequence[FileResult]) -> Iterator[Diagnostic]:
    for result in results:
        yield from result.diagnostics


def absolute_path(path: str, cwd: Path) -> str:
    """The normalised absolute path (no symlink resolution: the path the user gave, anchored)."""
    if path == STDIN:
        return path
    return os.path.normpath(os.path.join(cwd, path))


def display_path(path: str, cwd: Path) -> str:
    """Relative to ``cwd`` (with ``/``) when below it, otherwise as given."""
    if path == STDIN:
        return path
    absolute = Path(absolute_path(path, cwd))
    try:
        return absolute.relative_to(os.path.normpath(cwd)).as_posix()
    except ValueError:
        return path


def effective_fix(diagnostic: Diagnostic, options: ReportOptions) -> Fix | None:
    """The finding's fix as the user's settings classify it; ``None`` when they forbid it."""
    fix = diagnostic.fix
    if fix is None or options.applicability is None:
        return fix
    level = options.applicability(diagnostic)
    if level is None:
        return None
    return fix if level is fix.applicability else replace(fix, applicability=level)


def is_fixable(diagnostic: Diagnostic, options: ReportOptions) -> bool:
    """Whether ``--fix`` with the current settings would apply this finding's fix."""
    fix = effective_fix(diagnostic, options)
    if fix is None:
        return False
    return fix.applicability is Applicability.SAFE or (
        fix.applicability is Applicability.UNSAFE and options.unsafe_fixes
    )


def is_hidden_fix(diagnostic: Diagnostic, options: ReportOptions) -> bool:
    """An unsafe fix that ``--unsafe-fixes`` would enable."""
    fix = effective_fix(diagnostic, options)
    return fix is not None and fix.applicability is Applicability.UNSAFE and not options.unsafe_fixes


def rule_names(options: ReportOptions) -> dict[str, str]:
    return {rule.CODE: rule.NAME for rule in options.rules}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"
