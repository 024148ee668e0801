"""The ``memlint`` command line.

Exit status (ruff's convention): 0 nothing found; 1 findings or syntax errors remain (or, with
``--diff``, there is a diff); 2 a usage or configuration error, or an internal error of memlint.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TextIO

from memlint import __version__
from memlint.config import ConfigError, Settings, find_config, project_root, validate_cli_codes
from memlint.diagnostics import Applicability, Diagnostic, FileProblem, FileResult
from memlint.registry import Selection, SelectionError, all_rules, rule_by_name_or_code

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memlint",
        description="Find memory anti-patterns in Python code.",
        epilog="Exit status: 0 clean, 1 findings (or a diff with --diff), 2 usage/config/internal error.",
    )
    parser.add_argument("paths", nargs="*", help="files or folders to check (default: .); '-' reads stdin")
    sel = parser.add_argument_group("rule selection")
    sel.add_argument(
        "--select", type=_codes, help="codes or prefixes to enable, comma-separated (e.g. MEM1,MEM401)"
    )
    sel.add_argument(
        "--extend-select", type=_codes, help="codes or prefixes to enable on top of the selection"
    )
    sel.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    sel.add_argument(
        "--preview",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also enable rules that are still in preview",
    )
    sel.add_argument("--target-version", help="the oldest Python the code supports (e.g. py310 or 3.10)")
    fix = parser.add_argument_group("fixes")
    fix.add_argument("--fix", action="store_true", help="apply safe fixes")
    fix.add_argument(
        "--unsafe-fixes",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also apply (and count as fixable) fixes that may change behaviour",
    )
    fix.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    fix.add_argument("--fix-only", action="store_true", help="apply fixes and report nothing else")
    fix.add_argument("--show-fixes", action="store_true", help="list the fixes applied")
    fix.add_argument(
        "--add-noqa", action="store_true", help="add '# noqa: CODE' to every line with a finding"
    )
    out = parser.add_argument_group("output")
    out.add_argument("--output-format", choices=FORMATS, default=None, help="report format (default: text)")
    out.add_argument("--output-file", type=Path, help="write the report to this file")
    out.add_argument("--statistics", action="store_true", help="count findings per rule")
    out.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    out.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when a fix was applied")
    out.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")
    out.add_argument("-v", "--verbose", action="store_true", help="print tracebacks of internal errors")
    cfg = parser.add_argument_group("configuration")
    cfg.add_argument("--config", type=Path, help="use this pyproject.toml (or memlint.toml)")
    cfg.add_argument("--isolated", action="store_true", help="ignore all configuration files")
    cfg.add_argument("--exclude", type=_codes, help="glob patterns to exclude (replaces the defaults)")
    cfg.add_argument("--extend-exclude", type=_codes, help="glob patterns to exclude on top of the defaults")
    cfg.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, default=None)
    cfg.add_argument(
        "--force-exclude",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply excludes to files named on the command line too",
    )
    cfg.add_argument("--stdin-filename", help="the path of the buffer read from stdin (config, messages)")
    cfg.add_argument("--no-cache", action="store_true", help="neither read nor write the results cache")
    cfg.add_argument(
        "--cache-dir", type=Path, help="where the cache lives (default: .memlint_cache in the project root)"
    )
    cfg.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: all cores)")
    info = parser.add_argument_group("information")
    info.add_argument("--explain", metavar="CODE", help="print a rule's documentation")
    info.add_argument("--list-rules", action="store_true", help="list every rule")
    info.add_argument(
        "--show-settings", action="store_true", help="print the settings used for the first path"
    )
    info.add_argument("--show-files", action="store_true", help="print the files that would be checked")
    info.add_argument("--version", action="version", version=f"memlint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except (ConfigError, SelectionError) as exc:
        print(f"memlint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN
    except Exception as exc:  # a bug in memlint: one clear line, the traceback on request
        print(f"memlint: error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        else:
            print("memlint: run with --verbose for the traceback", file=sys.stderr)
        return EXIT_ERROR


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.explain:
        return _explain(args.explain)
    if args.list_rules:
        return _list_rules()
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.config is not None and not args.config.is_file():
        raise ConfigError(f"{args.config}: no such configuration file")
    overrides = _overrides(args)
    paths = [Path(p) for p in (args.paths or ["."])]
    stdin = [str(p) for p in paths] == ["-"]
    if "-" in args.paths and not stdin:
        parser.error("'-' (stdin) cannot be combined with other paths")
    anchor = (
        Path(args.stdin_filename) if stdin and args.stdin_filename else (Path.cwd() if stdin else paths[0])
    )
    config = (
        args.config if args.config is not None else (None if args.isolated else find_config(anchor.resolve()))
    )
    from memlint.runner import SettingsResolver

    root = project_root([anchor if not stdin else anchor.resolve().parent], config)
    resolver = SettingsResolver(overrides, config=args.config, isolated=args.isolated, default_root=root)
    validate_cli_codes(resolver.for_path(anchor.resolve()))
    if args.show_settings:
        return _show_settings(resolver.for_path(anchor.resolve()))
    if stdin:
        return _run_stdin(args, resolver)
    return _run_paths(args, resolver, paths)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from memlint.config import parse_version

    target = None
    if args.target_version:
        try:
            target = parse_version(args.target_version)
        except ValueError:
            raise ConfigError(
                f"--target-version: expected e.g. py311 or 3.11, got {args.target_version!r}"
            ) from None
    return {
        "select": tuple(args.select) if args.select is not None else None,
        "extend_select": tuple(args.extend_select) if args.extend_select is not None else None,
        "ignore": tuple(args.ignore) if args.ignore is not None else None,
        "preview": args.preview,
        "target_version": target,
        "exclude": tuple(args.exclude) if args.exclude is not None else None,
        "extend_exclude": tuple(args.extend_exclude) if args.extend_exclude is not None else None,
        "respect_gitignore": args.respect_gitignore,
        "force_exclude": args.force_exclude,
    }


# -- information ------------------------------------------------------------------------------


def _explain(code: str) -> int:
    rule = rule_by_name_or_code(code)
    if rule is None:
        print(f"memlint: error: unknown rule {code!r} (see --list-rules)", file=sys.stderr)
        return EXIT_ERROR
    status = "preview" if rule.PREVIEW else "stable"
    print(f"# {rule.NAME} ({rule.CODE})\n")
    print(f"Status: {status}. Fix: {rule.FIX.value}.\n")
    print(rule.documentation())
    if rule.OPTIONS:
        print(f"\n## Options (in [tool.memlint.{rule.NAME}])")
        for opt in rule.OPTIONS:
            print(f"- `{opt.name}` (default {opt.default!r}): {opt.description}")
    return EXIT_CLEAN


def _list_rules() -> int:
    for rule in all_rules():
        flags = []
        if rule.PREVIEW:
            flags.append("preview")
        if rule.FIX.value != "none":
            flags.append(f"fix: {rule.FIX.value}")
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        print(f"{rule.CODE}  {rule.NAME:<34} {rule.SUMMARY}{suffix}")
    return EXIT_CLEAN


def _show_settings(settings: Settings) -> int:
    for f in fields(settings):
        print(f"{f.name} = {getattr(settings, f.name)!r}")
    return EXIT_CLEAN


# -- checking ---------------------------------------------------------------------------------


@dataclass
class _Selections:
    """Rule selection per settings object (usually one)."""

    cache: dict[int, Selection]

    def get(self, settings: Settings) -> Selection:
        from memlint.runner import selection_for

        key = id(settings)
        if key not in self.cache:
            self.cache[key] = selection_for(settings)
            for warning in self.cache[key].warnings:
                print(f"memlint: warning: {warning}", file=sys.stderr)
        return self.cache[key]


def _run_paths(args: argparse.Namespace, resolver: Any, paths: list[Path]) -> int:
    from memlint.discovery import discover
    from memlint.runner import (
        FileTask,
        collectors_of,
        default_jobs,
        file_options,
        fix_policy,
        project_facts,
        run_cached,
    )

    found = discover(paths, resolver.for_path)
    for path, reason in found.errors:
        print(f"memlint: error: {path}: {reason}", file=sys.stderr)
    for path, reason in found.skipped:
        print(f"memlint: warning: {path}: {reason}; skipped", file=sys.stderr)
    if args.show_files:
        for path in found.files:
            print(_display(path))
        return EXIT_CLEAN
    if not found.files and not found.errors:
        print(
            "memlint: warning: no Python files found (check the paths, excludes and .gitignore files; "
            "--no-respect-gitignore lifts the latter)",
            file=sys.stderr,
        )
    selections = _Selections({})
    fixing = args.fix or args.fix_only or args.diff
    tasks = []
    for path in found.files:
        settings = resolver.for_path(path)
        options = file_options(path, settings, selections.get(settings))
        policy = fix_policy(settings, args.unsafe_fixes) if fixing else None
        tasks.append(FileTask(str(path), _display(path), options, policy))
    collectors = collectors_of(r for t in tasks for r in t.options.rules)
    cache = _cache(args, resolver, paths)
    facts = None
    if collectors:
        roots = sorted({resolver.for_path(p).root for p in found.files})
        project_files = set(found.files)
        for root in roots:
            project_files.update(discover([root], resolver.for_path).files)
        facts = project_facts(sorted(project_files), collectors, cache)
    jobs = args.jobs or default_jobs()
    results = run_cached(tasks, facts, jobs, cache)
    changed = _apply_fixes(args, results)
    if args.add_noqa:
        return _add_noqa(results)
    exit_code = _report(args, results, resolver, selections)
    if found.errors:
        exit_code = EXIT_ERROR
    if args.diff:
        if exit_code == EXIT_ERROR:
            return EXIT_ERROR
        return EXIT_FINDINGS if changed and not args.exit_zero else EXIT_CLEAN
    if args.exit_non_zero_on_fix and changed and exit_code == EXIT_CLEAN:
        return EXIT_FINDINGS
    return exit_code


def _cache(args: argparse.Namespace, resolver: Any, paths: list[Path]) -> Any:
    from memlint.cache import Cache

    if args.no_cache or os.environ.get("MEMLINT_NO_CACHE") == "1":
        return None
    if args.cache_dir is not None:
        return Cache(args.cache_dir.resolve())
    settings = resolver.for_path(paths[0].resolve())
    return Cache((settings.root / settings.cache_dir).resolve())


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _apply_fixes(args: argparse.Namespace, results: list[FileResult]) -> int:
    """Write fixed files (or print diffs); returns how many files changed."""
    from memlint.sources import SourceError, encode_source, write_source_atomically

    changed = 0
    for result in results:
        if result.fixed_source is None or result.original_source is None:
            continue
        changed += 1
        if args.diff:
            sys.stdout.write(_unified_diff(result))
            continue
        assert result.encoding is not None and result.original_raw is not None
        try:
            write_source_atomically(
                result.path, result.original_raw, encode_source(result.fixed_source, result.encoding)
            )
        except (SourceError, OSError, UnicodeEncodeError) as exc:
            changed -= 1
            result.problems.append(FileProblem(result.path, f"fix not written: {exc}", severity="error"))
            result.fixes_applied = {}
    return changed


def _unified_diff(result: FileResult) -> str:
    assert result.original_source is not None and result.fixed_source is not None
    before = io.StringIO(result.original_source, newline="").readlines()
    after = io.StringIO(result.fixed_source, newline="").readlines()
    lines = difflib.unified_diff(before, after, fromfile=result.path, tofile=result.path)
    return "".join(
        line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _report(
    args: argparse.Namespace, results: list[FileResult], resolver: Any, selections: _Selections
) -> int:
    from memlint.reporters import ReportOptions, get_reporter

    errors = False
    for result in results:
        for problem in result.problems:
            errors |= problem.severity == "error"
            print(_format_problem(problem, args.verbose), file=sys.stderr)
    remaining = [d for r in results for d in r.diagnostics]
    if args.fix_only:
        if not args.quiet and not args.diff:
            fixed = sum(sum(r.fixes_applied.values()) for r in results)
            print(f"Fixed {fixed} finding{'s' if fixed != 1 else ''}.", file=sys.stderr)
        return EXIT_ERROR if errors else EXIT_CLEAN
    rules = tuple({r.CODE: r for s in selections.cache.values() for r in s.rules}.values())

    def applicability(diag: Diagnostic) -> Applicability | None:
        from memlint.runner import fix_policy

        return fix_policy(resolver.for_path(Path(diag.path).resolve()), args.unsafe_fixes).effective(diag)

    options = ReportOptions(
        color=_use_color(args),
        unsafe_fixes=args.unsafe_fixes,
        show_fixes=args.show_fixes,
        statistics=args.statistics,
        fix_applied=bool(args.fix) and not args.diff,
        quiet=args.quiet,
        verbose=args.verbose,
        rules=tuple(sorted(rules, key=lambda r: r.CODE)),
        cwd=Path.cwd(),
        applicability=applicability,
    )
    reporter = get_reporter(args.output_format or "text")
    if args.diff:
        # As ruff does: the diff is the output; stderr says how much it would fix.
        if not args.quiet:
            fixes = sum(sum(r.fixes_applied.values()) for r in results)
            files = sum(1 for r in results if r.fixed_source is not None)
            summary = f"Would fix {_plural(fixes, 'finding')} in {_plural(files, 'file')}."
            print(summary if fixes else "No fixes available.", file=sys.stderr)
    elif args.output_file is not None:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        with args.output_file.open("w", encoding="utf-8") as handle:
            reporter(results, handle, options)
    else:
        reporter(results, sys.stdout, options)
    if errors:
        return EXIT_ERROR
    if remaining and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _use_color(args: argparse.Namespace) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return args.output_file is None and sys.stdout.isatty()


def _format_problem(problem: FileProblem, verbose: bool) -> str:
    rule = f" [{problem.rule}]" if problem.rule else ""
    text = f"memlint: {problem.severity}: {problem.path}{rule}: {problem.message}"
    if verbose and problem.traceback:
        text += "\n" + problem.traceback.rstrip()
    elif problem.traceback and problem.severity == "error":
        text += " (run with --verbose for the traceback)"
    return text


# -- stdin ------------------------------------------------------------------------------------


def _run_stdin(args: argparse.Namespace, resolver: Any) -> int:
    from memlint.facts import ProjectFacts
    from memlint.runner import FileTask, collectors_of, file_options, fix_policy, process_task

    display = args.stdin_filename or "-"
    path = Path(display).resolve() if args.stdin_filename else Path.cwd() / "-"
    raw = sys.stdin.buffer.read()
    settings = resolver.for_path(path)
    if settings.force_exclude and args.stdin_filename:
        from memlint.discovery import is_excluded

        if is_excluded(path, settings):  # as ruff does: an excluded buffer is passed through
            if args.fix or args.fix_only:
                sys.stdout.buffer.write(raw)
            return EXIT_CLEAN
    selections = _Selections({})
    options = file_options(path, settings, selections.get(settings))
    fixing = args.fix or args.fix_only or args.diff
    policy = fix_policy(settings, args.unsafe_fixes) if fixing else None
    facts: ProjectFacts | None = None
    collectors = collectors_of(options.rules)
    if collectors and args.stdin_filename:
        facts = _stdin_facts(path, raw, settings, resolver, collectors)
    result = process_task(FileTask(str(path), display, options, policy, source=raw), facts)
    if fixing and not args.diff:
        # The whole buffer always goes to stdout (editors replace the buffer with it).
        sys.stdout.buffer.write(
            result.fixed_source.encode(result.encoding or "utf-8") if result.fixed_source is not None else raw
        )
        sys.stdout.flush()
        if not args.fix_only:
            return _report_to(args, [result], resolver, selections, sys.stderr)
        return EXIT_CLEAN
    if args.diff:
        if result.fixed_source is not None:
            sys.stdout.write(_unified_diff(result))
            return EXIT_FINDINGS
        return EXIT_CLEAN
    return _report_to(args, [result], resolver, selections, sys.stdout)


def _report_to(
    args: argparse.Namespace,
    results: list[FileResult],
    resolver: Any,
    selections: _Selections,
    stream: TextIO,
) -> int:
    saved = sys.stdout
    try:
        sys.stdout = stream
        return _report(args, results, resolver, selections)
    finally:
        sys.stdout = saved


def _stdin_facts(path: Path, raw: bytes, settings: Settings, resolver: Any, collectors: Any) -> Any:
    """Project facts with the unsaved buffer standing in for the file on disk."""
    from memlint.discovery import discover
    from memlint.facts import merge_facts, read_file_facts
    from memlint.runner import project_facts
    from memlint.sources import SourceError, decode_source

    files = [p for p in discover([settings.root], resolver.for_path).files if p != path]
    base = project_facts(files, collectors)
    per_file = dict(base.per_file) if base is not None else {}
    try:
        text = decode_source(raw, str(path)).text
        own = read_file_facts(str(path), text, collectors)
        if own is not None:
            per_file[str(path)] = own
    except SourceError:
        pass
    return merge_facts(per_file, collectors)


# -- adoption ---------------------------------------------------------------------------------


def _add_noqa(results: list[FileResult]) -> int:
    from memlint.noqa import add_noqa_to_source
    from memlint.sources import SourceError, encode_source, read_source, write_source_atomically

    added = 0
    status = EXIT_CLEAN
    for result in results:
        wanted: dict[int, set[str]] = {}
        for diag in result.diagnostics:
            if diag.code is not None and diag.noqa_row is not None:
                wanted.setdefault(diag.noqa_row, set()).add(diag.code)
        if not wanted:
            continue
        try:
            source = read_source(result.path)
            new_text, count = add_noqa_to_source(source.text, wanted)
            if count:
                write_source_atomically(result.path, source.raw, encode_source(new_text, source.encoding))
                added += count
        except (SourceError, OSError) as exc:
            print(f"memlint: error: {result.path}: noqa not added: {exc}", file=sys.stderr)
            status = EXIT_ERROR
    print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
    return status
