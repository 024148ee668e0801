"""The fixture harness, usable by rule authors (memlint's own tests use it).

A rule's fixtures live in ``tests/fixtures/<CODE>/``:

- ``<case>.py``: input code. Cases inside a file are introduced by comments; each must-not-flag
  case starts with a ``# ok:`` comment. Optional header lines configure the run:
  ``# fixture: options={"threshold": 10}`` (JSON rule options), ``# fixture: target-version=3.9``,
  ``# fixture: path=tests/test_cache.py`` (the path the rule sees), ``# fixture: also=MEM401``
  (other rules that run alongside; only the rule's own findings and fixes are compared).
- ``<case>/``: a folder holding a small project (several modules), for rules with project-wide
  facts. Its findings and fixes cover every file in it.
- ``<case>.findings``: the expected findings, one per line:
  ``<file>:<row>:<col>: <CODE> <message>`` with `` [safe fix]`` or `` [unsafe fix]`` appended when
  a fix is offered. An empty file means "nothing to report".
- ``<case>.fixed.py`` (or ``<case>.fixed/`` for folders): the expected result of fixing with unsafe
  fixes allowed. Required exactly when a finding offers a fix.

``MEMLINT_UPDATE_FIXTURES=1`` rewrites the expected files from the current output; review the diff.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memlint.diagnostics import Diagnostic, FileProblem
from memlint.engine import FileOptions, lint_source
from memlint.facts import ProjectFacts, merge_facts, module_name_for, read_file_facts
from memlint.fixer import FixPolicy, fix_source
from memlint.registry import rule_by_code
from memlint.rule import Rule

_HEADER = re.compile(r"^#\s*fixture:\s*(?P<key>[a-z-]+)\s*=\s*(?P<value>.*)$", re.MULTILINE)


@dataclass
class CaseFile:
    relpath: str  # as written in the .findings file
    path: str  # the path the rule sees
    source: str
    options: dict[str, Any] = field(default_factory=dict)
    target_version: tuple[int, int] = (3, 14)
    also: tuple[str, ...] = ()


@dataclass
class CaseResult:
    findings: list[str]
    fixed: dict[str, str]  # relpath -> fixed source, for files a fix changed
    problems: list[FileProblem]
    second_pass_fixes: int


def _header(source: str, relpath: str) -> tuple[str, dict[str, Any], tuple[int, int], tuple[str, ...]]:
    path, options, target = relpath, {}, (3, 14)
    also: tuple[str, ...] = ()
    for match in _HEADER.finditer(source):
        key, value = match.group("key"), match.group("value").strip()
        if key == "options":
            options = json.loads(value)
        elif key == "target-version":
            major, minor = value.split(".")
            target = (int(major), int(minor))
        elif key == "path":
            path = value
        elif key == "also":
            also = tuple(c.strip() for c in value.split(",") if c.strip())
        else:
            raise ValueError(f"{relpath}: unknown fixture header {key!r}")
    return path, options, target, also


def load_case(case: Path) -> list[CaseFile]:
    if case.is_dir():
        files = sorted(p for p in case.rglob("*.py"))
        base = case
    else:
        files, base = [case], case.parent
    out = []
    for f in files:
        source = f.read_text(encoding="utf-8")
        relpath = f.relative_to(base).as_posix()
        path, options, target, also = _header(source, relpath)
        display_path = str(f) if path == relpath else path
        out.append(CaseFile(relpath, display_path, source, options, target, also))
    return out


def format_finding(relpath: str, diag: Diagnostic) -> str:
    suffix = ""
    if diag.fix is not None and diag.fix.edits:
        suffix = f" [{diag.fix.applicability.value} fix]"
    return f"{relpath}:{diag.location.row}:{diag.location.column}: {diag.code} {diag.message}{suffix}"


def run_case(rule: type[Rule], case: Path) -> CaseResult:
    files = load_case(case)
    facts = _facts(rule, files)
    findings: list[str] = []
    fixed: dict[str, str] = {}
    problems: list[FileProblem] = []
    second = 0
    for f in files:
        extra = tuple(r for r in (rule_by_code(c) for c in f.also) if r is not None and r is not rule)
        options = FileOptions(
            rules=(rule, *extra),
            rule_options={rule.NAME: f.options},
            target_version=f.target_version,
            module_name=module_name_for(f.path),
            # Judged on the path inside the case (or the header's), not on where the fixture
            # lives: every fixture sits under tests/, which would make all of them test files.
            is_test_file=_is_test_path(f.path if f.path != str(case_root(case) / f.relpath) else f.relpath),
        )

        def lint(
            text: str, f: CaseFile = f, options: FileOptions = options
        ) -> tuple[list[Diagnostic], list[FileProblem]]:
            outcome = lint_source(text, f.path, options, facts)
            return outcome.diagnostics, outcome.problems

        diagnostics, file_problems = lint(f.source)
        problems.extend(file_problems)
        own = [d for d in diagnostics if d.code == rule.CODE]
        findings.extend(format_finding(f.relpath, d) for d in sorted(own, key=Diagnostic.sort_key))
        policy = FixPolicy(unsafe=True, fixable=(rule.CODE,))
        outcome = fix_source(f.source, f.path, lint, policy)
        problems.extend(p for p in outcome.problems if p not in file_problems)
        if outcome.source != f.source:
            fixed[f.relpath] = outcome.source
            again = fix_source(outcome.source, f.path, lint, policy)
            second += sum(again.applied.values())
    return CaseResult(findings, fixed, problems, second)


def case_root(case: Path) -> Path:
    return case if case.is_dir() else case.parent


def _is_test_path(path: str) -> bool:
    from memlint.config import is_test_path

    return is_test_path(path)


def _facts(rule: type[Rule], files: list[CaseFile]) -> ProjectFacts | None:
    if not rule.FACTS:
        return None
    per_file = {}
    for f in files:
        facts = read_file_facts(f.path, f.source, rule.FACTS)
        if facts is not None:
            per_file[f.path] = facts
    return merge_facts(per_file, rule.FACTS)


def count_cases(directory: Path) -> tuple[int, int]:
    """(positive findings, ``# ok:`` must-not-flag cases) in a rule's fixture folder."""
    positives = 0
    negatives = 0
    for findings in directory.glob("*.findings"):
        positives += sum(1 for line in findings.read_text().splitlines() if line.strip())
    for source in directory.rglob("*.py"):
        if ".fixed" in source.name or any(".fixed" in part for part in source.parts):
            continue
        negatives += len(re.findall(r"^\s*# ok:", source.read_text(encoding="utf-8"), re.MULTILINE))
    return positives, negatives
