"""MEM603: a NumPy array built from a comprehension of small integer literals, stored as int64."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import FixAvailability
from memlint.rule import Rule, RuleContext
from memlint.rules._cst_shapes import SMALL_LENGTH, keyword_arg, positional_args, short, static_length
from memlint.rules._names import IMPORT, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: NumPy constructors whose ``dtype`` (keyword or second positional) defaults to the data's.
_CONSTRUCTORS = frozenset({"numpy.array", "numpy.asarray", "numpy.asanyarray", "numpy.ascontiguousarray"})
#: Builtins whose result is a ``bool`` whatever their arguments.
_BOOL_BUILTINS = frozenset({"bool", "callable", "hasattr", "isinstance", "issubclass"})
#: Integer dtypes narrower than int64, narrowest first, with their ranges.
_NARROW = (
    ("int8", -(2**7), 2**7 - 1),
    ("uint8", 0, 2**8 - 1),
    ("int16", -(2**15), 2**15 - 1),
    ("int32", -(2**31), 2**31 - 1),
)


@dataclass
class _Elements:
    """What a comprehension's element can evaluate to, and what that answer takes for granted."""

    #: Every integer the element (or each item of a nested row) can be.
    values: set[int]
    #: Names that must still be the builtins (``int`` in ``int(a > b)``).
    builtins: list[str]
    #: The iterables of every ``for`` clause and the lengths of literal rows, inner ones included.
    iterables: list[cst.BaseExpression]
    row_lengths: list[int]


@dataclass(frozen=True)
class _Candidate:
    call: cst.Call
    comprehension: cst.ListComp | cst.GeneratorExp
    elements: _Elements
    #: ``list`` in ``np.array(list(<generator>))``, else None.
    wrapper: cst.Name | None
    scope: Scope


class WideDefaultDtype(Rule):
    """
    ## What it does
    Checks for a NumPy array built without a `dtype` from a list comprehension whose every
    element can only be a small integer literal, and which is kept (assigned or returned):

    - `np.array([1 if seen else 0 for seen in flags])`, `np.asarray([-1 if x < 0 else 1 for x
      in xs])`: conditional expressions whose branches are integer literals;
    - `np.array([int(a > b) for a, b in pairs])`: `int()` of a comparison, `not`, `and`/`or`
      of those, or a call to `bool`/`isinstance`/`hasattr`/`callable`/`issubclass` (0 or 1);
    - rows of those: `np.array([[1 if i == j else 0 for j in cols] for i in rows])` and
      `np.array([[1, 0] if c else [0, 1] for c in labels])`;
    - `np.array(list(<generator of the same>))`.

    The callee is resolved through the imports (`import numpy as np`, `import numpy`, `from
    numpy import array, asarray`); a name rebound in the file is not NumPy's. Calls that pass a
    `dtype` (as a keyword or a second positional argument, whatever its value) or `*args` /
    `**kwargs` are not reported, nor are comprehensions over short literals or constant ranges
    (fewer than 1,000 elements in all), nor arrays used at once in an expression (`np.array(...)
    * w` or `f(np.array(...))`), where the int64 array is a temporary. Literal lists of small
    integers are small, and `np.zeros(n)` or `np.array([0] * n)` say nothing about the values
    stored later: neither is reported.

    ## Why is this bad?
    NumPy stores Python integers as the platform's default integer, int64 (8 bytes an element;
    int32 on Windows before NumPy 2), whatever their values. An array of 0/1 flags or of signs
    takes eight times the memory that `np.int8` (or `bool`) needs, for as long as the array is
    kept. With NumPy 2.4 on CPython 3.11, `np.array([1 if x > 0.5 else 0 for x in xs])` for
    1,000,000 elements keeps 8.0 MB (`tracemalloc`), against 1.0 MB with `dtype=np.int8` or
    `dtype=bool`; the peak while building it falls from 16.5 MB to 9.5 MB.

    ## Example
    ```python
    import numpy as np

    def sign_of(values):
        return np.array([1 if v >= 0 else -1 for v in values])
    ```

    ## Use instead
    ```python
    import numpy as np

    def sign_of(values):
        return np.array([1 if v >= 0 else -1 for v in values], dtype=np.int8)
    ```

    ## Fix safety
    There is no fix: the narrow dtype is a decision about how the array is used later. Integer
    arithmetic on an int8 array stays int8 and wraps around silently (`a * 100 + a * 100` with
    `a` all ones gives -56), and a Python integer out of its range raises `OverflowError`
    (`a * 200`); reductions such as `a.sum()` do widen to int64. `dtype=bool` is right for a
    mask but changes the meaning of indexing: `x[np.array([1, 0, 1])]` picks elements 1, 0 and
    1, while `x[np.array([True, False, True])]` picks elements 0 and 2. The message names the
    narrowest integer dtype that holds every literal, spelled with the file's NumPy alias.
    """

    CODE = "MEM603"
    NAME = "wide-default-dtype"
    SUMMARY = "NumPy array of small integer literals built without a dtype (int64, 8 bytes an element)"
    FIX = FixAvailability.NONE
    PREVIEW = True
    #: `array`, `asarray`, `asanyarray`, `ascontiguousarray`, under any alias (imported by name).
    PRESCREEN = ("array",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """A finding needs a call whose first argument is a list comprehension, or ``list()``
        of a generator, and which passes no ``dtype``."""
        return any(_ast_may_build(call) for call in index.nodes(ast.Call))

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._candidates: list[_Candidate] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- candidates: arrays that are kept ----------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        self._candidate(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._candidate(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self._candidate(node.value)

    def _candidate(self, value: cst.BaseExpression) -> None:
        if not isinstance(value, cst.Call):
            return
        args = positional_args(value)
        if args is None or len(args) != 1 or keyword_arg(value, "dtype") is not None:
            return
        data, wrapper = _comprehension_of(args[0].value)
        if data is None:
            return
        elements = _elements(data)
        if elements is not None and not _is_small(elements):
            self._candidates.append(_Candidate(value, data, elements, wrapper, self.names.current))

    # -- judging -----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for candidate in self._candidates:
            if self._resolves(candidate):
                dtype = _narrowest(candidate.elements.values)
                if dtype is not None:
                    self.report(candidate.call, self._message(candidate, dtype))

    def _resolves(self, candidate: _Candidate) -> bool:
        names, scope = self.names, candidate.scope
        if names.qualified_name(candidate.call.func, scope) not in _CONSTRUCTORS:
            return False
        needed = list(candidate.elements.builtins)
        if candidate.wrapper is not None:
            needed.append(candidate.wrapper.value)
        return all(names.is_builtin(name, scope) for name in needed)

    def _numpy_alias(self) -> str:
        """The name the module binds NumPy to (``np``), or ``numpy``."""
        for name, bindings in self.names.module_scope.bindings.items():
            if bindings and all(b.kind == IMPORT and b.target == "numpy" for b in bindings):
                return name
        return "numpy"

    def _message(self, candidate: _Candidate, dtype: str) -> str:
        shown = short(self.code_for(candidate.call), 50)
        spelled = f"{self._numpy_alias()}.{dtype}"
        mask = " (or `dtype=bool` if it is a mask)" if candidate.elements.values <= {0, 1} else ""
        size = {"int8": "1 byte", "uint8": "1 byte", "int16": "2 bytes", "int32": "4 bytes"}[dtype]
        return (
            f"`{shown}` holds only small integers but is stored as int64 (8 bytes an element); "
            f"`dtype={spelled}` stores them in {size} each{mask}"
        )


def _comprehension_of(
    node: cst.BaseExpression,
) -> tuple[cst.ListComp | cst.GeneratorExp | None, cst.Name | None]:
    """The list comprehension an array is built from, and the ``list`` name wrapping a generator."""
    if isinstance(node, cst.ListComp):
        return node, None
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "list"):
        return None, None
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return None, None
    inner = node.args[0].value
    return (inner, node.func) if isinstance(inner, cst.GeneratorExp) else (None, None)


def _elements(comprehension: cst.ListComp | cst.GeneratorExp) -> _Elements | None:
    """The integers a comprehension's element can be (rows included), or None when unknown."""
    found = _Elements(set(), [], [], [])
    _add_clauses(comprehension.for_in, found)
    return found if _element_values(comprehension.elt, found) else None


def _add_clauses(clause: cst.CompFor | None, found: _Elements) -> None:
    while clause is not None:
        found.iterables.append(clause.iter)
        clause = clause.inner_for_in


def _element_values(node: cst.BaseExpression, found: _Elements) -> bool:
    """Add what ``node`` can evaluate to; False when it may be anything but a small integer."""
    if isinstance(node, (cst.Integer, cst.UnaryOperation)):
        value = _literal(node)
        if value is not None:
            found.values.add(value)
        return value is not None
    if isinstance(node, cst.IfExp):
        return _element_values(node.body, found) and _element_values(node.orelse, found)
    if isinstance(node, cst.Call):
        return _int_of_truth(node, found)
    if isinstance(node, cst.ListComp):
        _add_clauses(node.for_in, found)
        return _element_values(node.elt, found)
    if isinstance(node, (cst.List, cst.Tuple)):
        return _row_values(node, found)
    return False


def _literal(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = node.expression
        return -int(inner.evaluated_value) if isinstance(inner, cst.Integer) else None
    return None


def _row_values(row: cst.List | cst.Tuple, found: _Elements) -> bool:
    """``[1, 0]``: a literal row, all of whose items are integer literals."""
    values = [_literal(e.value) if not isinstance(e, cst.StarredElement) else None for e in row.elements]
    if not values or any(v is None for v in values):
        return False
    found.values.update(v for v in values if v is not None)
    found.row_lengths.append(len(values))
    return True


def _int_of_truth(call: cst.Call, found: _Elements) -> bool:
    """``int(<comparison or other truth value>)``: 0 or 1."""
    if not (isinstance(call.func, cst.Name) and call.func.value == "int"):
        return False
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return False
    if not _is_truth(call.args[0].value, found.builtins):
        return False
    found.builtins.append("int")
    found.values.update((0, 1))
    return True


def _is_truth(node: cst.BaseExpression, builtins: list[str]) -> bool:
    """``node`` evaluates to a bool (comparisons, ``not``, ``and``/``or`` of those, ``bool(x)``)."""
    if isinstance(node, cst.Comparison):
        # Rich comparisons may return anything, but ``int()`` of a non-bool is not a flag anyway:
        # element-wise results (arrays) make ``int()`` raise for more than one element.
        return True
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, cst.Not)
    if isinstance(node, cst.BooleanOperation):
        return _is_truth(node.left, builtins) and _is_truth(node.right, builtins)
    if isinstance(node, cst.Name):
        return node.value in ("True", "False")
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _BOOL_BUILTINS:
        builtins.append(node.func.value)
        return True
    return False


def _is_small(elements: _Elements) -> bool:
    """Every ``for`` clause runs over a known, short iterable: the array is tiny."""
    lengths = [static_length(iterable) for iterable in elements.iterables]
    if any(length is None for length in lengths):
        return False
    total = math.prod(length for length in lengths if length is not None) * math.prod(elements.row_lengths)
    return total < SMALL_LENGTH


def _narrowest(values: set[int]) -> str | None:
    if not values:
        return None
    low, high = min(values), max(values)
    return next((name for name, lo, hi in _NARROW if lo <= low and high <= hi), None)


def _ast_may_build(call: ast.Call) -> bool:
    if len(call.args) != 1 or any(k.arg in ("dtype", None) for k in call.keywords):
        return False
    data = call.args[0]
    if isinstance(data, ast.ListComp):
        return True
    return (
        isinstance(data, ast.Call)
        and isinstance(data.func, ast.Name)
        and data.func.id == "list"
        and len(data.args) == 1
        and isinstance(data.args[0], ast.GeneratorExp)
    )
