"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

``::error title=memlint (MEM401),file=…,line=…,col=…,endLine=…,endColumn=…::MEM401 message``,
as ruff writes them. The file is absolute (GitHub maps paths inside the workspace, whatever the
step's working directory). Columns are given only for a single-line range: GitHub ignores them
otherwise. Files memlint could not analyse are annotated too, since a CI log's stderr is rarely
read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from memlint.diagnostics import Diagnostic, FileProblem, FileResult
from memlint.reporters import ReportOptions
from memlint.reporters._common import absolute_path, iter_diagnostics


def report(results: Sequence[FileResult], stream: TextIO, options: ReportOptions) -> None:
    for diagnostic in iter_diagnostics(results):
        stream.write(format_diagnostic(diagnostic, options) + "\n")
    for result in results:
        for problem in result.problems:
            stream.write(format_problem(problem, options) + "\n")


def format_diagnostic(diagnostic: Diagnostic, options: ReportOptions) -> str:
    start, end = diagnostic.location, diagnostic.end_location
    label = diagnostic.code or "SyntaxError"
    properties = [("title", f"memlint ({label})"), ("file", absolute_path(diagnostic.path, options.cwd))]
    properties.append(("line", str(start.row)))
    if start.row == end.row:
        properties.append(("col", str(start.column)))
    properties.append(("endLine", str(end.row)))
    if start.row == end.row:
        properties.append(("endColumn", str(end.column)))
    text = f"{diagnostic.code} {diagnostic.message}" if diagnostic.code else diagnostic.message
    return command("error", properties, text)


def format_problem(problem: FileProblem, options: ReportOptions) -> str:
    properties = [("title", "memlint"), ("file", absolute_path(problem.path, options.cwd))]
    text = problem.message
    if problem.rule and problem.rule not in text:
        text += f" (in {problem.rule})"
    return command("error" if problem.severity == "error" else "warning", properties, text)


def command(name: str, properties: list[tuple[str, str]], message: str) -> str:
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{name} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """As GitHub's toolkit escapes a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """As GitHub's toolkit escapes a property value: also ``:`` and ``,``, the separators."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
