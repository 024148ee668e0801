"""The flake8 plugin, through a real ``flake8`` subprocess on temporary projects.

Findings must be the CLI's (same rules, same positions), with flake8 owning selection, ``# noqa``,
``--per-file-ignores`` and syntax errors (E999), and the plugin never aborting flake8's run.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

import memlint
from memlint.registry import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
FORMAT = "%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
GC_UNGUARDED = "import gc\n\n\ndef run():\n    gc.disable()\n    work()\n"
GC_FIXABLE = (
    "import gc\n\n\ndef load(path):\n"
    "    gc.disable()\n    data = parse(path)\n    gc.enable()\n    return data\n"
)
_FIX_SUFFIX = re.compile(r" \[(safe|unsafe|display-only) fix\]$")


@dataclass
class Completed:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def _run(argv: list[str], cwd: Path, stdin: bytes | None = None) -> Completed:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        argv, cwd=cwd, input=stdin if stdin is not None else b"", capture_output=True, env=env, timeout=300
    )
    return Completed(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def flake8(*args: str, cwd: Path, stdin: bytes | None = None) -> Completed:
    """``flake8`` with an explicit output format and no user or project flake8 configuration."""
    return _run([sys.executable, "-m", "flake8", "--isolated", f"--format={FORMAT}", *args], cwd, stdin)


def memlint_json(*args: str, cwd: Path) -> list[dict[str, object]]:
    result = _run([sys.executable, "-m", "memlint", "--output-format", "json", *args], cwd)
    assert result.code in (0, 1), result.err
    data: list[dict[str, object]] = json.loads(result.out)
    return data


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def as_flake8_line(item: dict[str, object], root: Path) -> str:
    """A CLI JSON finding as flake8 prints it for a run on ``.``."""
    location = item["location"]
    assert isinstance(location, dict)
    rel = Path(str(item["filename"])).relative_to(root).as_posix()
    return f"./{rel}:{location['row']}:{location['column']}: {item['code']} {item['message']}"


@pytest.fixture(scope="module")
def gc_message(tmp_path_factory: pytest.TempPathFactory) -> str:
    """MEM401's message for ``GC_UNGUARDED``, as the CLI reports it."""
    root = tmp_path_factory.mktemp("message")
    write(root, "a.py", GC_UNGUARDED)
    (item,) = memlint_json("--select", "MEM401", "a.py", cwd=root)
    return str(item["message"])


# -- the same findings as the fixture goldens ---------------------------------------------------


def _parses_here(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


def _golden_cases() -> dict[str, list[Path]]:
    """Single-file fixture cases of registered rules that run with default options, per code."""
    codes = {rule.CODE for rule in all_rules()}
    cases: dict[str, list[Path]] = {}
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name in codes):
        for case in sorted(folder.glob("*.py")):
            if ".fixed" in case.name or not case.with_suffix(".findings").is_file():
                continue
            source = case.read_text(encoding="utf-8")
            if re.search(r"^#\s*fixture:", source, re.MULTILINE):
                continue  # per-case options or paths: the harness's own business
            if not _parses_here(source):
                continue  # newer grammar than this interpreter's: flake8 reports E999 only
            cases.setdefault(folder.name, []).append(case)
    return cases


@pytest.mark.parametrize("code", sorted(_golden_cases()))
def test_fixture_goldens_through_flake8(tmp_path: Path, code: str) -> None:
    # The harness lints each case with the rule alone, preview allowed and target 3.14, judging
    # "is this a test file?" by the case's own name (fixtures live under tests/, cases do not);
    # copies under a neutral folder and the same settings make the plugin see the same files.
    write(
        tmp_path,
        "pyproject.toml",
        f'[tool.memlint]\nselect = ["{code}"]\npreview = true\ntarget-version = "py314"\n',
    )
    expected = []
    for case in _golden_cases()[code]:
        rel = f"cases/{code}/{case.name}"
        write(tmp_path, rel, case.read_text(encoding="utf-8"))
        golden = case.with_suffix(".findings").read_text(encoding="utf-8").splitlines()
        expected += [_FIX_SUFFIX.sub("", line).replace(case.name, rel, 1) for line in golden if line.strip()]
    result = flake8("--select", "MEM", "cases", cwd=tmp_path)
    assert result.err == ""
    assert sorted(result.lines) == sorted(expected)
    assert result.code == (1 if expected else 0)


# -- selection, parallelism, noqa ---------------------------------------------------------------


def _project(root: Path, count: int) -> list[Path]:
    files = [
        write(root, f"pkg/mod{i:02d}.py", GC_UNGUARDED if i % 2 == 0 else GC_FIXABLE) for i in range(count)
    ]
    write(root, "pkg/clean.py", "VALUE = 1\n")
    return files


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_several_files_match_the_cli_exactly(tmp_path: Path, jobs: str, gc_message: str) -> None:
    files = _project(tmp_path, 10)
    before = {p: p.read_bytes() for p in files}
    result = flake8("-j", jobs, "--select", "MEM", ".", cwd=tmp_path)
    expected = [f"./pkg/mod{i:02d}.py:5:5: MEM401 {gc_message}" for i in range(0, 10, 2)]
    cli = [as_flake8_line(item, tmp_path) for item in memlint_json(".", cwd=tmp_path)]
    fixable = [line for line in cli if line not in expected]
    assert len(fixable) == 5 and all(":5:5: MEM401 " in line for line in fixable)
    assert result.lines == sorted(expected + fixable)
    assert (result.code, result.err) == (1, "")
    assert {p: p.read_bytes() for p in files} == before  # the plugin never fixes


def test_flake8_selection_filters_on_top(tmp_path: Path, gc_message: str) -> None:
    write(tmp_path, "a.py", GC_UNGUARDED)
    everything = flake8("a.py", cwd=tmp_path)
    assert everything.lines == [f"a.py:5:5: MEM401 {gc_message}", "a.py:6:5: F821 undefined name 'work'"]
    assert flake8("--select", "MEM", "a.py", cwd=tmp_path).lines == [f"a.py:5:5: MEM401 {gc_message}"]
    assert flake8("--select", "F", "a.py", cwd=tmp_path).lines == ["a.py:6:5: F821 undefined name 'work'"]
    ignored = flake8("--extend-ignore", "MEM401", "a.py", cwd=tmp_path)
    assert ignored.lines == ["a.py:6:5: F821 undefined name 'work'"]
    per_file = flake8("--per-file-ignores", "a.py:MEM4", "a.py", cwd=tmp_path)
    assert per_file.lines == ["a.py:6:5: F821 undefined name 'work'"]


def test_noqa_is_flake8s(tmp_path: Path, gc_message: str) -> None:
    source = GC_UNGUARDED.replace("gc.disable()", "gc.disable()  # noqa: {codes}")
    write(tmp_path, "specific.py", source.format(codes="MEM401"))
    write(tmp_path, "prefix.py", source.format(codes="MEM4"))
    write(tmp_path, "other.py", source.format(codes="E501"))
    write(tmp_path, "bare.py", GC_UNGUARDED.replace("gc.disable()", "gc.disable()  # noqa"))
    # memlint's own file-level directives are memlint's, and hold inside flake8 too.
    write(tmp_path, "skipped.py", "# memlint: noqa\n" + GC_UNGUARDED)
    write(tmp_path, "file_codes.py", "# memlint: noqa: MEM401\n" + GC_UNGUARDED)
    result = flake8("--select", "MEM", ".", cwd=tmp_path)
    # flake8 matches noqa codes by prefix too ("MEM4" covers MEM401); E501 does not cover MEM401.
    assert result.lines == [f"./other.py:5:5: MEM401 {gc_message}"]


# -- configuration from pyproject.toml ----------------------------------------------------------


def test_tool_memlint_selection_and_per_file_ignores(tmp_path: Path, gc_message: str) -> None:
    write(tmp_path, "app/a.py", GC_UNGUARDED)
    write(tmp_path, "legacy/b.py", GC_UNGUARDED)
    write(tmp_path, "pyproject.toml", '[tool.memlint]\nper-file-ignores = { "legacy/*" = ["MEM401"] }\n')
    assert flake8("--select", "MEM", ".", cwd=tmp_path).lines == [f"./app/a.py:5:5: MEM401 {gc_message}"]
    write(tmp_path, "pyproject.toml", '[tool.memlint]\nignore = ["MEM4"]\n')
    silenced = flake8("--select", "MEM", ".", cwd=tmp_path)
    assert (silenced.code, silenced.out, silenced.err) == (0, "", "")
    # A nearer configuration wins for the files under it, as with the CLI.
    write(tmp_path, "legacy/pyproject.toml", '[tool.memlint]\nselect = []\nextend-select = ["MEM401"]\n')
    assert flake8("--select", "MEM", ".", cwd=tmp_path).lines == [f"./legacy/b.py:5:5: MEM401 {gc_message}"]


@pytest.mark.parametrize(
    "table",
    [
        "[tool.memlint]\nselect = 3\n",
        '[tool.memlint]\nselect = ["MEM999"]\n',
        "[tool.memlint]\nno-such-key = true\n",
        "[tool.memlint\nbroken toml",
        "[tool.memlint.gc-disable-without-enable]\nno-such-option = 1\n",
    ],
    ids=["wrong-type", "unknown-code", "unknown-key", "invalid-toml", "unknown-rule-option"],
)
def test_bad_configuration_warns_once_and_uses_defaults(tmp_path: Path, table: str, gc_message: str) -> None:
    """With ``-j 2`` (several processes), still exactly one warning."""
    for i in range(4):
        write(tmp_path, f"m{i}.py", GC_UNGUARDED)
    write(tmp_path, "pyproject.toml", table)
    result = flake8("-j", "2", "--select", "MEM", ".", cwd=tmp_path)
    assert result.lines == [f"./m{i}.py:5:5: MEM401 {gc_message}" for i in range(4)]
    (warning,) = result.err.splitlines()
    assert warning.startswith(f"memlint: warning: {tmp_path / 'pyproject.toml'}")
    assert warning.endswith("; using the default settings")
    assert result.code == 1


def test_rule_option_from_pyproject_changes_a_finding(tmp_path: Path) -> None:
    rule = next((r for r in all_rules() if r.CODE == "MEM101"), None)
    if rule is None:
        pytest.skip("MEM101 (the rule with an option) is not registered yet")
    source = "for item in list(range(50)):\n    print(item)\n"
    write(tmp_path, "a.py", source)
    default = flake8("--select", "MEM", "a.py", cwd=tmp_path)
    assert (default.code, default.out, default.err) == (0, "", "")
    write(tmp_path, "pyproject.toml", "[tool.memlint.list-materialized-once]\nmin-known-length = 10\n")
    lowered = flake8("--select", "MEM", "a.py", cwd=tmp_path)
    cli = [as_flake8_line(item, tmp_path)[2:] for item in memlint_json("a.py", cwd=tmp_path)]
    assert len(cli) == 1 and cli[0].startswith("a.py:1:13: MEM101 ")
    assert (lowered.lines, lowered.err) == (cli, "")


def test_project_facts_come_from_the_file_alone(tmp_path: Path) -> None:
    """flake8 checks files one by one: a MEM301 cycle split across two modules is the CLI's to
    find; within one module the plugin finds it too."""
    if "MEM301" not in {rule.CODE for rule in all_rules()}:
        pytest.skip("MEM301 (a rule with project-wide facts) is not registered")
    shape = "class Shape:\n    def __init__(self, group):\n        self.group = group\n"
    group = (
        "class Group:\n    def __init__(self):\n        self.shapes = []\n\n"
        "    def add(self):\n        self.shapes.append(Shape(self))\n"
    )
    write(tmp_path, "split/shape.py", shape)
    write(tmp_path, "split/group.py", "from shape import Shape\n\n\n" + group)
    write(tmp_path, "single/model.py", shape + "\n\n" + group)
    result = flake8("--select", "MEM", ".", cwd=tmp_path)
    (line,) = result.lines
    assert line.startswith("./single/model.py:3:9: MEM301 `self.group = group`")
    cli = [as_flake8_line(item, tmp_path) for item in memlint_json("--select", "MEM301", ".", cwd=tmp_path)]
    assert [c.split(" MEM301 ")[0] for c in cli] == ["./single/model.py:3:9:", "./split/shape.py:3:9:"]


# -- syntax errors, crashes, stdin, version -----------------------------------------------------


def test_syntax_error_is_flake8s_e999_only(tmp_path: Path, gc_message: str) -> None:
    write(tmp_path, "broken.py", "import gc\ngc.disable()\ndef f(:\n")
    write(tmp_path, "py2.py", 'print "hello"\n')
    write(tmp_path, "ok.py", GC_UNGUARDED)
    for jobs in ("1", "2"):
        result = flake8("-j", jobs, "--select", "E999,MEM", ".", cwd=tmp_path)
        # E999's column is flake8's own business (it changed across flake8 versions).
        broken, ok, py2 = result.lines
        assert re.fullmatch(r"\./broken\.py:3:\d+: E999 SyntaxError: invalid syntax", broken)
        assert ok == f"./ok.py:5:5: MEM401 {gc_message}"
        assert re.fullmatch(
            r"\./py2\.py:1:\d+: E999 SyntaxError: Missing parentheses in call to 'print'.*", py2
        )
        assert (result.code, result.err) == (1, "")


def test_an_internal_error_never_aborts_flake8(tmp_path: Path) -> None:
    """A crash inside memlint costs that file's MEM findings, not flake8's run."""
    write(tmp_path, "a.py", GC_UNGUARDED)
    script = (
        "import sys, memlint.engine\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('injected')\n"
        "memlint.engine.lint_source = boom\n"
        "from flake8.main.cli import main\n"
        f"sys.exit(main(['--isolated', '--format={FORMAT}', '-j', '1', 'a.py']))\n"
    )
    result = _run([sys.executable, "-c", script], tmp_path)
    assert result.lines == ["a.py:6:5: F821 undefined name 'work'"]
    assert result.err.splitlines() == [
        "memlint: error: a.py: internal error: RuntimeError: injected; file skipped"
    ]
    assert result.code == 1


def test_stdin_uses_the_display_names_configuration(tmp_path: Path, gc_message: str) -> None:
    """Editors pipe the unsaved buffer with ``--stdin-display-name``; config comes from that path."""
    write(tmp_path, "legacy/pyproject.toml", '[tool.memlint]\nignore = ["MEM401"]\n')
    args = ("--select", "MEM", "--stdin-display-name")
    checked = flake8(*args, "app/a.py", "-", cwd=tmp_path, stdin=GC_UNGUARDED.encode())
    assert checked.lines == [f"app/a.py:5:5: MEM401 {gc_message}"]
    ignored = flake8(*args, "legacy/a.py", "-", cwd=tmp_path, stdin=GC_UNGUARDED.encode())
    assert (ignored.code, ignored.out, ignored.err) == (0, "", "")


def test_version_lists_memlint(tmp_path: Path) -> None:
    result = flake8("--version", cwd=tmp_path)
    assert result.code == 0
    # flake8 >= 5 names a plugin by its distribution; the version must be memlint's own.
    assert metadata.version("pymemlint") == memlint.__version__
    assert f"pymemlint: {memlint.__version__}" in result.out.splitlines()[0]
