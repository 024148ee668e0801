"""Engine details that rules rely on: rendering replacements in place, imports, edit kinds."""

from __future__ import annotations

import libcst as cst

from memlint.diagnostics import Applicability
from memlint.engine import FileOptions, lint_source, render_at
from memlint.fixer import FixPolicy, fix_source
from memlint.rule import AddImport, FixProposal, Replace, Rule


class RenameCalls(Rule):
    """Test rule: rename calls of ``old`` to ``new`` (a multi-line node replacement) and import a
    module, to exercise node rendering and AddImport through the real fix loop."""

    CODE = "MEM999"
    NAME = "rename-calls"
    SUMMARY = "test rule"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "old":
            fix = FixProposal(
                Applicability.SAFE,
                "rename",
                (Replace(node, node.with_changes(func=cst.Name("new"))), AddImport("weakref")),
            )
            self.report(node, "old call", fix)


def _fix(source: str) -> str:
    options = FileOptions(rules=(RenameCalls,))

    def lint(text: str) -> tuple[list, list]:  # type: ignore[type-arg]
        outcome = lint_source(text, "x.py", options)
        return outcome.diagnostics, outcome.problems

    result = fix_source(source, "x.py", lint, FixPolicy(fixable=("MEM",)))
    assert not result.problems
    return result.source


def test_multiline_replacement_keeps_the_blocks_indentation() -> None:
    source = (
        '"""Doc."""\n\n\ndef f():\n    if y:\n        x = old(\n'
        "            a,  # keep\n            b,\n        )\n"
    )
    assert _fix(source) == (
        '"""Doc."""\nimport weakref\n\n\ndef f():\n    if y:\n        x = new(\n'
        "            a,  # keep\n            b,\n        )\n"
    )


def test_add_import_is_not_repeated_and_respects_existing_imports() -> None:
    source = "import os\nimport weakref\n\nold(1)\n"
    assert _fix(source) == "import os\nimport weakref\n\nnew(1)\n"
    assert _fix("old(1)\n") == "import weakref\nnew(1)\n"


def test_render_at_single_line_is_plain_code() -> None:
    module = cst.parse_module("def f():\n    return old(1)\n")
    call = module.body[0].body.body[0].body[0].value  # type: ignore[attr-defined]
    assert render_at(module, call, call.with_changes(func=cst.Name("new"))) == "new(1)"


def test_crlf_file_fix_keeps_crlf() -> None:
    source = "def f():\r\n    x = old(\r\n        a,\r\n    )\r\n"
    fixed = _fix(source)
    assert "\n" not in fixed.replace("\r\n", "")
    assert "new(\r\n        a,\r\n    )" in fixed
