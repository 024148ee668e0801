"""MEM104: sequences grown by copying, once per item: ``sum(lists, [])``, ``lst = lst + x`` and
``+=`` on bytes or tuples in loops."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
from memlint.rule import AddImport, FixProposal, Option, Replace, Rule, RuleContext
from memlint.rules._cst_shapes import (
    Chain,
    chain_of,
    comments_in,
    is_small,
    keyword_arg,
    positional_args,
    short,
    without_parens,
)
from memlint.rules._names import ASSIGN, AUG, IMPORT, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: Kinds of evident values.
LIST, BYTES, TUPLE, STR, SELF = "list", "bytes", "tuple", "str", "self"
_ADDERS = frozenset({"operator.add", "operator.concat", "operator.__add__", "operator.__concat__"})
_AUG_KEEPS_TYPE = (cst.AddAssign, cst.MultiplyAssign)
#: Calls whose result ``_kind`` can tell (by name; the ast pre-screen's superset).
_EVIDENT_CALLS = frozenset({"list", "sorted", "tuple", "bytes", "str", "join", "format"})


@dataclass
class _Target:
    """Everything that binds one name or attribute chain in one scope."""

    #: (kind, loops around the binding): kind is LIST/BYTES/TUPLE/STR/SELF, or None (unknown).
    bindings: list[tuple[str | None, tuple[cst.CSTNode, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Growth:
    """``x = x + ...`` or ``x += ...`` inside a loop."""

    statement: cst.CSTNode
    target: Chain
    augmented: bool
    prepends: bool  # ``x = y + x``
    scope: Scope
    loops: tuple[cst.CSTNode, ...]


@dataclass(frozen=True)
class _Summation:
    call: cst.Call
    iterable: cst.BaseExpression
    start: cst.BaseExpression
    scope: Scope
    via: str  # "sum" or "reduce"


class QuadraticConcatenation(Rule):
    """
    ## What it does
    Checks for sequences grown by copying everything accumulated so far, once per item:

    - `sum(lists, [])` (also `start=[]`, `()`, `list()`, `tuple()`) and
      `functools.reduce(operator.add, lists, [])` (or `operator.concat`, `lambda a, b: a + b`),
      anywhere;
    - `acc = acc + x` (or `acc = x + acc`) inside a loop, where `acc` is evidently a list;
    - `acc += x` and `acc = acc + x` inside a loop, where `acc` is evidently `bytes` or a tuple.

    "Evidently" means that every assignment to `acc` in the scope (a local or module-level name,
    or an attribute such as `self.acc` within one function) gives a value of that type: a
    literal (`[]`, `b""`, `()`), a call to `list()`, `sorted()`, `bytes()`, `tuple()`, or `acc`
    grown by `+` itself; a parameter, a `for` target or any other assignment leaves the type
    unknown, and nothing is reported. The loop must run more than once per accumulation: a loop
    that resets `acc` itself, or iterates over a short literal, is not reported.

    `acc += x` on a list is not reported: it is `list.extend`, which grows the list in place.

    ## Why is this bad?
    Each `+` builds a new object and copies both operands into it, so building a sequence of
    n parts copies O(n²) items, and the old and new copies are alive together at each step. On
    CPython 3.11, `lst = lst + [i]` over 10,000 items takes 324 ms against 0.7 ms for
    `lst += [i]` (32 s against 20 ms for 100,000 items); `data += chunk` on bytes, for 10,000
    chunks of 100 bytes, takes 3.4 s against 0.7 ms for `b"".join(parts)` (517 s against 17 ms
    for 100,000 chunks); `sum(lists, [])` over 10,000 ten-item lists takes 2.7 s against 1.6 ms
    for `list(itertools.chain.from_iterable(lists))`, and peaks at 15.3 MiB against 8.1 MiB for
    100,000 lists (`tracemalloc`).

    ## Example
    ```python
    def flatten(rows):
        return sum(rows, [])

    def receive(sock):
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data
            data += chunk
    ```

    ## Use instead
    ```python
    import itertools

    def flatten(rows):
        return list(itertools.chain.from_iterable(rows))

    def receive(sock):
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    ```

    ## Fix safety
    Only `sum(..., [])` / `sum(..., ())` and the `reduce()` forms have a fix, to
    `list(itertools.chain.from_iterable(...))` (or `tuple(...)`), adding `import itertools` if
    needed; it is unsafe: `+` accepts only lists (or only tuples) and uses their `__add__`,
    while `chain` accepts any iterable, so a string, a dict or a NumPy array among the items no
    longer raises `TypeError` or is iterated instead of added. No fix is offered when `list`,
    `tuple` or the name `itertools` means something else in the scope, or a comment would be
    lost.

    Growth in loops has no fix: `acc += x` extends the list in place, which changes code that
    kept a reference to the earlier list (appended it elsewhere, returned or yielded it), and
    the bytes and tuple rewrites (`b"".join`, `bytearray`, a list) change the code's structure.

    ## Options
    - `strings`: also report `s += x` and `s = s + x` on evident strings in loops. CPython grows
      a string held only by a local name in place (10,000 appends of 100 characters: 1.8 ms), but
      not one held by an attribute or a second reference (`self.text += part`: 1,547 ms) nor on
      other interpreters, which is why PEP 8 recommends `"".join()`. Off by default because the
      common local case is linear on CPython. Default: false.
    """

    CODE = "MEM104"
    NAME = "quadratic-concatenation"
    SUMMARY = "Sequence grown by copying it once per item"
    FIX = FixAvailability.SOMETIMES
    PREVIEW = True
    OPTIONS = (
        Option(
            "strings",
            False,
            "Also report `s += x` / `s = s + x` on evident strings in loops (linear for local names "
            "on CPython, quadratic for attributes and on other interpreters).",
        ),
    )
    #: `sum(`, `reduce(`, `+=`, or `x = x + ...` (needs "+").
    PRESCREEN = ("+", "sum", "reduce")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """A `sum()`/`reduce()` call with a start value, or a loop in a file where a name or
        attribute grown by `+` is also assigned something that can make its type evident."""
        if any(len(call.args) + len(call.keywords) >= 2 for call in index.calls_to("sum", "reduce")):
            return True
        if not index.nodes(ast.For) and not index.nodes(ast.While):
            return False
        grown = _ast_grown(index)
        return bool(grown) and not grown.isdisjoint(_ast_anchored(index))

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._strings = bool(self.option("strings"))
        #: Loops around the current point, one list per function or class body.
        self._loops: list[list[cst.CSTNode]] = [[]]
        #: Bindings of names: id of the target Name -> loops around it; and augmented operators.
        self._name_loops: dict[int, tuple[cst.CSTNode, ...]] = {}
        self._aug_ops: dict[int, cst.BaseAugOp] = {}
        #: Bindings of attribute chains, per function scope.
        self._attributes: dict[tuple[int, Chain], _Target] = {}
        self._growths: list[_Growth] = []
        self._summations: list[_Summation] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- loops -------------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._loops.append([])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._loops.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._loops.append([])

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._loops.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._loops.append([])

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._loops.pop()

    def visit_For_body(self, node: cst.For) -> None:
        self._loops[-1].append(node)

    def leave_For_body(self, node: cst.For) -> None:
        self._loops[-1].pop()

    def visit_While_body(self, node: cst.While) -> None:
        self._loops[-1].append(node)

    def leave_While_body(self, node: cst.While) -> None:
        self._loops[-1].pop()

    # -- bindings and growth -----------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        loops = tuple(self._loops[-1])
        single = len(node.targets) == 1
        for target in node.targets:
            value = node.value if single else None
            self._bound(target.target, value, loops)
        if single:
            self._growth(node, node.targets[0].target, node.value, loops)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bound(node.target, node.value, tuple(self._loops[-1]))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        loops = tuple(self._loops[-1])
        target = node.target
        if isinstance(target, cst.Name):
            self._name_loops[id(target)] = loops
            self._aug_ops[id(target)] = node.operator
        elif isinstance(target, cst.Attribute):
            kind = SELF if isinstance(node.operator, _AUG_KEEPS_TYPE) else None
            self._attribute_binding(target, kind, loops)
        if isinstance(node.operator, cst.AddAssign) and loops:
            chain = chain_of(target)
            if chain is not None:
                self._growths.append(_Growth(node, chain, True, False, self.names.current, loops))

    def visit_For(self, node: cst.For) -> None:
        self._unknown_attributes(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._unknown_attributes(node.asname.name)

    def visit_Del(self, node: cst.Del) -> None:
        self._unknown_attributes(node.target)

    def _bound(
        self, target: cst.BaseExpression, value: cst.BaseExpression | None, loops: tuple[cst.CSTNode, ...]
    ) -> None:
        if isinstance(target, cst.Name):
            self._name_loops[id(target)] = loops
        elif isinstance(target, cst.Attribute):
            chain = chain_of(target)
            kind = self._kind(value, chain, self.names.current) if value is not None and chain else None
            self._attribute_binding(target, kind, loops)
        else:
            self._unknown_attributes(target)

    def _attribute_binding(
        self, target: cst.Attribute, kind: str | None, loops: tuple[cst.CSTNode, ...]
    ) -> None:
        chain = chain_of(target)
        if chain is None:
            return
        key = (id(self.names.current), chain)
        self._attributes.setdefault(key, _Target()).bindings.append((kind, loops))

    def _unknown_attributes(self, target: cst.CSTNode) -> None:
        if isinstance(target, cst.Attribute):
            self._attribute_binding(target, None, ())
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._unknown_attributes(element.value)
        elif isinstance(target, cst.StarredElement):
            self._unknown_attributes(target.value)

    def _growth(
        self,
        node: cst.Assign,
        target: cst.BaseExpression,
        value: cst.BaseExpression,
        loops: tuple[cst.CSTNode, ...],
    ) -> None:
        chain = chain_of(target)
        if not loops or chain is None or not isinstance(value, cst.BinaryOperation):
            return
        operands = _added(value)
        if operands is None:
            return
        matches = [i for i, operand in enumerate(operands) if chain_of(operand) == chain]
        if len(matches) == 1:
            prepends = matches[0] == len(operands) - 1 and len(operands) > 1
            self._growths.append(_Growth(node, chain, False, prepends, self.names.current, loops))

    # -- sum() and reduce() ------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == "sum":
            self._sum(node)
        elif isinstance(func, (cst.Name, cst.Attribute)) and _last_name(func) == "reduce":
            self._reduce(node)

    def _sum(self, node: cst.Call) -> None:
        args = positional_args(node)
        start_kw = keyword_arg(node, "start")
        if args is None or len(node.args) != 2 or not args:
            return
        start = args[1].value if len(args) == 2 else start_kw.value if start_kw is not None else None
        if start is not None:
            self._summations.append(_Summation(node, args[0].value, start, self.names.current, "sum"))

    def _reduce(self, node: cst.Call) -> None:
        args = positional_args(node)
        if args is None or len(args) != 3 or len(node.args) != 3:
            return
        if _adds_two(args[0].value) or isinstance(args[0].value, (cst.Name, cst.Attribute)):
            self._summations.append(
                _Summation(node, args[1].value, args[2].value, self.names.current, "reduce")
            )

    # -- judging -----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for summation in self._summations:
            self._check_summation(summation)
        for growth in self._growths:
            self._check_growth(growth)

    def _check_summation(self, site: _Summation) -> None:
        names, scope = self.names, site.scope
        if site.via == "sum":
            if not names.is_builtin("sum", scope):
                return
        else:
            if names.qualified_name(site.call.func, scope) != "functools.reduce":
                return
            adder = positional_args(site.call)[0].value  # type: ignore[index]
            if not (_adds_two(adder) or names.qualified_name(adder, scope) in _ADDERS):
                return
        kind = self._empty_sequence(site.start, scope)
        if kind is None or is_small(site.iterable):
            return
        what = "list" if kind == LIST else "tuple"
        shown = f"{site.via}(..., {short(self.code_for(site.start), 12)})"
        message = (
            f"`{shown}` copies the accumulated {what} once per item (quadratic time, old and new "
            f"copies alive together); `{kind}(itertools.chain.from_iterable(...))` builds it once"
        )
        self.report(site.call, message, self._chain_fix(site, kind))

    def _empty_sequence(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        if isinstance(node, cst.List) and not node.elements:
            return LIST
        if isinstance(node, cst.Tuple) and not node.elements:
            return TUPLE
        if isinstance(node, cst.Call) and not node.args:
            qualified = self.names.qualified_name(node.func, scope)
            if qualified in ("builtins.list", "builtins.tuple"):
                return qualified[len("builtins.") :]
        return None

    def _chain_fix(self, site: _Summation, kind: str) -> FixProposal | None:
        scope = self.names
        if not scope.is_builtin(kind, site.scope):
            return None
        spelling = self._chain_spelling(site.scope)
        if spelling is None:
            return None
        chain_func, needs_import = spelling
        replacement = cst.Call(
            cst.Name(kind),
            [cst.Arg(cst.Call(chain_func, [cst.Arg(without_parens(site.iterable))]))],
        )
        if comments_in(site.call) != comments_in(replacement):
            return None
        edits: tuple[Replace | AddImport, ...] = (Replace(site.call, replacement),)
        if needs_import:
            edits = (*edits, AddImport("itertools"))
        return FixProposal(Applicability.UNSAFE, "Chain the items with `itertools.chain`", edits)

    def _chain_spelling(self, scope: Scope) -> tuple[cst.BaseExpression, bool] | None:
        """How to write ``itertools.chain.from_iterable`` here, and whether to import it."""
        names = self.names
        if names.qualified_name(cst.Name("itertools"), scope) == "itertools":
            return _dotted("itertools.chain.from_iterable"), False
        for name, bindings in names.module_scope.bindings.items():
            if not bindings or not all(b.kind == IMPORT for b in bindings):
                continue
            targets = {b.target for b in bindings}
            if targets not in ({"itertools"}, {"itertools.chain"}):
                continue
            found = names.lookup(name, scope)
            if found is not None and found[0] is names.module_scope:
                suffix = ".chain.from_iterable" if targets == {"itertools"} else ".from_iterable"
                return _dotted(name + suffix), False
        if names.lookup("itertools", scope) is None and not names.module_scope.star_import:
            return _dotted("itertools.chain.from_iterable"), True
        return None

    def _check_growth(self, growth: _Growth) -> None:
        target = self._target(growth)
        if target is None:
            return
        kinds = {kind for kind, _ in target.bindings}
        anchors = kinds - {SELF}
        if None in kinds or len(anchors) != 1:
            return
        kind = anchors.pop()
        assert kind is not None
        if kind == LIST and growth.augmented:
            return
        if kind == STR and not self._strings:
            return
        anchor_loops = [{id(loop) for loop in loops} for k, loops in target.bindings if k != SELF]
        if not any(
            not _runs_few_times(loop) and all(id(loop) not in loops for loops in anchor_loops)
            for loop in growth.loops
        ):
            return
        self.report(growth.statement, _growth_message(growth, kind))

    def _target(self, growth: _Growth) -> _Target | None:
        """The bindings of the grown name (in the scope that owns it) or attribute chain (in
        this function), with their kinds."""
        scope = growth.scope
        if scope.kind not in ("function", "module"):
            return None
        if len(growth.target) > 1:
            return self._attributes.get((id(scope), growth.target))
        name = growth.target[0]
        found = self.names.lookup(name, scope)
        if found is None or found[0] is not scope:
            return None
        target = _Target()
        for binding in found[1]:
            node = binding.node
            loops = self._name_loops.get(id(node), ()) if node is not None else ()
            if binding.kind == ASSIGN and binding.value is not None:
                target.bindings.append((self._kind(binding.value, growth.target, scope), loops))
            elif binding.kind == AUG and node is not None:
                operator = self._aug_ops.get(id(node))
                target.bindings.append((SELF if isinstance(operator, _AUG_KEEPS_TYPE) else None, loops))
            else:
                target.bindings.append((None, loops))
        return target

    def _kind(self, value: cst.BaseExpression, chain: Chain, scope: Scope) -> str | None:
        """The evident type of an assigned value, SELF for the target grown by ``+``."""
        if isinstance(value, (cst.List, cst.ListComp)):
            return LIST
        if isinstance(value, cst.Tuple):
            return TUPLE
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            evaluated = value.evaluated_value
            return BYTES if isinstance(evaluated, bytes) else STR if isinstance(evaluated, str) else None
        if isinstance(value, cst.FormattedString):
            return STR
        if isinstance(value, cst.BinaryOperation):
            return self._binary_kind(value, chain, scope)
        if isinstance(value, cst.Call):
            return self._call_kind(value, scope)
        return None

    def _binary_kind(self, value: cst.BinaryOperation, chain: Chain, scope: Scope) -> str | None:
        operands = _added(value)
        if operands is not None:
            if any(chain_of(operand) == chain for operand in operands):
                return SELF
            kinds = {self._kind(operand, chain, scope) for operand in operands}
            return kinds.pop() if len(kinds) == 1 else None
        if isinstance(value.operator, cst.Multiply):
            for side in (value.left, value.right):
                kind = self._kind(side, chain, scope)
                if kind in (LIST, TUPLE, BYTES, STR):
                    return kind
        return None

    def _call_kind(self, call: cst.Call, scope: Scope) -> str | None:
        qualified = self.names.qualified_name(call.func, scope)
        builtin = {
            "builtins.list": LIST,
            "builtins.sorted": LIST,
            "builtins.tuple": TUPLE,
            "builtins.bytes": BYTES,
            "builtins.str": STR,
        }.get(qualified or "")
        if builtin is not None:
            return builtin
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(
            func.value, (cst.SimpleString, cst.ConcatenatedString)
        ):
            if func.attr.value in ("join", "format"):
                evaluated = func.value.evaluated_value
                return BYTES if isinstance(evaluated, bytes) else STR if isinstance(evaluated, str) else None
        return None


def _ast_key(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_key(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _ast_operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_ast_operands(node.left), *_ast_operands(node.right)]
    return [node]


def _ast_grown(index: AstIndex) -> set[str]:
    """Keys of targets of ``x += ...`` and ``x = ... + x + ...``."""
    grown = {_ast_key(node.target) for node in index.nodes(ast.AugAssign) if isinstance(node.op, ast.Add)}
    for node in index.nodes(ast.Assign):
        if len(node.targets) == 1 and isinstance(node.value, ast.BinOp):
            key = _ast_key(node.targets[0])
            if key is not None and key in {_ast_key(o) for o in _ast_operands(node.value)}:
                grown.add(key)
    grown.discard(None)
    return grown  # type: ignore[return-value]


def _ast_anchored(index: AstIndex) -> set[str]:
    """Keys of targets assigned a value whose type may be evident (a superset of ``_kind``)."""
    anchored: set[str] = set()
    for node in index.nodes(ast.Assign):
        if _ast_may_be_evident(node.value):
            anchored.update(k for k in map(_ast_key, node.targets) if k is not None)
    for ann in index.nodes(ast.AnnAssign):
        key = _ast_key(ann.target)
        if ann.value is not None and _ast_may_be_evident(ann.value) and key is not None:
            anchored.add(key)
    return anchored


def _ast_may_be_evident(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (str, bytes))
    if isinstance(value, (ast.JoinedStr, ast.Tuple, ast.List, ast.ListComp)):
        return True
    if isinstance(value, ast.BinOp):
        return isinstance(value.op, (ast.Add, ast.Mult)) and (
            _ast_may_be_evident(value.left) or _ast_may_be_evident(value.right)
        )
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in _EVIDENT_CALLS
    return False


def _last_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _added(value: cst.BinaryOperation) -> list[cst.BaseExpression] | None:
    """The operands of a chain of ``+`` (``a + b + c``), left to right; None for anything else."""
    if not isinstance(value.operator, cst.Add):
        return None
    left = value.left
    operands = _added(left) if isinstance(left, cst.BinaryOperation) else None
    return [*(operands if operands is not None else [left]), value.right]


def _adds_two(node: cst.BaseExpression) -> bool:
    """``lambda a, b: a + b``."""
    if not isinstance(node, cst.Lambda):
        return False
    params = node.params
    if params.star_arg is not cst.MaybeSentinel.DEFAULT and params.star_arg is not None:
        return False
    plain = list(params.posonly_params) + list(params.params)
    if len(plain) != 2 or params.kwonly_params or params.star_kwarg is not None:
        return False
    body = node.body
    return (
        isinstance(body, cst.BinaryOperation)
        and isinstance(body.operator, cst.Add)
        and chain_of(body.left) == (plain[0].name.value,)
        and chain_of(body.right) == (plain[1].name.value,)
    )


def _runs_few_times(loop: cst.CSTNode) -> bool:
    """A ``for`` over a short literal or constant range: the growth stays small."""
    return isinstance(loop, cst.For) and is_small(loop.iter)


def _dotted(text: str) -> cst.BaseExpression:
    parts = text.split(".")
    node: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(node, cst.Name(part))
    return node


def _growth_message(growth: _Growth, kind: str) -> str:
    target = ".".join(growth.target)
    statement = f"{target} += ..." if growth.augmented else f"{target} = {target} + ..."
    if growth.prepends:
        statement = f"{target} = ... + {target}"
    if kind == LIST:
        advice = (
            "append and reverse once at the end, or use a `collections.deque`"
            if growth.prepends
            else f"`{target} += ...` or `{target}.extend(...)` grows it in place"
        )
        return (
            f"`{statement}` in a loop copies the whole list each time it runs (quadratic time, old and "
            f"new copies alive together); {advice}"
        )
    if kind == BYTES:
        return (
            f"`{statement}` in a loop copies all the bytes gathered so far each time it runs "
            '(quadratic time); collect the parts in a list and `b"".join()` them, or grow a `bytearray`'
        )
    if kind == TUPLE:
        return (
            f"`{statement}` in a loop copies the whole tuple each time it runs (quadratic time); "
            "collect the items in a list and convert it once with `tuple()`"
        )
    advice = 'collect the parts in a list and `"".join()` them'
    if growth.prepends or len(growth.target) > 1:
        return (
            f"`{statement}` in a loop copies the whole string each time it runs (quadratic time: "
            f"CPython only extends in place a string held by a plain name and appended to); {advice}"
        )
    return (
        f"`{statement}` in a loop relies on CPython extending the string in place; elsewhere, or "
        f"with a second reference to it, it copies the whole string each time (quadratic time); {advice}"
    )
