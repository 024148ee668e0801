"""MEM301: a child keeps a strong back-reference to the parent that holds it (a reference cycle).

The analysis runs on Python's ``ast`` inside a fact collector, because one of its patterns spans
modules (a parent class in one file creates and keeps children whose class, in another file,
stores the parent). The merged facts say, per file, which assignments to report and how to fix
them; the LibCST rule only locates those assignments and turns the plan into text edits.

Assignments are located structurally, not by position: the n-th class of the file (pre-order,
document order), the m-th function of its body, the k-th assignment with an attribute target in
that function. The ``ast`` and LibCST walks below enumerate these in the same order.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
from memlint.facts import FactCollector, ModuleInfo, child_nodes, module_name_for
from memlint.rule import AddImport, FixProposal, InsertText, NodeEdit, Replace, Rule

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: Container methods that store their argument (method name -> index of the stored argument).
_STORE_ONE = {"append": 0, "appendleft": 0, "add": 0, "insert": 1, "setdefault": 1}
#: Container methods that store the elements of their first argument.
_STORE_MANY = frozenset({"extend", "update"})
#: Bases whose subclasses cannot be weakly referenced (variable-size CPython objects).
_VAR_SIZE_BASES = frozenset({"tuple", "int", "bytes", "bool", "NamedTuple"})
_WEAK_FACTORIES = frozenset({"ref", "proxy", "WeakMethod"})
_OBJECT = frozenset({"object", "builtins.object"})
_TAIL = (
    "the parent <-> child cycle stays in memory until the cyclic garbage collector runs (forever "
    "while gc is disabled); hold the parent through `weakref.ref`"
)

AnyFunction = ast.FunctionDef | ast.AsyncFunctionDef


def backing_attribute(attribute: str) -> str:
    """The instance attribute holding the ``weakref.ref`` behind the property the fix adds.

    Public so that MEM201 (``__slots__``) can list it instead of the property's name.
    """
    return "_" + attribute.lstrip("_") + "_ref"


# -- facts: the per-file data --------------------------------------------------------------------


@dataclass(frozen=True)
class ClassFacts:
    qualname: str
    path: str
    index: int  # position among the file's classes, pre-order
    bases: tuple[str, ...]  # dotted names as resolved in the file; "<expr>" for anything else
    slots: tuple[str, ...] | None  # names in a literal ``__slots__``; None when there is none
    slots_literal: bool  # ``__slots__`` is a literal of plain strings (the fix may edit it)
    decorator_slots: str  # "", "weak" (attrs: slotted with __weakref__) or "strong" (slots=True dataclass)
    decorated: bool
    bindings: frozenset[str]  # names bound in the class body
    descriptors: frozenset[str]  # class-level names that may intercept ``obj.name = value``
    strong_setters: frozenset[str]  # property setters storing the value on self (``self._x = value``)
    opaque: frozenset[str]  # assignable descriptors doing who knows what (class-level objects, setters)
    weak_properties: frozenset[str]  # properties whose setter stores a weak reference
    weak_attributes: frozenset[str]  # attributes holding weak containers (WeakSet, ...)
    attribute_names: frozenset[str]  # every ``x.name`` spelled in the class (collision check)
    assigned: frozenset[str]  # attributes its methods assign on ``self``
    defines_setattr: bool
    init_index: int | None  # function index of ``__init__`` in the class body


@dataclass(frozen=True)
class Site:
    """Where the back-reference is stored (see the module docstring), and what it says."""

    class_index: int
    function_index: int
    assign_index: int
    target_index: int
    target: str  # ``child.parent``
    value: str  # ``self``


@dataclass(frozen=True)
class LocalLink:
    """Both directions in one method: ``child.parent = self`` + ``self.children.append(child)``
    ("child"), or ``self.parent = parent`` + ``parent.children.append(self)`` ("self")."""

    kind: str
    site: Site
    owner_class: str  # the class whose method holds the site
    attribute: str
    storage: str  # the statement that makes the parent hold the child, for the message
    storage_attribute: str
    child_class: str | None
    parent_class: str | None
    parent_param: str | None  # "self" links: the parameter holding the parent
    parent_position: int | None


@dataclass(frozen=True)
class StoredArgument:
    """``__init__`` stores one of its parameters: ``self.parent = parent``."""

    site: Site
    child_class: str
    attribute: str
    param: str
    position: int | None  # positional index after ``self``; None for keyword-only


@dataclass(frozen=True)
class Creation:
    """A method of ``parent_class`` calls ``callee(..., self, ...)`` and maybe keeps the result."""

    callee: str
    position: int | None
    keyword: str | None
    parent_class: str
    where: str  # ``module.Class.method``
    storage: str  # "" when the result is not kept in an attribute of self
    storage_attribute: str


@dataclass(frozen=True)
class FileLinks:
    path: str
    module: str
    classes: tuple[ClassFacts, ...]
    aliases: tuple[tuple[str, str], ...]  # module-level imports: local name -> dotted target
    links: tuple[LocalLink, ...]
    stored_arguments: tuple[StoredArgument, ...]
    creations: tuple[Creation, ...]
    weakref_shadowed: bool  # the module binds ``weakref`` to something else than the module
    deleted_attributes: frozenset[str]


# -- facts: the merged data -----------------------------------------------------------------------


@dataclass(frozen=True)
class FixPlan:
    child_index: int
    anchor_function: int | None  # insert the property after this function of the child class
    rename_slot: bool  # the child's ``__slots__`` names the attribute: rename it to the backing one
    weakref_slots: tuple[int, ...]  # classes of this file whose ``__slots__`` get "__weakref__"
    lock_classes: tuple[int, ...]  # classes of this file whose layout the fix plans
    deleter: bool


@dataclass(frozen=True)
class Finding:
    site: Site
    attribute: str
    message: str
    fix: FixPlan | None


@dataclass(frozen=True)
class ParentLinksFacts:
    """The merged value rules read (and MEM201, for the classes the fix makes weakly referenced)."""

    by_path: Mapping[str, tuple[Finding, ...]]
    known_paths: frozenset[str]
    #: Classes whose instances MEM301's fix (planned or already applied) references weakly:
    #: slotting them requires ``"__weakref__"``.
    weak_parents: frozenset[str]
    #: Child class -> (attribute, backing attribute) of the weak properties planned or present:
    #: the attribute is a property, not a slot; the backing attribute is the slot.
    weak_properties: Mapping[str, tuple[tuple[str, str], ...]]


def weakly_referenced_classes(value: ParentLinksFacts | None) -> frozenset[str]:
    """Qualified names of classes that must stay weakly referenceable (for MEM201)."""
    return value.weak_parents if value is not None else frozenset()


def _in_tests(qualname: str) -> bool:
    return any(part.startswith("test") or part.endswith("_test") for part in qualname.split(".")[:-2])


def _path_key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


# -- ast helpers ----------------------------------------------------------------------------------

_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _blocks(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists of a compound statement, in source order."""
    yield getattr(stmt, "body", [])
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    yield getattr(stmt, "orelse", [])
    yield getattr(stmt, "finalbody", [])
    for case in getattr(stmt, "cases", ()):
        yield case.body


def _is_compound(stmt: ast.stmt) -> bool:
    return isinstance(stmt, _COMPOUND) or type(stmt).__name__ == "TryStar"


def _ast_classes(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.ClassDef]]:
    for stmt in body:
        if isinstance(stmt, ast.ClassDef):
            qualname = f"{prefix}.{stmt.name}"
            yield qualname, stmt
            yield from _ast_classes(stmt.body, qualname)
        elif _is_compound(stmt):
            for block in _blocks(stmt):
                yield from _ast_classes(block, prefix)


def _ast_functions(cls: ast.ClassDef) -> list[AnyFunction]:
    return [s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _ast_assignments(body: list[ast.stmt]) -> Iterator[ast.Assign | ast.AnnAssign]:
    """Assignments with an attribute target, in source order, outside nested scopes."""
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Attribute) for t in stmt.targets):
            yield stmt
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Attribute):
            yield stmt
        elif _is_compound(stmt) or isinstance(stmt, ast.Match):
            for block in _blocks(stmt):
                yield from _ast_assignments(block)


def _scope_nodes(fn: AnyFunction) -> list[ast.AST]:
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        out.append(node)
        for child in child_nodes(node):
            if not isinstance(child, _NESTED_SCOPES):
                stack.append(child)
    return out


def _dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def _last(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def _is_name(expr: ast.expr | None, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def _short(node: ast.AST, limit: int = 70) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _elements(expr: ast.expr) -> list[ast.expr]:
    """The values a container display or comprehension puts in the container."""
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [e for e in expr.elts if not isinstance(e, ast.Starred)]
    if isinstance(expr, ast.Dict):
        return list(expr.values)
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return [expr.elt]
    if isinstance(expr, ast.DictComp):
        return [expr.value]
    return []


@dataclass(frozen=True)
class _Storage:
    owner: ast.expr  # ``self`` in ``self.children.append(child)``
    attribute: str  # ``children``
    values: tuple[ast.expr, ...]  # what is stored
    node: ast.AST


def _storages(nodes: Sequence[ast.AST]) -> list[_Storage]:
    """Every statement that stores values into an attribute of some object."""
    out = []
    for node in nodes:
        if isinstance(node, ast.Call):
            out.extend(_call_storage(node))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                out.extend(_assign_storage(target, node.value, node))
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.BitOr)):
            if isinstance(node.target, ast.Attribute):
                values = tuple(_elements(node.value))
                out.append(_Storage(node.target.value, node.target.attr, values, node))
    return out


def _call_storage(call: ast.Call) -> list[_Storage]:
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute)):
        return []
    container = func.value
    if func.attr in _STORE_ONE:
        index = _STORE_ONE[func.attr]
        if len(call.args) <= index or any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            return []
        return [_Storage(container.value, container.attr, (call.args[index],), call)]
    if func.attr in _STORE_MANY:
        values = [v for arg in call.args[:1] for v in _elements(arg)]
        values.extend(k.value for k in call.keywords if func.attr == "update" and k.arg is not None)
        return [_Storage(container.value, container.attr, tuple(values), call)] if values else []
    return []


def _assign_storage(target: ast.expr, value: ast.expr, node: ast.AST) -> list[_Storage]:
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute):
        return [_Storage(target.value.value, target.value.attr, (value,), node)]
    if isinstance(target, ast.Attribute):
        return [_Storage(target.value, target.attr, (value, *_elements(value)), node)]
    return []


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _target_names(elt.value if isinstance(elt, ast.Starred) else elt)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _bindings(nodes: Sequence[ast.AST]) -> dict[str, list[ast.expr | None]]:
    """Local name -> the values assigned to it (None for bindings whose value is unknown)."""
    out: dict[str, list[ast.expr | None]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                simple = isinstance(target, ast.Name)
                for name in _target_names(target):
                    out.setdefault(name, []).append(node.value if simple else None)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            value = node.value if isinstance(node, (ast.AnnAssign, ast.NamedExpr)) else None
            for name in _target_names(node.target):
                out.setdefault(name, []).append(value)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _target_names(node.target):
                out.setdefault(name, []).append(None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            for name in _target_names(node.optional_vars):
                out.setdefault(name, []).append(None)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.setdefault(node.name, []).append(None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.setdefault((alias.asname or alias.name).partition(".")[0], []).append(None)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                out.setdefault(name, []).append(None)
    return out


#: Nodes with no children (but their context) that the survey does nothing with: not pushing
#: them skips 40 % of its walk.
_SURVEY_LEAVES = frozenset({ast.Name, ast.Constant})


class _Survey:
    """What one walk over the whole file finds: imports, ``del x.name`` targets, and the attribute
    names spelled inside each class (keyed by the class node's id)."""

    def __init__(self, tree: ast.Module) -> None:
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self.deleted: set[str] = set()
        self.attributes: dict[int, set[str]] = {}
        stack: list[tuple[ast.AST, tuple[set[str], ...]]] = [(tree, ())]
        while stack:
            node, enclosing = stack.pop()
            if isinstance(node, ast.ClassDef):
                names: set[str] = set()
                self.attributes[id(node)] = names
                enclosing = (*enclosing, names)
            elif isinstance(node, ast.Attribute):
                for names in enclosing:
                    names.add(node.attr)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imports.append(node)
            elif isinstance(node, ast.Delete):
                self.deleted.update(t.attr for t in node.targets if isinstance(t, ast.Attribute))
            for child in child_nodes(node):
                if type(child) not in _SURVEY_LEAVES:
                    stack.append((child, enclosing))


class _Names:
    """Module-level bindings of one file, to resolve names to dotted (qualified) names."""

    def __init__(self, tree: ast.Module, survey: _Survey, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.aliases: dict[str, str] = {}
        self.classes: dict[str, str] = {}
        self.weakref_modules: set[str] = set()
        self.weakref_functions: set[str] = set()
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef):
                self.classes.setdefault(stmt.name, f"{module}.{stmt.name}")
        top = {id(stmt) for stmt in tree.body}
        for node in survey.imports:
            if isinstance(node, ast.Import):
                self._import(node, module_level=id(node) in top)
            else:
                self._import_from(node, module_level=id(node) in top)

    def _import(self, node: ast.Import, module_level: bool) -> None:
        for alias in node.names:
            local = alias.asname or alias.name.partition(".")[0]
            target = alias.name if alias.asname else local
            if alias.name == "weakref":
                self.weakref_modules.add(local)
            if module_level:
                self.aliases.setdefault(local, target)

    def _import_from(self, node: ast.ImportFrom, module_level: bool) -> None:
        base = self._absolute(node.module, node.level)
        if base is None:
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            if base == "weakref" and alias.name in _WEAK_FACTORIES:
                self.weakref_functions.add(local)
            if module_level:
                self.aliases.setdefault(local, f"{base}.{alias.name}")

    def _absolute(self, module: str | None, level: int) -> str | None:
        if level == 0:
            return module
        parts = self.module.split(".")
        if not self.is_package:
            parts = parts[:-1]
        if level > 1:
            if level - 1 > len(parts):
                return None
            parts = parts[: len(parts) - (level - 1)]
        return ".".join([*parts, module] if module else parts) or None

    def resolve(self, expr: ast.expr) -> str | None:
        dotted = _dotted(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        base = self.classes.get(head) or self.aliases.get(head)
        if base is None:
            return dotted
        return f"{base}.{rest}" if rest else base

    def resolve_annotation(self, annotation: ast.expr | None) -> str | None:
        """The class an annotation names: ``Node``, ``"Node"``, ``Node | None``, ``Optional[Node]``."""
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
            sides = [s for s in (annotation.left, annotation.right) if not _is_none(s)]
            return self.resolve_annotation(sides[0]) if len(sides) == 1 else None
        if isinstance(annotation, ast.Subscript) and _last(_dotted(annotation.value) or "") == "Optional":
            return self.resolve_annotation(annotation.slice)
        if isinstance(annotation, (ast.Name, ast.Attribute)):
            return self.resolve(annotation)
        return None

    def is_weak_call(self, expr: ast.expr | None) -> bool:
        """``weakref.ref(x)``, ``proxy(x)``, ``WeakSet()``... (any ``Weak*`` factory counts)."""
        if not isinstance(expr, ast.Call):
            return False
        dotted = _dotted(expr.func) or ""
        head, _, rest = dotted.rpartition(".")
        if rest.startswith("Weak"):
            return True
        if head:
            return head in self.weakref_modules and rest in _WEAK_FACTORIES
        return rest in self.weakref_functions


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


# -- collecting one file ----------------------------------------------------------------------------


@dataclass
class _Method:
    node: AnyFunction
    index: int
    self_name: str
    params: dict[str, tuple[int | None, ast.expr | None]]
    nodes: list[ast.AST]
    bindings: dict[str, list[ast.expr | None]]
    storages: list[_Storage]


class _FileCollector:
    def __init__(self, tree: ast.Module, module: ModuleInfo) -> None:
        self.tree = tree
        self.path = module.path
        self.module = module.name or Path(module.path).stem
        self.survey = _Survey(tree)
        self.names = _Names(tree, self.survey, self.module, module.is_package)
        self.links: list[LocalLink] = []
        self.stored: list[StoredArgument] = []
        self.creations: list[Creation] = []

    def run(self) -> FileLinks:
        classes = []
        for index, (qualname, node) in enumerate(_ast_classes(self.tree.body, self.module)):
            methods = [m for i, fn in enumerate(_ast_functions(node)) if (m := _method(fn, i)) is not None]
            classes.append(self._class_facts(node, qualname, index, methods))
            for method in methods:
                self._method_links(qualname, index, method)
        return FileLinks(
            path=self.path,
            module=self.module,
            classes=tuple(classes),
            aliases=tuple(sorted(self.names.aliases.items())),
            links=tuple(self.links),
            stored_arguments=tuple(self.stored),
            creations=tuple(self.creations),
            weakref_shadowed=_weakref_shadowed(self.tree),
            deleted_attributes=frozenset(self.survey.deleted),
        )

    # -- classes ---------------------------------------------------------------------------------
    def _class_facts(
        self, node: ast.ClassDef, qualname: str, index: int, methods: list[_Method]
    ) -> ClassFacts:
        bindings, descriptors, setters, weak_properties, weak_attributes = self._class_body(node)
        assigned: set[str] = set()
        for method in methods:
            for storage_node in method.nodes:
                if isinstance(storage_node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = (
                        storage_node.targets
                        if isinstance(storage_node, ast.Assign)
                        else [storage_node.target]
                    )
                    assigned.update(
                        t.attr
                        for t in targets
                        if isinstance(t, ast.Attribute) and _is_name(t.value, method.self_name)
                    )
                if isinstance(storage_node, (ast.Assign, ast.AnnAssign)) and self.names.is_weak_call(
                    storage_node.value
                ):
                    targets = (
                        storage_node.targets
                        if isinstance(storage_node, ast.Assign)
                        else [storage_node.target]
                    )
                    weak_attributes.update(
                        t.attr
                        for t in targets
                        if isinstance(t, ast.Attribute) and _is_name(t.value, method.self_name)
                    )
        slots, literal = _slots(node)
        functions = _ast_functions(node)
        return ClassFacts(
            qualname=qualname,
            path=self.path,
            index=index,
            bases=tuple((self.names.resolve(b) or "<expr>") for b in node.bases),
            slots=slots,
            slots_literal=literal,
            decorator_slots=_decorator_slots(node),
            decorated=bool(node.decorator_list),
            bindings=frozenset(bindings),
            descriptors=frozenset(descriptors),
            strong_setters=frozenset(setters["strong"]),
            opaque=frozenset(setters["opaque"]),
            weak_properties=frozenset(weak_properties),
            weak_attributes=frozenset(weak_attributes),
            attribute_names=frozenset(self.survey.attributes.get(id(node), ())),
            assigned=frozenset(assigned),
            defines_setattr="__setattr__" in bindings,
            init_index=next((i for i, f in enumerate(functions) if f.name == "__init__"), None),
        )

    def _class_body(
        self, node: ast.ClassDef
    ) -> tuple[set[str], set[str], dict[str, set[str]], set[str], set[str]]:
        bindings: set[str] = set()
        descriptors: set[str] = set()
        setters: dict[str, set[str]] = {"strong": set(), "opaque": set()}
        weak_properties: set[str] = set()
        weak_attributes: set[str] = set()
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bindings.add(stmt.name)
                kinds = [
                    _last(_dotted(d.func if isinstance(d, ast.Call) else d) or "")
                    for d in stmt.decorator_list
                ]
                if any(k.endswith("property") or k in ("setter", "getter", "deleter") for k in kinds):
                    descriptors.add(stmt.name)
                if "setter" in kinds:
                    kind = self._setter_kind(stmt)
                    (weak_properties if kind == "weak" else setters[kind]).add(stmt.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names = {n for t in targets for n in _target_names(t)}
                bindings.update(names)
                if isinstance(stmt.value, ast.Call):
                    descriptors.update(names)
                    setters["opaque"].update(names)
                if self.names.is_weak_call(stmt.value) or (
                    isinstance(stmt, ast.AnnAssign) and "Weak" in ast.unparse(stmt.annotation)
                ):
                    weak_attributes.update(names)
            elif isinstance(stmt, ast.ClassDef):
                bindings.add(stmt.name)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                bindings.update((a.asname or a.name).partition(".")[0] for a in stmt.names)
        return bindings, descriptors, setters, weak_properties, weak_attributes

    def _setter_kind(self, setter: AnyFunction) -> str:
        """ "weak" (stores a weak reference), "strong" (``self.x = value``) or "opaque"."""
        if any(isinstance(n, ast.Call) and self.names.is_weak_call(n) for n in ast.walk(setter)):
            return "weak"
        params = [a.arg for a in (*setter.args.posonlyargs, *setter.args.args)]
        if len(params) == 2:
            for node in ast.walk(setter):
                if isinstance(node, ast.Assign) and _is_name(node.value, params[1]):
                    if any(
                        isinstance(t, ast.Attribute) and _is_name(t.value, params[0]) for t in node.targets
                    ):
                        return "strong"
        return "opaque"

    # -- methods ---------------------------------------------------------------------------------
    def _method_links(self, qualname: str, class_index: int, method: _Method) -> None:
        for assign_index, stmt in enumerate(_ast_assignments(method.node.body)):
            value = stmt.value
            if not isinstance(value, ast.Name):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target_index, target in enumerate(targets):
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                    continue
                site = Site(class_index, method.index, assign_index, target_index, _short(target), value.id)
                if value.id == method.self_name and target.value.id != method.self_name:
                    self._child_link(qualname, method, site, target)
                elif target.value.id == method.self_name and value.id != method.self_name:
                    self._self_link(qualname, method, site, target, value.id)
        self._creations(qualname, method)

    def _child_link(self, qualname: str, method: _Method, site: Site, target: ast.Attribute) -> None:
        """``child.parent = self`` with ``self.<attr>`` holding ``child``."""
        child = target.value.id  # type: ignore[attr-defined]
        for storage in method.storages:
            if _is_name(storage.owner, method.self_name) and any(_is_name(v, child) for v in storage.values):
                self.links.append(
                    LocalLink(
                        kind="child",
                        site=site,
                        owner_class=qualname,
                        attribute=target.attr,
                        storage=_short(storage.node),
                        storage_attribute=storage.attribute,
                        child_class=self._class_of_local(method, child),
                        parent_class=qualname,
                        parent_param=None,
                        parent_position=None,
                    )
                )
                return

    def _self_link(
        self, qualname: str, method: _Method, site: Site, target: ast.Attribute, parent: str
    ) -> None:
        """``self.parent = parent`` with ``parent.<attr>`` (or ``self.parent.<attr>``) holding self."""
        bound = method.bindings.get(parent, [])
        if any(v is None or self.names.is_weak_call(v) for v in bound):
            return
        param = method.params.get(parent) if not bound else None
        for storage in method.storages:
            owner = storage.owner
            # ``parent.child = self`` is the other end of the same two-way link: it is reported as
            # the back-reference of a "child" link (``child.parent = self`` + ``self.left = child``).
            plain = isinstance(storage.node, (ast.Assign, ast.AnnAssign)) and not isinstance(
                storage.node.targets[0] if isinstance(storage.node, ast.Assign) else storage.node.target,
                ast.Subscript,
            )
            owned = (_is_name(owner, parent) and not plain) or (
                isinstance(owner, ast.Attribute)
                and owner.attr == target.attr
                and _is_name(owner.value, method.self_name)
            )
            if owned and any(_is_name(v, method.self_name) for v in storage.values):
                self.links.append(
                    LocalLink(
                        kind="self",
                        site=site,
                        owner_class=qualname,
                        attribute=target.attr,
                        storage=_short(storage.node),
                        storage_attribute=storage.attribute,
                        child_class=qualname,
                        parent_class=self.names.resolve_annotation(param[1]) if param else None,
                        parent_param=parent if param else None,
                        parent_position=param[0] if param else None,
                    )
                )
                return
        if method.node.name == "__init__" and param is not None and not bound:
            self.stored.append(StoredArgument(site, qualname, target.attr, parent, param[0]))

    def _class_of_local(self, method: _Method, name: str) -> str | None:
        if name in method.params and name not in method.bindings:
            return self.names.resolve_annotation(method.params[name][1])
        values = method.bindings.get(name, [])
        classes = {self.names.resolve(v.func) if isinstance(v, ast.Call) else None for v in values}
        return classes.pop() if len(classes) == 1 else None

    def _creations(self, qualname: str, method: _Method) -> None:
        """Calls passing ``self``; kept when their result is stored in an attribute of self."""
        kept: dict[int, _Storage] = {}
        released = _released_in_finally(method)
        for storage in method.storages:
            if not _is_name(storage.owner, method.self_name) or storage.attribute in released:
                continue
            for value in storage.values:
                calls = [value] if isinstance(value, ast.Call) else []
                if isinstance(value, ast.Name):
                    bound = method.bindings.get(value.id, [])
                    calls = [v for v in bound if isinstance(v, ast.Call)] if all(bound) else []
                for call in calls:
                    kept.setdefault(id(call), storage)
        where = f"{qualname}.{method.node.name}"
        for node in method.nodes:
            if not isinstance(node, ast.Call):
                continue
            slot = _self_argument(node, method.self_name)
            callee = self.names.resolve(node.func)
            if slot is None or callee is None:
                continue
            keeper = kept.get(id(node))
            self.creations.append(
                Creation(
                    callee=callee,
                    position=slot[0],
                    keyword=slot[1],
                    parent_class=qualname,
                    where=where,
                    storage=_short(keeper.node) if keeper else "",
                    storage_attribute=keeper.attribute if keeper else "",
                )
            )


def _method(fn: AnyFunction, index: int) -> _Method | None:
    if any(_last(_dotted(d) or "") in ("staticmethod", "classmethod") for d in fn.decorator_list):
        return None
    positional = [*fn.args.posonlyargs, *fn.args.args]
    if not positional:
        return None
    params: dict[str, tuple[int | None, ast.expr | None]] = {
        a.arg: (i, a.annotation) for i, a in enumerate(positional[1:])
    }
    params.update({a.arg: (None, a.annotation) for a in fn.args.kwonlyargs})
    nodes = _scope_nodes(fn)
    return _Method(fn, index, positional[0].arg, params, nodes, _bindings(nodes), _storages(nodes))


def _released_in_finally(method: _Method) -> set[str]:
    """Attributes of self that the method reassigns (``self._current = previous``) or deletes in a
    ``finally``: a child kept there is dropped when the method (or context manager) ends, so the
    cycle through it is broken deterministically."""
    released: set[str] = set()
    for node in method.nodes:
        if not (isinstance(node, ast.Try) or type(node).__name__ == "TryStar"):
            continue
        for stmt in getattr(node, "finalbody", ()):
            for inner in _scope_nodes_of(stmt):
                targets: list[ast.expr] = []
                if isinstance(inner, ast.Assign) and not isinstance(inner.value, ast.Call):
                    targets = inner.targets
                elif isinstance(inner, ast.Delete):
                    targets = inner.targets
                released.update(
                    t.attr
                    for t in targets
                    if isinstance(t, ast.Attribute) and _is_name(t.value, method.self_name)
                )
    return released


def _scope_nodes_of(stmt: ast.stmt) -> Iterator[ast.AST]:
    """``stmt`` and the nodes under it, not descending into nested scopes."""
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in child_nodes(node) if not isinstance(c, _NESTED_SCOPES))


def _self_argument(call: ast.Call, self_name: str) -> tuple[int | None, str | None] | None:
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            break
        if _is_name(arg, self_name):
            return i, None
    for keyword in call.keywords:
        if keyword.arg is not None and _is_name(keyword.value, self_name):
            return None, keyword.arg
    return None


def _slots(node: ast.ClassDef) -> tuple[tuple[str, ...] | None, bool]:
    value: ast.expr | None = None
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and any(_is_name(t, "__slots__") for t in stmt.targets):
            value = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and _is_name(stmt.target, "__slots__"):
            value = stmt.value
    if value is None:
        return None, False
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return (value.value,), True
    if isinstance(value, (ast.Tuple, ast.List)):
        items = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if len(items) == len(value.elts):
            return tuple(items), True
    return (), False


def _decorator_slots(node: ast.ClassDef) -> str:
    """Slots added by a class decorator: dataclass(slots=True) has no __weakref__, attrs has one."""
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = _last(_dotted(func) or "")
        keywords = {k.arg: k.value for k in decorator.keywords} if isinstance(decorator, ast.Call) else {}
        slots = keywords.get("slots")
        weak = keywords.get("weakref_slot")
        if name == "dataclass" and isinstance(slots, ast.Constant) and slots.value is True:
            return "weak" if isinstance(weak, ast.Constant) and weak.value is True else "strong"
        if name in ("define", "frozen", "mutable") or (
            name == "s" and isinstance(slots, ast.Constant) and slots.value is True
        ):
            return "strong" if isinstance(weak, ast.Constant) and weak.value is False else "weak"
    return ""


def _weakref_shadowed(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            if any((a.asname or a.name) == "weakref" and a.name != "weakref" for a in stmt.names):
                return True
        elif isinstance(stmt, ast.ImportFrom):
            if any((a.asname or a.name) == "weakref" for a in stmt.names):
                return True
        elif (
            isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name == "weakref"
        ):
            return True
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any("weakref" in _target_names(t) for t in targets):
                return True
    return False


# -- merging: the project view ------------------------------------------------------------------


class _Project:
    def __init__(self, files: Iterable[FileLinks]) -> None:
        self.files = {_path_key(f.path): f for f in files}
        self.classes: dict[str, ClassFacts] = {}
        self.aliases: dict[str, str] = {}
        self.creations: dict[str, list[Creation]] = {}
        for f in self.files.values():
            for c in f.classes:
                self.classes.setdefault(c.qualname, c)
            for local, target in f.aliases:
                self.aliases.setdefault(f"{f.module}.{local}", target)
        for f in self.files.values():
            for creation in f.creations:
                created = self.lookup(creation.callee)
                if created is not None:
                    self.creations.setdefault(created.qualname, []).append(creation)
        every = list(self.classes.values())
        self.all_weak_properties = frozenset(n for c in every for n in c.weak_properties)
        self.all_descriptors = frozenset(n for c in every for n in c.descriptors)
        self.all_opaque = frozenset(n for c in every for n in c.opaque)
        self.all_weak_attributes = frozenset(n for c in every for n in c.weak_attributes)
        self.holders: dict[str, set[str]] = {}
        for c in every:
            for name in c.assigned:
                self.holders.setdefault(name, set()).add(c.qualname)

    def lookup(self, name: str | None) -> ClassFacts | None:
        for _ in range(8):  # follow re-exports (``from .node import Node`` in a package)
            if name is None:
                return None
            if name in self.classes:
                return self.classes[name]
            name = self.aliases.get(name)
        return None

    def mro(self, cls: ClassFacts) -> list[ClassFacts]:
        out, todo, seen = [], [cls], set()
        while todo:
            current = todo.pop(0)
            if current.qualname in seen:
                continue
            seen.add(current.qualname)
            out.append(current)
            todo.extend(b for b in (self.lookup(base) for base in current.bases) if b is not None)
        return out

    def unknown_bases(self, cls: ClassFacts) -> bool:
        return any(
            base not in _OBJECT and self.lookup(base) is None for c in self.mro(cls) for base in c.bases
        )

    def any_in_mro(self, cls: ClassFacts, attribute: str, what: str) -> bool:
        return any(attribute in getattr(c, what) for c in self.mro(cls))

    def intercepts(self, cls: ClassFacts, attribute: str) -> bool:
        """Whether ``obj.attribute = value`` may not simply store value in the instance."""
        return any(
            c.defines_setattr or (attribute in c.descriptors and attribute not in c.strong_setters)
            for c in self.mro(cls)
        )

    def var_size(self, cls: ClassFacts) -> bool:
        return any(_last(b) in _VAR_SIZE_BASES or b == "<expr>" for c in self.mro(cls) for b in c.bases)

    def weakrefable(self, cls: ClassFacts) -> str:
        """Weak-referenceability: "yes", "no", or "slots" (its literal ``__slots__`` needs "__weakref__")."""
        if cls.decorator_slots:
            return "yes" if cls.decorator_slots == "weak" else "no"
        if self.var_size(cls):
            return "no"
        if cls.slots is None or "__weakref__" in cls.slots:
            return "yes"
        bases = [b for b in cls.bases if b not in _OBJECT]
        known = [self.lookup(b) for b in bases]
        if any(k is None for k in known):
            return "no"
        if any(self.weakrefable(k) == "yes" for k in known if k is not None):
            return "yes"
        return "slots" if cls.slots_literal and not bases else "no"


@dataclass
class _Candidate:
    site: Site
    path: str
    attribute: str
    message: str
    child: ClassFacts | None
    parents: set[str]
    weak: bool


class _Merger:
    def __init__(self, files: Iterable[FileLinks]) -> None:
        self.project = _Project(files)
        self.candidates: dict[tuple[str, Site], _Candidate] = {}

    def run(self) -> ParentLinksFacts:
        for key, f in self.project.files.items():
            for link in f.links:
                self._link(key, link)
            for stored in f.stored_arguments:
                self._stored(key, stored)
        by_path: dict[str, list[Finding]] = {}
        weak_parents: set[str] = set()
        weak_properties: dict[str, set[tuple[str, str]]] = {}
        for cand in self.candidates.values():
            plan = None if cand.weak else self._plan(cand)
            if cand.weak or plan is not None:
                weak_parents.update(cand.parents)
                if cand.child is not None:
                    pair = (cand.attribute, backing_attribute(cand.attribute))
                    weak_properties.setdefault(cand.child.qualname, set()).add(pair)
            if not cand.weak:
                by_path.setdefault(cand.path, []).append(
                    Finding(cand.site, cand.attribute, cand.message, plan)
                )
        return ParentLinksFacts(
            by_path={k: tuple(v) for k, v in by_path.items()},
            known_paths=frozenset(self.project.files),
            weak_parents=frozenset(weak_parents),
            weak_properties={k: tuple(sorted(v)) for k, v in weak_properties.items()},
        )

    def _add(self, cand: _Candidate) -> None:
        key = (cand.path, cand.site)
        if key in self.candidates:
            self.candidates[key].parents.update(cand.parents)
        else:
            self.candidates[key] = cand

    def _link(self, path: str, link: LocalLink) -> None:
        p = self.project
        owner = p.classes.get(link.owner_class)
        if owner is None:
            return
        child = p.lookup(link.child_class) if link.child_class else None
        if link.kind == "child":
            if p.any_in_mro(owner, link.storage_attribute, "weak_attributes") or p.any_in_mro(
                owner, link.storage_attribute, "descriptors"
            ):
                return
            parents = {owner.qualname}
            holds = "this child"
        else:
            parent = p.lookup(link.parent_class) if link.parent_class else None
            if parent is not None:
                if p.any_in_mro(parent, link.storage_attribute, "weak_attributes") or p.any_in_mro(
                    parent, link.storage_attribute, "descriptors"
                ):
                    return
            elif link.storage_attribute in p.all_weak_attributes:
                return
            parents = {parent.qualname} if parent else set()
            parents.update(self._creators(owner, link.parent_param, link.parent_position))
            if not parents:  # for the fix: any class that can hold the child is a possible parent
                parents = set(p.holders.get(link.storage_attribute, ()))
            holds = "this object"
        weak = self._weak_backref(child, link.attribute)
        if weak is None:
            return
        message = f"`{link.site.target} = {link.site.value}` keeps a strong reference to the parent, "
        message += f"which holds {holds} in turn (`{link.storage}`): {_TAIL}"
        self._add(_Candidate(link.site, path, link.attribute, message, child, parents, weak))

    def _weak_backref(self, child: ClassFacts | None, attribute: str) -> bool | None:
        """True: the back-reference is already weak; False: strong; None: cannot tell."""
        p = self.project
        if child is None:
            if attribute in p.all_weak_properties:
                return True
            return None if attribute in p.all_opaque else False
        if p.any_in_mro(child, attribute, "weak_properties"):
            return True
        return None if p.intercepts(child, attribute) else False

    def _creators(self, child: ClassFacts, param: str | None, position: int | None) -> set[str]:
        if param is None:
            return set()
        return {c.parent_class for c in self._creations(child, param, position, kept=False)}

    def _creations(self, child: ClassFacts, param: str, position: int | None, kept: bool) -> list[Creation]:
        out = []
        for c in self.project.creations.get(child.qualname, ()):
            if not (c.keyword == param or (position is not None and c.position == position)):
                continue
            if kept:
                parent = self.project.classes.get(c.parent_class)
                if not c.storage or parent is None:
                    continue
                if self.project.any_in_mro(parent, c.storage_attribute, "weak_attributes"):
                    continue
                if self.project.any_in_mro(parent, c.storage_attribute, "descriptors"):
                    continue
            out.append(c)
        return out

    def _stored(self, path: str, stored: StoredArgument) -> None:
        child = self.project.classes.get(stored.child_class)
        if child is None:
            return
        kept = self._creations(child, stored.param, stored.position, kept=True)
        if not kept:
            return
        weak = self._weak_backref(child, stored.attribute)
        if weak is None:
            return
        first = min(kept, key=lambda c: (_in_tests(c.where), c.where))  # cite application code first
        more = len({c.where for c in kept}) - 1
        where = f"`{first.where}`" + (f" and {more} more" if more > 0 else "")
        message = (
            f"`{stored.site.target} = {stored.site.value}` keeps a strong reference to the "
            f"`{_last(first.parent_class)}` that creates this `{_last(child.qualname)}` and holds it "
            f"(`{first.storage}` in {where}): {_TAIL}"
        )
        parents = {c.parent_class for c in self._creations(child, stored.param, stored.position, kept=False)}
        self._add(_Candidate(stored.site, path, stored.attribute, message, child, parents, weak))

    # -- the fix plan ----------------------------------------------------------------------------
    def _plan(self, cand: _Candidate) -> FixPlan | None:
        p, child, attribute = self.project, cand.child, cand.attribute
        f = p.files[cand.path]
        if child is None or _path_key(child.path) != cand.path or f.weakref_shadowed:
            return None
        if attribute.startswith("__") or not cand.parents or child.decorated or p.unknown_bases(child):
            return None
        backing = backing_attribute(attribute)
        if any(attribute in c.bindings or backing in c.bindings for c in p.mro(child)):
            return None
        if backing in child.attribute_names or p.intercepts(child, attribute):
            return None
        rename = child.slots is not None
        if rename and (not child.slots_literal or attribute not in (child.slots or ())):
            return None
        weakref_slots, locks = [], {child.index}
        for name in sorted(cand.parents):
            parent = p.lookup(name)
            if parent is None:
                return None
            state = p.weakrefable(parent)
            if state == "no" or (state == "slots" and _path_key(parent.path) != cand.path):
                return None
            if _path_key(parent.path) == cand.path:
                locks.add(parent.index)
                if state == "slots":
                    weakref_slots.append(parent.index)
        anchor = cand.site.function_index if cand.site.class_index == child.index else child.init_index
        return FixPlan(
            child_index=child.index,
            anchor_function=anchor,
            rename_slot=rename,
            weakref_slots=tuple(weakref_slots),
            lock_classes=tuple(sorted(locks)),
            deleter=attribute in f.deleted_attributes,
        )


class ParentLinks(FactCollector):
    """Parent/child links of every file: back-references, creations of children, class layouts."""

    NAME = "mem301-parent-links"
    VERSION = 1

    @classmethod
    def collect(cls, tree: ast.Module, module: ModuleInfo) -> FileLinks:
        return _FileCollector(tree, module).run()

    @classmethod
    def merge(cls, per_file: Mapping[str, Any]) -> ParentLinksFacts:
        return _Merger(v for v in per_file.values() if isinstance(v, FileLinks)).run()


# -- LibCST: locating sites and building edits ------------------------------------------------------


@dataclass(frozen=True)
class _CstClass:
    node: cst.ClassDef
    indent: str  # absolute indentation of the class body's statements


def _block_indent(block: cst.BaseSuite, module: cst.Module) -> str:
    if isinstance(block, cst.IndentedBlock):
        return block.indent if block.indent is not None else module.default_indent
    return ""


def _cst_blocks(stmt: cst.CSTNode) -> Iterator[cst.BaseSuite]:
    """The statement blocks of a compound statement, in source order (mirrors ``_blocks``)."""
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield from _cst_blocks(orelse)
    elif isinstance(orelse, cst.Else):
        yield orelse.body
    final = getattr(stmt, "finalbody", None)
    if isinstance(final, cst.Finally):
        yield final.body
    for case in getattr(stmt, "cases", ()):
        yield case.body


_CST_COMPOUND = (cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar)


def _cst_classes(module: cst.Module) -> list[_CstClass]:
    out: list[_CstClass] = []

    def walk(statements: Sequence[cst.CSTNode], indent: str) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.ClassDef):
                body_indent = indent + _block_indent(stmt.body, module)
                out.append(_CstClass(stmt, body_indent))
                if isinstance(stmt.body, cst.IndentedBlock):
                    walk(stmt.body.body, body_indent)
            elif isinstance(stmt, _CST_COMPOUND):
                for block in _cst_blocks(stmt):
                    if isinstance(block, cst.IndentedBlock):
                        walk(block.body, indent + _block_indent(block, module))

    walk(module.body, "")
    return out


def _cst_functions(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    if not isinstance(cls.body, cst.IndentedBlock):
        return []
    return [s for s in cls.body.body if isinstance(s, cst.FunctionDef)]


def _cst_assignments(block: cst.BaseSuite) -> Iterator[cst.Assign | cst.AnnAssign]:
    """Mirrors ``_ast_assignments``."""
    statements: Sequence[cst.CSTNode] = block.body
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from _attribute_assignments(stmt.body)
        elif isinstance(stmt, cst.BaseSmallStatement):  # the body of a one-line suite
            yield from _attribute_assignments([stmt])
        elif isinstance(stmt, (*_CST_COMPOUND, cst.Match)):
            for inner in _cst_blocks(stmt):
                yield from _cst_assignments(inner)


def _attribute_assignments(small: Sequence[cst.BaseSmallStatement]) -> Iterator[cst.Assign | cst.AnnAssign]:
    for s in small:
        if isinstance(s, cst.Assign) and any(isinstance(t.target, cst.Attribute) for t in s.targets):
            yield s
        elif isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Attribute):
            yield s


def _locate(site: Site, attribute: str, classes: list[_CstClass]) -> cst.Assign | cst.AnnAssign | None:
    if site.class_index >= len(classes):
        return None
    functions = _cst_functions(classes[site.class_index].node)
    if site.function_index >= len(functions):
        return None
    assignments = list(_cst_assignments(functions[site.function_index].body))
    if site.assign_index >= len(assignments):
        return None
    node = assignments[site.assign_index]
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    if site.target_index >= len(targets):
        return None
    target = targets[site.target_index]
    if not (isinstance(target, cst.Attribute) and target.attr.value == attribute):
        return None
    obj, value = site.target.rpartition(".")[0], node.value
    if not (isinstance(target.value, cst.Name) and target.value.value == obj):
        return None
    return node if isinstance(value, cst.Name) and value.value == site.value else None


def _has_comment(lines: Sequence[cst.EmptyLine]) -> bool:
    return any(line.comment is not None for line in lines)


def _leading_comment(stmt: cst.BaseStatement) -> bool:
    lines = list(getattr(stmt, "leading_lines", ()))
    decorators = getattr(stmt, "decorators", ())
    if decorators:
        lines.extend(decorators[0].leading_lines)
    return _has_comment(lines)


def _statement_start(stmt: cst.BaseStatement) -> cst.CSTNode:
    decorators = getattr(stmt, "decorators", ())
    return decorators[0] if decorators else stmt


def _last_line(stmt: cst.BaseStatement) -> cst.SimpleStatementLine | None:
    """The statement on the last line of ``stmt``, if nothing (no comment) follows it there."""
    current: cst.CSTNode = stmt
    while not isinstance(current, cst.SimpleStatementLine):
        blocks = list(_cst_blocks(current))
        if not blocks or not isinstance(blocks[-1], cst.IndentedBlock) or _has_comment(blocks[-1].footer):
            return None
        current = blocks[-1].body[-1]
    last = current.body[-1]
    if current.trailing_whitespace.comment is not None or not isinstance(
        getattr(last, "semicolon", cst.MaybeSentinel.DEFAULT), cst.MaybeSentinel
    ):
        return None
    return current


class _FixBuilder:
    def __init__(self, module: cst.Module, classes: list[_CstClass], finding: Finding, plan: FixPlan) -> None:
        self.module = module
        self.classes = classes
        self.finding = finding
        self.plan = plan
        self.newline = module.default_newline
        self.unit = module.default_indent

    def build(self) -> FixProposal | None:
        if max(self.plan.lock_classes, default=0) >= len(self.classes):
            return None
        child = self.classes[self.plan.child_index]
        insertion = self._insertion(child)
        if insertion is None:
            return None
        edits: list[NodeEdit] = [insertion, AddImport("weakref")]
        for index in sorted({self.plan.child_index, *self.plan.weakref_slots}):
            rename = index == self.plan.child_index and self.plan.rename_slot
            add = index in self.plan.weakref_slots
            if rename or add:
                slot_edits = self._slots_edits(self.classes[index], rename, add)
                if slot_edits is None:
                    return None
                edits.extend(slot_edits)
        # Claim the class names: fixes planning one class's layout (MEM201's __slots__) never land
        # in the same pass, so each sees the other's result.
        edits.extend(
            Replace(self.classes[i].node.name, self.classes[i].node.name.value)
            for i in self.plan.lock_classes
        )
        attr = self.finding.attribute
        return FixProposal(
            Applicability.UNSAFE,
            f"Store the parent through `weakref.ref` behind a `{attr}` property "
            f"(backed by `{backing_attribute(attr)}`)",
            tuple(edits),
        )

    def _property_lines(self) -> list[str]:
        attr, backing, unit = self.finding.attribute, backing_attribute(self.finding.attribute), self.unit
        lines = [
            "@property",
            f"def {attr}(self):",
            f"{unit}ref = self.{backing}",
            f"{unit}return None if ref is None else ref()",
            "",
            f"@{attr}.setter",
            f"def {attr}(self, value):",
            f"{unit}self.{backing} = None if value is None else weakref.ref(value)",
        ]
        if self.plan.deleter:
            lines += ["", f"@{attr}.deleter", f"def {attr}(self):", f"{unit}del self.{backing}"]
        return lines

    def _insertion(self, child: _CstClass) -> InsertText | None:
        body = child.node.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        statements = list(body.body)
        functions = _cst_functions(child.node)
        anchor = self.plan.anchor_function
        method = functions[anchor] if anchor is not None and anchor < len(functions) else None
        lines, indent, nl = self._property_lines(), child.indent, self.newline
        indented = [(indent + line) if line else "" for line in lines]
        before = lines[0] + nl + nl.join(indented[1:]) + nl + nl + indent
        # After the method that stores the attribute; else at the end of the class; else before
        # the method. Never between a comment and the statement it introduces.
        if method is not None:
            position = next(i for i, s in enumerate(statements) if s is method)
            if position + 1 < len(statements) and not _leading_comment(statements[position + 1]):
                return InsertText(_statement_start(statements[position + 1]), before)
        last = None if _has_comment(body.footer) else _last_line(statements[-1])
        if last is not None:
            return InsertText(last, nl + nl + nl.join(indented), after=True)
        if method is not None and not _leading_comment(method):
            return InsertText(_statement_start(method), before)
        return None

    def _slots_edits(self, cls: _CstClass, rename: bool, add: bool) -> list[NodeEdit] | None:
        value = _slots_value(cls.node)
        strings = _slot_strings(value)
        if value is None or strings is None:
            return None
        quote = strings[0].quote if strings else '"'
        texts = [s.value for s in strings]
        if rename:
            attr = self.finding.attribute
            at = next((i for i, s in enumerate(strings) if s.evaluated_value == attr), None)
            if at is None:
                return None
            texts[at] = f"{quote}{backing_attribute(attr)}{quote}"
        if add:
            texts.append(f"{quote}__weakref__{quote}")
        if not strings or "\n" not in self.module.code_for_node(value):
            return [Replace(value, _sequence_text(value, texts))]
        # A multi-line literal keeps its layout (and comments): edit the strings in place.
        edits: list[NodeEdit] = [
            Replace(s, t) for s, t in zip(strings, texts[: len(strings)], strict=True) if t != s.value
        ]
        if add:
            last = strings[-1]
            edits = [e for e in edits if not (isinstance(e, Replace) and e.node is last)]
            separator = ", "
            element_indent = _element_indent(value, cls.indent)
            if element_indent is not None:  # one element per line: add a line
                separator = f",{self.newline}{element_indent}"
            edits.append(Replace(last, f"{texts[len(strings) - 1]}{separator}{texts[-1]}"))
        return edits


def _element_indent(value: cst.BaseExpression, statement_indent: str) -> str | None:
    """The indentation of a literal's elements when each sits on its own line (and no comment
    follows the last one), else None."""
    opening: cst.LeftParen | cst.LeftSquareBracket | None = None
    closing: cst.RightParen | cst.RightSquareBracket | None = None
    if isinstance(value, cst.List):
        opening, closing = value.lbracket, value.rbracket
    elif isinstance(value, cst.Tuple) and value.lpar:
        opening, closing = value.lpar[0], value.rpar[-1]
    elements = getattr(value, "elements", ())
    if opening is None or closing is None or not elements:
        return None
    comma = elements[-1].comma
    if not isinstance(comma, cst.Comma) or not isinstance(comma.whitespace_after, cst.SimpleWhitespace):
        return None
    first = opening.whitespace_after
    if not isinstance(first, cst.ParenthesizedWhitespace) or not isinstance(
        closing.whitespace_before, cst.ParenthesizedWhitespace
    ):
        return None
    return (statement_indent if first.indent else "") + first.last_line.value


def _slot_strings(value: cst.BaseExpression | None) -> list[cst.SimpleString] | None:
    if isinstance(value, cst.SimpleString):
        return [value]
    if isinstance(value, (cst.Tuple, cst.List)):
        strings = [e.value for e in value.elements if isinstance(e.value, cst.SimpleString)]
        return strings if len(strings) == len(value.elements) else None
    return None


def _sequence_text(value: cst.BaseExpression, texts: list[str]) -> str:
    """The literal for ``texts``, replacing ``value``'s span (which excludes its parentheses)."""
    joined = ", ".join(texts)
    if isinstance(value, cst.List):
        return f"[{joined}]"
    if len(texts) == 1:
        return joined if isinstance(value, cst.SimpleString) else joined + ","
    return joined if isinstance(value, cst.Tuple) or value.lpar else f"({joined})"


def _slots_value(cls: cst.ClassDef) -> cst.BaseExpression | None:
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    found = None
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "__slots__" for t in small.targets
            ):
                found = small.value
    return found


# -- the rule ---------------------------------------------------------------------------------------


class StrongParentReference(Rule):
    """
    ## What it does
    Checks for a child object that stores a strong reference to its parent (or owner) while the
    parent holds the child: `child.parent = self` next to `self.children.append(child)`,
    `self.parent = parent` next to `parent.children.append(self)`, or a class whose `__init__`
    stores an argument that another class (in any module of the project) fills with `self` when it
    creates the child and keeps it in a list, a dict or an attribute.

    Both directions must be visible in the checked code: an attribute called `parent` is not
    evidence. No finding when the back-reference or the container is weak (`weakref.ref`,
    `weakref.proxy`, `WeakSet`, `WeakValueDictionary`...), when the parent does not keep the child
    (no cycle), when the method that keeps the child in an attribute reassigns or deletes that
    attribute in a `finally` (a context manager holding the child only for its `with` block), or
    when a property, descriptor or `__setattr__` may decide how the value is stored.

    ## Why is this bad?
    CPython frees an object as soon as its reference count drops to zero. A parent and a child
    that refer to each other never get there: when the last outside reference goes, the pair (and
    everything they hold) stays in memory until the cyclic garbage collector finds it, which
    happens only after enough allocations, costs a traversal of the tracked objects, and never
    happens at all while `gc` is disabled (as servers that tune the collector often do). Memory
    use grows with every tree, document or session that is dropped.

    Measured on CPython 3.11 with the collector disabled: creating and dropping 100,000
    parent/child pairs left 24.8 MB allocated, 300,000 objects that only `gc.collect()` could free;
    with a weak back-reference nothing was left, each pair being freed by reference counting. With
    the collector enabled, the same loop made it run 384 times (zero times with the weak
    back-reference).

    If the strong link is deliberate (the child must keep its parent alive, as in
    `font["A"].font`), suppress the finding with `# noqa: MEM301`.

    ## Example
    ```python
    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)
    ```

    ## Use instead
    ```python
    import weakref


    class Node:
        def __init__(self, parent=None):
            self.parent = parent
            self.children = []
            if parent is not None:
                parent.children.append(self)

        @property
        def parent(self):
            ref = self._parent_ref
            return None if ref is None else ref()

        @parent.setter
        def parent(self, value):
            self._parent_ref = None if value is None else weakref.ref(value)
    ```

    ## Fix safety
    The fix is unsafe. It applies when the child's class is in the same module, and adds a
    property with the attribute's name backed by a `weakref.ref` (in `_<name>_ref`), so that code
    reading `child.parent` keeps working and gets the parent, or `None` once the parent is gone.
    That is the behaviour change: a parent that nothing else references is now freed while the
    child is still in use (`tree.add_node().parent` is `None` if the tree was a temporary), and
    code that relied on the child to keep its parent alive breaks. Pickling the child fails (weak
    references cannot be pickled) and `copy.deepcopy` copies point to the original parent. When
    the child's class has `__slots__`, the fix replaces the attribute's slot by the backing one; a
    parent class with `__slots__` gets `"__weakref__"` (parents in other modules that cannot be
    weakly referenced mean no fix). No fix is offered when the parent's class is unknown, when the
    class already defines the name (a default, a method) or when it uses `__setattr__`.
    """

    CODE = "MEM301"
    NAME = "strong-parent-reference"
    SUMMARY = "Strong back-reference from a child to the parent that holds it (a reference cycle)"
    FIX = FixAvailability.SOMETIMES
    FACTS = (ParentLinks,)
    PRESCREEN = ("class",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """The analysis lives in the project facts: a file they know and hold no finding for
        yields nothing (``_findings`` returns early in that case too)."""
        value = facts.get(ParentLinks) if facts is not None else None
        if isinstance(value, ParentLinksFacts):
            key = _path_key(index.path)
            if key in value.known_paths and not value.by_path.get(key):
                return False
        return bool(index.nodes(ast.ClassDef))

    def leave_Module(self, original_node: cst.Module) -> None:
        findings = self._findings()
        if not findings:
            return
        classes = _cst_classes(original_node)
        for finding in findings:
            node = _locate(finding.site, finding.attribute, classes)
            if node is None:
                continue
            fix = None
            if finding.fix is not None:
                fix = _FixBuilder(original_node, classes, finding, finding.fix).build()
            self.report(node, finding.message, fix)

    def _findings(self) -> tuple[Finding, ...]:
        key = _path_key(self.context.path)
        facts = self.context.facts
        value = facts.get(ParentLinks) if facts is not None else None
        if isinstance(value, ParentLinksFacts) and key in value.known_paths:
            stored = value.by_path.get(key, ())
            if not stored:
                return ()
            fresh = self._own_links()
            if fresh is None:
                return ()
            return stored if fresh == self._project_links(key) else self._merge_with(fresh, key)
        fresh = self._own_links()
        return self._merge_with(fresh, key) if fresh is not None else ()

    def _own_links(self) -> FileLinks | None:
        """This file's links from its current text (it may differ from the project's facts while
        fixes are applied)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(self.context.source, filename=self.context.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        path = self.context.path
        name = self.context.module_name or module_name_for(path)
        module = ModuleInfo(path=path, name=name, is_package=Path(path).stem == "__init__")
        return ParentLinks.collect(tree, module)

    def _project_links(self, key: str) -> FileLinks | None:
        facts = self.context.facts
        for path, values in facts.per_file.items() if facts is not None else ():
            if _path_key(path) == key:
                links = values.get(ParentLinks.NAME)
                return links if isinstance(links, FileLinks) else None
        return None

    def _merge_with(self, own: FileLinks, key: str) -> tuple[Finding, ...]:
        facts = self.context.facts
        per_file: dict[str, Any] = {}
        if facts is not None:
            for path, values in facts.per_file.items():
                if ParentLinks.NAME in values and _path_key(path) != key:
                    per_file[path] = values[ParentLinks.NAME]
        per_file[self.context.path] = own
        return ParentLinks.merge(per_file).by_path.get(key, ())
