"""MEM203: ``__slots__`` that cannot work (an unslotted base) or that repeat a base's slots."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import FixAvailability
from memlint.facts import ProjectFacts
from memlint.rule import Rule
from memlint.rules._class_bases import (
    ABC_METACLASSES,
    BUILTIN_DICT_TYPES,
    KNOWN_SLOTTED_EXTERNAL,
    NAMEDTUPLE,
    NAMEDTUPLE_CLASS_BASES,
    ClassBases,
    ClassGraph,
    ClassRecord,
    class_slots,
    graph_with,
    parse_source,
)
from memlint.rules._class_layout import paired, qualnames

_HARMLESS_DECORATORS = frozenset(
    {"functools.total_ordering", "typing.final", "typing_extensions.final", "typing.runtime_checkable"}
)
_DATACLASS = "dataclasses.dataclass"
_ATTRS_SLOTTED = frozenset(f"{m}.{n}" for m in ("attr", "attrs") for n in ("define", "frozen", "mutable"))
_ATTRS_CLASSIC = frozenset({"attr.s", "attr.attrs", "attrs.attrs", "attr.dataclass"})
#: Slot names that Python itself refuses to repeat (a ``TypeError`` when the class is created).
_SPECIAL = frozenset({"__dict__", "__weakref__"})


@dataclass(frozen=True)
class Dict:
    """Instances get a managed ``__dict__`` from unslotted classes of the project above them (the
    nearest first)."""

    bases: tuple[str, ...]

    def names(self) -> str:
        quoted = [f"`{name}`" for name in self.bases]
        return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


_FREE = "free"  # adds no __dict__
#: A dictionary created on first use (a ``"__dict__"`` slot, or a builtin such as ``Exception``):
#: slots below it still keep attributes out of it, so they are not ineffective.
_LAZY = "lazy"
Verdict = Dict | str | None  # None: unknown


class _Layouts:
    def __init__(self, graph: ClassGraph) -> None:
        self.graph = graph
        self._memo: dict[str, Verdict] = {}

    def of_bases(self, bases: list[str | None]) -> Verdict:
        verdicts = [self.of(b) for b in bases]
        for verdict in verdicts:
            if isinstance(verdict, Dict):
                return verdict
        if _LAZY in verdicts:
            return _LAZY
        return _FREE if all(v == _FREE for v in verdicts) else None

    def of(self, base: str | None) -> Verdict:
        if base is None:
            return None
        if base == NAMEDTUPLE or base == "builtins.object" or base in KNOWN_SLOTTED_EXTERNAL:
            return _FREE
        if base.startswith("builtins."):
            name = base[len("builtins.") :]
            if name in BUILTIN_DICT_TYPES:
                return _LAZY
            return _FREE if self.graph.record(base) is None and _is_builtin_type(name) else None
        if base not in self._memo:
            self._memo[base] = None  # cycle guard
            self._memo[base] = self._project_class(base)
        return self._memo[base]

    def _project_class(self, qualname: str) -> Verdict:
        record = self.graph.record(qualname)
        if record is None:
            return None
        metaclass = self.graph.metaclass(record)
        if metaclass is not None and metaclass not in ABC_METACLASSES:
            return None
        slotted = self._slotted_by_decorator(record)
        if slotted is None:
            return None
        bases = self.graph.bases(record)
        if any(b in NAMEDTUPLE_CLASS_BASES for b in bases):
            return _FREE
        above = self.of_bases(bases)
        if record.slots is None and not slotted:
            if above is None:
                return None  # an unknown base's metaclass could give it slots
            if above == _LAZY:
                return above
            if isinstance(above, Dict):
                return Dict((record.name, *(b for b in above.bases if b != record.name)))
            return Dict((record.name,))
        if record.slots is not None and "__dict__" in record.slots:
            return _LAZY
        return above

    def _slotted_by_decorator(self, record: ClassRecord) -> bool | None:
        """Whether a class decorator gives the class slots (None: an unknown decorator)."""
        slotted = False
        for target, deco in self.graph.decorator_targets(record):
            if target == _DATACLASS:
                slotted = slotted or deco.slots is True
            elif target in _ATTRS_SLOTTED:
                slotted = slotted or deco.slots is not False
            elif target in _ATTRS_CLASSIC:
                slotted = slotted or deco.slots is True
            elif target not in _HARMLESS_DECORATORS:
                return None
        return slotted

    def ancestors(self, record: ClassRecord) -> Iterator[ClassRecord]:
        """Project classes above ``record``, nearest first."""
        seen = {record.qualname}
        queue = [b for b in self.graph.bases(record) if b is not None]
        while queue:
            qualname = queue.pop(0)
            if qualname in seen:
                continue
            seen.add(qualname)
            found = self.graph.record(qualname)
            if found is None:
                continue
            yield found
            queue.extend(b for b in self.graph.bases(found) if b is not None)


def _is_builtin_type(name: str) -> bool:
    import builtins

    return isinstance(getattr(builtins, name, None), type)


class IneffectiveSlots(Rule):
    """
    ## What it does
    Checks for `__slots__` that cannot do their job:

    - a class declares `__slots__` but a class of the project above it (followed across modules)
      has none, so every instance still gets a `__dict__`;
    - a slot that a base class already defines, or that the same `__slots__` lists twice.

    Listing `"__dict__"` in `__slots__` asks for a dictionary on purpose and is not reported (nor
    are the subclasses of such a class). Neither are subclasses of builtins such as `Exception`,
    whose dictionary is only created when an attribute lands in it: slots below them still keep
    attributes out of it. Bases that cannot be followed (third-party classes, classes with a
    metaclass or an unknown decorator) mean no finding. `@dataclass(slots=True)` and attrs'
    `@define` bases count as slotted.

    Test files are not checked: tests build such classes on purpose (to test slots themselves).

    ## Why is this bad?
    `__slots__` only removes the instance dictionary when every class in the hierarchy declares
    them. With one unslotted base, instances keep their `__dict__` and the slots save little or
    nothing. Measured with `tracemalloc` over 100,000 instances of a subclass with three slots
    whose base has no `__slots__`, an instance takes 96 bytes on CPython 3.11, exactly as many as
    without slots, against 56 bytes when the base is slotted too. When the base's `__init__` also
    sets an attribute, the instance is larger than without slots on some versions: 176 against
    152 bytes on 3.10, and 416 against 104 bytes on 3.13 (python/cpython#135385). A repeated slot
    gives every instance a second, unused 8-byte field and hides the base's slot.

    ## Example
    ```python
    class Node:
        def __init__(self, parent):
            self.parent = parent


    class Leaf(Node):
        __slots__ = ("value",)
    ```

    ## Use instead
    ```python
    class Node:
        __slots__ = ("parent",)

        def __init__(self, parent):
            self.parent = parent


    class Leaf(Node):
        __slots__ = ("value",)
    ```

    ## Fix safety
    There is no fix. Adding `__slots__` to the base is a change to another class (its instances
    lose their `__dict__`, which other code may use) and has to be made by hand.
    """

    CODE = "MEM203"
    NAME = "ineffective-slots"
    SUMMARY = "`__slots__` that cannot prevent a `__dict__`, or that repeat a base's slots"
    FIX = FixAvailability.NONE
    PREVIEW = True
    FACTS = (ClassBases,)
    PRESCREEN = ("__slots__",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files with a class statement that binds ``__slots__``."""
        return any(class_slots(node)[0] is not None for node in index.nodes(ast.ClassDef))

    def visit_Module(self, node: cst.Module) -> None:
        self._classes: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file:
            return
        tree = parse_source(self.context.source, self.context.path)
        if tree is None:
            return
        pairs = paired(tree, self._classes)
        if not pairs:
            return
        project = self.context.facts.get(ClassBases) if self.context.facts is not None else None
        graph, record = graph_with(tree, self.context.path, self.context.module_name, project)
        layouts = _Layouts(graph)
        names = qualnames(tree, record.name)
        for node, cst_node in pairs:
            own = graph.record(names.get(node, ""))
            if own is None or own.line != node.lineno or own.slots is None:
                continue
            slots_target = _slots_target(cst_node)
            if slots_target is None:
                continue
            self._check_base(own, layouts, graph, slots_target)
            if own.slots_known:
                self._check_repeats(own, layouts, slots_target)

    def _check_base(
        self, record: ClassRecord, layouts: _Layouts, graph: ClassGraph, target: _SlotsTarget
    ) -> None:
        if not record.slots_known or "__dict__" in (record.slots or ()):
            return
        metaclass = graph.metaclass(record)
        if metaclass is not None and metaclass not in ABC_METACLASSES:
            return
        verdict = layouts.of_bases(graph.bases(record))
        if isinstance(verdict, Dict):
            names = verdict.names()
            plural = len(verdict.bases) > 1
            which = f"bases {names} have" if plural else f"base {names} has"
            message = (
                f"`__slots__` of `{record.name}` cannot prevent a `__dict__`: {which} no `__slots__`, so "
                "every instance still gets one and the slots save little or nothing (nothing on CPython "
                f"3.11-3.12); give {'them' if plural else names} `__slots__` too"
            )
            self.report(target.name, message)

    def _check_repeats(self, record: ClassRecord, layouts: _Layouts, target: _SlotsTarget) -> None:
        assert record.slots is not None
        reported: set[str] = set()
        for index, name in enumerate(record.slots):
            if name in _SPECIAL or name in reported:
                continue
            if name in record.slots[:index]:
                reported.add(name)
                node = target.element(name, occurrence=record.slots[:index].count(name))
                self.report(
                    node or target.name,
                    f"slot `{name}` is listed twice in `__slots__` of `{record.name}`: every instance "
                    "carries an unused 8-byte copy",
                )
        for ancestor in layouts.ancestors(record):
            if ancestor.slots is None or not ancestor.slots_known:
                continue
            for name in record.slots:
                if name in _SPECIAL or name in reported or name not in ancestor.slots:
                    continue
                reported.add(name)
                self.report(
                    target.element(name) or target.name,
                    f"slot `{name}` of `{record.name}` is already defined by base `{ancestor.name}`: every "
                    "instance carries a second, unused 8-byte copy and the base's slot is hidden",
                )


@dataclass(frozen=True)
class _SlotsTarget:
    """The ``__slots__`` binding of a class in the LibCST tree."""

    name: cst.CSTNode
    value: cst.BaseExpression | None

    def element(self, slot: str, occurrence: int = 0) -> cst.CSTNode | None:
        """The string literal naming ``slot`` (its ``occurrence``-th appearance)."""
        value = self.value
        if value is None:
            return None
        if isinstance(value, (cst.Tuple, cst.List, cst.Set)):
            items = [e.value for e in value.elements]
        elif isinstance(value, cst.Dict):
            items = [e.key for e in value.elements if isinstance(e, cst.DictElement)]
        else:
            items = [value]
        seen = 0
        for item in items:
            if isinstance(item, cst.SimpleString) and item.evaluated_value == slot:
                if seen == occurrence:
                    return item
                seen += 1
        return None


def _slots_target(node: cst.ClassDef) -> _SlotsTarget | None:
    """The last direct ``__slots__ = ...`` statement of the class body."""
    body = node.body
    smalls: list[cst.BaseSmallStatement] = []
    if isinstance(body, cst.SimpleStatementSuite):
        smalls = list(body.body)
    else:
        for stmt in body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                smalls.extend(stmt.body)
    found = None
    for small in smalls:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name) and target.target.value == "__slots__":
                    found = _SlotsTarget(target.target, small.value)
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            if small.target.value == "__slots__":
                found = _SlotsTarget(small.target, small.value)
    return found
