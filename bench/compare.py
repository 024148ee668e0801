"""Time memlint against a bare LibCST parse and its peers, on a copy of a corpus (issue 5).

Usage (from a checkout where memlint is installed in the running environment)::

    python bench/compare.py                  # the interpreter's standard library, 3 repetitions
    python bench/compare.py --quick          # ~200 files, 1 repetition: a few minutes
    python bench/compare.py --corpus PATH --repeat 5 --markdown results.md --json results.json

Every measurement is a whole process (start-up included), run one after the other and
alternating the tools within each repetition, so a burst of load on the machine hits all of
them alike. Wall times are the headline; CPU times (user + sys of the process and its
children) are printed beside them because on a busy machine wall time swells while CPU time
mostly does not. Peak memory is the largest resident set of any single process of the run
(``wait4``'s ``ru_maxrss``, which covers the process and the workers it waited for).

The peers (ruff, flake8 with bugbear and comprehensions, pylint, Fixit) are installed into a
separate virtual environment (``--peers-venv``, by default under ``~/.cache/memlint-bench``),
never into memlint's. memlint itself is run as ``sys.executable -m memlint``: the memlint
installed in the environment running this script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PEERS = ("ruff", "flake8", "flake8-bugbear", "flake8-comprehensions", "pylint", "fixit")
#: Folders no tool should see (memlint's default excludes would skip them; the others might not).
SKIPPED_DIRS = frozenset({"site-packages", "__pycache__", ".git", "build", "dist", "venv", ".venv"})
QUICK_FILES = 200
#: Files every corpus subset keeps: the one-file case lints TYPING, the edit case edits EDITED.
TYPING, EDITED = "typing.py", "argparse.py"

RUFF_SELECT = "PERF,C4,B019,RUF015,SLOT"
PYLINT_CHECKS = (
    "use-a-generator,consider-using-generator,method-cache-max-size-none,unnecessary-comprehension"
)

PARSE_ALL = """
import sys, tokenize, warnings
warnings.simplefilter("ignore")
import {module}
ok = failed = 0
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        with tokenize.open(line.rstrip("\\n")) as f:
            {call}(f.read())
        ok += 1
    except Exception:
        failed += 1
print(f"parsed {{ok}}, failed {{failed}}")
"""
LIBCST_ALL = PARSE_ALL.format(module="libcst", call="libcst.parse_module")
AST_ALL = PARSE_ALL.format(module="ast", call="ast.parse")
#: Target 5's reference, verbatim from the issue.
LIBCST_ONE = "import libcst, sys; libcst.parse_module(open(sys.argv[1]).read())"
FIXIT_ONE_PROCESS = """
import sys
from pathlib import Path
from fixit.api import fixit_paths, print_result
dirty = sum(bool(print_result(r)) for r in fixit_paths([Path(sys.argv[1])], parallel=False))
print(f"{dirty} results")
"""


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    returncode: int


@dataclass
class Case:
    """One thing to time: a command, an untimed ``setup`` before each run, a group for the tables."""

    name: str
    argv: list[str]
    group: str
    note: str = ""
    setup: Callable[[], None] | None = None
    ok_codes: tuple[int, ...] = (0,)
    #: Slow cases run ``--repeat`` times, the others ``--repeat-fast`` times (if more).
    slow: bool = False
    samples: list[Sample] = field(default_factory=list)
    stdout: Path | None = None

    def median(self, attr: str) -> float | None:
        values = [getattr(s, attr) for s in self.samples if s.returncode in self.ok_codes]
        return statistics.median(values) if values else None


def run_once(case: Case, cwd: Path, out_dir: Path, env: dict[str, str]) -> Sample:
    if case.setup is not None:
        case.setup()
    stdout = out_dir / f"{case.name}.out"
    stderr = out_dir / f"{case.name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(case.argv, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    case.stdout = stdout
    if proc.returncode not in case.ok_codes:
        tail = stderr.read_text(errors="replace")[-600:]
        print(f"  ! {case.name} exited {proc.returncode}:\n{tail}", file=sys.stderr)
    return Sample(wall, usage.ru_utime + usage.ru_stime, _rss_mb(usage.ru_maxrss), proc.returncode)


def _rss_mb(maxrss: int) -> float:
    """``ru_maxrss`` is in KiB on Linux, in bytes on macOS."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


# -- the corpus ---------------------------------------------------------------------------------


def corpus_files(corpus: Path) -> list[Path]:
    files = []
    for folder, dirs, names in os.walk(corpus):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        files.extend(Path(folder, n).relative_to(corpus) for n in sorted(names) if n.endswith(".py"))
    return files


def subset(files: list[Path], count: int) -> list[Path]:
    """``count`` files spread evenly over the sorted list (deterministic), plus the two named ones."""
    if count >= len(files):
        return files
    step = len(files) / count
    chosen = {files[int(i * step)] for i in range(count)}
    chosen.update(f for f in files if f.as_posix() in (TYPING, EDITED))
    return sorted(chosen)


def copy_corpus(corpus: Path, files: list[Path], dest: Path) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / rel, target)


def append_line(path: Path, counter: list[int]) -> Callable[[], None]:
    """A setup that edits ``path`` a little differently before every run (a new comment line)."""

    def edit() -> None:
        counter[0] += 1
        with path.open("a", encoding="utf-8") as f:
            f.write(f"\n# memlint bench edit {counter[0]}\n")

    return edit


# -- peers --------------------------------------------------------------------------------------


def peers_venv(path: Path | None) -> Path:
    version = f"py{sys.version_info.major}{sys.version_info.minor}"
    venv = path or Path.home() / ".cache" / "memlint-bench" / f"peers-{version}"
    python = venv_python(venv)
    if not python.exists():
        print(f"creating the peers' environment at {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    missing = [p for p in PEERS if not _installed(python, p)]
    if missing:
        print(f"installing {', '.join(missing)} into {venv}", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *missing], check=True)
    return venv


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed(python: Path, dist: str) -> bool:
    code = f"import importlib.metadata as m; m.version({dist!r})"
    return subprocess.run([str(python), "-c", code], capture_output=True).returncode == 0


def versions(python: Path, dists: tuple[str, ...]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "print(json.dumps({d: m.version(d) for d in sys.argv[1:]}))"
    )
    out = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


# -- the cases ----------------------------------------------------------------------------------


@dataclass
class Setup:
    corpus: Path  # the copy
    file_list: Path
    cache_dir: Path
    peers: Path  # the peers' venv
    fingerprint: Callable[[], str]
    warm_fingerprint: list[str] = field(default_factory=list)
    #: The cache no longer matches the corpus (a one-file run saw an edit the others did not).
    stale: bool = False


def memlint_argv(setup: Setup, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "memlint",
        *args,
        "--isolated",
        "--no-respect-gitignore",
        "--exit-zero",
        "--quiet",
    ]


def build_cases(setup: Setup, env: dict[str, str]) -> list[Case]:
    corpus, cached = str(setup.corpus), ("--cache-dir", str(setup.cache_dir))
    cold = ("--no-cache", "--jobs")
    typing_py = setup.corpus / TYPING
    edits = [0]
    peer = venv_python(setup.peers)
    bin_dir = peer.parent
    quiet = ("--exit-zero", "--quiet")
    pylint_opts = ("--jobs=1", "--recursive=y", "--persistent=n", "--score=n", "--exit-zero")

    def rewarm() -> None:
        """Bring the cache up to date with the corpus (untimed) if a one-file run left it behind or
        memlint's code (part of every key) changed since it was filled."""
        if not setup.stale and setup.warm_fingerprint and setup.warm_fingerprint[-1] == setup.fingerprint():
            return
        print("  (filling the cache: untimed)", file=sys.stderr)
        subprocess.run(
            memlint_argv(setup, corpus, *cached), cwd=setup.corpus.parent, env=env, stdout=subprocess.DEVNULL
        )
        setup.warm_fingerprint.append(setup.fingerprint())
        setup.stale = False

    def edit_then(edit: Callable[[], None], leaves_stale: bool) -> Callable[[], None]:
        def both() -> None:
            rewarm()
            edit()
            setup.stale = leaves_stale

        return both

    return [
        Case("libcst-parse", [sys.executable, "-c", LIBCST_ALL, str(setup.file_list)], "baseline", slow=True),
        Case("ast-parse", [sys.executable, "-c", AST_ALL, str(setup.file_list)], "baseline"),
        Case("memlint-cold-j1", memlint_argv(setup, corpus, *cold, "1"), "memlint", slow=True),
        Case("memlint-cold-j2", memlint_argv(setup, corpus, *cold, "2"), "memlint", slow=True),
        Case("memlint-warm", memlint_argv(setup, corpus, *cached), "memlint", "unchanged", rewarm),
        Case(
            "memlint-edit-one",
            memlint_argv(setup, corpus, *cached),
            "memlint",
            f"after appending a comment to {EDITED}",
            edit_then(append_line(setup.corpus / EDITED, edits), leaves_stale=False),
            slow=True,  # while the facts digest covers every file's bytes, this re-lints everything
        ),
        Case(
            "memlint-one-file",
            memlint_argv(setup, str(typing_py), *cached),
            "one-file",
            f"{TYPING} just edited, the project's facts cached",
            edit_then(append_line(typing_py, edits), leaves_stale=True),
        ),
        Case(
            "memlint-one-file-nocache",
            memlint_argv(setup, str(typing_py), "--no-cache"),
            "one-file",
            "no cache: reads every file's facts",
            slow=True,
        ),
        Case("libcst-one-file", [sys.executable, "-c", LIBCST_ONE, str(typing_py)], "one-file"),
        Case(
            "ruff",
            [
                str(bin_dir / "ruff"),
                "check",
                "--no-cache",
                "--isolated",
                "--select",
                RUFF_SELECT,
                *quiet,
                corpus,
            ],
            "peer",
            f"--select {RUFF_SELECT}",
        ),
        Case(
            "flake8",
            [
                str(peer),
                "-m",
                "flake8",
                "--isolated",
                "--select",
                "B,C4",
                "--jobs",
                "1",
                "--exit-zero",
                corpus,
            ],
            "peer",
            "bugbear + comprehensions, --select B,C4, 1 process",
            slow=True,
        ),
        Case(
            "pylint",
            [str(peer), "-m", "pylint", "--disable=all", f"--enable={PYLINT_CHECKS}", *pylint_opts, corpus],
            "peer",
            PYLINT_CHECKS,
            slow=True,
        ),
        Case(
            "fixit",
            [str(peer), "-c", FIXIT_ONE_PROCESS, corpus],
            "peer",
            "default rules, one process (its API with parallel=False)",
            slow=True,
        ),
    ]


# -- running --------------------------------------------------------------------------------------


def measure(
    cases: list[Case], repeat: int, repeat_fast: int, cwd: Path, out_dir: Path, env: dict[str, str]
) -> None:
    """Round-robin: every case once per repetition, the starting case rotating; after ``repeat``
    repetitions only the fast cases go on."""
    total = max(repeat, repeat_fast)
    for rep in range(total):
        shift = rep % len(cases)
        for case in cases[shift:] + cases[:shift]:
            if case.slow and rep >= repeat:
                continue
            sample = run_once(case, cwd, out_dir, env)
            case.samples.append(sample)
            print(
                f"[{rep + 1}/{total}] {case.name:<26} {sample.wall:9.2f} s wall "
                f"{sample.cpu:9.2f} s cpu {sample.rss_mb:7.0f} MB",
                file=sys.stderr,
                flush=True,
            )


def findings_agree(cases: dict[str, Case]) -> str:
    """Every corpus-wide memlint run must print the same findings (the cache changes nothing)."""
    outputs = {}
    for name in ("memlint-cold-j1", "memlint-cold-j2", "memlint-warm", "memlint-edit-one"):
        case = cases.get(name)
        if case is not None and case.stdout is not None and case.stdout.exists():
            outputs[name] = sorted(case.stdout.read_text(errors="replace").splitlines())
    if not outputs:
        return "no memlint output to compare"
    reference = next(iter(outputs.values()))
    differ = [name for name, lines in outputs.items() if lines != reference]
    count = len(reference)
    if differ:
        return f"findings DIFFER between runs: {', '.join(differ)} vs {next(iter(outputs))}"
    return f"{count} output lines, identical across {', '.join(outputs)}"


# -- reporting --------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def results_table(cases: list[Case]) -> list[str]:
    by = {c.name: c for c in cases}

    def m(name: str, attr: str) -> float | None:
        return by[name].median(attr) if name in by else None

    parse, parse_cpu = m("libcst-parse", "wall"), m("libcst-parse", "cpu")
    one, one_cpu = m("libcst-one-file", "wall"), m("libcst-one-file", "cpu")
    rows = [
        "| run | wall (median) | CPU (median) | wall / LibCST parse | CPU / LibCST parse | "
        "peak RSS | runs | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        ref, ref_cpu = (one, one_cpu) if case.group == "one-file" else (parse, parse_cpu)
        walls = [s.wall for s in case.samples]
        spread = f"{len(walls)} ({min(walls):.2f}-{max(walls):.2f} s)" if walls else "0"
        wall, cpu = case.median("wall"), case.median("cpu")
        rows.append(
            f"| {case.name} | {fmt(wall, suffix=' s')} | {fmt(cpu, suffix=' s')} "
            f"| {fmt(ratio(wall, ref), '.3f')}x | {fmt(ratio(cpu, ref_cpu), '.3f')}x "
            f"| {fmt(case.median('rss_mb'), '.0f', ' MB')} | {spread} | {case.note} |"
        )
    return rows


@dataclass
class Target:
    label: str
    value: float | None
    limit: float
    unit: str = "x"

    def row(self) -> str:
        met = "n/a" if self.value is None else ("met" if self.value <= self.limit else "not met")
        value = fmt(self.value, ".3f" if self.unit == "x" else ".0f", self.unit if self.unit != "x" else "x")
        limit = f"{self.limit:g}{self.unit}"
        return f"| {self.label} | {value} | <= {limit} | {met} |"


def targets(cases: list[Case], attr: str = "wall") -> list[Target]:
    by = {c.name: c for c in cases}

    def m(name: str) -> float | None:
        return by[name].median(attr) if name in by else None

    cold = m("memlint-cold-j1")
    rss = [by[n].median("rss_mb") for n in by if by[n].group in ("memlint",)]
    return [
        Target("1. cold, 1 process / LibCST parse", ratio(cold, m("libcst-parse")), 1.2),
        Target("2. moonshot: cold / LibCST parse", ratio(cold, m("libcst-parse")), 0.5),
        Target("2. moonshot: cold / flake8 (B,C4)", ratio(cold, m("flake8")), 0.25),
        Target(
            "3. --jobs 2 / --jobs 1, cold (its CPU column: the pool's overhead)",
            ratio(m("memlint-cold-j2"), cold),
            0.6,
        ),
        Target("4. unchanged re-run / cold", ratio(m("memlint-warm"), cold), 0.03),
        Target("4. re-run after editing one file / cold", ratio(m("memlint-edit-one"), cold), 0.05),
        Target("4. moonshot: unchanged re-run / ruff --no-cache", ratio(m("memlint-warm"), m("ruff")), 1.0),
        Target(
            f"5. one file ({TYPING}) / its bare LibCST parse",
            ratio(m("memlint-one-file"), m("libcst-one-file")),
            1.3,
        ),
        Target(
            "6. peak RSS of one process, whole corpus",
            max((r for r in rss if r is not None), default=None),
            300,
            " MB",
        ),
    ]


def targets_table(cases: list[Case]) -> list[str]:
    rows = ["| target | measured (wall) | limit | verdict (wall) | measured (CPU) |", "|---|---|---|---|---|"]
    for wall, cpu in zip(targets(cases, "wall"), targets(cases, "cpu"), strict=True):
        cpu_value = "" if wall.unit != "x" else fmt(cpu.value, ".3f", "x")
        rows.append(wall.row() + f" {cpu_value} |")
    return rows


def machine() -> list[str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- CPU: {model or 'unknown'}; {os.cpu_count()} logical cores",
        f"- memory: {memory or 'unknown'}",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- load average when the run ended: {load}",
    ]


def git_state(module_file: str | None) -> str:
    """The commit of the checkout memlint is imported from, if it is one (an editable install)."""
    if module_file is None:
        return ""
    here = Path(module_file).resolve().parent.parent
    if not (here / ".git").exists():
        return ""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f", checkout {head}{' with uncommitted changes' if dirty else ''}"


def report(cases: list[Case], info: dict[str, str]) -> str:
    lines = ["## Machine", *machine(), "", "## Run"]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## Results", *results_table(cases), "", "## Targets", *targets_table(cases), ""]
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 3; 1 with --quick)")
    parser.add_argument(
        "--repeat-fast", type=int, default=5, help="repetitions of the cases that take seconds (default 5)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"~{QUICK_FILES} files of the corpus, 1 repetition"
    )
    parser.add_argument("--files", type=int, default=None, help="use this many files of the corpus")
    parser.add_argument("--peers-venv", type=Path, default=None, help="the peers' virtual environment")
    parser.add_argument("--only", help="comma-separated case names to run (default: all)")
    parser.add_argument("--skip", help="comma-separated case names to leave out")
    parser.add_argument("--markdown", type=Path, help="also write the report (Markdown) here")
    parser.add_argument("--json", type=Path, help="also write every sample (JSON) here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and outputs")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.quick and args.files is None:
        args.files = QUICK_FILES
    return args


def selected(cases: list[Case], args: argparse.Namespace) -> list[Case]:
    names = {c.name for c in cases}
    only = set(args.only.split(",")) if args.only else names
    skip = set(args.skip.split(",")) if args.skip else set()
    unknown = (only | skip) - names
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}")
    return [c for c in cases if c.name in only and c.name not in skip]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMLINT_")}
    env["PYTHONWARNINGS"] = "ignore"
    env["PYTHONSAFEPATH"] = "1"  # the corpus may be a standard library: never import from it
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import memlint
    from memlint import __version__
    from memlint.cache import code_fingerprint

    venv = peers_venv(args.peers_venv)
    files = corpus_files(args.corpus)
    if args.files:
        files = subset(files, args.files)
    work = Path(tempfile.mkdtemp(prefix="memlint-bench-"))
    try:
        corpus = work / "corpus"
        copy_corpus(args.corpus, files, corpus)
        file_list = work / "files.txt"
        file_list.write_text("".join(f"{corpus / f}\n" for f in files), encoding="utf-8")
        setup = Setup(corpus, file_list, work / "cache", venv, code_fingerprint)
        env = child_env()
        cases = selected(build_cases(setup, env), args)
        out_dir = work / "out"
        out_dir.mkdir()
        lines = sum(len((corpus / f).read_bytes().splitlines()) for f in files)
        info = {
            "command": "python bench/compare.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "corpus": f"{args.corpus} ({len(files)} files, {lines:,} lines), copied to a temporary folder",
            "repetitions": f"{args.repeat} (slow cases), {max(args.repeat, args.repeat_fast)} (the others)",
            "memlint": f"{__version__} from {Path(memlint.__file__).parent}{git_state(memlint.__file__)}",
            "peers": ", ".join(f"{k} {v}" for k, v in versions(venv_python(venv), PEERS).items()),
            "libcst (memlint's environment)": versions(Path(sys.executable), ("libcst",))["libcst"],
        }
        print(f"corpus: {info['corpus']}; work folder {work}", file=sys.stderr)
        started = time.time()
        measure(cases, args.repeat, args.repeat_fast, work, out_dir, env)
        info["measuring took"] = f"{time.time() - started:.0f} s"
        info["memlint findings check"] = findings_agree({c.name: c for c in cases})
        if len(set(setup.warm_fingerprint)) > 1:
            info["note"] = "memlint's code changed during the run; the cache was refilled (untimed)"
        text = report(cases, info)
        print(text)
        if args.markdown:
            args.markdown.write_text(text, encoding="utf-8")
        if args.json:
            data = {"info": info, "cases": {c.name: [vars(s) for s in c.samples] for c in cases}}
            args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
