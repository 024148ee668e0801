"""Output formats. Each format lives in its own module, imported only when chosen.

A reporter is a function ``report(results, stream, options)``; the command line picks one with
:func:`get_reporter`. Keeping the format modules out of this file keeps start-up fast: a text
run never imports ``json`` or builds SARIF rule metadata.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from memlint.diagnostics import Applicability, Diagnostic, FileResult
    from memlint.rule import Rule

FORMATS: tuple[str, ...] = ("text", "json", "sarif", "github")


@dataclass(frozen=True)
class ReportOptions:
    """What a reporter needs to know about the run besides its results."""

    #: ANSI colours (text format only); the command line decides (a terminal, and no NO_COLOR).
    color: bool = False
    #: Whether unsafe fixes would be applied: they then count as fixable rather than hidden.
    unsafe_fixes: bool = False
    #: List the files and codes that were fixed (text format).
    show_fixes: bool = False
    #: A table of counts per code instead of one line per finding (text format).
    statistics: bool = False
    #: The run was ``--fix``: ``fixes_applied`` counts are fixes written, not fixes proposed.
    fix_applied: bool = False
    #: Findings only, no summary lines.
    quiet: bool = False
    #: Problems come with their tracebacks.
    verbose: bool = False
    #: The enabled rules, whose metadata SARIF describes.
    rules: tuple[type[Rule], ...] = ()
    #: Paths below this folder are printed relative to it.
    cwd: Path = field(default_factory=Path.cwd)
    #: The user's fix settings (``fixable``/``unfixable``, ``extend-safe-fixes``): the effective
    #: applicability of a finding's fix, or ``None`` when the settings forbid fixing it. Without
    #: it, a fix's own applicability is used.
    applicability: Callable[[Diagnostic], Applicability | None] | None = None


Reporter = Callable[["Sequence[FileResult]", TextIO, ReportOptions], None]

_MODULES = {name: f"memlint.reporters.{name}" for name in FORMATS}


def get_reporter(name: str) -> Reporter:
    """The ``report`` function of format ``name``; imports that format's module only."""
    try:
        module_name = _MODULES[name]
    except KeyError:
        raise ValueError(f"unknown output format {name!r} (expected one of: {', '.join(FORMATS)})") from None
    module = importlib.import_module(module_name)
    reporter: Reporter = module.report
    return reporter


__all__ = ["FORMATS", "ReportOptions", "Reporter", "get_reporter"]
