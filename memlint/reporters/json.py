"""ruff's JSON format, key for key, so that tools reading ``ruff check --output-format json`` read memlint.

Checked against ruff 0.17: an array of objects with ``cell``, ``code``, ``end_location``,
``filename`` (absolute), ``fix``, ``location``, ``message``, ``name``, ``noqa_row``, ``severity``
and ``url``, keys sorted. One difference is deliberate: a syntax error has ``"code": null`` (as
ruff had before it named them ``invalid-syntax``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from memlint.diagnostics import Diagnostic, Edit, FileResult, Fix, Location
from memlint.reporters import ReportOptions
from memlint.reporters._common import absolute_path, effective_fix, iter_diagnostics


def report(results: Sequence[FileResult], stream: TextIO, options: ReportOptions) -> None:
    items = [diagnostic_json(d, options) for d in iter_diagnostics(results)]
    json.dump(items, stream, indent=2, sort_keys=True)
    stream.write("\n")


def diagnostic_json(diagnostic: Diagnostic, options: ReportOptions) -> dict[str, Any]:
    fix = effective_fix(diagnostic, options)
    return {
        "cell": None,
        "code": diagnostic.code,
        "end_location": _location(diagnostic.end_location),
        "filename": absolute_path(diagnostic.path, options.cwd),
        "fix": _fix(fix) if fix is not None else None,
        "location": _location(diagnostic.location),
        "message": diagnostic.message,
        "name": diagnostic.rule_name,
        "noqa_row": diagnostic.noqa_row,
        "severity": "error",
        "url": None,
    }


def _fix(fix: Fix) -> dict[str, Any]:
    return {
        "applicability": fix.applicability.value,
        "edits": [_edit(edit) for edit in fix.edits],
        "message": fix.message,
    }


def _edit(edit: Edit) -> dict[str, Any]:
    return {
        "content": edit.content,
        "end_location": _location(edit.end_location),
        "location": _location(edit.start_location),
    }


def _location(location: Location) -> dict[str, int]:
    return {"column": location.column, "row": location.row}
