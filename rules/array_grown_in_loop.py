"""MEM602: a NumPy array or pandas frame grown by copying it once per loop iteration."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import FixAvailability
from memlint.rule import Rule, RuleContext
from memlint.rules._cst_shapes import (
    Chain,
    chain_of,
    const_int,
    is_small,
    keyword_arg,
    positional_args,
    short,
)
from memlint.rules._names import IMPORT, PARAM, Binding, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: NumPy functions that return a new array holding all of their inputs.
_NUMPY_JOINS = frozenset(
    {"numpy.concatenate", "numpy.vstack", "numpy.hstack", "numpy.row_stack", "numpy.column_stack",
     "numpy.dstack"}
)  # fmt: skip
#: ``pd.concat(axis=...)`` values that stack rows (the default): the copied case. Joining columns
#: may share the blocks under copy-on-write, so it is left alone.
_ROW_AXES = frozenset({0, "index", "rows"})
#: Syntactic forms of growth: ``np.r_[acc, x]``, ``f(acc, x)``, ``f([acc, x])``, ``acc.append(x)``,
#: ``acc.loc[len(acc)] = x``.
INDEX, PAIR, DISPLAY, APPEND, LOC = "index", "pair", "display", "append", "loc"
#: What grows, once the callee is resolved.
ARRAY, FRAME = "array", "frame"


@dataclass(frozen=True)
class _Growth:
    """``acc = f(..., acc, ...)`` (or ``acc.loc[len(acc)] = ...``) inside a loop of its scope."""

    statement: cst.BaseSmallStatement
    target: Chain
    form: str
    #: The callee (``np.append``), ``np.r_`` for INDEX, the ``len(df)`` index for LOC.
    func: cst.BaseExpression
    call: cst.BaseExpression
    scope: Scope
    loops: tuple[cst.CSTNode, ...]


@dataclass
class _Bindings:
    """Loops around each assignment of an attribute chain in one function."""

    #: (id of the target node, loops around it).
    sites: list[tuple[int, tuple[cst.CSTNode, ...]]] = field(default_factory=list)


class ArrayGrownInLoop(Rule):
    """
    ## What it does
    Checks for a NumPy array or a pandas DataFrame/Series that a loop grows by building a new
    one from the old one and the new piece, on every iteration:

    - `acc = np.append(acc, x)`, `acc = np.concatenate([acc, x])` (also `np.vstack`,
      `np.hstack`, `np.row_stack`, `np.column_stack`, `np.dstack`) and `acc = np.r_[acc, x]`;
    - `df = pd.concat([df, piece])` stacking rows (no `axis`, or `axis=0`/`"index"`);
    - `df = df.append(row)` (removed in pandas 2.0, still common) and `df = df._append(row)`,
      where `df` is evidently a pandas object: some assignment in the scope gives it the value of
      a `pandas` call (`pd.DataFrame()`, `pd.read_csv(...)`...), or a parameter annotation
      names a pandas class;
    - `df.loc[len(df)] = row` (also `df.loc[df.shape[0]]`), adding a row by enlargement, in a
      file that imports pandas.

    Functions are resolved through the imports (`import numpy as np`, `from pandas import
    concat`...); a name that is not imported from NumPy or pandas, or is rebound, is not
    reported. The accumulator must be the same name (or attribute, such as `self.data`) as the
    one assigned, and must survive the iteration: a loop that assigns it afresh (or a `for`
    target of that name), a loop over a short literal or a constant `range` (under 1,000 items),
    and a growth followed in its block by `break`, `return` or `raise` (which runs once) are not
    reported. Joining fresh pieces (`batch = np.concatenate([a, b])`) and doubling
    (`df = pd.concat([df, df])`, whose total cost is linear) are not growth.

    ## Why is this bad?
    NumPy arrays and pandas frames are stored in contiguous blocks that cannot grow in place:
    each of these calls allocates a new block for the old contents plus the piece and copies
    both, so building n pieces copies O(n²) items, and the old and new copies are alive together
    at every step. With NumPy 2.4 and pandas 3.1 on CPython 3.11, `acc = np.append(acc, i)` for
    20,000 integers takes 204 ms against 1.2 ms for appending to a list and calling `np.array`
    once (for 100,000 integers: 11.4 s against 22 ms); `df = pd.concat([df, row])` for 2,000
    one-row frames takes 0.9 s against 0.13 s for one `pd.concat` of the list, and
    `df.loc[len(df)] = row` for 2,000 rows takes 2.8 s against 6 ms for building the DataFrame
    from a list of rows. The pandas documentation warns
    against iteratively appending rows for this reason.

    ## Example
    ```python
    import numpy as np
    import pandas as pd

    def load(paths):
        frame = pd.DataFrame()
        for path in paths:
            frame = pd.concat([frame, pd.read_parquet(path)])
        return frame

    def sample(rng, n):
        values = np.empty(0)
        for _ in range(n):
            values = np.append(values, rng.random())
        return values
    ```

    ## Use instead
    ```python
    import numpy as np
    import pandas as pd

    def load(paths):
        return pd.concat([pd.read_parquet(path) for path in paths])

    def sample(rng, n):
        values = []
        for _ in range(n):
            values.append(rng.random())
        return np.array(values)
    ```

    ## Fix safety
    There is no fix: collecting the pieces changes the loop's structure, and code in the loop
    that reads the accumulator (its length, its last row) needs rewriting by hand.
    """

    CODE = "MEM602"
    NAME = "array-grown-in-loop"
    SUMMARY = "NumPy array or pandas frame grown by copying it once per loop iteration"
    FIX = FixAvailability.NONE
    PREVIEW = True
    #: `np.append`/`.append`, `concat`/`concatenate`, the `*stack` family, `np.r_`, `.loc`.
    PRESCREEN = ("append", "concat", "stack", "r_", "loc")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Growth needs a loop, and an assignment that mentions its target among the pieces (a
        superset of every form) or assigns to ``x.loc[...]``."""
        if not any(index.nodes(loop) for loop in (ast.For, ast.AsyncFor, ast.While)):
            return False
        return any(_ast_may_grow(node) for node in index.nodes(ast.Assign))

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        #: Loops around the current point, one list per function, lambda or class body.
        self._loops: list[list[cst.CSTNode]] = [[]]
        #: id of a binding's node (as the tracker records it) -> loops around that binding.
        self._binding_loops: dict[int, tuple[cst.CSTNode, ...]] = {}
        self._attributes: dict[tuple[int, Chain], _Bindings] = {}
        self._growths: list[_Growth] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- scopes and loops --------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._binding_loops[id(node)] = tuple(self._loops[-1])
        self._loops.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._loops.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._binding_loops[id(node)] = tuple(self._loops[-1])
        self._loops.append([])

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._loops.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._loops.append([])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._loops.pop()

    def visit_For(self, node: cst.For) -> None:
        # The target is bound afresh on every iteration of this loop.
        self._record(node.target, (*self._loops[-1], node))

    def visit_For_body(self, node: cst.For) -> None:
        self._loops[-1].append(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._loops[-1].pop()

    def visit_While_body(self, node: cst.While) -> None:
        self._loops[-1].append(node)

    def leave_While_body(self, node: cst.While) -> None:
        self._loops[-1].pop()

    # -- bindings ----------------------------------------------------------------------------
    def visit_Param(self, node: cst.Param) -> None:
        self._binding_loops[id(node)] = ()

    def visit_Import(self, node: cst.Import) -> None:
        self._binding_loops[id(node)] = tuple(self._loops[-1])

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._binding_loops[id(node)] = tuple(self._loops[-1])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._record(node.target, tuple(self._loops[-1]))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._record(node.target, tuple(self._loops[-1]))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._record(node.asname.name, tuple(self._loops[-1]))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._record(node.target, tuple(self._loops[-1]))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._record(node.name.name, tuple(self._loops[-1]))

    def visit_Del(self, node: cst.Del) -> None:
        self._record(node.target, tuple(self._loops[-1]))

    def visit_Assign(self, node: cst.Assign) -> None:
        loops = tuple(self._loops[-1])
        for target in node.targets:
            self._record(target.target, loops)
        if len(node.targets) == 1 and loops:
            self._candidate(node, node.targets[0].target, node.value, loops)

    def _record(self, target: cst.BaseExpression, loops: tuple[cst.CSTNode, ...]) -> None:
        """Remember the loops around a binding: of the target node the tracker keys names by,
        and of every attribute chain in it."""
        self._binding_loops[id(target)] = loops
        if isinstance(target, cst.Attribute):
            chain = chain_of(target)
            if chain is not None:
                key = (id(self.names.current), chain)
                self._attributes.setdefault(key, _Bindings()).sites.append((id(target), loops))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._record(element.value, loops)
        elif isinstance(target, cst.StarredElement):
            self._record(target.value, loops)

    # -- candidates --------------------------------------------------------------------------
    def _candidate(
        self,
        node: cst.Assign,
        target: cst.BaseExpression,
        value: cst.BaseExpression,
        loops: tuple[cst.CSTNode, ...],
    ) -> None:
        if isinstance(target, cst.Subscript):
            self._loc_candidate(node, target, loops)
            return
        chain = chain_of(target)
        if chain is None:
            return
        found = _growth_form(value, chain)
        if found is not None:
            form, func = found
            self._growths.append(_Growth(node, chain, form, func, value, self.names.current, loops))

    def _loc_candidate(self, node: cst.Assign, target: cst.Subscript, loops: tuple[cst.CSTNode, ...]) -> None:
        """``df.loc[len(df)] = row``."""
        indexer = target.value
        if not (isinstance(indexer, cst.Attribute) and indexer.attr.value == "loc"):
            return
        chain = chain_of(indexer.value)
        if chain is None or len(target.slice) != 1:
            return
        index = target.slice[0].slice
        if isinstance(index, cst.Index) and _length_of(index.value, chain):
            self._growths.append(_Growth(node, chain, LOC, index.value, target, self.names.current, loops))

    # -- judging -----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        resolved = [(growth, self._resolve(growth)) for growth in self._growths]
        # Only resolved growths keep the accumulator alive; ``acc = np.delete(acc, i)`` resets it.
        self._growths = [growth for growth, grows in resolved if grows is not None]
        for growth, grows in resolved:
            if grows is not None and self._repeats(growth):
                self.report(growth.statement, self._message(growth, grows))

    def _resolve(self, growth: _Growth) -> str | None:
        """ARRAY or FRAME when the callee is NumPy's or pandas' as imported (and, for the method
        and ``.loc`` forms, the accumulator is evidently pandas'); None otherwise."""
        names, scope = self.names, growth.scope
        if growth.form == LOC:
            if isinstance(growth.func, cst.Call) and not names.is_builtin("len", scope):
                return None
            return FRAME if "pandas" in names.imported_packages or self._evidently_pandas(growth) else None
        if growth.form == APPEND:
            return FRAME if self._evidently_pandas(growth) else None
        qualified = names.qualified_name(growth.func, scope)
        if growth.form == INDEX:
            return ARRAY if qualified == "numpy.r_" else None
        if growth.form == PAIR:
            return ARRAY if qualified == "numpy.append" else None
        if qualified in _NUMPY_JOINS:
            return ARRAY
        if qualified == "pandas.concat" and isinstance(growth.call, cst.Call) and _stacks_rows(growth.call):
            return FRAME
        return None

    def _evidently_pandas(self, growth: _Growth) -> bool:
        if len(growth.target) != 1:
            return False
        found = self.names.lookup(growth.target[0], growth.scope)
        return found is not None and any(self._pandas_binding(b, growth.scope) for b in found[1])

    def _pandas_binding(self, binding: Binding, scope: Scope) -> bool:
        if binding.kind == PARAM and isinstance(binding.node, cst.Param):
            annotation = binding.node.annotation
            if annotation is None:
                return False
            qualified = self.names.qualified_name(annotation.annotation, scope) or ""
            return qualified in ("pandas.DataFrame", "pandas.Series")
        value = binding.value
        if binding.kind == IMPORT or not isinstance(value, cst.Call):
            return False
        qualified = self.names.qualified_name(value.func, scope) or ""
        return qualified.startswith("pandas.")

    def _repeats(self, growth: _Growth) -> bool:
        """Some loop around the growth runs it repeatedly on the same accumulator."""
        others = self._other_bindings(growth)
        if others is None:
            return False
        loops = list(growth.loops)
        exit_kind = _exit_after(loops[-1], growth.statement)
        if exit_kind in ("return", "raise"):
            return False
        if exit_kind == "break":
            loops.pop()
        return any(
            not _runs_few_times(loop) and all(id(loop) not in {id(x) for x in around} for around in others)
            for loop in loops
        )

    def _other_bindings(self, growth: _Growth) -> list[tuple[cst.CSTNode, ...]] | None:
        """Loops around every binding of the accumulator that is not one of its growths; None
        when the accumulator is not a name of this scope or the loops of a binding are unknown."""
        growth_targets = {
            id(g.statement.targets[0].target)
            for g in self._growths
            if g.target == growth.target and isinstance(g.statement, cst.Assign) and g.form != LOC
        }
        if len(growth.target) > 1:
            bindings = self._attributes.get((id(growth.scope), growth.target), _Bindings())
            return [loops for node_id, loops in bindings.sites if node_id not in growth_targets]
        found = self.names.lookup(growth.target[0], growth.scope)
        if found is None or found[0] is not growth.scope:
            return None
        out: list[tuple[cst.CSTNode, ...]] = []
        for binding in found[1]:
            node = binding.node
            if node is not None and id(node) in growth_targets:
                continue
            if node is None or id(node) not in self._binding_loops:
                return None
            out.append(self._binding_loops[id(node)])
        return out

    def _message(self, growth: _Growth, grows: str) -> str:
        acc = ".".join(growth.target)
        shown = short(self.code_for(growth.statement), 50)
        if grows == ARRAY:
            return (
                f"`{shown}` in a loop copies the whole array `{acc}` on every iteration (quadratic "
                "time, old and new copies alive together); append the pieces to a list and build "
                "the array once after the loop"
            )
        if growth.form == LOC:
            return (
                f"`{shown}` in a loop enlarges `{acc}` by copying it on every iteration (quadratic "
                "time, old and new copies alive together); collect the rows in a list and build "
                "the DataFrame once after the loop"
            )
        return (
            f"`{shown}` in a loop copies the whole of `{acc}` on every iteration (quadratic time, "
            "old and new copies alive together); collect the pieces in a list and call "
            "`pd.concat` once after the loop"
        )


def _ast_key(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_key(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _ast_may_grow(node: ast.Assign) -> bool:
    if len(node.targets) != 1:
        return False
    target = node.targets[0]
    if isinstance(target, ast.Subscript):
        return isinstance(target.value, ast.Attribute) and target.value.attr == "loc"
    key = _ast_key(target)
    value = node.value
    if key is None or not isinstance(value, (ast.Call, ast.Subscript)):
        return False
    if isinstance(value, ast.Subscript):
        pieces = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
    else:
        func = value.func
        receiver = [func.value] if isinstance(func, ast.Attribute) else []
        arguments = [*value.args, *(k.value for k in value.keywords)]
        displays = [e for a in arguments if isinstance(a, (ast.List, ast.Tuple)) for e in a.elts]
        pieces = [*receiver, *arguments, *displays]
    return any(_ast_key(piece) == key for piece in pieces)


def _growth_form(value: cst.BaseExpression, chain: Chain) -> tuple[str, cst.BaseExpression] | None:
    """(form, callee) when ``value`` may build a new object from ``chain`` and other pieces."""
    if isinstance(value, cst.Subscript):
        pieces = [e.slice.value for e in value.slice if isinstance(e.slice, cst.Index)]
        if len(pieces) == len(value.slice) and _grows(pieces, chain):
            return INDEX, value.value
        return None
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    args = positional_args(value)
    if args is None:
        return None
    if isinstance(func, cst.Attribute) and func.attr.value in ("append", "_append"):
        if chain_of(func.value) == chain:
            return (APPEND, func) if args and not _mentions_chain(args, chain) else None
    objs = args[0].value if args else _keyword_value(value, "objs", "tup", "arrays")
    if isinstance(objs, (cst.List, cst.Tuple)) and _grows(_display_items(objs), chain):
        return DISPLAY, func
    if len(args) >= 2 and _grows([a.value for a in args[:2]], chain):
        return PAIR, func
    return None


def _display_items(display: cst.List | cst.Tuple) -> list[cst.BaseExpression]:
    """The items of a list or tuple display; none when one is starred (unknown pieces)."""
    if any(isinstance(e, cst.StarredElement) for e in display.elements):
        return []
    return [e.value for e in display.elements]


def _keyword_value(call: cst.Call, *names: str) -> cst.BaseExpression | None:
    for name in names:
        arg = keyword_arg(call, name)
        if arg is not None:
            return arg.value
    return None


def _grows(pieces: Sequence[cst.BaseExpression], chain: Chain) -> bool:
    """``chain`` is one of the pieces, and not all of them (doubling is linear overall)."""
    hits = sum(1 for piece in pieces if chain_of(piece) == chain)
    return hits == 1 and len(pieces) >= 2


def _mentions_chain(args: Sequence[cst.Arg], chain: Chain) -> bool:
    return any(chain_of(a.value) == chain for a in args)


def _stacks_rows(call: cst.Call) -> bool:
    axis = keyword_arg(call, "axis")
    if axis is None:
        return len(positional_args(call) or ()) < 2
    value = axis.value
    if isinstance(value, cst.SimpleString):
        return value.evaluated_value in _ROW_AXES
    return const_int(value) in _ROW_AXES


def _length_of(node: cst.BaseExpression, chain: Chain) -> bool:
    """``len(df)``, ``len(df.index)`` or ``df.shape[0]``."""
    if isinstance(node, cst.Call):
        func = node.func
        args = positional_args(node)
        if not (isinstance(func, cst.Name) and func.value == "len" and args and len(node.args) == 1):
            return False
        arg = chain_of(args[0].value)
        return arg in (chain, (*chain, "index"))
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        return (
            chain_of(node.value) == (*chain, "shape")
            and isinstance(index, cst.Index)
            and const_int(index.value) == 0
        )
    return False


def _runs_few_times(loop: cst.CSTNode) -> bool:
    return isinstance(loop, cst.For) and is_small(loop.iter)


def _exit_after(loop: cst.CSTNode, statement: cst.CSTNode) -> str | None:
    """``"break"``, ``"return"`` or ``"raise"`` when such a statement follows ``statement`` in one
    of its enclosing blocks inside ``loop`` (so it runs at most once per entry to the loop)."""
    path = _path_to(loop.body, statement)  # type: ignore[attr-defined]
    if path is None:
        return None
    for parent, child in itertools.pairwise(path):
        body = getattr(parent, "body", None)
        if not isinstance(body, (list, tuple)) or child not in body:
            continue
        for later in body[body.index(child) + 1 :]:
            kind = _exit_kind(later)
            if kind is not None:
                return kind
    return None


def _exit_kind(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleStatementLine):
        return next((k for k in map(_exit_kind, node.body) if k is not None), None)
    if isinstance(node, cst.Break):
        return "break"
    if isinstance(node, cst.Return):
        return "return"
    if isinstance(node, cst.Raise):
        return "raise"
    return None


def _path_to(node: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode] | None:
    if node is target:
        return [node]
    if isinstance(node, cst.BaseExpression):
        return None
    for child in node.children:
        found = _path_to(child, target)
        if found is not None:
            return [node, *found]
    return None
