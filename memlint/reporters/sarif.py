"""SARIF 2.1.0, the format code-scanning services (GitHub's among them) ingest.

Every enabled rule is described in ``tool.driver.rules`` with its documentation as help text, so a
viewer can explain a finding without memlint's docs site. Locations are relative to the current
folder (``%SRCROOT%``) when below it, which is what code scanning resolves against the checkout.
Columns count characters, hence ``columnKind: unicodeCodePoints``. Files memlint could not analyse
become tool execution notifications rather than results.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from memlint import __version__
from memlint.diagnostics import Applicability, Diagnostic, Edit, FileProblem, FileResult, Fix, Location
from memlint.reporters import ReportOptions
from memlint.reporters._common import STDIN, absolute_path, effective_fix, iter_diagnostics

if TYPE_CHECKING:
    from memlint.rule import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
#: The rule id given to syntax errors, which have no code.
SYNTAX_ERROR_ID = "syntax-error"


def report(results: Sequence[FileResult], stream: TextIO, options: ReportOptions) -> None:
    json.dump(sarif_log(results, options), stream, indent=2)
    stream.write("\n")


def sarif_log(results: Sequence[FileResult], options: ReportOptions) -> dict[str, Any]:
    diagnostics = list(iter_diagnostics(results))
    descriptors = _Descriptors(options.rules)
    sarif_results = [_result(d, descriptors.index(d), options) for d in diagnostics]
    run: dict[str, Any] = {
        "tool": {"driver": _driver(descriptors.items)},
        "invocations": [_invocation(results, options)],
        "originalUriBaseIds": {SRCROOT: {"uri": _folder_uri(options.cwd)}},
        "columnKind": "unicodeCodePoints",
        "results": sarif_results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "memlint", "version": __version__, "semanticVersion": __version__, "rules": rules}


# -- rule metadata ------------------------------------------------------------------------------


class _Descriptors:
    """``tool.driver.rules``: the enabled rules in code order, then anything else reported."""

    def __init__(self, rules: Sequence[type[Rule]]) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        for rule in sorted({rule.CODE: rule for rule in rules}.values(), key=lambda rule: rule.CODE):
            self._add(rule.CODE, rule_descriptor(rule))

    def _add(self, rule_id: str, descriptor: dict[str, Any]) -> int:
        self._index[rule_id] = len(self.items)
        self.items.append(descriptor)
        return self._index[rule_id]

    def index(self, diagnostic: Diagnostic) -> int:
        rule_id = diagnostic.code or SYNTAX_ERROR_ID
        if rule_id in self._index:
            return self._index[rule_id]
        if diagnostic.code is None:
            return self._add(rule_id, _syntax_error_descriptor())
        return self._add(rule_id, _bare_descriptor(diagnostic))


def rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    documentation = rule.documentation()
    return {
        "id": rule.CODE,
        "name": rule.NAME,
        "shortDescription": {"text": rule.SUMMARY},
        "fullDescription": {"text": _section(documentation, "What it does") or rule.SUMMARY},
        "help": {"text": documentation or rule.SUMMARY, "markdown": documentation or rule.SUMMARY},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["memory"],
            "fix": rule.FIX.value,
            "preview": rule.PREVIEW,
        },
    }


def _syntax_error_descriptor() -> dict[str, Any]:
    text = "The file is not valid Python: no rule can check it until the syntax error is corrected."
    return {
        "id": SYNTAX_ERROR_ID,
        "name": SYNTAX_ERROR_ID,
        "shortDescription": {"text": "Syntax error"},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": text},
        "defaultConfiguration": {"level": "error"},
    }


def _bare_descriptor(diagnostic: Diagnostic) -> dict[str, Any]:
    """A finding whose rule is not among the enabled ones (e.g. a noqa check): id and name only."""
    descriptor: dict[str, Any] = {"id": diagnostic.code}
    if diagnostic.rule_name:
        descriptor["name"] = diagnostic.rule_name
    return descriptor


def _section(documentation: str, heading: str) -> str:
    """The text under ``## heading`` in a rule's documentation, up to the next heading."""
    match = re.search(rf"^##\s+{re.escape(heading)}\s*\n(.*?)(?=^##\s|\Z)", documentation, re.M | re.S)
    return match.group(1).strip() if match else ""


# -- results ------------------------------------------------------------------------------------


def _result(diagnostic: Diagnostic, rule_index: int, options: ReportOptions) -> dict[str, Any]:
    artifact = artifact_location(diagnostic.path, options.cwd)
    result: dict[str, Any] = {
        "ruleId": diagnostic.code or SYNTAX_ERROR_ID,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact,
                    "region": _region(diagnostic.location, diagnostic.end_location),
                }
            }
        ],
    }
    fix = effective_fix(diagnostic, options)
    if fix is not None and fix.applicability is not Applicability.DISPLAY_ONLY:
        result["fixes"] = [_fix(fix, artifact)]
    return result


def _fix(fix: Fix, artifact: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {"artifactLocation": artifact, "replacements": [_replacement(edit) for edit in fix.edits]}
        ],
        "properties": {"applicability": fix.applicability.value},
    }


def _replacement(edit: Edit) -> dict[str, Any]:
    replacement: dict[str, Any] = {"deletedRegion": _region(edit.start_location, edit.end_location)}
    if edit.content:
        replacement["insertedContent"] = {"text": edit.content}
    return replacement


def _region(start: Location, end: Location) -> dict[str, int]:
    return {
        "startLine": start.row,
        "startColumn": start.column,
        "endLine": end.row,
        "endColumn": end.column,
    }


def artifact_location(path: str, cwd: Path) -> dict[str, Any]:
    """A ``%SRCROOT%``-relative URI below ``cwd``, an absolute ``file:`` URI elsewhere."""
    if path == STDIN:
        return {"uri": STDIN}
    absolute = Path(absolute_path(path, cwd))
    try:
        relative = absolute.relative_to(os.path.normpath(cwd))
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}


def _folder_uri(cwd: Path) -> str:
    uri = cwd.absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


# -- problems -----------------------------------------------------------------------------------


def _invocation(results: Sequence[FileResult], options: ReportOptions) -> dict[str, Any]:
    problems = [problem for result in results for problem in result.problems]
    invocation: dict[str, Any] = {
        "executionSuccessful": not any(problem.severity == "error" for problem in problems),
    }
    if problems:
        invocation["toolExecutionNotifications"] = [_notification(p, options) for p in problems]
    return invocation


def _notification(problem: FileProblem, options: ReportOptions) -> dict[str, Any]:
    text = problem.message
    if options.verbose and problem.traceback:
        text += "\n" + problem.traceback.rstrip("\n")
    location = {"physicalLocation": {"artifactLocation": artifact_location(problem.path, options.cwd)}}
    notification: dict[str, Any] = {
        "level": "error" if problem.severity == "error" else "warning",
        "message": {"text": text},
        "locations": [location],
    }
    if problem.rule:
        notification["associatedRule"] = {"id": problem.rule}
    return notification
