#!/usr/bin/env python3
"""Prove memlint's fixes safe at scale: fix a copy of the standard library and check the result.

Every registered rule runs (preview and opt-in ones included) with ``--fix --unsafe-fixes`` over
a copy of the running Python's standard library (``site-packages`` left out), then:

1. no internal error: exit status not 2, nothing reported as an error;
2. every file that parsed before parses after and compiles; files that did not parse are untouched;
3. a second ``--fix`` run applies nothing (idempotent);
4. outside the fixed statements the syntax trees are equal (see ``untouched_entries``);
5. every changed pure-Python module that imported from a pristine copy imports from the fixed
   copy (class-level fixes such as ``__slots__`` fail at class creation, which ``compile()``
   never sees), each in a fresh interpreter with the copy first on ``sys.path``.

Usage: ``python scripts/sweep_stdlib.py [--stdlib DIR] [--work DIR] [--json FILE] [--jobs N]``.
Exit status 0 when every check passes, 1 otherwise; the figures go to stdout (and ``--json``).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from memlint.sources import decode_source

#: Modules never imported: side effects on import (a browser, a printed poem, GUIs, test suites,
#: ``__main__`` entry points) or packages of tests and demos.
SKIP_IMPORT_PARTS = frozenset(
    {"__main__", "antigravity", "this", "idlelib", "turtledemo", "test", "tests", "idle_test", "__phello__"}
)
IMPORT_TIMEOUT = 60
IMPORT_PROBE = """
import importlib, os, sys
root, name = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
module = importlib.import_module(name)
where = os.path.realpath(getattr(module, "__file__", None) or "")
print("from-copy" if where.startswith(os.path.realpath(root) + os.sep) else "elsewhere")
"""
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_FIX_LINE = re.compile(r"^\s+(\d+) \S (MEM\d+)")
_FILE_LINE = re.compile(r"^- (.+):$")


@dataclass
class SweepReport:
    python: str = ""
    files: int = 0
    parseable: int = 0
    rules: list[str] = field(default_factory=list)
    findings_per_rule: dict[str, int] = field(default_factory=dict)
    fixes_per_rule: dict[str, int] = field(default_factory=dict)
    files_changed: int = 0
    seconds_lint: float = 0.0
    seconds_fix: float = 0.0
    seconds_second_fix: float = 0.0
    seconds_checks: float = 0.0
    exit_codes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: Files memlint skipped with a warning (too large, too deep, or LibCST cannot parse them).
    skipped: list[str] = field(default_factory=list)
    second_run_fixes: int = 0
    broken_after_fix: list[str] = field(default_factory=list)
    unparseable_touched: list[str] = field(default_factory=list)
    ast_mismatches: list[str] = field(default_factory=list)
    imports_checked: int = 0
    imports_skipped: dict[str, int] = field(default_factory=dict)
    import_failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.errors
            or any(code == 2 for code in self.exit_codes.values())
            or self.second_run_fixes
            or self.broken_after_fix
            or self.unparseable_touched
            or self.ast_mismatches
            or self.import_failures
        )


# -- the corpus -----------------------------------------------------------------------------------


def copy_sources(stdlib: Path, dest: Path, limit: int | None = None) -> list[Path]:
    """Copy the ``.py`` files of ``stdlib`` (no ``site-packages``); returns their relative paths."""
    relative = sorted(
        p.relative_to(stdlib)
        for p in stdlib.rglob("*.py")
        if p.is_file() and not {"site-packages", "__pycache__"} & set(p.relative_to(stdlib).parts)
    )
    if limit is not None:
        relative = relative[:limit]
    for rel in relative:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stdlib / rel, dest / rel)
    return relative


def parses(raw: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(raw)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# -- running memlint ------------------------------------------------------------------------------


def all_codes() -> list[str]:
    from memlint.registry import all_rules

    return [rule.CODE for rule in all_rules()]


def run_memlint(target: Path, extra: list[str], jobs: int, cache: Path) -> tuple[int, str, str, float]:
    command = [
        sys.executable,
        "-m",
        "memlint",
        "--select",
        ",".join(all_codes()),
        "--preview",
        "--no-respect-gitignore",
        "--cache-dir",
        str(cache),
        "--jobs",
        str(jobs),
        *extra,
        str(target),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=target)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started


def findings_per_rule(json_report: str) -> Counter[str]:
    return Counter(d["code"] or "syntax-error" for d in json.loads(json_report))


def fixes_from_show_fixes(text: str) -> dict[str, Counter[str]]:
    """Per file, per code: the ``--show-fixes`` list of the text report."""
    fixes: dict[str, Counter[str]] = {}
    current: Counter[str] | None = None
    for line in text.splitlines():
        file_match = _FILE_LINE.match(line)
        if file_match:
            current = fixes.setdefault(file_match.group(1), Counter())
            continue
        fix_match = _FIX_LINE.match(line)
        if fix_match and current is not None:
            current[fix_match.group(2)] += int(fix_match.group(1))
    return fixes


def problems(stderr: str) -> tuple[list[str], list[str]]:
    """The error lines and the warning lines (without their prefix) of a run."""
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("memlint: error") or "internal error" in line]
    prefix = "memlint: warning: "
    return errors, [line[len(prefix) :] for line in lines if line.startswith(prefix)]


# -- syntax trees outside the fixed statements ----------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines as ``ast`` numbers them (``\\n``, ``\\r\\n`` or ``\\r``; not ``str.splitlines``' \\f)."""
    return _NEWLINE.split(text)


def line_maps(before: str, after: str) -> tuple[dict[int, int], dict[int, int]]:
    """1-based line numbers of unchanged lines, before -> after and after -> before."""
    matcher = difflib.SequenceMatcher(None, split_lines(before), split_lines(after), autojunk=False)
    forward: dict[int, int] = {}
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                forward[i1 + k + 1] = j1 + k + 1
    return forward, {v: k for k, v in forward.items()}


def _mapped_span(first: int, last: int, mapping: dict[int, int]) -> int | None:
    """Where ``first`` lands on the other side, if the lines ``first..last`` are all unchanged and
    still consecutive there (no line inserted between them); None otherwise."""
    start = mapping.get(first)
    if start is None:
        return None
    for offset in range(1, last - first + 1):
        if mapping.get(first + offset) != start + offset:
            return None
    return start


def _header_span(node: ast.AST) -> tuple[int, int]:
    """The lines of a compound statement's header: decorators to the last line of its own parts
    (test, arguments, bases...), not the blank lines or comments before its first block."""
    last = _start(node) if isinstance(node, ast.match_case) else node.lineno  # type: ignore[attr-defined]
    for name, value in ast.iter_fields(node):
        if name in _BLOCK_FIELDS:
            continue
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, ast.AST):
                for inner in ast.walk(part):
                    last = max(last, getattr(inner, "end_lineno", None) or last)
    return _start(node), last


def _start(node: ast.AST) -> int:
    if isinstance(node, ast.match_case):
        return node.pattern.lineno
    decorators = getattr(node, "decorator_list", [])
    return int(min([node.lineno] + [d.lineno for d in decorators]))  # type: ignore[attr-defined]


def _end(node: ast.AST) -> int:
    if isinstance(node, ast.match_case):
        return _end(node.body[-1])
    return int(node.end_lineno or node.lineno)  # type: ignore[attr-defined]


def _header_dump(node: ast.AST) -> str:
    """The statement without its blocks (``ast.dump`` leaves positions out)."""
    parts: list[tuple[str, object]] = []
    for name, value in ast.iter_fields(node):
        if name in _BLOCK_FIELDS:
            continue
        if isinstance(value, list):
            value = [ast.dump(v) if isinstance(v, ast.AST) else v for v in value]
        elif isinstance(value, ast.AST):
            value = ast.dump(value)
        parts.append((name, value))
    return f"{type(node).__name__}{parts!r}"


def _children(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    for name in _BLOCK_FIELDS:
        for child in getattr(node, name, None) or []:
            yield name, child


def untouched_entries(
    tree: ast.Module, to_after: dict[int, int], own_is_after: bool
) -> Counter[tuple[object, ...]]:
    """What must be equal on both sides: every statement (at any depth) whose lines are all
    unchanged, as (the chain of enclosing blocks, its line in the fixed file, its ``ast`` dump
    without positions); for a compound statement its header alone (decorators, test, arguments),
    its blocks being entries themselves. The enclosing chain names each block (``If.orelse``) and
    where its header stands in the fixed file (None when that line changed), so an unchanged line
    that a fix moved into another block does not match. Statements touching a changed line are
    left out: those are the fixed statements, checked by parsing, compiling and importing."""
    out: Counter[tuple[object, ...]] = Counter()

    def place(first: int, last: int) -> int | None:
        if own_is_after:
            return first if _mapped_span(first, last, to_after_inverse) is not None else None
        return _mapped_span(first, last, to_after)

    to_after_inverse = {v: k for k, v in to_after.items()}

    def visit(node: ast.AST, chain: tuple[object, ...]) -> None:
        for block, child in _children(node):
            first, last = _start(child), _end(child)
            compound = any(getattr(child, name, None) for name in _BLOCK_FIELDS)
            if not compound:
                where = place(first, last)
                if where is not None:
                    out[(chain, block, where, ast.dump(child))] += 1
                continue
            head_first, head_last = _header_span(child)
            where = place(head_first, head_last)
            if where is not None:
                out[(chain, block, where, "header", _header_dump(child))] += 1
            visit(child, (*chain, (block, type(child).__name__, where)))

    visit(tree, ())
    return out


def compare_trees(before: str, after: str) -> list[str]:
    """Differences between the two trees outside the fixed statements (empty when equal)."""
    forward, _ = line_maps(before, after)
    old = untouched_entries(ast.parse(before), forward, own_is_after=False)
    new = untouched_entries(ast.parse(after), forward, own_is_after=True)
    missing, added = old - new, new - old
    return [f"only before: {e!r}"[:300] for e in missing] + [f"only after: {e!r}"[:300] for e in added]


# -- imports --------------------------------------------------------------------------------------


def module_name(rel: Path) -> str | None:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or any(not p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def import_status(root: Path, name: str) -> str:
    """``from-copy`` (imported, from ``root``), ``elsewhere`` (a module the interpreter had loaded
    before the copy was on the path, e.g. frozen ones), ``failed: ...`` or ``timeout``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", IMPORT_PROBE, str(root), name],
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT,
            cwd=tempfile.gettempdir(),
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last}"
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "failed: no output"


def check_imports(
    pristine: Path, fixed: Path, changed: Iterable[Path], report: SweepReport, jobs: int
) -> None:
    names: list[str] = []
    for rel in changed:
        name = module_name(rel)
        if name is None or SKIP_IMPORT_PARTS & set(name.split(".")):
            report.imports_skipped["side effects or tests"] = (
                report.imports_skipped.get("side effects or tests", 0) + 1
            )
            continue
        names.append(name)

    def both(name: str) -> tuple[str, str, str]:
        before = import_status(pristine, name)
        after = import_status(fixed, name) if before == "from-copy" else ""
        return name, before, after

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, before, after in pool.map(both, names):
            if before != "from-copy":
                key = "already loaded at startup" if before == "elsewhere" else "did not import before"
                report.imports_skipped[key] = report.imports_skipped.get(key, 0) + 1
                continue
            report.imports_checked += 1
            if after != "from-copy":
                report.import_failures.append(f"{name}: {after}")


# -- the sweep ------------------------------------------------------------------------------------


def sweep(stdlib: Path, work: Path, jobs: int, limit: int | None = None) -> SweepReport:
    report = SweepReport(python=sys.version.split()[0], rules=all_codes())
    pristine, fixed, cache = work / "pristine" / "lib", work / "fixed" / "lib", work / "cache"
    relative = copy_sources(stdlib, pristine, limit)
    shutil.copytree(pristine, fixed)
    report.files = len(relative)
    parseable = {rel for rel in relative if parses((pristine / rel).read_bytes())}
    report.parseable = len(parseable)

    code, out, err, report.seconds_lint = run_memlint(
        fixed, ["--output-format", "json", "--exit-zero"], jobs, cache
    )
    report.exit_codes["lint"] = code
    report.findings_per_rule = dict(sorted(findings_per_rule(out).items()))
    errors, report.skipped = problems(err)
    report.errors += [f"lint: {e}" for e in errors]

    code, out, err, report.seconds_fix = run_memlint(
        fixed, ["--fix", "--unsafe-fixes", "--show-fixes", "--exit-zero"], jobs, cache
    )
    report.exit_codes["fix"] = code
    per_file = fixes_from_show_fixes(out)
    totals: Counter[str] = Counter()
    for counts in per_file.values():
        totals.update(counts)
    report.fixes_per_rule = dict(sorted(totals.items()))
    report.errors += [f"fix: {e}" for e in problems(err)[0]]

    code, out, err, report.seconds_second_fix = run_memlint(
        fixed, ["--fix", "--unsafe-fixes", "--show-fixes", "--exit-zero"], jobs, cache
    )
    report.exit_codes["second fix"] = code
    report.second_run_fixes = sum(sum(c.values()) for c in fixes_from_show_fixes(out).values())
    report.errors += [f"second fix: {e}" for e in problems(err)[0]]

    started = time.monotonic()
    changed = [rel for rel in relative if (pristine / rel).read_bytes() != (fixed / rel).read_bytes()]
    report.files_changed = len(changed)
    for rel in changed:
        before_raw, after_raw = (pristine / rel).read_bytes(), (fixed / rel).read_bytes()
        if rel not in parseable:
            report.unparseable_touched.append(str(rel))
            continue
        try:
            compile(after_raw, str(rel), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            report.broken_after_fix.append(f"{rel}: {exc}")
            continue
        differences = compare_trees(decode_source(before_raw).text, decode_source(after_raw).text)
        report.ast_mismatches += [f"{rel}: {d}" for d in differences[:5]]
    check_imports(pristine, fixed, changed, report, jobs)
    report.seconds_checks = time.monotonic() - started
    return report


def render(report: SweepReport) -> str:
    seconds = report.seconds_lint + report.seconds_fix + report.seconds_second_fix
    lines = [
        f"Python {report.python}: {report.files} files ({report.parseable} parseable)",
        f"rules: {', '.join(report.rules)}",
        f"findings per rule: {report.findings_per_rule}",
        f"fixes applied per rule: {report.fixes_per_rule} in {report.files_changed} files",
        f"memlint seconds: lint {report.seconds_lint:.1f}, fix {report.seconds_fix:.1f}, "
        f"second fix {report.seconds_second_fix:.1f} (total {seconds:.1f})",
        f"checks seconds: {report.seconds_checks:.1f}",
        f"exit codes: {report.exit_codes}",
        f"files skipped with a warning ({len(report.skipped)}):",
        *(f"  {line[:150]}" for line in report.skipped),
        f"second run fixes: {report.second_run_fixes}",
        f"imports checked: {report.imports_checked}, skipped: {report.imports_skipped}",
    ]
    for title, items in (
        ("errors", report.errors),
        ("broken after fix", report.broken_after_fix),
        ("unparseable files touched", report.unparseable_touched),
        ("ast differences outside fixed statements", report.ast_mismatches),
        ("import failures", report.import_failures),
    ):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {item}" for item in items[:50]]
    lines.append("OK" if report.ok else "FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, help="only the first N files (for a quick try)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memlint-sweep-") as scratch:
        work = args.work or Path(scratch)
        report = sweep(args.stdlib.resolve(), work, args.jobs, args.limit)
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
