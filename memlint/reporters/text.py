"""The human format, ruff's concise style: ``path:row:col: CODE [*] message`` and a summary.

The wording of the summary is part of the interface (scripts and the README quote it), so it is
built in one place, :func:`summary_lines`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from memlint.diagnostics import Diagnostic, FileProblem, FileResult
from memlint.reporters import ReportOptions
from memlint.reporters._common import (
    display_path,
    is_fixable,
    is_hidden_fix,
    iter_diagnostics,
    plural,
    rule_names,
)

_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"
_RESET = "\x1b[0m"

#: The name syntax errors are counted under in ``--statistics``.
SYNTAX_ERROR_NAME = "syntax-error"


class Style:
    """ANSI styling that collapses to plain text when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *codes: str) -> str:
        if not self.enabled or not text:
            return text
        return "".join(codes) + text + _RESET

    def marker(self, fixable: bool) -> str:
        return f"[{self('*', _CYAN)}]" if fixable else "[ ]"


def report(results: Sequence[FileResult], stream: TextIO, options: ReportOptions) -> None:
    style = Style(options.color)
    if options.statistics:
        lines = statistics_lines(results, options, style)
    else:
        lines = [format_diagnostic(d, options, style) for d in iter_diagnostics(results)]
    if not options.quiet:
        lines += fixes_lines(results, options)
        lines += summary_lines(results, options)
    for line in lines:
        stream.write(line + "\n")


def format_diagnostic(diagnostic: Diagnostic, options: ReportOptions, style: Style | None = None) -> str:
    style = style or Style(options.color)
    sep = style(":", _CYAN)
    where = f"{style(display_path(diagnostic.path, options.cwd), _BOLD)}{sep}"
    where += f"{diagnostic.location.row}{sep}{diagnostic.location.column}{sep}"
    if diagnostic.code is None:
        return f"{where} {_syntax_error_text(diagnostic.message, style)}"
    marker = f" {style.marker(True)}" if is_fixable(diagnostic, options) else ""
    return f"{where} {style(diagnostic.code, _BOLD, _RED)}{marker} {diagnostic.message}"


def _syntax_error_text(message: str, style: Style) -> str:
    head, colon, rest = message.partition(":")
    if colon and head == "SyntaxError":
        return f"{style(head, _BOLD, _RED)}:{rest}"
    return message


# -- summary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    remaining: int
    fixed: int
    fixable: int
    hidden: int


def count(results: Sequence[FileResult], options: ReportOptions) -> Counts:
    diagnostics = list(iter_diagnostics(results))
    return Counts(
        remaining=len(diagnostics),
        fixed=sum(sum(result.fixes_applied.values()) for result in results),
        fixable=sum(is_fixable(d, options) for d in diagnostics),
        hidden=sum(is_hidden_fix(d, options) for d in diagnostics),
    )


def summary_lines(results: Sequence[FileResult], options: ReportOptions) -> list[str]:
    """``Found N findings (M fixable with --fix).``, or ``All checks passed!``.

    After ``--fix``: ``Found N findings (F fixed, R remaining).``. Unsafe fixes that
    ``--unsafe-fixes`` would enable are mentioned on a second line.
    """
    counts = count(results, options)
    fixed = counts.fixed if options.fix_applied else 0
    total = counts.remaining + fixed
    if total == 0:
        return ["All checks passed!"]
    notes = [f"{fixed} fixed, {counts.remaining} remaining"] if fixed else []
    if counts.fixable:
        notes.append(f"{counts.fixable} fixable with --fix")
    found = f"Found {plural(total, 'finding')}" + (f" ({', '.join(notes)})" if notes else "") + "."
    lines = [found]
    if counts.hidden:
        hidden = plural(counts.hidden, "hidden fix", "hidden fixes")
        lines.append(f"({hidden} can be enabled with the `--unsafe-fixes` option.)")
    return lines


def fixes_lines(results: Sequence[FileResult], options: ReportOptions) -> list[str]:
    """``--show-fixes``: each fixed file with its codes (``Would fix`` when nothing was written)."""
    fixed = [result for result in results if result.fixes_applied]
    if not options.show_fixes or not fixed:
        return []
    names = rule_names(options)
    total = sum(sum(result.fixes_applied.values()) for result in fixed)
    verb = "Fixed" if options.fix_applied else "Would fix"
    lines = ["", f"{verb} {plural(total, 'finding')}:"]
    for result in fixed:
        lines.append(f"- {display_path(result.path, options.cwd)}:")
        for code, number in sorted(result.fixes_applied.items()):
            name = f" ({names[code]})" if code in names else ""
            lines.append(f"    {number} \N{MULTIPLICATION SIGN} {code}{name}")
    lines.append("")
    return lines


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    code: str
    name: str
    count: int
    fixable: bool


def statistics_rows(results: Sequence[FileResult], options: ReportOptions) -> list[_Row]:
    """One row per code, most frequent first (then by code)."""
    names = rule_names(options)
    counts: Counter[str] = Counter()
    fixable: set[str] = set()
    for diagnostic in iter_diagnostics(results):
        code = diagnostic.code or ""
        counts[code] += 1
        names.setdefault(code, diagnostic.rule_name or (SYNTAX_ERROR_NAME if not code else ""))
        if is_fixable(diagnostic, options):
            fixable.add(code)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [_Row(code, names[code], number, code in fixable) for code, number in ordered]


def statistics_lines(results: Sequence[FileResult], options: ReportOptions, style: Style) -> list[str]:
    rows = statistics_rows(results, options)
    if not rows:
        return []
    count_width = max(len(str(row.count)) for row in rows)
    code_width = max(len(row.code) for row in rows)
    return [
        f"{row.count:>{count_width}}\t{row.code:<{code_width}}\t{style.marker(row.fixable)} {row.name}"
        for row in rows
    ]


# -- problems (printed by the command line on stderr) -------------------------------------------


def format_problem(
    problem: FileProblem, verbose: bool, *, color: bool = False, cwd: Path | None = None
) -> str:
    """``path: error: message`` (the rule at fault when known; the traceback only when verbose)."""
    style = Style(color)
    path = display_path(problem.path, cwd) if cwd is not None else problem.path
    severity = style(problem.severity, _BOLD, _RED if problem.severity == "error" else _YELLOW)
    text = f"{style(path, _BOLD)}: {severity}: {problem.message}"
    if problem.rule and problem.rule not in problem.message:
        text += f" (in {problem.rule})"
    if verbose and problem.traceback:
        text += "\n" + problem.traceback.rstrip("\n")
    return text
