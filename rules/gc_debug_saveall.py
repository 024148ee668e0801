"""MEM403: ``gc.set_debug(...)`` with ``DEBUG_SAVEALL`` (or ``DEBUG_LEAK``) outside tests."""

from __future__ import annotations

import libcst as cst

from memlint.config import is_test_path
from memlint.rules._gc_calls import GcCall, GcFile, GcRule, descendants, literal_int

#: The debug flags of the gc module (stable since Python 2.x).
_FLAGS = {
    "DEBUG_STATS": 1,
    "DEBUG_COLLECTABLE": 2,
    "DEBUG_UNCOLLECTABLE": 4,
    "DEBUG_SAVEALL": 32,
    "DEBUG_LEAK": 38,
}
_SAVEALL = _FLAGS["DEBUG_SAVEALL"]
#: Words in an ``if`` test that make the call an opt-in debugging switch.
_SWITCH_WORDS = ("debug", "leak")


class GcDebugSaveall(GcRule):
    """
    ## What it does
    Checks for `gc.set_debug(...)` calls whose flags include `gc.DEBUG_SAVEALL` or
    `gc.DEBUG_LEAK` (which contains it) outside tests: the flag names in any import form,
    `|` combinations such as `gc.get_debug() | gc.DEBUG_SAVEALL`, and integer masks with bit 32
    set (`gc.set_debug(32)`, `gc.set_debug(0x26)`).

    Tests are `test_*.py`, `*_test.py`, `conftest.py` and files under `tests/` or `test/`. Not
    flagged either: a call inside an `if` whose test names a debugging switch (a name, attribute
    or string containing "debug" or "leak", such as `if args.debug_gc:`), and a leak-inspection
    helper that, later in the same function, restores flags without `DEBUG_SAVEALL` and empties
    `gc.garbage` (`gc.garbage.clear()` or `del gc.garbage[:]`).

    ## Why is this bad?
    With `DEBUG_SAVEALL`, every object the collector finds unreachable is appended to
    `gc.garbage` instead of being freed, so each collection makes the leak it was meant to find:
    on CPython 3.11 a loop creating 1,000,000 two-object cycles ends holding 169 MiB in
    2,000,000 `gc.garbage` entries, against nothing with the default flags (`tracemalloc`). The
    flag is a debugging aid; left in production code, memory grows for as long as the process
    runs. Rebinding `gc.garbage = []` does not help: the collector keeps appending to the
    original list.

    ## Example
    ```python
    import gc

    def configure_gc():
        gc.set_threshold(700, 10, 10)
        gc.set_debug(gc.DEBUG_SAVEALL)  # "keep objects for analysis"
    ```

    ## Use instead
    ```python
    import gc

    def configure_gc():
        gc.set_threshold(700, 10, 10)
    ```
    To look for cycles, do it in a test or a scoped helper that restores the flags and empties
    `gc.garbage`:
    ```python
    def cyclic_garbage():
        flags = gc.get_debug()
        gc.set_debug(flags | gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            found = [type(o).__name__ for o in gc.garbage]
        finally:
            gc.set_debug(flags)
            gc.garbage.clear()
        return found
    ```

    ## Fix safety
    No fix is offered: whether the flag should be removed, guarded by a debugging switch or moved
    into a test is the author's decision.
    """

    CODE = "MEM403"
    NAME = "gc-debug-saveall"
    SUMMARY = "`gc.set_debug()` with `DEBUG_SAVEALL` outside tests"
    PRESCREEN = ("set_debug",)
    TRIGGERS = frozenset({"set_debug"})

    def check(self, gc: GcFile) -> None:
        if self.context.is_test_file or is_test_path(self.context.path):
            return
        constants = _module_constants(gc.module)
        for call in gc.calls:
            if call.kind != "call" or call.function != "set_debug" or not _saves_all(gc, call, constants):
                continue
            if _under_debug_switch(gc, call.node) or _inspects_and_cleans_up(gc, call, constants):
                continue
            what = f"{_callee(self.code_for(call.node.func))} with {_flag_named(gc, call)}"
            self.report(
                call.node,
                f"{what} outside tests: every object the collector finds unreachable is kept in "
                "`gc.garbage` instead of being freed, so memory grows with every collection",
            )


def _callee(written: str) -> str:
    return "`gc.set_debug()`" if written == "gc.set_debug" else f"`{written}()` (`gc.set_debug()`)"


def _flag_named(gc: GcFile, call: GcCall) -> str:
    """How the call asks for SAVEALL, in the user's terms."""
    expressions = (n for n in descendants(call.args[0].value) if isinstance(n, cst.BaseExpression))
    named = {gc.gc_name(node, call.node) for node in expressions}
    if "DEBUG_SAVEALL" in named:
        return "`DEBUG_SAVEALL`"
    if "DEBUG_LEAK" in named:
        return "`DEBUG_LEAK` (which includes `DEBUG_SAVEALL`)"
    return "flags including `DEBUG_SAVEALL` (32)"


def _saves_all(gc: GcFile, call: GcCall, constants: dict[str, cst.BaseExpression]) -> bool:
    if not call.args or call.args[0].star or call.args[0].keyword is not None:
        return False
    return bool(_Flags(gc, call.node, constants).definitely_set(call.args[0].value) & _SAVEALL)


class _Flags:
    """Bits an expression certainly sets: exact for constants, a lower bound through ``|``."""

    def __init__(self, gc: GcFile, at: cst.CSTNode, constants: dict[str, cst.BaseExpression]) -> None:
        self._gc = gc
        self._at = at
        self._constants = constants

    def definitely_set(self, expr: cst.BaseExpression, depth: int = 0) -> int:
        exact = self.exact(expr, depth)
        if exact is not None:
            return exact
        if isinstance(expr, cst.BinaryOperation) and depth < 20:
            left = self.definitely_set(expr.left, depth + 1)
            right = self.definitely_set(expr.right, depth + 1)
            if isinstance(expr.operator, cst.BitOr):
                return left | right
            if isinstance(expr.operator, cst.BitAnd):
                return left & right
        return 0

    def exact(self, expr: cst.BaseExpression, depth: int = 0) -> int | None:
        if depth > 20:
            return None
        value = literal_int(expr)
        if value is not None:
            return value
        name = self._gc.gc_name(expr, self._at)
        if name is not None:
            return _FLAGS.get(name)
        if isinstance(expr, cst.Name) and expr.value in self._constants:
            return self.exact(self._constants[expr.value], depth + 1)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.BitInvert):
            inner = self.exact(expr.expression, depth + 1)
            return None if inner is None else ~inner
        if isinstance(expr, cst.BinaryOperation):
            left, right = self.exact(expr.left, depth + 1), self.exact(expr.right, depth + 1)
            if left is not None and right is not None:
                return _combine(expr.operator, left, right)
        return None


def _combine(operator: cst.BaseBinaryOp, left: int, right: int) -> int | None:
    if isinstance(operator, cst.BitOr):
        return left | right
    if isinstance(operator, cst.BitAnd):
        return left & right
    if isinstance(operator, cst.BitXor):
        return left ^ right
    if isinstance(operator, cst.Add):
        return left + right
    return None


def _module_constants(module: cst.Module) -> dict[str, cst.BaseExpression]:
    """Module-level names assigned exactly once: ``FLAGS = gc.DEBUG_SAVEALL``."""
    seen: dict[str, cst.BaseExpression] = {}
    repeated: set[str] = set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    if target.value in seen:
                        repeated.add(target.value)
                    seen[target.value] = small.value
    return {name: value for name, value in seen.items() if name not in repeated}


def _under_debug_switch(gc: GcFile, call: cst.Call) -> bool:
    """Inside the body (not the ``else``) of an ``if`` testing a debugging switch."""
    child: cst.CSTNode = call
    node = gc.parent(call)
    while node is not None:
        if isinstance(node, cst.If) and child is node.body and _names_debug_switch(node.test):
            return True
        child, node = node, gc.parent(node)
    return False


def _names_debug_switch(test: cst.BaseExpression) -> bool:
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        text = None
        if isinstance(node, cst.Name) and node.value != "__debug__":
            text = node.value
        elif isinstance(node, cst.SimpleString):
            text = node.value
        if text is not None and any(word in text.lower() for word in _SWITCH_WORDS):
            return True
        stack.extend(node.children)
    return False


def _inspects_and_cleans_up(gc: GcFile, call: GcCall, constants: dict[str, cst.BaseExpression]) -> bool:
    """Later in the same function: flags restored without SAVEALL, and ``gc.garbage`` emptied."""
    scope = gc.scope(call.node)
    at = gc.order(call.node)
    later = [c for c in gc.calls if gc.scope(c.node) is scope and gc.order(c.node) > at]
    restored = any(
        c.kind == "call" and c.function == "set_debug" and not _saves_all(gc, c, constants) for c in later
    )
    return restored and _empties_garbage(gc, scope, at)


def _empties_garbage(gc: GcFile, scope: cst.CSTNode, after: int) -> bool:
    """``gc.garbage.clear()`` or ``del gc.garbage[:]`` (rebinding ``gc.garbage`` does not count)."""
    body = scope.body if isinstance(scope, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) else scope
    for node in descendants(body, into_scopes=False):
        if gc.order(node) <= after:
            continue
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "clear"
        ):
            if gc.gc_name(node.func.value, node) == "garbage":
                return True
        if isinstance(node, cst.Del) and isinstance(node.target, cst.Subscript):
            if gc.gc_name(node.target.value, node) == "garbage":
                return True
    return False
