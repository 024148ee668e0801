"""MEM401: ``gc.disable()`` without a guaranteed ``gc.enable()``."""

from __future__ import annotations

import libcst as cst

from memlint.diagnostics import FixAvailability
from memlint.rules._gc_calls import (
    GcCall,
    GcFile,
    GcRule,
    Guarantee,
    Unguarded,
    call_text,
    unguarded_message,
    wrap_fix,
)


class GcDisableWithoutEnable(GcRule):
    """
    ## What it does
    Checks for `gc.disable()` calls (in any import form: `import gc as g`, `from gc import
    disable`, `from gc import *`) that are not guaranteed to be undone by a `gc.enable()`.

    The re-enable is guaranteed when it sits in the `finally` clause of a `try` that covers the
    disabled section (also inside `if was_enabled:` there) or in a bare `except:` / `except
    BaseException:` handler with a re-enable on the normal path too; when it follows with nothing
    in between that can raise; when it is registered as a cleanup (`self.addCleanup(gc.enable)`,
    `ExitStack.callback`, `request.addfinalizer`); in the exit half of a context manager
    (`__exit__`, or a `finally` around the `yield` of a `@contextmanager`); in the teardown that
    pytest or unittest runs after the test or setup; when the process exits right after
    (`sys.exit`); and in the pre-fork pattern the `gc` documentation recommends (`gc.disable()`,
    then `gc.freeze()` before forking, `gc.enable()` in the child). A `gc.enable()` inside a
    nested function or lambda does not count: it runs only if something calls it. A function that
    does nothing but disable the collector is a helper: its callers in the file are checked
    instead, and so are helpers that re-enable. `if not was_enabled: gc.disable()` puts back a
    saved state and is not a finding.

    ## Why is this bad?
    CPython frees most objects by reference counting, but objects in reference cycles are only
    reclaimed by the cyclic garbage collector. If an exception escapes between `gc.disable()` and
    `gc.enable()`, the collector stays off for the rest of the process and every cycle created
    from then on is kept. On CPython 3.11, a loop creating one two-object cycle per iteration
    (a stand-in for a request handler) holds 153 MiB after 1,000,000 iterations with the
    collector disabled, against 0.1 MiB at peak with it enabled (`tracemalloc`, 160 bytes per
    cycle). A frame and an exception traceback are enough to form such a cycle.

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
    Better still, restore the previous state so that callers that disabled the collector
    themselves are respected (this is what `timeit` does):
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
    The fix is safe. It applies only where a `gc.enable()` statement (or `if flag: gc.enable()`)
    already follows the `gc.disable()` in the same block: the statements between them are
    wrapped in `try`/`finally` with the re-enable moved into the `finally`. On the normal path
    the code runs exactly as before; the only change is that the collector is also re-enabled
    when an exception, a `return`, `break` or `continue` leaves the section. No fix is offered
    when the section contains a multi-line string (re-indenting would change its content) or
    when the file mixes tab and space indentation.
    """

    CODE = "MEM401"
    NAME = "gc-disable-without-enable"
    SUMMARY = "`gc.disable()` without a guaranteed `gc.enable()`"
    FIX = FixAvailability.SOMETIMES
    PRESCREEN = ("disable",)
    TRIGGERS = frozenset({"disable"})

    def check(self, gc: GcFile) -> None:
        guarantee = Guarantee(gc, _disables, _enables)
        saved = gc.names_assigned_from("isenabled")
        for found in guarantee.unguarded():
            if not found.via and _restores_saved_state(gc, found.call, saved):
                continue
            self._report(found)

    def _report(self, found: Unguarded) -> None:
        fix = None
        if found.plan is not None:
            fix = wrap_fix(
                found.plan,
                self.context.module,
                "Move the re-enable into a `finally` around the disabled section",
            )
        what = call_text(found, self.context.module, "gc.disable()") + " without a guaranteed `gc.enable()`"
        hint = "re-enable in a `finally` (saving `gc.isenabled()` first) or a context manager"
        message = unguarded_message(found, what, "re-enable", hint)
        self.report(found.call, message, fix)


def _disables(call: GcCall) -> bool:
    return call.function == "disable"


def _enables(call: GcCall) -> bool:
    return call.function == "enable"


def _restores_saved_state(gc: GcFile, call: cst.Call, saved: set[str]) -> bool:
    """``if not was_enabled: gc.disable()`` puts back a state saved from ``gc.isenabled()``."""
    for node in gc.ancestors_within_scope(call):
        if isinstance(node, cst.If):
            test = node.test
            if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                operand = test.expression
                name = operand.value if isinstance(operand, cst.Name) else None
                if isinstance(operand, cst.Attribute):
                    name = operand.attr.value
                return name in saved
            return False
    return False
