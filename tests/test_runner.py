"""The runner: a worker that dies takes only its file with it; order is deterministic."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from memlint.engine import FileOptions, lint_source
from memlint.registry import rule_by_code
from memlint.rules import ALL_RULES

CRASHING_RUN = textwrap.dedent(
    """
    import os, signal, sys
    import libcst

    real = libcst.parse_module

    def parse(source, *args, **kwargs):
        if "CRASH_ME" in source:
            os.kill(os.getpid(), signal.SIGSEGV)  # what LibCST's native parser can do
        return real(source, *args, **kwargs)

    libcst.parse_module = parse
    from memlint.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)
GC = "import gc\n\n\ndef run():\n    gc.disable()\n    work()\n"


def test_a_crashing_worker_loses_only_its_file(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"m{i:02}.py").write_text(GC)
    (tmp_path / "m05.py").write_text(GC + "# CRASH_ME\n")
    script = tmp_path / "run.py"
    script.write_text(CRASHING_RUN)
    proc = subprocess.run(
        [sys.executable, str(script), "--select", "MEM401", "--jobs", "2", "--exclude", "run.py", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    reported = sorted(line.split(":")[0] for line in proc.stdout.splitlines() if "MEM401" in line)
    assert reported == [f"m{i:02}.py" for i in range(12) if i != 5]
    assert "m05.py" in proc.stderr and "crashed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_internal_error_in_a_rule_is_reported_for_that_file_only() -> None:
    rule = rule_by_code("MEM401")
    assert rule is not None

    class Broken(rule):  # type: ignore[valid-type, misc]
        def visit_Call(self, node: object) -> None:
            raise ZeroDivisionError("boom")

    outcome = lint_source("import gc\ngc.disable()\n", "x.py", FileOptions(rules=(Broken,)))
    assert outcome.diagnostics == []
    assert len(outcome.problems) == 1
    problem = outcome.problems[0]
    assert problem.severity == "error" and problem.rule == rule.CODE
    assert "ZeroDivisionError: boom" in problem.message and "Traceback" in (problem.traceback or "")


def test_valid_python_that_libcst_rejects_is_a_warning() -> None:
    # LibCST 1.9 rejects a parenthesised annotated target that CPython accepts.
    source = "import gc\n(pars): bool = True\ngc.disable()\n"
    compile(source, "x.py", "exec")
    outcome = lint_source(source, "x.py", FileOptions(rules=ALL_RULES))
    assert outcome.diagnostics == []
    assert [p.severity for p in outcome.problems] == ["warning"]
    assert "LibCST cannot parse" in outcome.problems[0].message


def test_too_deep_for_ast_is_a_warning_not_a_crash() -> None:
    outcome = lint_source("x = " + "a+" * 50000 + "a\n", "deep.py", FileOptions(rules=ALL_RULES))
    assert outcome.diagnostics == []
    if sys.version_info >= (3, 11):  # 3.11's ast refuses the depth (RecursionError); 3.10's parses it
        assert [p.severity for p in outcome.problems] == ["warning"]
    else:
        assert all(p.severity == "warning" for p in outcome.problems)
