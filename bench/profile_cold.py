"""Profile a cold memlint run in one process and count what each rule's pre-screens let through.

Usage::

    python bench/profile_cold.py                 # ~300 files of the interpreter's standard library
    python bench/profile_cold.py --files 0       # the whole corpus
    python bench/profile_cold.py --corpus PATH --top 40 --pstats cold.pstats

The run is the command line's own (``memlint PATH --no-cache --jobs 1``) under cProfile, with
counters wrapped around the engine's substring pre-screen, each rule's ``ast_prescreen`` and
the LibCST parse: a rule whose pre-screens pass on most files makes LibCST parse them anyway,
which is where a cold run's time goes. Import times are measured in fresh processes, since a
profile of start-up would include this script's own imports.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import copy_corpus, corpus_files, subset

#: label -> (untimed set-up, timed statement), each timed in a fresh interpreter.
IMPORTS = {
    "import libcst": ("", "import libcst"),
    "import libcst.matchers (libcst already imported)": ("import libcst", "import libcst.matchers"),
    "import memlint.cli": ("", "import memlint.cli"),
    "import memlint.rules (every rule)": ("", "import memlint.rules"),
    "import memlint.rules (memlint.cli already imported)": ("import memlint.cli", "import memlint.rules"),
    "import memlint.cli, memlint.runner, memlint.rules": (
        "",
        "import memlint.cli, memlint.runner, memlint.rules",
    ),
}


class Counters:
    """How many files each rule's pre-screens let through, and what LibCST was given."""

    def __init__(self) -> None:
        self.substring: Counter[str] = Counter()
        self.ast: Counter[str] = Counter()
        self.visited: Counter[str] = Counter()
        self.alone: Counter[str] = Counter()  # files LibCST parsed for this rule only
        self.files = 0
        self.parsed = 0
        self.parse_seconds = 0.0

    def install(self) -> None:
        import memlint.engine as engine
        from memlint.rules import ALL_RULES

        original_prescreen = engine._prescreen
        original_parse = engine._parse_cst
        original_visit = engine._visit
        original_lint = engine._lint_with_rules

        def prescreen(rule: Any, source: str) -> bool:
            passed = original_prescreen(rule, source)
            self.substring[rule.CODE] += passed
            return passed

        def parse(*args: Any) -> Any:
            start = time.process_time()
            try:
                return original_parse(*args)
            finally:
                self.parse_seconds += time.process_time() - start
                self.parsed += 1

        def visit(module: Any, source: str, path: str, rules: Any, *rest: Any) -> Any:
            for rule in rules:
                self.visited[rule.CODE] += 1
            if len(rules) == 1:
                self.alone[rules[0].CODE] += 1
            return original_visit(module, source, path, rules, *rest)

        def lint(*args: Any) -> Any:
            self.files += 1
            return original_lint(*args)

        engine._prescreen = prescreen
        engine._parse_cst = parse
        engine._visit = visit
        engine._lint_with_rules = lint
        originals = [(rule, rule.ast_prescreen) for rule in ALL_RULES]  # all bound before any is wrapped
        for rule, bound in originals:
            rule.ast_prescreen = classmethod(self._counting(rule, bound))

    def _counting(self, rule: Any, bound: Callable[..., bool]) -> Callable[..., bool]:
        def ast_prescreen(cls: Any, index: Any, facts: Any) -> bool:
            passed = bound(index, facts)
            self.ast[rule.CODE] += passed
            return passed

        return ast_prescreen

    def table(self, selected: list[Any]) -> list[str]:
        rows = [
            f"files linted: {self.files}; given to LibCST: {self.parsed} "
            f"({self.parse_seconds:.1f} s of CPU in parse_module, under the profiler)",
            "",
            "| rule | substring pre-screen | passes it | passes the ast pre-screen too | LibCST visits "
            "| of which for this rule alone |",
            "|---|---|---|---|---|---|",
        ]
        for rule in selected:
            if rule.CHECKS_NOQA:
                continue
            tokens = ", ".join(f"`{t}`" for t in rule.PRESCREEN) or "(none)"
            rows.append(
                f"| {rule.CODE} {rule.NAME} | {tokens} | {self._share(self.substring[rule.CODE])} "
                f"| {self._share(self.ast[rule.CODE])} | {self._share(self.visited[rule.CODE])} "
                f"| {self.alone[rule.CODE]} |"
            )
        return rows

    def _share(self, n: int) -> str:
        return f"{n} ({100 * n / self.files:.0f} %)" if self.files else str(n)


def import_times(repeat: int = 3) -> list[str]:
    rows = ["| import (fresh process) | CPU seconds (best of 3) |", "|---|---|"]
    for label, (setup, statement) in IMPORTS.items():
        code = f"import time\n{setup}\nt = time.process_time()\n{statement}\nprint(time.process_time() - t)"
        best = min(
            float(
                subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout or "nan"
            )
            for _ in range(repeat)
        )
        rows.append(f"| `{label}` | {best:.3f} |")
    return rows


def by_file(stats: pstats.Stats) -> list[tuple[float, str]]:
    """Own time summed per source file: which module the time is spent in."""
    totals: Counter[str] = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[_short(filename)] += tottime
    return sorted(((t, f) for f, t in totals.items()), reverse=True)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--files", type=int, default=300, help="files of the corpus (0: all)")
    parser.add_argument("--top", type=int, default=35, help="rows of each profile listing")
    parser.add_argument("--pstats", type=Path, help="also save the raw profile here")
    args = parser.parse_args(argv)

    print("## Start-up\n", *import_times(), sep="\n")
    files = corpus_files(args.corpus)
    if args.files:
        files = subset(files, args.files)
    work = Path(tempfile.mkdtemp(prefix="memlint-profile-"))
    try:
        copy_corpus(args.corpus, files, work / "corpus")
        import memlint.cli
        from memlint.registry import all_rules

        counters = Counters()
        counters.install()
        argv_run = [str(work / "corpus"), "--isolated", "--no-respect-gitignore", "--no-cache", "--jobs", "1"]
        profiler = cProfile.Profile(time.process_time)  # CPU time: robust on a busy machine
        start = time.process_time()
        with open(work / "out.txt", "w", encoding="utf-8") as out:
            saved, sys.stdout = sys.stdout, out
            try:
                profiler.runcall(memlint.cli.main, [*argv_run, "--exit-zero", "--quiet"])
            finally:
                sys.stdout = saved
        elapsed = time.process_time() - start
        print(f"\n## Pre-screens ({len(files)} files, {elapsed:.1f} s of CPU under the profiler)\n")
        print(*counters.table([r for r in all_rules() if not r.PREVIEW]), sep="\n")
        stats = pstats.Stats(profiler)
        if args.pstats:
            stats.dump_stats(args.pstats)
        print("\n## Own time per module (top)\n")
        for seconds, name in by_file(stats)[: args.top]:
            print(f"{seconds:8.2f} s  {name}")
        print("\n## Cumulative (top)\n")
        stats.sort_stats("cumulative").print_stats(args.top)
        print("\n## Own time (top)\n")
        stats.sort_stats("tottime").print_stats(args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
