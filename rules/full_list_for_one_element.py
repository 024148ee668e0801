"""MEM103: a whole list (or a sorted copy) built only to take one element."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
from memlint.rule import FixProposal, Replace, Rule, RuleContext
from memlint.rules._cst_shapes import (
    comments_in,
    const_int,
    contains,
    is_small,
    keyword_arg,
    positional_args,
    short,
    without_parens,
)
from memlint.rules._names import NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

_COPIES = frozenset({"list", "tuple"})
_CALLEES = _COPIES | {"sorted"}
#: Builtins that already return an iterator: ``next()`` takes them without ``iter()``.
_ITERATORS = frozenset({"map", "filter", "zip", "reversed", "enumerate", "iter"})
#: Exceptions whose handler turns "empty" into a normal case: the fix's StopIteration or
#: ValueError would escape it.
_EMPTY_ERRORS = frozenset({"IndexError", "LookupError"})
#: Context managers that assert the block raises: the block is testing the IndexError itself.
_RAISES = frozenset({"assertRaises", "assertRaisesRegex", "raises"})


@dataclass(frozen=True)
class _Guard:
    """What the code around a site does with the exception an empty input raises."""

    catches: bool = False  # `except IndexError:` / `suppress(IndexError)` around it
    expects: bool = False  # `assertRaises(IndexError)` / `pytest.raises(IndexError)` around it


@dataclass(frozen=True)
class _Site:
    node: cst.BaseExpression  # the Subscript, or the `.pop(0)` call
    statement: cst.SimpleStatementLine | None  # the statement holding it, if a simple one
    source: cst.BaseExpression  # `list(x)`, `[...]`, `[*x]`, `sorted(x, ...)`
    last: bool  # [-1] rather than [0]
    scope: Scope
    guard: _Guard


class FullListForOneElement(Rule):
    """
    ## What it does
    Checks for a whole list built only to take one element of it: `list(x)[0]`, `tuple(x)[0]`,
    `[*x][0]`, `list(x).pop(0)`, a list comprehension indexed with `[0]`, and `sorted(x)[0]` /
    `sorted(x)[-1]` (with or without `key=` and `reverse=`).

    Nothing is reported when `x` is a literal or a short constant `range` (the list is small),
    for an asynchronous comprehension, inside `assertRaises(IndexError)` /
    `pytest.raises(IndexError)`, where the code tests the exception an empty list raises, or when
    the same statement calls the replacement too (`assertEqual(min(data), sorted(data)[0])` is a
    test checking one against the other).

    ## Why is this bad?
    The whole input is copied (and for `sorted()`, sorted) to keep one item: memory grows with
    the input while the answer is a single element, and every item is computed even when the
    first would do. On CPython 3.11, with 1,000,000 items, `list(str(i) for i in range(n))[0]`
    peaks at 60.4 MiB (480 ms) where `next(str(i) for i in range(n))` needs nothing measurable,
    and `sorted(data)[0]` on a million floats peaks at 11.4 MiB and takes 773 ms where
    `min(data)` allocates nothing and takes 47 ms (`tracemalloc`, `time.perf_counter`).

    ## Example
    ```python
    def first_error(lines):
        return [line for line in lines if "ERROR" in line][0]

    def newest(paths):
        return sorted(paths, key=modified_time, reverse=True)[0]
    ```

    ## Use instead
    ```python
    def first_error(lines):
        return next(line for line in lines if "ERROR" in line)

    def newest(paths):
        return max(paths, key=modified_time)
    ```

    ## Fix safety
    The fix is always unsafe. On an empty input, `next()` raises `StopIteration` and
    `min()`/`max()` raise `ValueError` where indexing raised `IndexError`: an `except IndexError`
    elsewhere no longer catches it, a `StopIteration` escaping into a generator becomes a
    `RuntimeError` (PEP 479), and one escaping from a function called by `map()` or a `for` loop
    over an iterator silently ends that iteration. Items after the first are no longer
    computed, so side effects of a `map()` function or a comprehension stop after the first, and
    an iterator left unfinished (`os.scandir()`, a generator holding a lock) is closed later.
    `min()` and `max()` compare with `<` in a different order than sorting does, so inputs
    without a total order (NaN, sets) can give a different answer.

    `sorted(x)[0]` and `sorted(x, reverse=True)[0]` return the same element as `min(x)` and
    `max(x)`: sorting is stable, so both pick the first of equal items. `sorted(x)[-1]` and
    `sorted(x, reverse=True)[-1]` pick the last of equal items, and `max(x)` / `min(x)` the
    first: without `key=` those are equal values, so the fix is offered; with `key=`, where
    distinct items often share a key, no fix is offered.

    No fix is offered either inside `try`/`except IndexError` (or `LookupError`) or
    `contextlib.suppress(IndexError)`, where the empty case is handled on purpose: the message
    suggests `next(iter(x), None)` or `min(x, default=None)` instead. A comment inside the
    replaced code also prevents the fix.
    """

    CODE = "MEM103"
    NAME = "full-list-for-one-element"
    SUMMARY = "Whole list built only to take one element"
    FIX = FixAvailability.SOMETIMES
    PREVIEW = True
    #: Indexing needs "["; `list(x).pop(0)` needs "pop".
    PRESCREEN = ("[", "pop")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """A subscript of, or a `.pop()` on, a call to `list`/`tuple`/`sorted`, a list
        comprehension or a `[*x]` display."""
        if any(_ast_source(node.value) for node in index.nodes(ast.Subscript)):
            return True
        return any(
            isinstance(call.func, ast.Attribute) and _ast_source(call.func.value)
            for call in index.calls_to("pop")
        )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._sites: list[_Site] = []
        self._targets: set[int] = set()
        self._statements: list[cst.SimpleStatementLine] = []
        #: One list of enclosing guards per function (a nested def runs later, unguarded).
        self._guards: list[list[_Guard]] = [[]]

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- guards: try/except, suppress(), assertRaises() ---------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._guards.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._guards.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._guards.append([])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._guards.pop()

    def visit_Try_body(self, node: cst.Try) -> None:
        caught = any(h.type is not None and _names_empty_error(h.type) for h in node.handlers)
        self._guards[-1].append(_Guard(catches=caught))

    def leave_Try_body(self, node: cst.Try) -> None:
        self._guards[-1].pop()

    def visit_With_body(self, node: cst.With) -> None:
        guard = _Guard()
        for item in node.items:
            call = item.item
            if not isinstance(call, cst.Call) or not any(_names_empty_error(a.value) for a in call.args):
                continue
            name = _last_name(call.func)
            if name == "suppress":
                guard = _Guard(catches=True, expects=guard.expects)
            elif name in _RAISES:
                guard = _Guard(catches=guard.catches, expects=True)
        self._guards[-1].append(guard)

    def leave_With_body(self, node: cst.With) -> None:
        self._guards[-1].pop()

    def _guard(self) -> _Guard:
        frames = self._guards[-1]
        return _Guard(catches=any(g.catches for g in frames), expects=any(g.expects for g in frames))

    # -- sites ---------------------------------------------------------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._statements.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._statements.pop()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._targets.add(id(node.target))

    def visit_Del(self, node: cst.Del) -> None:
        self._targets.add(id(node.target))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if id(node) in self._targets or len(node.slice) != 1:
            return
        index = node.slice[0].slice
        if not isinstance(index, cst.Index) or index.star is not None:
            return
        position = const_int(index.value)
        if position == 0 and _source_shape(node.value):
            self._add(node, node.value, last=False)
        elif position == -1 and _is_sorted_call(node.value):
            self._add(node, node.value, last=True)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "pop" or not _source_shape(func.value):
            return
        args = positional_args(node)
        if args is not None and len(args) == 1 == len(node.args) and const_int(args[0].value) == 0:
            self._add(node, func.value, last=False)

    def _add(self, node: cst.BaseExpression, source: cst.BaseExpression, last: bool) -> None:
        statement = self._statements[-1] if self._statements else None
        self._sites.append(_Site(node, statement, source, last, self.names.current, self._guard()))

    # -- judging -------------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for site in self._sites:
            if not site.guard.expects:
                self._check(site)

    def _check(self, site: _Site) -> None:
        source = site.source
        if isinstance(source, cst.ListComp):
            self._comprehension(site, source)
        elif isinstance(source, cst.List):
            starred = source.elements[0]
            assert isinstance(starred, cst.StarredElement)
            self._copy(site, "[*...]", starred.value)
        elif isinstance(source, cst.Call):
            name = self._builtin_callee(source, site.scope)
            if name in _COPIES:
                args = positional_args(source)
                if args is not None and len(args) == 1 == len(source.args):
                    self._copy(site, f"{name}(...)", args[0].value)
            elif name == "sorted":
                self._sorted(site, source)

    def _builtin_callee(self, call: cst.Call, scope: Scope) -> str | None:
        qualified = self.names.qualified_name(call.func, scope)
        if qualified is None or not qualified.startswith("builtins."):
            return None
        name = qualified[len("builtins.") :]
        return name if name in _CALLEES | _ITERATORS else None

    def _copy(self, site: _Site, shape: str, iterable: cst.BaseExpression) -> None:
        """``list(x)[0]``, ``tuple(x)[0]``, ``[*x][0]``, ``list(x).pop(0)``."""
        if is_small(iterable) or contains(iterable, (cst.Await,)) or self._compared_with(site, "next"):
            return
        text = short(self.code_for(iterable))
        replacement = self._next_node(site.source, iterable, site.scope)
        if site.guard.catches:
            instead = f"next(iter({self.code_for(iterable)}), None)"
            self.report(site.node, self._caught_message(f"{shape}[0]", f"`{text}`", instead))
            return
        message = (
            f"`{shape}[0]` copies every item of `{text}` only to take the first; "
            f"`{short(self.code_for(replacement))}` stops after one"
        )
        self.report(site.node, message, self._fix(site, replacement, "Take the first item"))

    def _comprehension(self, site: _Site, comp: cst.ListComp) -> None:
        if comp.for_in.asynchronous is not None or contains(comp, (cst.Await,)):
            return
        if is_small(comp.for_in.iter) and comp.for_in.inner_for_in is None:
            return
        if self._compared_with(site, "next"):
            return
        body = self.code_for(without_parens(comp))[1:-1]
        if site.guard.catches:
            instead = f"next(({' '.join(body.split())}), None)"
            self.report(site.node, self._caught_message("[...][0]", "the comprehension", instead))
            return
        message = (
            "`[...][0]` computes every item of the comprehension only to take the first; "
            "`next()` over a generator expression stops at the first"
        )
        replacement = cst.Call(
            func=cst.Name("next"),
            args=[
                cst.Arg(
                    cst.GeneratorExp(comp.elt, comp.for_in, lpar=[], rpar=[]),
                    whitespace_after_arg=comp.rbracket.whitespace_before,
                )
            ],
            whitespace_before_args=comp.lbracket.whitespace_after,
        )
        self.report(site.node, message, self._fix(site, replacement, "Take the first item"))

    def _sorted(self, site: _Site, call: cst.Call) -> None:
        args = positional_args(call)
        if (
            args is None
            or len(args) != 1
            or any(a.keyword is not None and a.keyword.value not in ("key", "reverse") for a in call.args)
        ):
            return
        iterable = args[0].value
        if is_small(iterable):
            return
        reverse_arg = keyword_arg(call, "reverse")
        reverse = _literal_bool(reverse_arg.value) if reverse_arg is not None else False
        key = keyword_arg(call, "key")
        wanted = "largest" if site.last != bool(reverse) else "smallest"
        builtin = "max" if wanted == "largest" else "min"
        shape = f"sorted(...)[{-1 if site.last else 0}]"
        if self._compared_with(site, *((builtin,) if reverse is not None else ("min", "max"))):
            return
        if reverse is None:
            self.report(
                site.node,
                f"`{shape}` copies and sorts every item only to take one; `min()` or `max()` needs no "
                "copy and one pass",
            )
            return
        replacement = _min_max_call(call, builtin, reverse_arg)
        if site.guard.catches:
            source = short(self.code_for(iterable))
            default = f"{builtin}({source}, default=None)"
            self.report(site.node, self._caught_message(shape, f"`{source}`", default))
            return
        message = (
            f"`{shape}` copies and sorts every item only to take the {wanted}; "
            f"`{short(self.code_for(replacement))}` needs no copy and one pass"
        )
        fix = None
        if site.last:
            message += f" (but it returns the first of equal {wanted} items, `sorted()` the last)"
        if not site.last or key is None:
            fix = self._fix(site, replacement, f"Use `{builtin}()`")
        self.report(site.node, message, fix)

    def _compared_with(self, site: _Site, *builtins: str) -> bool:
        """The statement also calls the function the fix would use: ``assertEqual(min(data),
        sorted(data)[0])`` checks one against the other (a test oracle), it is not a finding."""
        if site.statement is None:
            return False
        return any(
            isinstance(call.func, cst.Name)
            and call.func.value in builtins
            and self.names.is_builtin(call.func.value, site.scope)
            for call in _calls_in(site.statement)
        )

    # -- texts ---------------------------------------------------------------------------------
    def _next_node(self, source: cst.BaseExpression, iterable: cst.BaseExpression, scope: Scope) -> cst.Call:
        """``next(...)`` over the copied iterable, reusing the original call's arguments (and
        their layout) where there is one."""
        next_name = cst.Name("next")
        if not isinstance(source, cst.Call):
            return cst.Call(next_name, [cst.Arg(cst.Call(cst.Name("iter"), [cst.Arg(iterable)]))])
        if isinstance(iterable, cst.GeneratorExp) or (
            isinstance(iterable, cst.Call) and self._builtin_callee(iterable, scope) in _ITERATORS
        ):
            return source.with_changes(func=next_name)
        return cst.Call(next_name, [cst.Arg(source.with_changes(func=cst.Name("iter")))])

    @staticmethod
    def _caught_message(shape: str, text: str, instead: str) -> str:
        return (
            f"`{shape}` builds a list of every item of {text} only to take one; the code catches "
            f"`IndexError` for the empty case, which `{short(instead, 60)}` handles without the list"
        )

    def _fix(self, site: _Site, replacement: cst.BaseExpression, title: str) -> FixProposal | None:
        """Replace the whole expression, unless a comment outside the kept parts would be lost."""
        if comments_in(site.node) != comments_in(replacement):
            return None
        return FixProposal(Applicability.UNSAFE, title, (Replace(site.node, replacement),))


def _source_shape(node: cst.BaseExpression) -> bool:
    """``list(...)``-like call, list comprehension, or ``[*x]``; the callee is checked later."""
    if isinstance(node, cst.ListComp):
        return True
    if isinstance(node, cst.List):
        return len(node.elements) == 1 and isinstance(node.elements[0], cst.StarredElement)
    return isinstance(node, cst.Call) and _last_name(node.func) in _CALLEES


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        stack.extend(current.children)
    return found


def _is_sorted_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and _last_name(node.func) == "sorted"


def _ast_source(node: ast.expr) -> bool:
    if isinstance(node, ast.ListComp):
        return True
    if isinstance(node, ast.List):
        return len(node.elts) == 1 and isinstance(node.elts[0], ast.Starred)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in _CALLEES


def _last_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _names_empty_error(node: cst.BaseExpression) -> bool:
    if isinstance(node, (cst.Tuple, cst.List)):
        return any(_names_empty_error(e.value) for e in node.elements)
    return _last_name(node) in _EMPTY_ERRORS


def _min_max_call(call: cst.Call, builtin: str, reverse: cst.Arg | None) -> cst.Call:
    """``sorted(x, key=k, reverse=r)`` as ``min(x, key=k)``: the same arguments and layout
    without ``reverse=``; a trailing comma it carried moves to the new last argument."""
    args = [a for a in call.args if a is not reverse]
    if reverse is not None and call.args[-1] is reverse and args:
        args[-1] = args[-1].with_changes(comma=reverse.comma)
    return call.with_changes(func=cst.Name(builtin), args=args)


def _literal_bool(node: cst.BaseExpression) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if isinstance(node, cst.Integer):
        return bool(int(node.evaluated_value))
    return None
