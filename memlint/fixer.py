"""Applying fixes: text edits on the original source, re-checked until nothing more applies.

Fixes are never applied by re-rendering a LibCST tree (its output is not byte-exact on every
file). Each pass applies the non-overlapping fixes the user allowed, then the result must parse
with both ``ast`` and LibCST before the next pass; a pass that breaks the file aborts the whole
fix for that file and names the rules involved (Black's "guard your own output").
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from memlint.diagnostics import Applicability, Diagnostic, Edit, FileProblem
from memlint.noqa import code_matches

MAX_PASSES = 10


@dataclass(frozen=True)
class FixPolicy:
    """Which fixes the user allows: ``--fix``/``--unsafe-fixes`` and the fixable settings."""

    unsafe: bool = False
    fixable: tuple[str, ...] = ("MEM",)
    unfixable: tuple[str, ...] = ()
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()

    def applicability(self, diag: Diagnostic) -> Applicability | None:
        if diag.fix is None or diag.code is None:
            return None
        level = diag.fix.applicability
        if level is Applicability.UNSAFE and code_matches(diag.code, self.extend_safe_fixes):
            level = Applicability.SAFE
        elif level is Applicability.SAFE and code_matches(diag.code, self.extend_unsafe_fixes):
            level = Applicability.UNSAFE
        return level

    def effective(self, diag: Diagnostic) -> Applicability | None:
        """The fix's level after the settings, or None when ``fixable``/``unfixable`` forbid it."""
        level = self.applicability(diag)
        if level is None or diag.code is None:
            return None
        if not code_matches(diag.code, self.fixable) or code_matches(diag.code, self.unfixable):
            return None
        return level

    def allows(self, diag: Diagnostic) -> bool:
        level = self.effective(diag)
        if level is None or level is Applicability.DISPLAY_ONLY:
            return False
        return level is Applicability.SAFE or self.unsafe


@dataclass
class FixOutcome:
    source: str
    applied: Counter[str] = field(default_factory=Counter)
    remaining: list[Diagnostic] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)


def apply_edits(source: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (sorted by start) to ``source``."""
    out = []
    cursor = 0
    for edit in edits:
        out.append(source[cursor : edit.start])
        out.append(edit.content)
        cursor = edit.end
    out.append(source[cursor:])
    return "".join(out)


def select_fixes(diagnostics: list[Diagnostic], policy: FixPolicy) -> tuple[list[Diagnostic], list[Edit]]:
    """The fixes to apply in one pass: allowed, and not overlapping an earlier chosen fix."""
    chosen: list[Diagnostic] = []
    taken: list[tuple[int, int]] = []
    for diag in sorted(diagnostics, key=Diagnostic.sort_key):
        if not policy.allows(diag):
            continue
        assert diag.fix is not None
        spans = [(e.start, e.end) for e in diag.fix.edits]
        if any(_overlaps(s, t) for s in spans for t in taken):
            continue
        chosen.append(diag)
        taken.extend(spans)
    edits = sorted((e for d in chosen for e in d.fix.edits), key=lambda e: (e.start, e.end))  # type: ignore[union-attr]
    return chosen, edits


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a[0] == a[1] or b[0] == b[1]:  # insertions conflict with anything touching that point
        return b[0] <= a[0] <= b[1] or a[0] <= b[0] <= a[1]
    return a[0] < b[1] and b[0] < a[1]


def parse_error(source: str) -> str | None:
    """Why ``source`` is not acceptable output, or None when both parsers accept it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc)
    try:
        cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return exc.message
    except RecursionError:
        pass  # ast accepted it; LibCST's depth limit is not a fault of the fix
    return None


def fix_source(
    source: str,
    path: str,
    lint: Callable[[str], tuple[list[Diagnostic], list[FileProblem]]],
    policy: FixPolicy,
) -> FixOutcome:
    """Lint and fix ``source`` until no allowed fix remains (at most MAX_PASSES passes)."""
    outcome = FixOutcome(source=source)
    current = source
    for _ in range(MAX_PASSES):
        diagnostics, problems = lint(current)
        chosen, edits = select_fixes(diagnostics, policy)
        if not chosen:
            outcome.source = current
            outcome.remaining = diagnostics
            outcome.problems = problems
            return outcome
        candidate = apply_edits(current, edits)
        error = parse_error(candidate)
        if error is not None:
            codes = ", ".join(sorted({d.code for d in chosen if d.code}))
            outcome.problems.append(
                FileProblem(
                    path,
                    f"fix by {codes} would produce invalid code ({error}); file not changed",
                    severity="error",
                    rule=codes,
                )
            )
            diagnostics, _ = lint(source)
            outcome.source = source
            outcome.applied = Counter()
            outcome.remaining = diagnostics
            return outcome
        for diag in chosen:
            assert diag.code is not None
            outcome.applied[diag.code] += 1
        current = candidate
    diagnostics, problems = lint(current)
    outcome.source = current
    outcome.remaining = diagnostics
    outcome.problems = problems
    outcome.problems.append(
        FileProblem(path, f"fixes did not converge after {MAX_PASSES} passes", severity="warning")
    )
    return outcome
