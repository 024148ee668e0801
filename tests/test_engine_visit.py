"""How the engine runs the rules over a tree: LibCST's traversal only when a rule needs it,
metadata through a ``MetadataWrapper`` when a rule declares it, positions either way."""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from memlint import engine
from memlint.diagnostics import Location
from memlint.engine import FileOptions, lint_source
from memlint.rule import Rule

SOURCE = "import gc\n\n\ndef f(x):\n    return g(x)\n\n\nclass A:\n    y = h(1)\n"


class ModuleOnly(Rule):
    """Test rule: does its work in ``leave_Module`` (as MEM301 and the gc rules do)."""

    CODE = "MEM991"
    NAME = "module-only"
    SUMMARY = "test rule"
    calls: ClassVar[list[str]] = []

    def visit_Module(self, node: cst.Module) -> None:
        self.calls.append(f"visit {self.CODE}")

    def leave_Module(self, original_node: cst.Module) -> None:
        self.calls.append(f"leave {self.CODE}")
        assert original_node is self.context.module
        last = original_node.body[-1]
        assert isinstance(last, cst.ClassDef)
        self.report(last.name, "class")


class LeaveOnly(ModuleOnly):
    CODE = "MEM992"
    NAME = "leave-only"

    visit_Module = cst.BatchableCSTVisitor.visit_Module  # LibCST's no-op stub: not a callback


class CallRule(Rule):
    """Test rule with a callback below the module: needs the traversal."""

    CODE = "MEM993"
    NAME = "call-rule"
    SUMMARY = "test rule"

    def visit_Call(self, node: cst.Call) -> None:
        self.report(node.func, "call")


class MetadataRule(Rule):
    """Test rule reading positions itself: goes through a ``MetadataWrapper``."""

    CODE = "MEM994"
    NAME = "metadata-rule"
    SUMMARY = "test rule"
    METADATA_DEPENDENCIES = (PositionProvider,)
    seen: ClassVar[list[int]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.seen.append(self.get_metadata(PositionProvider, node).start.line)
        self.report(node, "call")


def _lint(*rules: type[Rule]) -> list[tuple[str | None, Location, Location]]:
    outcome = lint_source(SOURCE, "x.py", FileOptions(rules=rules, prescreen=False))
    assert not outcome.problems, outcome.problems
    return [(d.code, d.location, d.end_location) for d in outcome.diagnostics]


@pytest.fixture
def no_traversal(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts LibCST traversals (``cst.visit_batched`` as the engine calls it)."""
    traversals: list[int] = []
    real = cst.visit_batched

    def counting(*args: Any, **kwargs: Any) -> Any:
        traversals.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine.cst, "visit_batched", counting)
    ModuleOnly.calls = []
    return traversals


def test_module_only_rules_are_called_without_a_traversal(no_traversal: list[int]) -> None:
    class_name = (Location(8, 7), Location(8, 8))
    assert _lint(ModuleOnly, LeaveOnly) == [("MEM991", *class_name), ("MEM992", *class_name)]
    assert no_traversal == []
    # visit_batched's order: every visitor's visit_Module, then every visitor's leave_Module.
    assert ModuleOnly.calls == ["visit MEM991", "leave MEM991", "leave MEM992"]


def test_one_rule_below_the_module_means_one_traversal_for_all(no_traversal: list[int]) -> None:
    found = _lint(ModuleOnly, CallRule)
    assert no_traversal == [1]
    assert sorted(code for code, _, _ in found) == ["MEM991", "MEM993", "MEM993"]
    assert ModuleOnly.calls == ["visit MEM991", "leave MEM991"]


def test_same_findings_with_and_without_the_traversal(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = _lint(ModuleOnly, LeaveOnly)
    monkeypatch.setattr(engine, "_module_only", lambda rule, instance: False)
    assert _lint(ModuleOnly, LeaveOnly) == direct


def test_rules_with_metadata_keep_the_wrapper_and_its_positions() -> None:
    MetadataRule.seen = []
    found = _lint(MetadataRule, CallRule)
    assert MetadataRule.seen == [5, 9]
    assert ("MEM994", Location(5, 12), Location(5, 16)) in found
    assert ("MEM993", Location(9, 9), Location(9, 10)) in found
    assert len(found) == 4
