"""MEM401: ``gc.disable()`` without a guaranteed ``gc.enable()``."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
import libcst.matchers as m

from memlint.rule import FixProposal, IndentLines, InsertLine, Rule, RuleContext, tracks_ancestors

@dataclass(frozen=True)
class _Call:
    node: cst.Call
    ancestry: tuple[cst.CSTNode, ...]  # outermost first: Module, statements, Finally, ...


@tracks_ancestors(
    "SimpleStatementLine", "If", "For", "While", "With", "Try", "TryStar", "Finally",
    "FunctionDef", "ClassDef", "Match", "MatchCase",
)
class GcDisableWithoutEnable(Rule):
    """
    ## What it does
    Checks for `gc.disable()` calls (in any import form: `import gc as g`, `from gc import
    disable`) that are not guaranteed to be undone by a `gc.enable()`.

    A re-enable is guaranteed when it sits in the `finally` clause of a `try` that covers the
    disabled section (also inside `if was_enabled:` in that `finally`), in the `__exit__` of a
    context manager whose `__enter__` disables, or when the code follows the pre-fork pattern the
    `gc` documentation recommends (`gc.disable()`, then `gc.freeze()` before forking, enabling in
    the child).

    ## Why is this bad?
    CPython frees most objects by reference counting, but objects in reference cycles are only
    reclaimed by the cyclic garbage collector. If an exception escapes between `gc.disable()` and
    `gc.enable()`, the collector stays off for the rest of the process and every cycle created
    from then on is never freed: the process grows without bound. A long-running service that
    creates one small cycle per request (a frame and an exception traceback are enough) leaks
    steadily.

    ## Example
    ```python
    import gc

    def load(path):
        gc.disable()
        data = parse(path)
        gc.enable()
        return data
    ```

    ## Use instead
    ```python
    import gc

    def load(path):
        gc.disable()
        try:
            data = parse(path)
        finally:
            gc.enable()
        return data
    ```
    Better still, restore the previous state so that nested sections and callers that disabled the
    collector themselves are respected:
    ```python
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data = parse(path)
    finally:
        if was_enabled:
            gc.enable()
    ```

    ## Fix safety
    The fix is safe. It applies only where a `gc.enable()` statement already follows the
    `gc.disable()` in the same block: the statements between them are wrapped in
    `try`/`finally` with the `gc.enable()` moved into the `finally`. On the normal path the code
    runs exactly as before; the only change is that the collector is also re-enabled when an
    exception (or a `return`, `break` or `continue`) leaves the section. No fix is offered when the
    section contains a multi-line string, whose content re-indenting would change.
    """

    CODE = "MEM401"
    NAME = "gc-disable-without-enable"
    SUMMARY = "`gc.disable()` without a guaranteed `gc.enable()`"
    FIX = FixAvailability.SOMETIMES
    PRESCREEN = ("disable",)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._calls: list[_Call] = []
        self._gc_names: set[str] = set()
        self._function_names: dict[str, str] = {}  # local name -> gc function name

    # -- imports and calls -------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == "gc":
                self._gc_names.add(alias.asname.name.value if alias.asname else "gc")  # type: ignore[union-attr]

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not (isinstance(node.module, cst.Name) and node.module.value == "gc" and not node.relative):
            return
        if isinstance(node.names, cst.ImportStar):
            for name in ("disable", "enable", "freeze"):
                self._function_names[name] = name
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name):
                local = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                self._function_names[local] = alias.name.value

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            if func.attr.value in ("disable", "enable", "freeze"):
                self._calls.append(_Call(node, (self.context.module, *self.ancestors)))
        elif isinstance(func, cst.Name):
            self._calls.append(_Call(node, (self.context.module, *self.ancestors)))

    def _gc_function(self, call: cst.Call) -> str | None:
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            return func.attr.value if func.value.value in self._gc_names else None
        if isinstance(func, cst.Name):
            return self._function_names.get(func.value)
        return None

    # -- analysis ----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._gc_names and not self._function_names:
            return
        by_kind: dict[str, list[_Call]] = {"disable": [], "enable": [], "freeze": []}
        for call in self._calls:
            kind = self._gc_function(call.node)
            if kind in by_kind:
                by_kind[kind].append(call)
        if not by_kind["disable"]:
            return
        enabling = {id(node) for call in by_kind["enable"] for node in call.ancestry}
        freezing_scopes = {id(_scope(call.ancestry)) for call in by_kind["freeze"]}
        for call in by_kind["disable"]:
            if id(_scope(call.ancestry)) in freezing_scopes:
                continue  # the documented pre-fork pattern: disable, freeze, fork, enable in the child
            if _guaranteed(call, enabling):
                continue
            self._report(call, enabling)

    def _report(self, call: _Call, enabling: set[int]) -> None:
        fix = self._wrap_fix(call, enabling)
        message = (
            "`gc.disable()` without a guaranteed `gc.enable()`: if an exception escapes, the "
            "collector stays off and reference cycles are never freed"
        )
        if fix is None:
            message += "; re-enable in a `finally` (or a context manager restoring `gc.isenabled()`)"
        self.report(call.node, message, fix)

    def _wrap_fix(self, call: _Call, enabling: set[int]) -> FixProposal | None:
        """Wrap ``disable(); A; B; enable()`` as ``disable(); try: A; B finally: enable()``."""
        stmt, parent = call.ancestry[-1], call.ancestry[-2] if len(call.ancestry) > 1 else None
        if not _is_bare_call_statement(stmt, call.node) or parent is None:
            return None
        siblings = _sequence_containing(parent, stmt)
        if siblings is None:
            return None
        index = next(i for i, s in enumerate(siblings) if s is stmt)
        enable_at = next((j for j in range(index + 1, len(siblings)) if id(siblings[j]) in enabling), None)
        if enable_at is None or enable_at == index + 1:
            return None
        enable_stmt = siblings[enable_at]
        if not _is_simple_enable(enable_stmt, enabling):
            return None
        section = siblings[index + 1 : enable_at]
        if any(_has_multiline_string(node) for node in (*section, enable_stmt)):
            return None
        unit = self.context.module.default_indent
        return FixProposal(
            Applicability.SAFE,
            "Move `gc.enable()` into a `finally` around the disabled section",
            (
                InsertLine(section[0], "try:"),
                IndentLines(section[0], section[-1], unit),
                InsertLine(enable_stmt, "finally:"),
                IndentLines(enable_stmt, enable_stmt, unit),
            ),
        )


def _has_multiline_string(node: cst.CSTNode) -> bool:
    """Re-indenting lines inside a multi-line string would change the string."""
    for found in m.findall(node, m.SimpleString() | m.FormattedString()):
        if isinstance(found, cst.SimpleString) and ("\n" in found.value or "\r" in found.value):
            return True
        if isinstance(found, cst.FormattedString) and found.start.endswith(('"""', "'''")):
            return True
    return False


def _scope(ancestry: tuple[cst.CSTNode, ...]) -> cst.CSTNode:
    for node in reversed(ancestry):
        if isinstance(node, (cst.FunctionDef, cst.Module)):
            return node
    return ancestry[0]


def _body(node: cst.CSTNode) -> list[cst.BaseStatement]:
    suite = getattr(node, "body", None)
    if isinstance(suite, cst.IndentedBlock):
        return list(suite.body)
    return []


def _sequences(node: cst.CSTNode) -> list[list[cst.BaseStatement]]:
    """Every statement list directly owned by ``node`` (body, else, handlers, finally...)."""
    if isinstance(node, cst.Module):
        return [list(node.body)]
    seqs = [_body(node)]
    orelse = getattr(node, "orelse", None)
    if isinstance(orelse, cst.Else):
        seqs.append(_body(orelse))
    for handler in getattr(node, "handlers", ()):
        seqs.append(_body(handler))
    final = getattr(node, "finalbody", None)
    if final is not None:
        seqs.append(_body(final))
    if isinstance(node, cst.Match):
        seqs.extend(_body(case) for case in node.cases)
    if isinstance(node, cst.MatchCase):
        seqs = [_body(node)]
    return seqs


def _sequence_containing(parent: cst.CSTNode, stmt: cst.CSTNode) -> list[cst.BaseStatement] | None:
    for seq in _sequences(parent):
        if any(s is stmt for s in seq):
            return seq
    return None


def _guaranteed(call: _Call, enabling: set[int]) -> bool:
    ancestry = call.ancestry
    for depth in range(len(ancestry) - 1, 0, -1):
        stmt, parent = ancestry[depth], ancestry[depth - 1]
        if isinstance(parent, (cst.Try, cst.TryStar)) and any(s is stmt for s in _body(parent)):
            if parent.finalbody is not None and id(parent.finalbody) in enabling:
                return True
        if isinstance(stmt, cst.Finally):
            continue
        seq = _sequence_containing(parent, stmt)
        if seq is not None:
            index = next(i for i, s in enumerate(seq) if s is stmt)
            for later in seq[index + 1 :]:
                if isinstance(later, (cst.Try, cst.TryStar)) and later.finalbody is not None:
                    if id(later.finalbody) in enabling:
                        return True
        if isinstance(parent, cst.FunctionDef) and parent.name.value in ("__enter__", "__aenter__"):
            if _exit_enables(ancestry[depth - 2] if depth >= 2 else None, enabling):
                return True
    return False


def _exit_enables(cls: cst.CSTNode | None, enabling: set[int]) -> bool:
    if not isinstance(cls, cst.ClassDef):
        return False
    return any(
        isinstance(s, cst.FunctionDef) and s.name.value in ("__exit__", "__aexit__") and id(s) in enabling
        for s in _body(cls)
    )


def _is_bare_call_statement(stmt: cst.CSTNode, call: cst.Call) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and stmt.body[0].value is call
    )


def _is_simple_enable(stmt: cst.CSTNode, enabling: set[int]) -> bool:
    if isinstance(stmt, cst.SimpleStatementLine):
        return len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
    return isinstance(stmt, cst.If) and stmt.orelse is None
