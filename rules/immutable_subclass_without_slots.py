"""MEM202: a subclass of an immutable builtin or of a named tuple lacks ``__slots__ = ()``."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import Applicability, FixAvailability
from memlint.facts import ProjectFacts
from memlint.rule import FixProposal, InsertText, NodeEdit, Replace, Rule
from memlint.rules._class_bases import (
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
from memlint.rules._class_layout import (
    externally_extended,
    indentation,
    is_docstring,
    needs_instance_dict,
    paired,
    qualnames,
)

#: Builtins whose subclasses cannot be weakly referenced with or without ``__slots__ = ()``.
_NO_WEAKREF = {"builtins.tuple": "tuple", "builtins.int": "int", "builtins.bytes": "bytes"}
#: Builtins whose unslotted subclasses support weak references, which ``__slots__ = ()`` removes.
_WEAKREF = {"builtins.str": "str", "builtins.float": "float", "builtins.complex": "complex"}
_NEUTRAL = KNOWN_SLOTTED_EXTERNAL | {"builtins.object", "typing_extensions.Generic"}
#: Class decorators that neither replace the class nor touch its instances.
_HARMLESS_DECORATORS = frozenset({"functools.total_ordering", "typing.final", "typing_extensions.final"})
_SLOTS = "__slots__ = ()"


@dataclass(frozen=True)
class Root:
    """What makes a class's instances dict-free once it declares ``__slots__ = ()``."""

    description: str  # "`tuple`", "the named tuple `Point`"
    weakref: bool  # unslotted instances can be weakly referenced; slots would remove that


class _Layout:
    """Which classes are immutable, dict-free bases (memoised per file)."""

    def __init__(self, graph: ClassGraph) -> None:
        self.graph = graph
        self._memo: dict[str, Root | str | None] = {}

    def classify(self, base: str | None) -> Root | str | None:
        """A :class:`Root`, ``"neutral"`` (adds no ``__dict__``: ``object``, ``Generic``) or None."""
        if base is None:
            return None
        if base == NAMEDTUPLE:
            return Root("a named tuple", weakref=False)
        if base in _NO_WEAKREF:
            return Root(f"`{_NO_WEAKREF[base]}`", weakref=False)
        if base in _WEAKREF:
            return Root(f"`{_WEAKREF[base]}`", weakref=True)
        if base in _NEUTRAL:
            return "neutral"
        if base not in self._memo:
            self._memo[base] = None  # cycle guard
            self._memo[base] = self._project_class(base)
        return self._memo[base]

    def _project_class(self, qualname: str) -> Root | None:
        record = self.graph.record(qualname)
        if record is None or record.metaclass is not None or record.decorators:
            return None
        bases = self.graph.bases(record)
        if any(b in NAMEDTUPLE_CLASS_BASES for b in bases):
            return Root(f"the named tuple `{record.name}`", weakref=False)
        if record.slots is None or not record.slots_known or "__dict__" in record.slots:
            return None
        root = self.root(bases)
        if root is None:
            return None
        if root.description == "a named tuple":
            return Root(f"the named tuple `{record.name}`", weakref=False)
        description = (
            root.description
            if "through" in root.description
            else f"{root.description} (through `{record.name}`)"
        )
        return Root(description, root.weakref and "__weakref__" not in record.slots)

    def root(self, bases: list[str | None]) -> Root | None:
        """The immutable root of a class with these bases, when every base is dict-free."""
        found: Root | None = None
        for base in bases:
            kind = self.classify(base)
            if kind is None:
                return None
            if isinstance(kind, Root):
                found = kind
        return found


class ImmutableSubclassWithoutSlots(Rule):
    """
    ## What it does
    Checks for subclasses of `tuple`, `int`, `bytes`, `str`, `float` and `complex`, and for
    subclasses of named tuples (made by `collections.namedtuple(...)`, by the call form of
    `typing.NamedTuple`, or classes deriving from a `typing.NamedTuple` class), that add no
    instance attributes but do not declare `__slots__ = ()`.

    Bases are followed across the project's modules. A class is only flagged when every base is
    known to be free of a `__dict__`: the builtin, a named tuple, `object`, `typing.Generic`, or a
    project class that itself declares `__slots__` down to such a root. Enum mixins (`class
    Color(str, Enum)`), classes with a metaclass and classes with unknown bases are left alone, and
    so are classes whose body assigns attributes on instances, uses `__dict__`, `vars()` or
    `setattr()`, defines `__setattr__`, or decorates a method with anything but the standard
    decorators that leave the instance alone (`property`, `staticmethod`, `functools.lru_cache`...:
    `functools.cached_property` and custom decorators may store on the instance). A
    `typing.NamedTuple` class itself is never flagged: it has no `__dict__` already and refuses
    `__slots__`. Test files are not checked: their subclasses exist to exercise subclassing.

    ## Why is this bad?
    These builtins keep their data inside the object and have no instance dictionary. A subclass
    without `__slots__` adds one: every instance carries a `__dict__` pointer, and the dictionary
    itself is created as soon as anything reads `__dict__` (pickling, `copy.copy()`, `vars()`).
    Measured with `tracemalloc` over 100,000 instances on CPython 3.11, a subclass of a two-field
    named tuple takes 104 bytes per instance against 96 with `__slots__ = ()`, and 168 bytes once
    the instances have been pickled or copied (75% more). On 3.13 the same materialised instances
    take 456 bytes against 96. A subclass that adds only methods or properties never uses that
    dictionary.

    ## Example
    ```python
    from collections import namedtuple

    class Point(namedtuple("Point", "x y")):
        def norm(self):
            return (self.x**2 + self.y**2) ** 0.5
    ```

    ## Use instead
    ```python
    from collections import namedtuple

    class Point(namedtuple("Point", "x y")):
        __slots__ = ()

        def norm(self):
            return (self.x**2 + self.y**2) ** 0.5
    ```

    ## Fix safety
    The fix adds `__slots__ = ()` after the class docstring. It is safe for subclasses of
    `tuple`, `int`, `bytes` and named tuples: their instances cannot be weakly referenced either
    way, and the class body gives them no attributes. Code elsewhere that sets attributes on the
    instances (`p.extra = 1`) would then raise `AttributeError`; such stores in the same file make
    the rule stay silent, but stores in other modules cannot be seen. The fix is unsafe for
    subclasses of `str`, `float` and `complex`, whose unslotted instances support weak references
    and lose that support with `__slots__ = ()`, and for classes with a decorator other than
    `functools.total_ordering` or `typing.final`.
    """

    CODE = "MEM202"
    NAME = "immutable-subclass-without-slots"
    SUMMARY = "Subclass of an immutable builtin or named tuple without `__slots__ = ()`"
    FIX = FixAvailability.SOMETIMES
    PREVIEW = True
    FACTS = (ClassBases,)
    PRESCREEN = ("class",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files with an unslotted class statement whose base may be an immutable root: a call
        (``namedtuple(...)``), or a name that the file imports or aliases from, or that is, a name
        bound anywhere in the project to a builtin root, a named tuple or a slotted class."""
        classes = [n for n in index.nodes(ast.ClassDef) if n.bases and class_slots(n)[0] is None]
        if not classes:
            return False
        graph = facts.get(ClassBases) if facts is not None else None
        if not isinstance(graph, ClassGraph):
            return True
        names = set(_candidate_names(graph))
        for node in index.nodes(ast.ImportFrom):
            if any(a.name == "*" for a in node.names):
                return True
            names.update(a.asname for a in node.names if a.asname and a.name in names)
        aliases: list[tuple[list[ast.expr], ast.expr]] = [
            (n.targets, n.value) for n in index.nodes(ast.Assign)
        ]
        aliases += [([n.target], n.value) for n in index.nodes(ast.AnnAssign) if n.value is not None]
        while True:
            found = {
                t.id
                for targets, value in aliases
                if _last_name(value) in names
                for t in targets
                if isinstance(t, ast.Name) and t.id not in names
            }
            if not found:
                break
            names |= found
        return any(_may_be_root(base, names) for node in classes for base in node.bases)

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
        layout = _Layout(graph)
        names = qualnames(tree, record.name)
        lines = self.context.source.splitlines()
        for node, cst_node in pairs:
            own = graph.record(names.get(node, ""))
            if own is None or own.line != node.lineno:
                continue
            root = self._root(layout, own)
            if root is None or needs_instance_dict(node) or externally_extended(tree, node.name):
                continue
            self._report(node, cst_node, own, root, lines, graph)

    @staticmethod
    def _root(layout: _Layout, record: ClassRecord) -> Root | None:
        if record.slots is not None or record.metaclass is not None or "**" in record.keywords:
            return None
        bases = layout.graph.bases(record)
        if not bases or any(b in NAMEDTUPLE_CLASS_BASES for b in bases):
            return None
        return layout.root(bases)

    def _report(
        self,
        node: ast.ClassDef,
        cst_node: cst.ClassDef,
        record: ClassRecord,
        root: Root,
        lines: list[str],
        graph: ClassGraph,
    ) -> None:
        message = (
            f"`{node.name}` subclasses {root.description} without `__slots__ = ()`: every instance "
            "gets a `__dict__` it never uses (8 bytes, and a dictionary of 64+ bytes once pickled or copied)"
        )
        edits = _slots_edits(node, cst_node, lines, self.context.module.default_newline)
        fix = None
        if edits:
            decorated = any(
                target not in _HARMLESS_DECORATORS for target, _ in graph.decorator_targets(record)
            )
            unsafe = root.weakref or decorated
            title = "Add `__slots__ = ()`"
            if root.weakref:
                title += " (instances lose weak-reference support)"
            fix = FixProposal(Applicability.UNSAFE if unsafe else Applicability.SAFE, title, edits)
        self.report(cst_node.name, message, fix)


def _candidate_names(graph: ClassGraph) -> frozenset[str]:
    """Simple names that may stand for an immutable root somewhere in the project (a superset)."""
    key = "MEM202 candidates"
    if key not in graph.memo:

        def wanted(target: str) -> bool:
            if target == NAMEDTUPLE or target in _NO_WEAKREF or target in _WEAKREF:
                return True
            record = graph.record(target)
            if record is None:
                return False
            return record.slots is not None or any(b in NAMEDTUPLE_CLASS_BASES for b in graph.bases(record))

        builtin_roots = {name.rpartition(".")[2] for name in (*_NO_WEAKREF, *_WEAKREF)}
        graph.memo[key] = graph.names_resolving_to(wanted) | builtin_roots
    names: frozenset[str] = graph.memo[key]
    return names


def _last_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    return expr.attr if isinstance(expr, ast.Attribute) else None


def _may_be_root(base: ast.expr, names: set[str]) -> bool:
    if isinstance(base, ast.Subscript):
        base = base.value
    return isinstance(base, ast.Call) or _last_name(base) in names


def _slots_edits(
    node: ast.ClassDef, cst_node: cst.ClassDef, lines: list[str], newline: str
) -> tuple[NodeEdit, ...]:
    """``__slots__ = ()`` as the first statement after the docstring (replacing a lone ``pass``)."""
    body = cst_node.body
    if isinstance(body, cst.SimpleStatementSuite):
        if len(body.body) == 1 and _is_placeholder(body.body[0]):
            return (Replace(body.body[0], _SLOTS),)
        return (InsertText(body.body[-1], f"; {_SLOTS}", after=True),)
    if not isinstance(body, cst.IndentedBlock) or len(node.body) != len(body.body):
        return ()
    rest = body.body[1:] if is_docstring(node.body[0]) else body.body
    if len(rest) == 1 and isinstance(rest[0], cst.SimpleStatementLine) and len(rest[0].body) == 1:
        if _is_placeholder(rest[0].body[0]):
            return (Replace(rest[0].body[0], _SLOTS),)
    indent = indentation(lines, node.body[0])
    if indent is None:
        return ()
    if is_docstring(node.body[0]):
        docstring = body.body[0]
        if not isinstance(docstring, cst.SimpleStatementLine) or len(docstring.body) != 1:
            return ()
        text = f"{indent}{_SLOTS}{newline}{_separator(body.body[1:], newline)}"
        return (InsertText(docstring.trailing_whitespace, text, after=True),)
    text = f"{indent}{_SLOTS}{newline}{_separator(body.body, newline)}"
    return (InsertText(body.header, text, after=True),)


def _separator(following: Sequence[cst.BaseStatement], newline: str) -> str:
    """A blank line between the new statement and a following definition (or comment) that is not
    already preceded by one."""
    if not following:
        return ""
    nxt = following[0]
    leading: Sequence[cst.EmptyLine] = getattr(nxt, "leading_lines", ())
    if leading and leading[0].comment is None:
        return ""
    if isinstance(nxt, (cst.FunctionDef, cst.ClassDef)) or leading:
        return newline
    return ""


def _is_placeholder(stmt: cst.BaseSmallStatement) -> bool:
    return isinstance(stmt, cst.Pass) or (isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Ellipsis))
