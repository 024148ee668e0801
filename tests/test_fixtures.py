"""Every rule against its fixtures: expected findings, expected fixed source, safe fix output."""

from __future__ import annotations

import ast
import os
import shutil
import sys
from pathlib import Path

import libcst
import pytest

from memlint.registry import all_rules
from memlint.rule import Rule
from memlint.testing import count_cases, run_case

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = os.environ.get("MEMLINT_UPDATE_FIXTURES") == "1"


def _cases() -> list[tuple[type[Rule], Path]]:
    out = []
    for rule in all_rules():
        folder = FIXTURES / rule.CODE
        if not folder.is_dir():
            continue
        for case in sorted(folder.iterdir()):
            if case.suffix == ".findings" or ".fixed" in case.name or case.name.startswith("_"):
                continue
            if case.is_dir() or case.suffix == ".py":
                out.append((rule, case))
    return out


def _stem(case: Path) -> Path:
    return case.with_suffix("") if case.suffix == ".py" else case


@pytest.mark.parametrize(("rule", "case"), _cases(), ids=lambda v: v.name if isinstance(v, Path) else v.CODE)
def test_fixture(rule: type[Rule], case: Path) -> None:
    result = run_case(rule, case)
    assert not result.problems, result.problems
    findings_file = _stem(case).with_name(_stem(case).name + ".findings")
    fixed_target = _stem(case).with_name(_stem(case).name + (".fixed" if case.is_dir() else ".fixed.py"))
    if UPDATE:
        findings_file.write_text("".join(f + "\n" for f in result.findings), encoding="utf-8")
        if fixed_target.is_dir():
            shutil.rmtree(fixed_target)
        elif fixed_target.exists():
            fixed_target.unlink()
        if result.fixed:
            if case.is_dir():
                for rel, text in result.fixed.items():
                    (fixed_target / rel).parent.mkdir(parents=True, exist_ok=True)
                    (fixed_target / rel).write_text(text, encoding="utf-8")
            else:
                fixed_target.write_text(next(iter(result.fixed.values())), encoding="utf-8")
    expected = findings_file.read_text(encoding="utf-8").splitlines()
    assert result.findings == expected
    if case.name.startswith("ok_"):
        assert not result.findings, "ok_* fixtures must not produce findings"
    if result.fixed:
        for rel, text in result.fixed.items():
            compile(text, rel, "exec", dont_inherit=True)
            want = fixed_target / rel if case.is_dir() else fixed_target
            assert text == want.read_text(encoding="utf-8"), f"fixed output of {rel} differs"
        assert result.second_pass_fixes == 0, "fixing the fixed output changed it again"
    else:
        assert not fixed_target.exists(), "expected a fix, none was applied"
    fixable = any(f.endswith(("[safe fix]", "[unsafe fix]")) for f in result.findings)
    assert fixable == bool(result.fixed)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.CODE)
def test_every_rule_has_enough_fixtures(rule: type[Rule]) -> None:
    folder = FIXTURES / rule.CODE
    assert folder.is_dir(), f"no fixtures for {rule.CODE}"
    positives, negatives = count_cases(folder)
    assert positives >= 10, f"{rule.CODE}: only {positives} positive findings in fixtures"
    assert negatives >= 10, f"{rule.CODE}: only {negatives} '# ok:' must-not-flag cases"


def test_fixture_files_parse() -> None:
    for path in FIXTURES.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        try:
            ast.parse(source, filename=str(path))
        except SyntaxError:
            if sys.version_info >= (3, 11):
                raise
            libcst.parse_module(source)  # newer grammar (except*, ...) than this interpreter's
