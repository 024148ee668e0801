"""MEM402: ``gc.set_threshold(0)`` without a guaranteed restore of the thresholds."""

from __future__ import annotations

from memlint.diagnostics import FixAvailability
from memlint.rules._gc_calls import (
    GcCall,
    GcFile,
    GcRule,
    Guarantee,
    Unguarded,
    call_text,
    literal_int,
    unguarded_message,
    wrap_fix,
)


class GcThresholdZero(GcRule):
    """
    ## What it does
    Checks for `gc.set_threshold(0)` (a first threshold of literal `0`, in any import form) that
    is not guaranteed to be undone by a later `gc.set_threshold(...)` with a non-zero first
    threshold, typically the saved values: `gc.set_threshold(*old)`.

    "Guaranteed" means the same as for `gc-disable-without-enable` (MEM401): the restore sits in
    a `finally` covering the section (or follows with nothing in between that can raise), is
    registered as a cleanup (`self.addCleanup(gc.set_threshold, *old)`), sits in `__exit__` or a
    test teardown, or the code follows the pre-fork pattern (`gc.freeze()` before forking,
    thresholds restored in the child). `gc.enable()` does not undo a zero threshold.

    ## Why is this bad?
    A first threshold of 0 turns automatic collection off exactly like `gc.disable()`, but
    `gc.isenabled()` still returns `True` and `gc.enable()` does not undo it (Instagram chose it
    for that reason: a library kept calling `gc.enable()`). Objects in reference cycles are then
    only freed by explicit `gc.collect()` calls. If an exception escapes before the thresholds are
    restored, cycles accumulate for the rest of the process: on CPython 3.11 a loop creating
    1,000,000 two-object cycles peaks at 153 MiB with `gc.set_threshold(0)`, against 0.1 MiB with
    the default thresholds (`tracemalloc`).

    ## Example
    ```python
    import gc

    def build(graph):
        old = gc.get_threshold()
        gc.set_threshold(0)
        nodes = make_nodes(graph)
        gc.set_threshold(*old)
        return nodes
    ```

    ## Use instead
    ```python
    import gc

    def build(graph):
        old = gc.get_threshold()
        gc.set_threshold(0)
        try:
            nodes = make_nodes(graph)
        finally:
            gc.set_threshold(*old)
        return nodes
    ```

    ## Fix safety
    The fix is safe. It applies only where a restoring `gc.set_threshold(...)` statement already
    follows in the same block: the statements between are wrapped in `try`/`finally` with the
    restore moved into the `finally`. The normal path runs exactly as before; the thresholds are
    now also restored when an exception, a `return`, `break` or `continue` leaves the section.
    No fix is offered when the section contains a multi-line string or the file mixes tab and
    space indentation.
    """

    CODE = "MEM402"
    NAME = "gc-threshold-zero"
    SUMMARY = "`gc.set_threshold(0)` without a guaranteed restore"
    FIX = FixAvailability.SOMETIMES
    PRESCREEN = ("set_threshold",)
    TRIGGERS = frozenset({"set_threshold"})

    def check(self, gc: GcFile) -> None:
        for found in Guarantee(gc, _zero_threshold, _restores_threshold).unguarded():
            self._report(found)

    def _report(self, found: Unguarded) -> None:
        fix = None
        if found.plan is not None:
            fix = wrap_fix(
                found.plan,
                self.context.module,
                "Move the threshold restore into a `finally` around the section",
            )
        what = call_text(found, self.context.module, "gc.set_threshold(0)") + " without a guaranteed restore"
        hint = "restore the saved thresholds in a `finally` (`gc.set_threshold(*old)`)"
        message = unguarded_message(found, what, "restore", hint, " (`gc.enable()` does not undo it)")
        self.report(found.call, message, fix)


def _first_arg_is_zero(call: GcCall) -> bool:
    args = call.args
    return bool(args) and not args[0].star and args[0].keyword is None and literal_int(args[0].value) == 0


def _zero_threshold(call: GcCall) -> bool:
    return call.function == "set_threshold" and _first_arg_is_zero(call)


def _restores_threshold(call: GcCall) -> bool:
    return call.function == "set_threshold" and bool(call.args) and not _first_arg_is_zero(call)
