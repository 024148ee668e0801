"""Running the engine over many files: settings per file, project facts, worker processes.

LibCST's native parser can crash the process on pathological input, so with more than a handful
of files the work runs in worker processes (started once, each handling many files); a worker
that dies takes only its current file with it. Results come back in a deterministic order.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from memlint import literal
from memlint.cache import Cache, cacheable, digest, result_from_json, result_to_json
from memlint.config import ConfigError, Settings, find_config, is_test_path, settings_from_file
from memlint.diagnostics import Diagnostic, FileProblem, FileResult, Location
from memlint.engine import MAX_SOURCE_CHARS, FileOptions, lint_source
from memlint.facts import FactCollector, ProjectFacts, merge_facts, module_name_for, read_file_facts
from memlint.fixer import FixPolicy, fix_source
from memlint.noqa import code_matches
from memlint.registry import Selection, select_rules
from memlint.rule import Rule
from memlint.sources import SourceError, decode_source, read_source

#: Below this many files, everything runs in this process (a pool costs more than it saves).
POOL_THRESHOLD = 8


class SettingsResolver:
    """Settings for any path: the closest ``[tool.memlint]`` config, layered under the CLI's."""

    def __init__(
        self,
        overrides: dict[str, Any],
        config: Path | None = None,
        isolated: bool = False,
        default_root: Path | None = None,
    ) -> None:
        self.overrides = overrides
        self.isolated = isolated
        self.fixed = None
        self.default_root = default_root or Path.cwd()
        self._by_config: dict[Path | None, Settings] = {}
        self._by_folder: dict[Path, Settings] = {}
        if config is not None:
            self.fixed = self._load(config.resolve())

    def _load(self, config: Path | None) -> Settings:
        if config not in self._by_config:
            base = settings_from_file(config) if config is not None else Settings(root=self.default_root)
            self._by_config[config] = base.with_overrides(**self.overrides)
        return self._by_config[config]

    def for_path(self, path: Path) -> Settings:
        if self.fixed is not None:
            return self.fixed
        if self.isolated:
            return self._load(None)
        folder = path if path.is_dir() else path.parent
        if folder not in self._by_folder:
            self._by_folder[folder] = self._load(find_config(folder))
        return self._by_folder[folder]


@dataclass(frozen=True)
class RunMode:
    fix: bool = False
    diff: bool = False
    policy: FixPolicy = field(default_factory=FixPolicy)


@dataclass(frozen=True)
class FileTask:
    path: str
    display_path: str
    options: FileOptions
    policy: FixPolicy | None  # None: lint only
    source: bytes | None = None  # given for stdin


def selection_for(settings: Settings) -> Selection:
    return select_rules(settings.select, settings.ignore, settings.extend_select, settings.preview)


def file_options(path: Path, settings: Settings, selection: Selection) -> FileOptions:
    rel = _relative(path, settings.root)
    rules = selection.rules
    if settings.per_file_ignores:
        from memlint.discovery import compile_glob

        ignored: list[str] = []
        for pattern, codes in settings.per_file_ignores:
            spec = compile_glob(pattern)
            if spec.match_file(rel) or spec.match_file(path.name):
                ignored.extend(c.upper() for c in codes)
        rules = tuple(r for r in rules if not code_matches(r.CODE, ignored))
    return FileOptions(
        rules=rules,
        rule_options={name: dict(opts) for name, opts in settings.rule_options.items()},
        target_version=settings.target_version,
        module_name=module_name_for(path),
        is_test_file=is_test_path(rel),
    )


def fix_policy(settings: Settings, unsafe: bool) -> FixPolicy:
    return FixPolicy(
        unsafe=unsafe,
        fixable=settings.fixable,
        unfixable=settings.unfixable,
        extend_safe_fixes=settings.extend_safe_fixes,
        extend_unsafe_fixes=settings.extend_unsafe_fixes,
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# -- one file -----------------------------------------------------------------------------------

_FACTS: ProjectFacts | None = None


def _init_worker(facts: ProjectFacts | None) -> None:
    global _FACTS
    _FACTS = facts


def process_task(task: FileTask, facts: ProjectFacts | None = None) -> FileResult:
    """Check (and fix) one file; every failure becomes part of the result."""
    facts = facts if facts is not None else _FACTS
    result = FileResult(path=task.display_path)
    try:
        source = (
            decode_source(task.source, task.display_path)
            if task.source is not None
            else read_source(task.path)
        )
    except SourceError as exc:
        if _is_io_error(exc):
            result.problems.append(FileProblem(task.display_path, str(exc), severity="error"))
        else:
            loc = Location(1, 1)
            result.diagnostics.append(Diagnostic(task.display_path, None, f"SyntaxError: {exc}", loc, loc))
        return result
    try:
        return _process_text(task, source.text, source.raw, source.encoding, facts, result)
    except Exception as exc:  # an internal error: reported for this file, the run goes on
        result.problems.append(
            FileProblem(
                task.display_path,
                f"internal error: {type(exc).__name__}: {exc}",
                severity="error",
                traceback=traceback.format_exc(),
            )
        )
        return result


def _is_io_error(exc: SourceError) -> bool:
    text = str(exc)
    return text.startswith(("cannot read", "permission denied", "no such file", "is a directory"))


def _process_text(
    task: FileTask, text: str, raw: bytes, encoding: str, facts: ProjectFacts | None, result: FileResult
) -> FileResult:
    def lint(current: str) -> tuple[list[Diagnostic], list[FileProblem]]:
        outcome = lint_source(current, task.display_path, task.options, facts)
        return outcome.diagnostics, outcome.problems

    if task.policy is None:
        diagnostics, problems = lint(text)
        result.diagnostics, result.problems = diagnostics, problems
        return result
    fixed = fix_source(text, task.display_path, lint, task.policy)
    result.diagnostics = fixed.remaining
    result.problems = fixed.problems
    result.fixes_applied = dict(fixed.applied)
    if fixed.source != text:
        result.fixed_source = fixed.source
        result.original_source = text
        result.original_raw = raw
        result.encoding = encoding
    return result


# -- many files -------------------------------------------------------------------------------


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_tasks(tasks: list[FileTask], facts: ProjectFacts | None, jobs: int) -> list[FileResult]:
    if jobs <= 1 or len(tasks) < POOL_THRESHOLD:
        results = [process_task(t, facts) for t in tasks]
    else:
        results = _run_pool(tasks, facts, jobs)
    for r in results:
        r.diagnostics.sort(key=Diagnostic.sort_key)
    results.sort(key=lambda r: r.path)
    return results


def _run_pool(tasks: list[FileTask], facts: ProjectFacts | None, jobs: int) -> list[FileResult]:
    """A pool that survives crashes: at most ``2 * jobs`` files are in flight, so when a worker
    dies only those are suspects; each suspect is retried alone, the rest go to a new pool."""
    done: dict[int, FileResult] = {}
    queue = list(range(len(tasks)))
    while queue:
        suspects = _drain(tasks, queue, facts, jobs, done)
        for i in suspects:
            done[i] = _run_isolated(tasks[i], facts)
        queue = [i for i in queue if i not in done]
    return [done[i] for i in range(len(tasks))]


def _drain(
    tasks: list[FileTask],
    queue: list[int],
    facts: ProjectFacts | None,
    jobs: int,
    done: dict[int, FileResult],
) -> list[int]:
    """Run ``queue`` on one pool; return the files in flight when the pool broke (if it did)."""
    in_flight: dict[Future[FileResult], int] = {}
    todo = iter(queue)
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(facts,)) as pool:
        try:
            for i in todo:
                in_flight[pool.submit(process_task, tasks[i])] = i
                if len(in_flight) >= 2 * jobs:
                    _collect(in_flight, done)
            while in_flight:
                _collect(in_flight, done)
        except BrokenProcessPool:
            return sorted(in_flight.values())
    return []


def _collect(in_flight: dict[Future[FileResult], int], done: dict[int, FileResult]) -> None:
    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for future in finished:
        done[in_flight[future]] = future.result()  # raises BrokenProcessPool if a worker died
        del in_flight[future]


def _run_isolated(task: FileTask, facts: ProjectFacts | None) -> FileResult:
    try:
        with ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(facts,)) as pool:
            return pool.submit(process_task, task).result()
    except BrokenProcessPool:
        return FileResult(
            path=task.display_path,
            problems=[
                FileProblem(
                    task.display_path,
                    "the parser crashed on this file (too deeply nested or too large?); skipped",
                    severity="warning",
                )
            ],
        )


# -- project facts ------------------------------------------------------------------------------


def collectors_of(rules: Iterable[type[Rule]]) -> list[type[FactCollector]]:
    seen: dict[str, type[FactCollector]] = {}
    for rule in rules:
        for collector in rule.FACTS:
            seen.setdefault(collector.NAME, collector)
    return list(seen.values())


def project_facts(
    files: Iterable[Path], collectors: list[type[FactCollector]], cache: Cache | None = None
) -> ProjectFacts | None:
    """Facts of every Python file of the project (not only the files reported on).

    Per-file facts are cached by content and path, through memlint.literal (tagged JSON that
    round-trips tuples, sets and memlint's own dataclasses, and never unpickles).
    """
    if not collectors:
        return None
    names = ",".join(sorted(f"{c.NAME}:{c.VERSION}" for c in collectors))
    per_file: dict[str, dict[str, Any]] = {}
    # The merged facts depend on each file's facts, not its bytes: an edit that leaves a file's
    # facts alone (a comment, a function body) keeps the digest, so other files' cached
    # results stay valid. A file whose facts cannot be encoded digests its bytes instead.
    fact_digests: list[str] = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        key = digest(raw, str(path), names)
        if cache is not None:
            cached = _cached_facts(cache, key)
            if cached is not None:
                per_file[str(path)], facts_digest = cached
                fact_digests.append(f"{path}:{facts_digest}")
                continue
        try:
            source = decode_source(raw, str(path))
        except SourceError:
            continue
        if len(source.text) > MAX_SOURCE_CHARS:  # skipped by the engine too: no ast for it
            continue
        facts = read_file_facts(str(path), source.text, collectors)
        if facts is None:
            continue
        per_file[str(path)] = facts
        try:
            encoded = literal.encode(facts)
        except literal.Unencodable:
            fact_digests.append(f"{path}:bytes:{key}")
            continue
        facts_digest = digest(json.dumps(encoded, sort_keys=True))
        fact_digests.append(f"{path}:{facts_digest}")
        if cache is not None:
            cache.put("facts", key, {"facts": encoded, "digest": facts_digest})
    return merge_facts(per_file, collectors, digest(names, *fact_digests))


def _cached_facts(cache: Cache, key: str) -> tuple[dict[str, Any], str] | None:
    """A file's cached facts and their digest. Decoding every file's facts is most of a one-file
    run with the facts cached: ``literal.object_hook`` decodes while the JSON is parsed, three
    times faster than ``literal.decode`` after it; an entry it cannot read is decoded the slow way.
    """
    entry = cache.get("facts", key, literal.object_hook)
    if (
        isinstance(entry, dict)
        and isinstance(entry.get("facts"), dict)
        and isinstance(entry.get("digest"), str)
    ):
        return entry["facts"], entry["digest"]
    entry = cache.get("facts", key)
    if isinstance(entry, dict) and "digest" in entry:
        try:
            return literal.decode(entry["facts"]), str(entry["digest"])
        except (ValueError, TypeError, KeyError, AttributeError, ImportError, RecursionError):
            pass
    return None


def task_key(task: FileTask, raw: bytes, facts: ProjectFacts | None) -> str:
    """Everything a file's findings depend on (see memlint.cache)."""
    options = task.options
    collectors = collectors_of(options.rules)
    facts_digest = facts.digest(collectors) if facts is not None and collectors else ""
    settings = json.dumps(
        {
            "rules": [r.CODE for r in options.rules],
            "options": options.rule_options,
            "target": options.target_version,
            "module": options.module_name,
            "test": options.is_test_file,
            "prescreen": options.prescreen,
        },
        sort_keys=True,
        default=repr,
    )
    return digest(raw, task.display_path, settings, facts_digest)


def run_cached(
    tasks: list[FileTask], facts: ProjectFacts | None, jobs: int, cache: Cache | None
) -> list[FileResult]:
    """Like ``run_tasks``, answering unchanged files from the cache.

    A cached result also answers a fix run when none of its findings has an allowed fix.
    """
    if cache is None:
        return run_tasks(tasks, facts, jobs)
    done: list[FileResult] = []
    todo: list[FileTask] = []
    keys: dict[str, str] = {}
    for task in tasks:
        try:
            raw = Path(task.path).read_bytes()
        except OSError:
            todo.append(task)
            continue
        key = task_key(task, raw, facts)
        cached = cache.get("results", key)
        if cached is not None:
            try:
                result = result_from_json(task.display_path, cached)
            except (KeyError, TypeError, ValueError):
                result = None
            if result is not None and (
                task.policy is None or not any(task.policy.allows(d) for d in result.diagnostics)
            ):
                done.append(result)
                continue
        keys[task.display_path] = key
        todo.append(replace(task, source=raw))
    for result in run_tasks(todo, facts, jobs):
        stored = keys.get(result.path)
        if stored is not None and result.fixed_source is None and cacheable(result):
            cache.put("results", stored, result_to_json(result))
        done.append(result)
    done.sort(key=lambda r: r.path)
    return done


__all__ = [
    "ConfigError",
    "FileTask",
    "RunMode",
    "SettingsResolver",
    "file_options",
    "fix_policy",
    "process_task",
    "project_facts",
    "run_tasks",
    "selection_for",
]
