"""Project-wide facts about classes, for MEM201 (missing-slots).

Whether a class deserves ``__slots__`` depends on other modules: where it is instantiated, what
its bases are, whether its instances are weakly referenced or given attributes from outside. Each
file contributes a ``ModuleFacts`` computed from its ``ast`` alone (names are resolved through the
file's own imports); the merged ``ClassIndex`` resolves names across modules (re-exports, aliases,
star imports) and decides, per target version, which classes to flag and what their slots are.

Coordination with MEM301 (strong parent back-references), whose fix turns ``child.parent`` into a
property over a ``weakref.ref``: the classes MEM301 plans to reference weakly are passed in by the
rule (``weak_parents``) and get ``"__weakref__"``; so does any class whose methods hand ``self`` to a
project constructor or store it on another object (a possible weak-reference target for fixes and
libraries alike). Properties are never listed as slots, so after MEM301's fix the backing attribute
its setter assigns becomes the slot. The two fixes never land in the same pass (both claim the
class name), and MEM301 renames a literal slot to its backing attribute when it runs second.
"""

from __future__ import annotations

import ast
import builtins
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memlint.facts import FactCollector, ModuleInfo, child_nodes

BUILTIN_NAMES = frozenset(dir(builtins))
#: Calls on a container that keep their argument alive after the statement (not a queue's
#: ``put``: it hands the item to a consumer, and queues are usually bounded).
RETAINING_METHODS = frozenset({"append", "appendleft", "add", "insert", "extend", "setdefault", "push"})
RETAINING_FUNCTIONS = frozenset(
    {
        "heapq.heappush",
        "heapq.heappushpop",
        "heapq.heapreplace",
        "bisect.insort",
        "bisect.insort_left",
        "bisect.insort_right",
    }
)
WEAKREF_MODULES = ("weakref.", "_weakref.", "_weakrefset.")
#: weakref functions whose first argument (for WeakMethod: the bound method's object) is referenced.
WEAK_REFERENCE_FUNCTIONS = frozenset({"ref", "proxy", "finalize", "WeakMethod", "ReferenceType", "KeyedRef"})
WEAK_CONTAINERS = frozenset({"WeakSet", "WeakValueDictionary", "WeakKeyDictionary"})
#: GUI toolkits: objects made by GUI code are bounded by what a screen shows, and each wraps
#: toolkit resources far larger than what slots save.
GUI_TOOLKITS = frozenset(
    {
        "tkinter",
        "_tkinter",
        "Tkinter",
        "turtle",
        "PyQt4",
        "PyQt5",
        "PyQt6",
        "PySide",
        "PySide2",
        "PySide6",
        "qtpy",
        "wx",
        "gi",
        "kivy",
        "toga",
        "dearpygui",
        "flet",
    }
)
#: A constant ``range`` or literal collection shorter than this is not evidence of many instances.
SMALL_LOOP = 1000
SMALL_LITERAL = 32

_ABC_NAMES = (
    "Awaitable Coroutine AsyncIterable AsyncIterator AsyncGenerator Hashable Iterable Iterator Generator "
    "Reversible Sized Container Callable Collection Set MutableSet Mapping MutableMapping Sequence "
    "MutableSequence ByteString"
).split()
_VIEW_NAMES = ("MappingView", "KeysView", "ItemsView", "ValuesView")


def _known_slotted() -> dict[str, bool]:
    """Standard classes whose whole MRO declares ``__slots__``; the value: a non-empty layout."""
    known = {"abc.ABC": False, "typing.Generic": False}
    for name in ("Number", "Complex", "Real", "Rational", "Integral"):
        known[f"numbers.{name}"] = False
    for module in ("collections.abc", "_collections_abc", "typing"):
        for name in _ABC_NAMES:
            known[f"{module}.{name}"] = False
        for name in _VIEW_NAMES:
            known[f"{module}.{name}"] = True
    del known["typing.Set"]  # an alias of the builtin ``set``, not of ``collections.abc.Set``
    return known


#: Verified against the running interpreter by tests/test_missing_slots_exec.py.
KNOWN_SLOTTED: dict[str, bool] = _known_slotted()
ALLOWED_METACLASSES = frozenset({"abc.ABCMeta", "_py_abc.ABCMeta"})
HARMLESS_DECORATORS = frozenset(
    {"functools.total_ordering", "typing.final", "typing_extensions.final", "typing.runtime_checkable"}
)
DATACLASS = frozenset({"dataclasses.dataclass"})
ATTRS_SLOTTED_BY_DEFAULT = frozenset(
    {f"{m}.{n}" for m in ("attr", "attrs") for n in ("define", "frozen", "mutable")}
)
ATTRS_CLASSIC = frozenset({"attr.s", "attr.attrs", "attrs.attrs", "attr.dataclass"})


# -- per-file facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Decorator:
    target: str | None
    called: bool
    #: Constant keyword arguments; a non-constant value is stored as the string ``"?"``.
    keywords: tuple[tuple[str, Any], ...] = ()

    def keyword(self, name: str, default: Any = None) -> Any:
        return next((v for k, v in self.keywords if k == name), default)


@dataclass(frozen=True)
class ClassInfo:
    qualname: str
    name: str
    line: int
    bases: tuple[str | None, ...]
    metaclass: str | None
    decorators: tuple[Decorator, ...]
    #: Declared ``__slots__`` names; None when the class declares none.
    slots: tuple[str, ...] | None
    slots_known: bool
    #: Instance attributes the class's own methods assign, in source order.
    attrs: tuple[str, ...]
    #: Class-level annotations without a value (instance fields; ClassVar/InitVar excluded).
    fields: tuple[str, ...]
    #: Class-level names bound to plain values, and functions that are not properties.
    class_vars: tuple[str, ...]
    methods: tuple[str, ...]
    properties: tuple[str, ...]
    dict_reasons: tuple[str, ...]
    zero_arg_super: bool
    #: ``self`` is stored on another object or in a container (a possible weakref target).
    self_stored: bool


@dataclass(frozen=True)
class Site:
    """An instantiation that plausibly creates many instances."""

    target: str
    line: int
    kind: str  # "loop", "comprehension", "generator expression", "map", "defaultdict"


@dataclass(frozen=True)
class Store:
    """An attribute written on an instance (or on the class) by code that can see its type."""

    target: str
    attr: str  # "__dict__" for `vars(x)` / `x.__dict__`, "*" for a computed setattr
    on_class: bool
    value_is_self: bool
    in_class: str | None


@dataclass(frozen=True)
class SelfArg:
    """``Target(..., self, ...)`` inside a method: the instance is handed to a constructor."""

    caller: str
    target: str


@dataclass(frozen=True)
class DuckUse:
    """Attributes written on an object whose class is not known (a parameter, a loop variable,
    ``node.parent``): the candidates are the classes it is ``isinstance``-checked against and the
    classes defining a distinctive attribute it touches."""

    stores: tuple[str, ...]  # "*" for a computed setattr, "__dict__" for vars()/__dict__
    touched: tuple[str, ...]
    isinstance_of: tuple[str, ...]


@dataclass(frozen=True)
class ModuleFacts:
    path: str
    name: str
    is_package: bool
    is_test: bool
    bindings: tuple[tuple[str, str | None], ...]
    star_imports: tuple[str, ...]
    classes: tuple[ClassInfo, ...]
    ambiguous: tuple[str, ...]
    sites: tuple[Site, ...]
    stores: tuple[Store, ...]
    self_args: tuple[SelfArg, ...]
    #: Names referenced in a module that uses weakref APIs on values of unknown class: any of them
    #: may be weakly referenced.
    weakref_names: tuple[str, ...]
    #: Classes whose instances visibly reach a weakref API (``weakref.ref(self)``, ``ws.add(node)``).
    weak_targets: tuple[str, ...] = ()
    #: Functions and methods returning a new instance: (qualname, class dotted name or "<cls>").
    factories: tuple[tuple[str, str], ...] = ()
    #: The module imports a GUI toolkit.
    gui: bool = False
    duck_uses: tuple[DuckUse, ...] = ()

    def display_path(self) -> str:
        parts = self.name.split(".")
        if self.is_package:
            parts.append("__init__")
        return "/".join(parts) + Path(self.path).suffix


# -- collection -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Scope:
    kind: str  # "module", "class", "function", "comprehension"
    bindings: dict[str, str | None]
    node: ast.AST | None = None
    #: Names this scope binds only to calls of one target (computed on first use).
    calls: dict[str, str] | None = None
    #: Object expression -> (stores, touched attributes, isinstance classes), for DuckUse.
    ducks: dict[str, tuple[set[str], set[str], set[str]]] = field(default_factory=dict)


@dataclass
class _ClassBuilder:
    qualname: str
    node: ast.ClassDef
    attrs: dict[str, None] = field(default_factory=dict)
    dict_reasons: dict[str, None] = field(default_factory=dict)
    zero_arg_super: bool = False
    self_stored: bool = False
    class_level_stores: dict[str, None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ctx:
    scopes: tuple[_Scope, ...]
    loops: tuple[ast.AST, ...] = ()
    owner: _ClassBuilder | None = None  # the class whose method this code is in
    self_name: str | None = None
    cls_name: str | None = None
    fresh: frozenset[str] = frozenset()  # local names bound to new instances of the owner
    in_main: bool = False
    class_builder: _ClassBuilder | None = None  # set directly inside a class body


def path_key(path: str) -> str:
    """One spelling per file (tools pass ``./a.py``, ``a.py`` or an absolute path)."""
    return os.path.normcase(os.path.abspath(path))


def is_test_module(name: str) -> bool:
    """Tests, judged from the dotted module name (relative to the import root, unlike a path):
    a ``test``/``tests`` package, or a ``test_*``, ``*_test`` or ``conftest`` module."""
    parts = name.split(".")
    last = parts[-1]
    return (
        any(p in ("test", "tests") for p in parts[:-1])
        or last.startswith("test_")
        or last.endswith("_test")
        or last in ("conftest", "test", "tests")
    )


def _absolute(module: str, package: str, level: int, name: str | None) -> str | None:
    if level == 0:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or (not parts and level):
        return None
    base = parts[: len(parts) - (level - 1)]
    if name:
        base.append(name)
    return ".".join(base) or None


#: ``ast.iter_child_nodes`` without the expression-context singletons, as a list (faster).
_children = child_nodes


def _tree_links(tree: ast.AST) -> tuple[dict[ast.AST, ast.AST], dict[ast.AST, list[ast.AST]]]:
    """Each node's parent, and each node's ``_children``, from one walk: the collector walks the
    tree twice more (its scopes, then everything), and a lookup is cheaper than a new list."""
    parents: dict[ast.AST, ast.AST] = {}
    kids: dict[ast.AST, list[ast.AST]] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        children = kids[node] = _children(node)
        parents.update(dict.fromkeys(children, node))
        stack.extend(children)
    return parents, kids


#: What ``_Collector._own_nodes`` does not descend into as a whole: new scopes (a lambda's
#: nodes all belong to it; a definition's decorators, bases and keywords do not; a
#: comprehension's first iterable does).
_NEW_SCOPES = frozenset(
    {
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.Lambda,
        ast.ListComp,
        ast.SetComp,
        ast.GeneratorExp,
        ast.DictComp,
    }
)


#: The node types ``_Collector._scan`` looks at (a set lookup skips the rest of a scope's nodes).
_SCAN_KINDS = frozenset(
    {
        ast.Name,
        ast.Return,
        ast.Global,
        ast.Nonlocal,
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
        ast.ExceptHandler,
        ast.MatchAs,
        ast.MatchStar,
        ast.MatchMapping,
    }
)


@dataclass
class _ScopeScan:
    """What one scope binds, from a single pass over its own nodes."""

    bindings: dict[str, str | None]
    #: ``name = Call(...)`` assignments, in source order.
    call_assigns: list[tuple[str, ast.Call]]
    #: ``name = <anything but a call>`` assignments.
    value_assigns: dict[str, list[ast.expr]]
    #: ``return <value>`` statements.
    returns: list[ast.Return]
    #: Names bound in any other way.
    other_names: set[str]


def _target_names(target: ast.AST) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, ast.Starred) and isinstance(node.value, ast.Name):
            yield node.value.id


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _slot_names(value: ast.expr | None) -> tuple[str, ...] | None:
    """The names in a ``__slots__`` value, or None when they are not literal."""
    if value is None:
        return None
    if (single := _const_str(value)) is not None:
        return (single,)
    items: list[ast.expr]
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        items = list(value.elts)
    elif isinstance(value, ast.Dict):
        items = [k for k in value.keys if k is not None]
        if len(items) != len(value.keys):
            return None
    else:
        return None
    names = [_const_str(item) for item in items]
    return tuple(n for n in names if n is not None) if all(n is not None for n in names) else None


class _Collector:
    """One pass over a module's ``ast``: bindings, classes, instantiation sites, stores."""

    def __init__(self, tree: ast.Module, module: ModuleInfo) -> None:
        self.tree = tree
        self.path = module.path
        self.name = module.name or Path(module.path).stem
        self.is_package = module.is_package
        self.package = self.name if module.is_package else self.name.rpartition(".")[0]
        self.parents, self.kids = _tree_links(tree)
        self.scans: dict[int, _ScopeScan] = {}
        self.stars: list[str] = []
        self.rebound: set[str] = set()
        self.bindings = self._module_bindings()
        self.classes: list[ClassInfo] = []
        self.qualnames: dict[str, int] = {}
        self.sites: list[Site] = []
        self.stores: list[Store] = []
        self.self_args: list[SelfArg] = []
        self.factories: list[tuple[str, str]] = []
        self.duck_uses: list[DuckUse] = []
        self.referenced: set[str] = set()
        self.weakref_unknown = False
        self.weak_targets: set[str] = set()
        self.weak_containers = self._find_weak_containers()
        self.functions = {s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}

    # -- bindings ----------------------------------------------------------------------------
    def _bind(self, table: dict[str, str | None], name: str, value: str | None) -> None:
        if name in table and table[name] != value:
            self.rebound.add(name)
            table[name] = None
        else:
            table[name] = value

    def _import_bindings(self, node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    yield alias.asname, alias.name
                else:
                    head = alias.name.split(".")[0]
                    yield head, head
            return
        base = _absolute(self.name, self.package, node.level, node.module)
        for alias in node.names:
            if alias.name == "*":
                continue
            yield alias.asname or alias.name, f"{base}.{alias.name}" if base else None

    def _module_bindings(self) -> dict[str, str | None]:
        table: dict[str, str | None] = {}
        aliases: dict[str, ast.expr] = {}
        self._collect_bindings(self.tree.body, table, aliases)
        for name, expr in aliases.items():
            if table.get(name) == "<alias>":
                table[name] = self._static_dotted(expr, table)
        return table

    def _collect_bindings(
        self, body: list[ast.stmt], table: dict[str, str | None], aliases: dict[str, ast.expr]
    ) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                self._bind(table, stmt.name, f"{self.name}.{stmt.name}")
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(table, stmt.name, None)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                    base = _absolute(self.name, self.package, stmt.level, stmt.module)
                    if base:
                        self.stars.append(base)
                for name, value in self._import_bindings(stmt):
                    self._bind(table, name, value)
            elif (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                self._bind_value(table, aliases, stmt.targets[0].id, stmt.value)
            elif (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.value is not None
            ):
                self._bind_value(table, aliases, stmt.target.id, stmt.value)
            else:
                self._bind_other(stmt, table, aliases)

    def _bind_value(
        self, table: dict[str, str | None], aliases: dict[str, ast.expr], name: str, value: ast.expr
    ) -> None:
        if isinstance(value, (ast.Name, ast.Attribute)) and name not in table:
            table[name] = "<alias>"
            aliases[name] = value
        else:
            self._bind(table, name, None)

    def _bind_other(self, stmt: ast.stmt, table: dict[str, str | None], aliases: dict[str, ast.expr]) -> None:
        targets: list[ast.AST] = []
        if isinstance(stmt, (ast.Assign,)):
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [stmt.target]
        elif isinstance(stmt, ast.Delete):
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
        for target in targets:
            for name in _target_names(target):
                self._bind(table, name, None)
        if isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self._bind(table, target.id, None)
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(stmt, attr, None)
            if isinstance(sub, list) and not isinstance(stmt, (ast.ClassDef, ast.FunctionDef)):
                self._collect_bindings(sub, table, aliases)
        for handler in getattr(stmt, "handlers", ()):
            if handler.name:
                self._bind(table, handler.name, None)
            self._collect_bindings(handler.body, table, aliases)
        for case in getattr(stmt, "cases", ()):
            self._collect_bindings(case.body, table, aliases)

    def _static_dotted(self, expr: ast.expr, table: dict[str, str | None]) -> str | None:
        if isinstance(expr, ast.Name):
            if expr.id in table:
                value = table[expr.id]
                return None if value == "<alias>" else value
            return f"builtins.{expr.id}" if expr.id in BUILTIN_NAMES else None
        if isinstance(expr, ast.Attribute):
            base = self._static_dotted(expr.value, table)
            return f"{base}.{expr.attr}" if base else None
        return None

    def _scan(self, node: ast.AST) -> _ScopeScan:
        """Bindings of a function (or the module): params, stores, imports, nested definitions."""
        cached = self.scans.get(id(node))
        if cached is not None:
            return cached
        table: dict[str, str | None] = {}
        call_assigns: list[tuple[str, ast.Call]] = []
        value_assigns: dict[str, list[ast.expr]] = {}
        returns: list[ast.Return] = []
        other: set[str] = set()
        args = getattr(node, "args", None)
        if isinstance(args, ast.arguments):
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
                if arg is not None:
                    table[arg.arg] = None
                    other.add(arg.arg)
        body = node.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)) else []
        declared: set[str] = set()
        for child in self._own_nodes(body):
            if type(child) not in _SCAN_KINDS:
                continue
            if isinstance(child, ast.Name):
                if not isinstance(child.ctx, ast.Load):
                    self._bind(table, child.id, None)
                    parent = self.parents.get(child)
                    if isinstance(parent, ast.Assign) and child in parent.targets:
                        if isinstance(parent.value, ast.Call):
                            call_assigns.append((child.id, parent.value))
                        else:
                            value_assigns.setdefault(child.id, []).append(parent.value)
                    else:
                        other.add(child.id)
            elif isinstance(child, ast.Return):
                if child.value is not None:
                    returns.append(child)
            elif isinstance(child, (ast.Global, ast.Nonlocal)):
                declared.update(child.names)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for name, value in self._import_bindings(child):
                    self._bind(table, name, value)
                    other.add(name)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(table, child.name, None)
                other.add(child.name)
            elif isinstance(child, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and child.name:
                self._bind(table, child.name, None)
                other.add(child.name)
            elif isinstance(child, ast.MatchMapping) and child.rest:
                self._bind(table, child.rest, None)
                other.add(child.rest)
        for name in declared:
            table.pop(name, None)
            other.add(name)
        scan = _ScopeScan(table, call_assigns, value_assigns, returns, other)
        self.scans[id(node)] = scan
        return scan

    def _own_nodes(self, body: list[ast.stmt]) -> Iterator[ast.AST]:
        """Nodes of a scope, not descending into nested scopes (but yielding their heads)."""
        stack: list[ast.AST] = list(reversed(body))
        while stack:
            node = stack.pop()
            yield node
            if type(node) not in _NEW_SCOPES:
                stack.extend(reversed(self.kids[node]))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.extend(
                    reversed(
                        [*node.decorator_list, *getattr(node, "bases", ()), *getattr(node, "keywords", ())]
                    )
                )
            elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                stack.append(node.generators[0].iter)

    # -- name resolution ---------------------------------------------------------------------
    def _resolve_name(self, name: str, ctx: _Ctx) -> str | None:
        innermost = ctx.scopes[-1]
        for scope in reversed(ctx.scopes):
            if scope.kind == "class" and scope is not innermost:
                continue
            if name in scope.bindings:
                return scope.bindings[name]
        if name in BUILTIN_NAMES:
            return f"builtins.{name}"
        if self.stars:
            return f"?{name}"
        return None

    def _dotted(self, expr: ast.AST, ctx: _Ctx) -> str | None:
        if isinstance(expr, ast.Name):
            return self._resolve_name(expr.id, ctx)
        if isinstance(expr, ast.Attribute):
            base = self._dotted(expr.value, ctx)
            return f"{base}.{expr.attr}" if base else None
        if isinstance(expr, ast.Subscript):
            return self._dotted(expr.value, ctx)
        return None

    def _call_target(self, func: ast.expr, ctx: _Ctx) -> str | None:
        """What a call creates: a dotted name, or the owner class for ``cls()``/``type(self)()``."""
        if ctx.owner is not None:
            if isinstance(func, ast.Name) and func.id == ctx.cls_name:
                return ctx.owner.qualname
            if self._is_type_of_self(func, ctx):
                return ctx.owner.qualname
        return self._dotted(func, ctx)

    def _is_type_of_self(self, expr: ast.expr, ctx: _Ctx) -> bool:
        if ctx.self_name is None:
            return False
        if isinstance(expr, ast.Attribute) and expr.attr == "__class__":
            return isinstance(expr.value, ast.Name) and expr.value.id == ctx.self_name
        return (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Name)
            and expr.func.id == "type"
            and len(expr.args) == 1
            and isinstance(expr.args[0], ast.Name)
            and expr.args[0].id == ctx.self_name
        )

    # -- walking -----------------------------------------------------------------------------
    def run(self) -> ModuleFacts:
        ctx = _Ctx(scopes=(_Scope("module", self.bindings, self.tree),))
        for stmt in self.tree.body:
            self._walk(stmt, ctx)
        self._emit_ducks(ctx)
        counts: dict[str, int] = {}
        for info in self.classes:
            counts[info.qualname] = counts.get(info.qualname, 0) + 1
        ambiguous = {q for q, n in counts.items() if n > 1}
        ambiguous.update(f"{self.name}.{name}" for name in self.rebound)
        weakref_names: tuple[str, ...] = ()
        if self.weakref_unknown:
            weakref_names = tuple(sorted(self.referenced | {c.qualname for c in self.classes}))
        return ModuleFacts(
            path=self.path,
            name=self.name,
            is_package=self.is_package,
            is_test=is_test_module(self.name),
            bindings=tuple(sorted((k, v) for k, v in self.bindings.items())),
            star_imports=tuple(self.stars),
            classes=tuple(self.classes),
            ambiguous=tuple(sorted(ambiguous)),
            sites=tuple(self.sites),
            stores=tuple(self.stores),
            self_args=tuple(self.self_args),
            factories=tuple(self.factories),
            gui=self._imports_gui(),
            duck_uses=tuple(self.duck_uses),
            weakref_names=weakref_names,
            weak_targets=tuple(sorted(self.weak_targets)),
        )

    def _walk(self, node: ast.AST, ctx: _Ctx) -> None:
        kind = type(node)
        (_HANDLERS.get(kind) or _handler(kind))(self, node, ctx)

    def _walk_children(self, node: ast.AST, ctx: _Ctx) -> None:
        # ``_walk`` inlined: this loop visits every node of the file.
        for child in self.kids[node]:
            kind = type(child)
            (_HANDLERS.get(kind) or _handler(kind))(self, child, ctx)

    def _walk_If(self, node: ast.If, ctx: _Ctx) -> None:
        if len(ctx.scopes) == 1 and _is_main_guard(node.test):
            ctx = _Ctx(scopes=ctx.scopes, in_main=True)
        self._walk_children(node, ctx)

    def _walk_ClassDef(self, node: ast.ClassDef, ctx: _Ctx) -> None:
        for expr in (*node.decorator_list, *node.bases, *node.keywords):
            self._walk(expr, ctx)
        in_function = any(s.kind in ("function", "comprehension") for s in ctx.scopes)
        builder = None
        if not in_function:
            outer = ctx.class_builder.qualname if ctx.class_builder else self.name
            builder = _ClassBuilder(f"{outer}.{node.name}", node)
        body_scope = _Scope("class", self._class_bindings(node))
        body_ctx = _Ctx(scopes=(*ctx.scopes, body_scope), in_main=ctx.in_main, class_builder=builder)
        for stmt in node.body:
            self._walk(stmt, body_ctx)
        if builder is not None:
            self.classes.append(self._class_info(node, builder, ctx))

    def _class_bindings(self, node: ast.ClassDef) -> dict[str, str | None]:
        table: dict[str, str | None] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef):
                table[stmt.name] = None
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for name, value in self._import_bindings(stmt):
                    table[name] = value
            else:
                for child in (
                    ast.walk(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) else ()
                ):
                    if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                        table[child.id] = None
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    table[stmt.name] = None
        return table

    def _walk_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> None:
        for expr in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
            if expr is not None:
                self._walk(expr, ctx)
        scope = _Scope("function", self._scan(node).bindings, node)
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        if ctx.class_builder is not None:  # a method
            decorators = {self._decorator_name(d) for d in node.decorator_list}
            first = params[0] if params else None
            is_static = "staticmethod" in decorators
            is_classlevel = "classmethod" in decorators or node.name in (
                "__new__",
                "__init_subclass__",
                "__class_getitem__",
            )
            new_ctx = _Ctx(
                scopes=(*ctx.scopes, scope),
                owner=ctx.class_builder,
                self_name=None if is_static or is_classlevel else first,
                cls_name=first if is_classlevel and not is_static else None,
                in_main=ctx.in_main,
            )
            new_ctx = _Ctx(**{**new_ctx.__dict__, "fresh": self._fresh_names(node, new_ctx)})
        else:
            shadowed = set(scope.bindings)
            self_name = ctx.self_name if ctx.self_name not in shadowed else None
            new_ctx = _Ctx(
                scopes=(*ctx.scopes, scope),
                owner=ctx.owner,
                self_name=self_name,
                cls_name=ctx.cls_name if ctx.cls_name not in shadowed else None,
                in_main=ctx.in_main,
                fresh=frozenset(n for n in ctx.fresh if n not in shadowed),
            )
        for stmt in node.body:
            self._walk(stmt, new_ctx)
        self._emit_ducks(new_ctx)
        if len(ctx.scopes) == 1 or ctx.class_builder is not None:
            product = self._product(node, new_ctx)
            if product is not None:
                owner = ctx.class_builder.qualname if ctx.class_builder is not None else self.name
                self.factories.append((f"{owner}.{node.name}", product))

    _walk_AsyncFunctionDef = _walk_FunctionDef

    def _product(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> str | None:
        """What a factory returns: a dotted class name, ``"<cls>"`` for ``cls(...)``, or None."""
        scan = self._scan(node)
        products: set[str | None] = set()
        for child in scan.returns:
            calls: list[ast.Call] = []
            if isinstance(child.value, ast.Call):
                calls = [child.value]
            elif isinstance(child.value, ast.Name) and child.value.id not in scan.other_names:
                calls = [call for name, call in scan.call_assigns if name == child.value.id]
            if not calls:
                continue
            for call in calls:
                products.add(self._made_by(call.func, ctx))
        if len(products) != 1:
            return None
        product = products.pop()
        return None if product is None or product.startswith("builtins.") else product

    def _made_by(self, func: ast.expr, ctx: _Ctx) -> str | None:
        if ctx.owner is not None and (
            (isinstance(func, ast.Name) and func.id == ctx.cls_name) or self._is_type_of_self(func, ctx)
        ):
            return "<cls>"
        return self._dotted(func, ctx)

    def _method_target(self, func: ast.expr, ctx: _Ctx) -> str | None:
        """``obj.method`` where the class of ``obj`` is known: self, cls, or a local constructed here."""
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return None
        receiver = func.value.id
        if ctx.owner is not None and receiver in (ctx.self_name, ctx.cls_name):
            return f"{ctx.owner.qualname}.{func.attr}"
        owner = self._instance_type(func.value, ctx)
        return f"{owner}.{func.attr}" if owner is not None else None

    def _walk_Lambda(self, node: ast.Lambda, ctx: _Ctx) -> None:
        for expr in (*node.args.defaults, *node.args.kw_defaults):
            if expr is not None:
                self._walk(expr, ctx)
        scope = _Scope("function", self._scan(node).bindings, node)
        self._walk(
            node.body,
            _Ctx(
                scopes=(*ctx.scopes, scope),
                owner=ctx.owner,
                self_name=ctx.self_name,
                cls_name=ctx.cls_name,
                in_main=ctx.in_main,
            ),
        )

    @staticmethod
    def _decorator_name(expr: ast.expr) -> str:
        if isinstance(expr, ast.Call):
            expr = expr.func
        if isinstance(expr, ast.Name):
            return expr.id
        if isinstance(expr, ast.Attribute):
            return expr.attr
        return ""

    def _fresh_names(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: _Ctx) -> frozenset[str]:
        """Local names bound to new instances of the owner (``new = cls(...)``, ``object.__new__(cls)``)."""
        assert ctx.owner is not None
        scan = self._scan(node)
        names = set()
        for name, call in scan.call_assigns:
            func = call.func
            if (isinstance(func, ast.Attribute) and func.attr == "__new__") or self._call_target(
                func, ctx
            ) == ctx.owner.qualname:
                names.add(name)
        return frozenset(names - scan.other_names)

    def _walk_For(self, node: ast.For | ast.AsyncFor, ctx: _Ctx) -> None:
        self._walk(node.iter, ctx)
        self._walk(node.target, ctx)
        inner = _Ctx(**{**ctx.__dict__, "loops": (*ctx.loops, node)})
        for stmt in node.body:
            self._walk(stmt, inner)
        for stmt in node.orelse:
            self._walk(stmt, ctx)

    _walk_AsyncFor = _walk_For

    def _walk_While(self, node: ast.While, ctx: _Ctx) -> None:
        inner = _Ctx(**{**ctx.__dict__, "loops": (*ctx.loops, node)})
        self._walk(node.test, inner)
        for stmt in node.body:
            self._walk(stmt, inner)
        for stmt in node.orelse:
            self._walk(stmt, ctx)

    def _walk_comprehension_node(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, ctx: _Ctx
    ) -> None:
        self._walk(node.generators[0].iter, ctx)
        bound = {name for gen in node.generators for name in _target_names(gen.target)}
        scope = _Scope("comprehension", dict.fromkeys(bound))
        inner = _Ctx(
            **{
                **ctx.__dict__,
                "scopes": (*ctx.scopes, scope),
                "loops": (*ctx.loops, node),
                "fresh": frozenset(n for n in ctx.fresh if n not in bound),
            }
        )
        for i, gen in enumerate(node.generators):
            if i:
                self._walk(gen.iter, inner)
            for cond in gen.ifs:
                self._walk(cond, inner)
        for part in ("elt", "key", "value"):
            sub = getattr(node, part, None)
            if sub is not None:
                self._walk(sub, inner)

    _walk_ListComp = _walk_comprehension_node
    _walk_SetComp = _walk_comprehension_node
    _walk_GeneratorExp = _walk_comprehension_node
    _walk_DictComp = _walk_comprehension_node

    def _walk_Name(self, node: ast.Name, ctx: _Ctx) -> None:
        if isinstance(node.ctx, ast.Load):
            self._note_reference(self._resolve_name(node.id, ctx), node)
            if node.id == "__class__" and ctx.owner is not None:
                ctx.owner.zero_arg_super = True

    def _walk_Attribute(self, node: ast.Attribute, ctx: _Ctx) -> None:
        if isinstance(node.ctx, ast.Load) and not isinstance(self.parents.get(node), ast.Attribute):
            self._note_reference(self._dotted(node, ctx), node)
        duck = self._duck(node.value, ctx)
        if duck is not None:
            duck[1].add(node.attr)
        if node.attr == "__dict__":
            self._note_dict_use(node.value, ctx)
        self._walk(node.value, ctx)

    def _note_reference(self, dotted: str | None, node: ast.expr) -> None:
        if dotted is None or dotted.startswith("builtins."):
            return
        self.referenced.add(dotted)
        if dotted.startswith(WEAKREF_MODULES) and not self._modelled_weakref_use(node):
            self.weakref_unknown = True

    def _imports_gui(self) -> bool:
        for node in self.parents:
            if isinstance(node, ast.Import):
                if any(alias.name.partition(".")[0] in GUI_TOOLKITS for alias in node.names):
                    return True
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if node.module.partition(".")[0] in GUI_TOOLKITS:
                    return True
        return False

    # -- objects of unknown class --------------------------------------------------------------
    def _duck(self, expr: ast.expr, ctx: _Ctx) -> tuple[set[str], set[str], set[str]] | None:
        """The record of an object expression whose class this scope cannot tell (None when it
        is ``self``, a new instance of the owner, or not a plain name or attribute chain)."""
        key = _plain_dotted(expr)
        if key is None:
            return None
        head = key.partition(".")[0]
        if "." not in key and (head in (ctx.self_name, ctx.cls_name) or head in ctx.fresh):
            return None
        scope = next(s for s in reversed(ctx.scopes) if s.kind in ("function", "module"))
        return scope.ducks.setdefault(key, (set(), set(), set()))

    def _note_duck_store(self, obj: ast.expr, attr: str, ctx: _Ctx) -> None:
        duck = self._duck(obj, ctx)
        if duck is not None:
            duck[0].add(attr)
            duck[1].add(attr)

    def _note_isinstance(self, node: ast.Call, ctx: _Ctx) -> None:
        if len(node.args) != 2:
            return
        duck = self._duck(node.args[0], ctx)
        if duck is None:
            return
        kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
        for kind in kinds:
            dotted = self._dotted(kind, ctx)
            if dotted is not None:
                duck[2].add(dotted)

    def _emit_ducks(self, ctx: _Ctx) -> None:
        """Keep the records of objects that get attributes written, unless the expression starts
        with a module-level name (a module or a class: a class-level store, recorded elsewhere)."""
        scope = next(s for s in reversed(ctx.scopes) if s.kind in ("function", "module"))
        for key, (stores, touched, kinds) in scope.ducks.items():
            if not stores:
                continue
            head = self._resolve_name(key.partition(".")[0], ctx)
            if head is not None and not head.startswith("?"):
                continue
            self.duck_uses.append(
                DuckUse(tuple(sorted(stores)), tuple(sorted(touched)), tuple(sorted(kinds)))
            )

    # -- weak references ---------------------------------------------------------------------
    def _find_weak_containers(self) -> dict[str, str]:
        """Names and attribute names bound to a new weak container: name -> container kind."""
        found: dict[str, str] = {}
        for node in self.parents:
            if isinstance(node, ast.arg) and node.annotation is not None:
                kind = _weak_container_type(node.annotation)
                if kind is not None:
                    found[node.arg] = kind
            elif (
                isinstance(node, ast.AnnAssign)
                and (kind := _weak_container_type(node.annotation)) is not None
            ):
                if (name := _last_name(node.target)) is not None:
                    found[name] = kind
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
                kind = _last_name(node.value.func)
                if kind not in WEAK_CONTAINERS:
                    continue
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    name = _last_name(target)
                    if name is not None:
                        found[name] = kind
        return found

    def _modelled_weakref_use(self, node: ast.expr) -> bool:
        """A weakref name that is called (the call is analysed), or only read as a type."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            return True
        child: ast.AST = node
        while parent is not None and not isinstance(parent, ast.stmt):
            if isinstance(parent, ast.arg) or (
                isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and child is parent.returns
            ):
                return True
            if isinstance(parent, ast.Call) and _last_name(parent.func) in ("isinstance", "issubclass"):
                return child is not parent.args[0] if parent.args else False
            child, parent = parent, self.parents.get(parent)
        return isinstance(parent, ast.AnnAssign) and child is parent.annotation

    def _note_weak_call(self, node: ast.Call, target: str | None, ctx: _Ctx) -> None:
        func = node.func
        if target is not None and target.startswith(WEAKREF_MODULES):
            name = target.rpartition(".")[2]
            if name in WEAK_REFERENCE_FUNCTIONS and node.args:
                referent = node.args[0]
                if name == "WeakMethod" and isinstance(referent, ast.Attribute):
                    referent = referent.value
                self._note_referent(referent, ctx)
            elif name in WEAK_CONTAINERS:
                parent = self.parents.get(node)
                if node.args or node.keywords or not isinstance(parent, (ast.Assign, ast.AnnAssign)):
                    self.weakref_unknown = True  # initial contents, or a container kept elsewhere
            return
        if not isinstance(func, ast.Attribute):
            return
        kind = self.weak_containers.get(_last_name(func.value) or "")
        if kind is None:
            return
        if func.attr == "add" and node.args:
            self._note_referent(node.args[0], ctx)
        elif func.attr == "setdefault" and len(node.args) >= 2:
            self._note_referent(node.args[1] if kind == "WeakValueDictionary" else node.args[0], ctx)
        elif func.attr in ("update", "__setitem__", "__ior__", "setdefault"):
            self.weakref_unknown = True

    def _note_weak_item(self, target: ast.Subscript, value: ast.expr | None, ctx: _Ctx) -> None:
        """``weak_values[key] = value`` / ``weak_keys[key] = value``."""
        kind = self.weak_containers.get(_last_name(target.value) or "")
        if kind == "WeakValueDictionary":
            self._note_referent(value, ctx)
        elif kind == "WeakKeyDictionary":
            self._note_referent(target.slice, ctx)

    def _note_referent(self, expr: ast.expr | None, ctx: _Ctx) -> None:
        """Record the class of a value that gets weakly referenced (unknown: any class might)."""
        target: str | None = None
        if isinstance(expr, ast.Name):
            if ctx.owner is not None and (expr.id == ctx.self_name or expr.id in ctx.fresh):
                target = ctx.owner.qualname
            elif ctx.owner is not None and expr.id == ctx.cls_name:
                return  # the class object itself: classes always support weak references
            elif expr.id in self.functions and all(expr.id not in s.bindings for s in ctx.scopes[1:]):
                return  # a module-level function
            else:
                target = self._instance_type(expr, ctx)
        elif isinstance(expr, ast.Call):
            target = self._call_target(expr.func, ctx)
        if target is None or target.startswith("builtins."):
            self.weakref_unknown = True
        else:
            self.weak_targets.add(target)

    def _note_dict_use(self, obj: ast.expr, ctx: _Ctx) -> None:
        """``x.__dict__`` / ``vars(x)``: the instance dict is needed unless x is a class."""
        if isinstance(obj, ast.Name) and obj.id == ctx.cls_name:
            return
        if self._is_type_of_self(obj, ctx):
            return
        if isinstance(obj, ast.Call) and isinstance(obj.func, ast.Name) and obj.func.id == "type":
            return
        if isinstance(obj, ast.Attribute) and obj.attr == "__class__":
            return
        target = self._instance_type(obj, ctx)
        if target is not None:
            self.stores.append(Store(target, "__dict__", False, False, self._owner_name(ctx)))
            return
        dotted = self._dotted(obj, ctx) if isinstance(obj, (ast.Name, ast.Attribute)) else None
        if dotted is not None and not dotted.startswith("?"):
            return  # an imported module, a class or a builtin (by name), not an instance
        self._note_duck_store(obj, "__dict__", ctx)
        if ctx.owner is not None:
            ctx.owner.dict_reasons["uses `__dict__` or `vars()`"] = None
        elif ctx.class_builder is not None:
            ctx.class_builder.dict_reasons["uses `__dict__` or `vars()`"] = None

    def _owner_name(self, ctx: _Ctx) -> str | None:
        return ctx.owner.qualname if ctx.owner is not None else None

    def _instance_type(self, obj: ast.expr, ctx: _Ctx) -> str | None:
        """The class of ``obj`` when it is a local name bound to a constructor call in this scope."""
        if not isinstance(obj, ast.Name):
            return None
        if ctx.owner is not None and (obj.id == ctx.self_name or obj.id in ctx.fresh):
            return None
        return self._bound_call_target(obj.id, ctx)

    def _bound_call_target(self, name: str, ctx: _Ctx) -> str | None:
        for scope in reversed(ctx.scopes):
            if scope.kind in ("function", "module"):
                break
            if name in scope.bindings:
                return None
        else:
            return None
        if scope.calls is None:
            scope.calls = self._calls_by_name(scope, ctx)
        return scope.calls.get(name)

    def _calls_by_name(self, scope: _Scope, ctx: _Ctx) -> dict[str, str]:
        """Names that a scope binds only to ``Target(...)`` calls of one dotted target."""
        if scope.node is None:
            return {}
        scan = self._scan(scope.node)
        found: dict[str, str | None] = {}
        for name, call in scan.call_assigns:
            target = self._dotted(call.func, ctx)
            found[name] = target if found.get(name, target) == target else None
        return {
            k: v
            for k, v in found.items()
            if v is not None and not v.startswith("builtins.") and k not in scan.other_names
        }

    def _walk_Call(self, node: ast.Call, ctx: _Ctx) -> None:
        self._note_call(node, ctx)
        self._walk_children(node, ctx)

    def _note_call(self, node: ast.Call, ctx: _Ctx) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        builtin = name is not None and self._resolve_name(name, ctx) == f"builtins.{name}"
        if builtin and name == "super" and not node.args and ctx.owner is not None:
            ctx.owner.zero_arg_super = True
        if builtin and name == "vars" and node.args:
            self._note_dict_use(node.args[0], ctx)
        if builtin and name == "isinstance":
            self._note_isinstance(node, ctx)
        if builtin and name == "setattr" and len(node.args) >= 2:
            self._note_setattr(node.args[0], node.args[1], ctx)
        if isinstance(func, ast.Attribute) and func.attr == "__setattr__" and node.args:
            self._note_dunder_setattr(func, node.args, ctx)
        if builtin and name == "map" and len(node.args) >= 2:
            self._note_map(node, ctx)
            return
        target = self._call_target(func, ctx) or self._method_target(func, ctx)
        self._note_weak_call(node, target, ctx)
        if target is None:
            return
        if target in ("collections.defaultdict",) and node.args:
            factory = (
                self._call_target(node.args[0], ctx)
                if isinstance(node.args[0], (ast.Name, ast.Attribute))
                else None
            )
            if factory and not ctx.in_main:
                self.sites.append(Site(factory, node.lineno, "defaultdict"))
            return
        self._note_self_args(node, target, ctx)
        kind = self._evidence(node, ctx)
        if kind is not None and not ctx.in_main and not target.startswith("builtins."):
            self.sites.append(Site(target, node.lineno, kind))

    def _note_self_args(self, node: ast.Call, target: str, ctx: _Ctx) -> None:
        if ctx.owner is None or ctx.self_name is None or target.startswith("builtins."):
            return
        values = [*node.args, *(kw.value for kw in node.keywords)]
        if any(isinstance(v, ast.Name) and v.id == ctx.self_name for v in values):
            self.self_args.append(SelfArg(ctx.owner.qualname, target))

    def _note_setattr(self, obj: ast.expr, name: ast.expr, ctx: _Ctx) -> None:
        attr = _const_str(name)
        if (
            ctx.owner is not None
            and isinstance(obj, ast.Name)
            and (obj.id == ctx.self_name or obj.id in ctx.fresh)
        ):
            if attr is None:
                ctx.owner.dict_reasons["`setattr` with a computed name"] = None
            else:
                ctx.owner.attrs[attr] = None
            return
        target = self._instance_type(obj, ctx)
        if target is not None:
            self.stores.append(Store(target, attr or "*", False, False, self._owner_name(ctx)))
            return
        self._note_duck_store(obj, attr or "*", ctx)
        if attr is None and ctx.owner is not None:
            ctx.owner.dict_reasons["`setattr` with a computed name"] = None

    def _note_dunder_setattr(self, func: ast.Attribute, args: list[ast.expr], ctx: _Ctx) -> None:
        """``object.__setattr__(self, "x", v)`` and ``super().__setattr__("x", v)``."""
        if ctx.owner is None:
            return
        is_super = (
            isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "super"
        )
        if is_super:
            name_arg: ast.expr | None = args[0]
        elif len(args) >= 2 and isinstance(args[0], ast.Name) and args[0].id in (ctx.self_name, *ctx.fresh):
            name_arg = args[1]
        else:
            return
        attr = _const_str(name_arg) if name_arg is not None else None
        if attr is None:
            ctx.owner.dict_reasons["`__setattr__` with a computed name"] = None
        else:
            ctx.owner.attrs[attr] = None

    def _note_map(self, node: ast.Call, ctx: _Ctx) -> None:
        func = node.args[0]
        if not isinstance(func, (ast.Name, ast.Attribute)) or ctx.in_main:
            return
        target = self._call_target(func, ctx) or self._method_target(func, ctx)
        if target is None or target.startswith("builtins."):
            return
        if all(self._is_small_iterable(arg, ctx) for arg in node.args[1:]):
            return
        parent = self.parents.get(node)
        if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:
            if not (
                isinstance(parent.target, ast.Name)
                and self._name_retained(parent.target.id, parent.body, ctx)
            ):
                return
        if isinstance(parent, ast.comprehension) and parent.iter is node:
            comp = self.parents.get(parent)
            if not (
                isinstance(parent.target, ast.Name) and self._kept_by_comprehension(parent.target.id, comp)
            ):
                return
        self.sites.append(Site(target, node.lineno, "map"))

    def _kept_by_comprehension(self, name: str, comp: ast.AST | None) -> bool:
        """Whether the comprehension's output contains the loop variable ``name`` itself."""
        parts = [getattr(comp, attr, None) for attr in ("elt", "key", "value")]
        stack: list[ast.AST] = [p for p in parts if p is not None]
        while stack:
            node = stack.pop()
            stack.extend(_children(node))
            if isinstance(node, ast.Name) and node.id == name:
                how = self._retention(node)
                if how is not None and how[1] is comp:
                    return True
        return False

    # -- evidence of many instances ----------------------------------------------------------
    def _evidence(self, node: ast.Call, ctx: _Ctx) -> str | None:
        if not ctx.loops:
            return None
        how = self._retention(node)
        if how is None:
            return None
        kind, comp, container = how
        if comp is not None:
            return None if self._is_small_comprehension(comp, ctx) else kind
        if not any(not self._is_small_loop(loop, ctx) for loop in ctx.loops):
            return None
        if kind.startswith("name:"):
            loop = ctx.loops[-1]
            body = loop.body if isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) else []
            return "loop" if body and self._name_retained(kind[5:], body, ctx) else None
        return None if self._is_stack(container, ctx) else "loop"

    def _is_stack(self, container: ast.expr | None, ctx: _Ctx) -> bool:
        """``stack.append(x)`` with ``stack.pop()`` or ``del stack[-1]`` in the same function: the
        live instances are bounded by the nesting depth, not by the input size."""
        if container is None:
            return False
        scope = next((s for s in reversed(ctx.scopes) if s.kind in ("function", "module")), None)
        body = getattr(scope.node, "body", None) if scope is not None else None
        if not isinstance(body, list):
            return False
        key = ast.dump(container)
        for node in self._own_nodes(body):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in ("pop", "popleft") and ast.dump(node.func.value) == key:
                    return True
            elif isinstance(node, ast.Delete):
                if any(isinstance(t, ast.Subscript) and ast.dump(t.value) == key for t in node.targets):
                    return True
        return False

    def _retention(self, node: ast.expr) -> tuple[str, ast.AST | None, ast.expr | None] | None:
        """How a value outlives the statement: ``(kind, comprehension, container)``. The kind is
        "stored" (the container is set for ``container.append(value)``), ``"name:<n>"`` (bound to
        a local first), or the comprehension's kind when the value is one of its elements."""
        child: ast.AST = node
        parent = self.parents.get(child)
        while isinstance(parent, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred, ast.keyword)) or (
            isinstance(parent, ast.IfExp) and child is not parent.test
        ):
            child, parent = parent, self.parents.get(parent)
        if isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and child is parent.elt:
            kind = "generator expression" if isinstance(parent, ast.GeneratorExp) else "comprehension"
            return kind, parent, None
        if isinstance(parent, ast.DictComp) and child in (parent.key, parent.value):
            return "comprehension", parent, None
        if isinstance(parent, (ast.Yield, ast.YieldFrom)):
            return "stored", None, None
        if isinstance(parent, ast.Call) and child is not parent.func:
            if not self._retaining_call(parent):
                return None
            container = parent.func.value if isinstance(parent.func, ast.Attribute) else None
            return "stored", None, container
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and child is parent.value:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if any(self._retaining_target(t) for t in targets):
                return "stored", None, None
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            return (f"name:{names[0]}", None, None) if names else None
        if isinstance(parent, ast.NamedExpr) and child is parent.value:
            return f"name:{parent.target.id}", None, None
        return None

    def _retaining_call(self, call: ast.Call) -> bool:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in RETAINING_METHODS:
            return True
        dotted = _plain_dotted(func)
        return dotted is not None and (
            dotted in RETAINING_FUNCTIONS
            or dotted.split(".")[-1] in {f.split(".")[-1] for f in RETAINING_FUNCTIONS}
        )

    @staticmethod
    def _retaining_target(target: ast.expr) -> bool:
        if isinstance(target, ast.Subscript):
            return not isinstance(target.slice, ast.Constant)
        if isinstance(target, ast.Attribute):
            return not (isinstance(target.value, ast.Name) and target.value.id in ("self", "cls"))
        return False

    def _name_retained(self, name: str, body: list[ast.stmt], ctx: _Ctx) -> bool:
        stack: list[ast.AST] = list(body)
        while stack:
            node = stack.pop()
            stack.extend(_children(node))
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                how = self._retention(node)
                if how is None:
                    continue
                if how[1] is not None or (how[0] == "stored" and not self._is_stack(how[2], ctx)):
                    return True
        return False

    def _is_small_loop(self, loop: ast.AST, ctx: _Ctx) -> bool:
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            return self._is_small_iterable(loop.iter, ctx)
        if isinstance(loop, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._is_small_comprehension(loop, ctx)
        return False

    def _is_small_comprehension(self, comp: ast.AST, ctx: _Ctx, depth: int = 0) -> bool:
        generators = getattr(comp, "generators", ())
        return all(self._is_small_iterable(gen.iter, ctx, depth) for gen in generators)

    def _is_small_iterable(self, expr: ast.expr, ctx: _Ctx, depth: int = 0) -> bool:
        """A literal, a constant ``range``, or a name only ever bound to such values."""
        if depth > 3:
            return False
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            return len(expr.elts) < SMALL_LITERAL and not any(isinstance(e, ast.Starred) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            return len(expr.keys) < SMALL_LITERAL and None not in expr.keys
        if isinstance(expr, ast.Constant) and isinstance(expr.value, (str, bytes)):
            return len(expr.value) < SMALL_LITERAL
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._is_small_comprehension(expr, ctx, depth + 1)
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and not expr.keywords:
            if expr.func.id == "range" and 1 <= len(expr.args) <= 3:
                return _small_range(expr.args)
            if (
                expr.func.id in ("enumerate", "reversed", "sorted", "list", "tuple", "set", "zip")
                and expr.args
            ):
                return all(self._is_small_iterable(a, ctx, depth + 1) for a in expr.args)
        values: list[ast.expr] | None = None
        if isinstance(expr, ast.Name):
            values = self._name_values(expr.id, ctx)
        elif (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and ctx.owner is not None
            and expr.value.id == ctx.self_name
        ):
            values = self._self_attr_values(ctx.owner, expr.attr)
        return bool(values) and all(self._is_small_iterable(v, ctx, depth + 1) for v in values or ())

    def _name_values(self, name: str, ctx: _Ctx) -> list[ast.expr] | None:
        """Every value a plain assignment binds to ``name`` in its scope (None: bound otherwise)."""
        innermost = ctx.scopes[-1]
        for scope in reversed(ctx.scopes):
            if scope.kind == "class" and scope is not innermost:
                continue
            if name not in scope.bindings:
                continue
            if scope.kind not in ("function", "module") or scope.node is None:
                return None
            scan = self._scan(scope.node)
            if name in scan.other_names or any(n == name for n, _ in scan.call_assigns):
                return None
            return scan.value_assigns.get(name)
        return None

    def _self_attr_values(self, owner: _ClassBuilder, attr: str) -> list[ast.expr] | None:
        """Values of ``attr`` on the class and on ``self`` (None when it is also changed in place)."""
        values: list[ast.expr] = []
        stack: list[ast.AST] = list(owner.node.body)
        while stack:
            node = stack.pop()
            stack.extend(_children(node))
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if _names_attr(target, attr, self.parents.get(node) is owner.node):
                        values.append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and _names_attr(node.target, attr, False):
                return None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if _names_attr(node.func.value, attr, False) and node.func.attr not in (
                    "copy",
                    "index",
                    "count",
                ):
                    return None
        return values

    # -- stores ------------------------------------------------------------------------------
    def _walk_Assign(self, node: ast.Assign, ctx: _Ctx) -> None:
        for target in node.targets:
            self._note_store_target(target, node.value, ctx)
        self._walk_children(node, ctx)

    def _walk_AnnAssign(self, node: ast.AnnAssign, ctx: _Ctx) -> None:
        self._note_store_target(node.target, node.value, ctx)
        self._walk_children(node, ctx)

    def _walk_AugAssign(self, node: ast.AugAssign, ctx: _Ctx) -> None:
        self._note_store_target(node.target, node.value, ctx)
        self._walk_children(node, ctx)

    def _walk_withitem(self, node: ast.withitem, ctx: _Ctx) -> None:
        if node.optional_vars is not None:
            self._note_store_target(node.optional_vars, None, ctx)
        self._walk_children(node, ctx)

    def _note_store_target(self, target: ast.expr, value: ast.expr | None, ctx: _Ctx) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._note_store_target(elt.value if isinstance(elt, ast.Starred) else elt, None, ctx)
            return
        if isinstance(target, ast.Subscript) and self.weak_containers:
            self._note_weak_item(target, value, ctx)
        if not isinstance(target, ast.Attribute):
            return
        obj = target.value
        value_is_self = (
            isinstance(value, ast.Name) and value.id == ctx.self_name and ctx.self_name is not None
        )
        if target.attr == "__class__":
            self._note_class_change(value, ctx)
            return
        if ctx.owner is not None and isinstance(obj, ast.Name):
            if obj.id == ctx.self_name or obj.id in ctx.fresh:
                self._note_self_store(target.attr, value, ctx)
                return
            if obj.id == ctx.cls_name:
                ctx.owner.class_level_stores[target.attr] = None
                return
            if value_is_self:
                ctx.owner.self_stored = True
        instance = self._instance_type(obj, ctx)
        if instance is not None:
            self.stores.append(Store(instance, target.attr, False, value_is_self, self._owner_name(ctx)))
            return
        dotted = self._dotted(obj, ctx) if isinstance(obj, (ast.Name, ast.Attribute)) else None
        if dotted is not None and not dotted.startswith(("builtins.", "?")):
            self.stores.append(Store(dotted, target.attr, True, value_is_self, self._owner_name(ctx)))
        else:
            self._note_duck_store(obj, target.attr, ctx)

    def _note_class_change(self, value: ast.expr | None, ctx: _Ctx) -> None:
        """``obj.__class__ = Other``: the layouts of both classes must stay compatible."""
        if ctx.owner is not None:
            ctx.owner.dict_reasons["assigns `__class__`"] = None
        new_class = self._dotted(value, ctx) if isinstance(value, (ast.Name, ast.Attribute)) else None
        if new_class is not None:
            self.stores.append(Store(new_class, "__class__", False, False, self._owner_name(ctx)))

    def _note_self_store(self, attr: str, value: ast.expr | None, ctx: _Ctx) -> None:
        owner = ctx.owner
        assert owner is not None
        if attr == "__dict__":
            owner.dict_reasons["uses `__dict__` or `vars()`"] = None
            return
        owner.attrs[attr] = None

    def _walk_Expr(self, node: ast.Expr, ctx: _Ctx) -> None:
        self._note_self_in_container(node.value, ctx)
        self._walk_children(node, ctx)

    def _note_self_in_container(self, expr: ast.expr, ctx: _Ctx) -> None:
        """``x.children.append(self)``: self is kept by another object."""
        if ctx.owner is None or ctx.self_name is None or not isinstance(expr, ast.Call):
            return
        func = expr.func
        if not (isinstance(func, ast.Attribute) and func.attr in RETAINING_METHODS):
            return
        if not any(isinstance(a, ast.Name) and a.id == ctx.self_name for a in expr.args):
            return
        root = func.value
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Name) and root.id == ctx.self_name:
            return
        ctx.owner.self_stored = True

    # -- class summaries ---------------------------------------------------------------------
    def _class_info(self, node: ast.ClassDef, builder: _ClassBuilder, ctx: _Ctx) -> ClassInfo:
        metaclass = None
        for kw in node.keywords:
            if kw.arg == "metaclass":
                metaclass = self._dotted(kw.value, ctx) or "?"
        slots: tuple[str, ...] | None = None
        slots_known = True
        fields: list[str] = []
        class_vars: dict[str, None] = {}
        methods: dict[str, None] = {}
        properties: dict[str, None] = {}
        for stmt in node.body:
            if (found := self._slots_statement(stmt)) is not None:
                names, known = found
                slots, slots_known = names, known
                continue
            self._class_level_names(stmt, fields, class_vars, methods, properties, builder, ctx)
        for name in builder.class_level_stores:
            class_vars.setdefault(name, None)
        return ClassInfo(
            qualname=builder.qualname,
            name=node.name,
            line=node.lineno,
            bases=tuple(self._dotted(b, ctx) if not isinstance(b, ast.Starred) else None for b in node.bases),
            metaclass=metaclass,
            decorators=tuple(self._decorator(d, ctx) for d in node.decorator_list),
            slots=slots if slots is not None or slots_known else (),
            slots_known=slots_known,
            attrs=tuple(builder.attrs),
            fields=tuple(fields),
            class_vars=tuple(class_vars),
            methods=tuple(methods),
            properties=tuple(properties),
            dict_reasons=tuple(builder.dict_reasons),
            zero_arg_super=builder.zero_arg_super,
            self_stored=builder.self_stored,
        )

    @staticmethod
    def _slots_statement(stmt: ast.stmt) -> tuple[tuple[str, ...] | None, bool] | None:
        """``(names, statically known)`` when the statement binds ``__slots__``."""
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id == "__slots__":
                    names = _slot_names(stmt.value)
                    return names, names is not None
                if isinstance(target, (ast.Tuple, ast.List)) and any(
                    isinstance(e, ast.Name) and e.id == "__slots__" for e in target.elts
                ):
                    return None, False
        if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            if isinstance(stmt.target, ast.Name) and stmt.target.id == "__slots__":
                names = _slot_names(stmt.value) if isinstance(stmt, ast.AnnAssign) else None
                return names, names is not None
        return None

    def _class_level_names(
        self,
        stmt: ast.stmt,
        fields: list[str],
        class_vars: dict[str, None],
        methods: dict[str, None],
        properties: dict[str, None],
        builder: _ClassBuilder,
        ctx: _Ctx,
    ) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kinds = {self._decorator_name(d) for d in stmt.decorator_list}
            if "cached_property" in kinds:
                builder.dict_reasons["`cached_property`"] = None
            if kinds & {"property", "setter", "getter", "deleter", "abstractproperty"}:
                properties[stmt.name] = None
                methods.pop(stmt.name, None)
            elif stmt.name not in properties:
                methods[stmt.name] = None
            if stmt.name in ("__setattr__", "__getattribute__"):
                builder.dict_reasons[f"defines `{stmt.name}`"] = None
            return
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is None:
                if not _is_classvar(stmt.annotation):
                    fields.append(stmt.target.id)
            else:
                class_vars[stmt.target.id] = None
                if not _is_classvar(stmt.annotation):
                    fields.append(stmt.target.id)
            return
        if isinstance(stmt, ast.ClassDef):
            class_vars[stmt.name] = None
            return
        for child in ast.walk(stmt):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                class_vars[child.id] = None
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for name, _ in self._import_bindings(stmt):
                class_vars[name] = None

    def _decorator(self, expr: ast.expr, ctx: _Ctx) -> Decorator:
        if isinstance(expr, ast.Call):
            keywords = tuple(
                (kw.arg, kw.value.value if isinstance(kw.value, ast.Constant) else "?")
                for kw in expr.keywords
                if kw.arg is not None
            )
            if any(kw.arg is None for kw in expr.keywords) or expr.args:
                keywords = (*keywords, ("*", "?"))
            return Decorator(self._dotted(expr.func, ctx), True, keywords)
        return Decorator(self._dotted(expr, ctx), False)


_HANDLERS: dict[type, Any] = {}


def _handler(kind: type) -> Any:
    """The ``_walk_<Kind>`` method for a node type (``_walk_children`` when there is none), memoised."""
    handler = _HANDLERS[kind] = getattr(_Collector, f"_walk_{kind.__name__}", _Collector._walk_children)
    return handler


def _small_range(args: list[ast.expr]) -> bool:
    if not all(isinstance(a, ast.Constant) and type(a.value) is int for a in args):
        return False
    bounds = [a.value for a in args]  # type: ignore[attr-defined]
    if len(bounds) == 3 and bounds[2] == 0:
        return True
    return len(range(*bounds)) < SMALL_LOOP


def _names_attr(target: ast.AST, attr: str, class_level: bool) -> bool:
    """``self.attr`` (any receiver name), or the bare ``attr`` when at class level."""
    if isinstance(target, ast.Attribute):
        return target.attr == attr and isinstance(target.value, ast.Name)
    return class_level and isinstance(target, ast.Name) and target.id == attr


def _is_classvar(annotation: ast.expr) -> bool:
    text = ast.unparse(annotation)
    return any(marker in text for marker in ("ClassVar", "InitVar"))


def _weak_container_type(annotation: ast.expr) -> str | None:
    """``weakref.WeakSet``, ``WeakSet[Node]``, ``"WeakSet[Node]"``: the container kind."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return next((kind for kind in WEAK_CONTAINERS if kind in annotation.value), None)
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    name = _last_name(annotation)
    return name if name in WEAK_CONTAINERS else None


def _last_name(expr: ast.AST) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _plain_dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = _plain_dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def collect_module(tree: ast.Module, module: ModuleInfo) -> ModuleFacts:
    """The facts of one module; a module too deeply nested to walk contributes none."""
    try:
        return _Collector(tree, module).run()
    except RecursionError:
        name = module.name or Path(module.path).stem
        return ModuleFacts(
            module.path, name, module.is_package, is_test_module(name), (), (), (), (), (), (), (), ()
        )


# -- the merged index -------------------------------------------------------------------------

OBJECT = "builtins.object"
MIN_DATACLASS_SLOTS = (3, 10)
MIN_WEAKREF_SLOT = (3, 11)
#: ``slots=True`` dataclasses support zero-argument ``super()`` from this version (gh-90562).
SUPER_FIXED = (3, 14)


@dataclass(frozen=True)
class Evidence:
    site: Site
    module: ModuleFacts
    via: str | None = None  # the subclass whose instantiation this is
    factory: str | None = None  # the function or method that creates the instance


@dataclass(frozen=True)
class Decision:
    qualname: str
    name: str
    is_dataclass: bool
    evidence: Evidence
    #: The names the fix lists (plain classes), ``"__weakref__"`` included when needed.
    slots: tuple[str, ...]
    weakref: bool
    no_fix: str | None


class ClassIndex:
    """The classes of a project with their modules; decisions are computed lazily per target."""

    def __init__(self, modules: Mapping[str, ModuleFacts]) -> None:
        self.modules = {path_key(path): facts for path, facts in modules.items()}
        self._build()

    def _build(self) -> None:
        self.by_name: dict[str, ModuleFacts] = {}
        for mod in sorted(self.modules.values(), key=lambda m: m.path):
            self.by_name.setdefault(mod.name, mod)
        self.bindings = {m.name: dict(m.bindings) for m in self.by_name.values()}
        self.classes: dict[str, tuple[ClassInfo, ModuleFacts]] = {}
        self.ambiguous: set[str] = set()
        for mod in self.modules.values():
            self.ambiguous.update(mod.ambiguous)
            for info in mod.classes:
                if info.qualname in self.classes and self.classes[info.qualname][1] is not mod:
                    self.ambiguous.add(info.qualname)
                self.classes.setdefault(info.qualname, (info, mod))
        self.factories: dict[str, str] = {}
        for mod in self.modules.values():
            for function, product in mod.factories:
                self.factories.setdefault(function, product)
        self.gui = self._gui_modules()
        self._cache: dict[str, str] = {}
        self._analyses: dict[tuple[tuple[int, int], frozenset[str]], dict[str, Decision]] = {}
        self._candidates: frozenset[str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"modules": self.modules}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.modules = state["modules"]
        self._build()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassIndex) and other.modules == self.modules

    __hash__ = None  # type: ignore[assignment]

    def _gui_modules(self) -> set[str]:
        """Modules importing a GUI toolkit, and modules importing such a module of the project
        (one level: the application's own widgets and the code around them)."""
        direct = {m.name for m in self.by_name.values() if m.gui}
        gui = set(direct)
        for mod in self.by_name.values():
            for _, target in mod.bindings:
                parts = (target or "").split(".")
                if any(".".join(parts[:i]) in direct for i in range(len(parts), 0, -1)):
                    gui.add(mod.name)
                    break
        return gui

    def module_at(self, path: str) -> ModuleFacts | None:
        return self.modules.get(path_key(path))

    def with_module(self, facts: ModuleFacts) -> ClassIndex:
        """The index with one file's facts replaced (or added)."""
        modules = dict(self.modules)
        modules[path_key(facts.path)] = facts
        return ClassIndex(modules)

    # -- names -------------------------------------------------------------------------------
    def resolve(self, dotted: str | None, module: ModuleFacts) -> str | None:
        """The canonical name of ``dotted`` as written in ``module``: a project class qualname, a
        known standard name, ``builtins.X``, or the best dotted guess (None when unknowable)."""
        if dotted is None:
            return None
        if dotted.startswith("?"):  # a name that only a star import can have bound
            for star in module.star_imports:
                found = self._resolve(f"{star}.{dotted[1:]}")
                if found in self.classes:
                    return found
            return f"builtins.{dotted[1:]}" if dotted[1:] in BUILTIN_NAMES else None
        return self._resolve(dotted)

    def _resolve(self, dotted: str) -> str:
        """Follow re-exports, aliases and star imports across modules (memoised; cycles stop)."""
        cached = self._cache.get(dotted)
        if cached is not None:
            return cached
        self._cache[dotted] = dotted  # a cycle resolves to itself
        result = self._follow(dotted)
        self._cache[dotted] = result
        return result

    def _follow(self, dotted: str) -> str:
        if dotted in KNOWN_SLOTTED or dotted in self.classes:
            return dotted
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            bindings = self.bindings.get(prefix)
            if bindings is None:
                continue
            name, rest = parts[i], parts[i + 1 :]
            if name in bindings:
                value = bindings[name]
                if value is None or value == ".".join(parts[: i + 1]):
                    return dotted
                return self._resolve(".".join([value, *rest]))
            for star in self.by_name[prefix].star_imports:
                found = self._resolve(".".join([star, *parts[i:]]))
                if found in self.classes or found in KNOWN_SLOTTED:
                    return found
            return dotted
        return dotted

    def created(self, dotted: str | None, module: ModuleFacts) -> tuple[str, str | None] | None:
        """The project class a call of ``dotted`` creates, and the factory's name when it is not
        the class itself (a function or method returning a new instance)."""
        target = self.resolve(dotted, module)
        if target is None:
            return None
        if target in self.classes:
            return target, None
        owner, _, method = target.rpartition(".")
        product = self.factories.get(target)
        if product is None and owner in self.classes:
            for cls in self._mro(owner):
                product = self.factories.get(f"{cls}.{method}")
                if product is not None:
                    break
        if product is None:
            return None
        if product == "<cls>":
            made: str | None = owner
        else:
            holder = self.classes[owner][1] if owner in self.classes else self.by_name.get(owner)
            made = self.resolve(product, holder) if holder is not None else None
        return (made, method) if made in self.classes else None

    def _mro(self, qualname: str) -> list[str]:
        order: dict[str, None] = {}
        stack = [qualname]
        while stack and len(order) < 64:
            q = stack.pop(0)
            if q in order or q not in self.classes:
                continue
            order[q] = None
            info, mod = self.classes[q]
            stack.extend(b for b in (self.resolve(base, mod) for base in info.bases) if b is not None)
        return list(order)

    # -- decisions ---------------------------------------------------------------------------
    def decisions(
        self, target: tuple[int, int], weak_parents: frozenset[str] = frozenset()
    ) -> dict[str, Decision]:
        """Flagged classes for a target version; ``weak_parents`` must stay weakly referenceable."""
        key = (target, weak_parents)
        if key not in self._analyses:
            self._analyses[key] = _Analysis(self, target, weak_parents).run()
        return self._analyses[key]

    def candidate_names(self) -> frozenset[str]:
        """Simple names of every class that could be flagged at any target version: classes
        instantiated as evidence somewhere, and their project ancestors (a cheap superset)."""
        if self._candidates is None:
            found: set[str] = set()
            stack = [
                made[0]
                for mod in self.modules.values()
                for site in mod.sites
                if (made := self.created(site.target, mod)) is not None
            ]
            while stack:
                q = stack.pop()
                if q in found:
                    continue
                found.add(q)
                info, mod = self.classes[q]
                stack.extend(b for b in (self.resolve(base, mod) for base in info.bases) if b in self.classes)
            self._candidates = frozenset(q.rpartition(".")[2] for q in found)
        return self._candidates


#: An attribute defined by at most this many project classes identifies them: an object of unknown
#: class that uses it may be an instance of one of them (or of a subclass).
DISTINCTIVE = 3
#: A class whose project MRO defines more methods than this is an API object (a GUI widget, a
#: client), not a record: its instances are few and heavy, and 40 bytes do not matter to them.
HEAVY_METHODS = 60


@dataclass
class _Plan:
    existing: bool
    #: Every slot name the class has once the run's fixes are applied (inherited ones included).
    slots: tuple[str, ...]
    #: The names the fix lists, ``"__weakref__"`` included.
    new: tuple[str, ...]
    #: Instances support weak references once the fixes are applied.
    weakref: bool
    #: Why this class (itself, not its bases) cannot be fixed automatically.
    problem: str | None


class _Analysis:
    """Which classes to flag: eligible, with evidence of many instances, and slottable as a chain."""

    def __init__(self, index: ClassIndex, target: tuple[int, int], weak_parents: frozenset[str]) -> None:
        self.index = index
        self.target = target
        self.weak_parents = weak_parents
        self.classes = index.classes
        self.bases: dict[str, tuple[str | None, ...]] = {
            q: tuple(index.resolve(b, mod) for b in info.bases) for q, (info, mod) in self.classes.items()
        }
        self.children: dict[str, list[str]] = {}
        for q, bases in sorted(self.bases.items()):
            for base in bases:
                if base in self.classes:
                    self.children.setdefault(base, []).append(q)
        self._collect_project_facts()
        self.blocked: set[str] = set()

    def _collect_project_facts(self) -> None:
        index = self.index
        self.sites: dict[str, list[tuple[Site, ModuleFacts, str | None]]] = {}
        self.stores: dict[str, list[Store]] = {}
        self.weakref_targets: set[str] = set()
        self.escapes: set[str] = set()
        for mod in sorted(index.modules.values(), key=lambda m: m.path):
            for site in mod.sites:
                made = index.created(site.target, mod)
                if made is not None and not mod.is_test and mod.name not in self.index.gui:
                    self.sites.setdefault(made[0], []).append((site, mod, made[1]))
            for store in mod.stores:
                q = index.resolve(store.target, mod)
                if q in self.classes:
                    self.stores.setdefault(q, []).append(store)
                    if store.value_is_self and store.in_class:
                        self.escapes.add(store.in_class)
            for name in (*mod.weakref_names, *mod.weak_targets):
                q = index.resolve(name, mod)
                if q in self.classes:
                    self.weakref_targets.add(q)
            for arg in mod.self_args:
                if index.resolve(arg.target, mod) in self.classes:
                    self.escapes.add(arg.caller)
        self._collect_duck_uses()

    def _collect_duck_uses(self) -> None:
        """Attributes that code writes on objects that may be instances of a class: the fix lists
        them as slots too (a computed ``setattr`` or ``vars()`` means the class needs a dict)."""
        self.duck_attrs: dict[str, set[str]] = {}
        self.duck_dict: set[str] = set()
        definers: dict[str, set[str]] = {}
        for q, (info, _) in self.classes.items():
            for name in (*info.attrs, *info.fields, *info.methods, *info.properties, *(info.slots or ())):
                definers.setdefault(name, set()).add(q)
        for mod in self.index.modules.values():
            for use in mod.duck_uses:
                matched: set[str] = set()
                for dotted in use.isinstance_of:
                    checked = self.index.resolve(dotted, mod)
                    if checked in self.classes:
                        matched.add(checked)
                for name in use.touched:
                    defs = definers.get(name, ())
                    if 0 < len(defs) <= DISTINCTIVE:
                        matched.update(defs)
                for q in self._with_descendants(matched):
                    for attr in use.stores:
                        if attr in ("*", "__dict__"):
                            self.duck_dict.add(q)
                        else:
                            self.duck_attrs.setdefault(q, set()).add(attr)

    def _with_descendants(self, classes: set[str]) -> set[str]:
        out: set[str] = set()
        stack = list(classes)
        while stack:
            q = stack.pop()
            if q not in out:
                out.add(q)
                stack.extend(self.children.get(q, ()))
        return out

    def run(self) -> dict[str, Decision]:
        for _ in range(10):
            self._reset()
            conflicts = self._layout_conflicts() - self.blocked
            if not conflicts:
                break
            self.blocked |= conflicts
        out = {}
        for q in self.classes:
            decision = self._decide(q)
            if decision is not None:
                out[q] = decision
        return out

    def _reset(self) -> None:
        self._ok: dict[str, bool] = {}
        self._evidence: dict[str, Evidence | None] = {}
        self._plans: dict[str, _Plan | None] = {}

    # -- eligibility -------------------------------------------------------------------------
    def _decorator_kind(self, q: str) -> str:
        """ "plain", "dataclass", "slotted" (declares slots through its decorator) or "reject"."""
        info, mod = self.classes[q]
        kind = "plain"
        for deco in info.decorators:
            target = self.index.resolve(deco.target, mod)
            if target in DATACLASS:
                slots = deco.keyword("slots", False)
                if deco.keyword("*") or slots not in (True, False) or ("slots", False) in deco.keywords:
                    return "reject"
                kind = "slotted" if slots else "dataclass"
            elif target in ATTRS_SLOTTED_BY_DEFAULT or target in ATTRS_CLASSIC:
                default = target in ATTRS_SLOTTED_BY_DEFAULT
                return "attrs" if deco.keyword("slots", default) is True else "reject"
            elif target not in HARMLESS_DECORATORS:
                return "reject"
        return kind

    def _existing_slots(self, q: str) -> tuple[str, ...] | None:
        """The slots a class declares today (None: none); ``("?",)`` when not statically known."""
        info, mod = self.classes[q]
        kind = self._decorator_kind(q)
        if kind == "attrs":
            return ("?",)
        if kind == "slotted":
            deco = next(d for d in info.decorators if self.index.resolve(d.target, mod) in DATACLASS)
            extra = ("__weakref__",) if deco.keyword("weakref_slot") is True else ()
            return (*info.fields, *extra)
        if info.slots is None:
            return None
        return info.slots if info.slots_known else ("?",)

    def _project_bases(self, q: str) -> list[str]:
        return [b for b in self.bases[q] if b in self.classes]

    def _ancestors(self, q: str) -> list[str]:
        seen: dict[str, None] = {}
        stack = list(reversed(self._project_bases(q)))
        while stack:
            a = stack.pop()
            if a in seen or a == q:
                continue
            seen[a] = None
            stack.extend(reversed(self._project_bases(a)))
        return list(seen)

    def ok(self, q: str) -> bool:
        if q not in self._ok:
            self._ok[q] = False  # cycle guard
            self._ok[q] = self._compute_ok(q)
        return self._ok[q]

    def _compute_ok(self, q: str) -> bool:
        info, mod = self.classes[q]
        if q in self.blocked or q in self.index.ambiguous or mod.is_test or mod.name in self.index.gui:
            return False
        kind = self._decorator_kind(q)
        if kind == "reject" or (
            info.metaclass is not None and self.index.resolve(info.metaclass, mod) not in ALLOWED_METACLASSES
        ):
            return False
        for base in self.bases[q]:
            if base == OBJECT or (base in KNOWN_SLOTTED):
                continue
            if base not in self.classes or not self.ok(base):
                return False
        existing = self._existing_slots(q)
        if existing is not None:
            return "?" not in existing and "__dict__" not in existing
        if info.dict_reasons or q in self.duck_dict:
            return False
        if kind == "dataclass" and self.target < MIN_DATACLASS_SLOTS:
            return False
        known = self._known_attributes(q)
        if kind == "dataclass":
            inherited = set().union(*(self._known_attributes(a) for a in self._project_bases(q)))
            if not set(info.attrs) <= set(info.fields) | set(info.properties) | inherited:
                return False  # methods set attributes that are not fields: `slots=True` would break them
        for store in self.stores.get(q, ()):
            if store.on_class or store.in_class == q:
                continue
            if store.attr in ("__dict__", "*", "__class__") or store.attr not in known:
                return False
        return self._descendants_keep_working(q)

    def _known_attributes(self, q: str) -> set[str]:
        """Attributes instances of q may hold once q and its project bases are slotted."""
        names: set[str] = set()
        for c in (q, *self._ancestors(q)):
            info = self.classes[c][0]
            names.update(info.attrs, info.fields, info.properties, info.slots or ())
            names.update(s.attr for s in self.stores.get(c, ()) if s.in_class == c and not s.on_class)
        return names

    def _descendants_keep_working(self, q: str) -> bool:
        """A subclass that declares slots today gets a ``__dict__`` from unslotted q; it must not need it."""
        for child in self.children.get(q, ()):
            existing = self._existing_slots(child)
            if existing is None:
                continue
            info = self.classes[child][0]
            if info.dict_reasons or "?" in existing:
                return False
            if not set(info.attrs) <= set(existing) | self._known_attributes(q) | set(info.properties):
                return False
            if not self._descendants_keep_working(child):
                return False
        return True

    # -- the slots a fix adds ----------------------------------------------------------------
    def plan(self, q: str) -> _Plan | None:
        """What q's slots are after the run's fixes (None when q cannot have slots)."""
        if q not in self._plans:
            self._plans[q] = None
            self._plans[q] = self._compute_plan(q) if self.ok(q) else None
        return self._plans[q]

    def _compute_plan(self, q: str) -> _Plan | None:
        info, _ = self.classes[q]
        ancestors = self._ancestors(q)
        plans = [self.plan(a) for a in ancestors]
        if any(p is None for p in plans):
            return None
        inherited = tuple(dict.fromkeys(name for p in plans if p for name in p.slots))
        inherited_weakref = any(p.weakref for p in plans if p)
        existing = self._existing_slots(q)
        if existing is not None:
            weakref = "__weakref__" in existing or inherited_weakref
            return _Plan(True, (*inherited, *existing), (), weakref, None)
        kind = self._decorator_kind(q)
        properties = set(info.properties).union(*(self.classes[a][0].properties for a in ancestors))
        extra = [s.attr for s in self.stores.get(q, ()) if s.in_class == q and not s.on_class]
        extra += sorted(self.duck_attrs.get(q, ()))
        order = (
            (*info.fields, *info.attrs, *extra)
            if kind == "dataclass"
            else (*info.attrs, *info.fields, *extra)
        )
        own = tuple(dict.fromkeys(n for n in order if n not in properties and n not in inherited))
        weakref = self._needs_weakref(q) and not inherited_weakref
        new = (*own, "__weakref__") if weakref else own
        problem = self._problem(q, kind, own, weakref, ancestors)
        return _Plan(False, (*inherited, *new), new, weakref or inherited_weakref, problem)

    def _problem(
        self, q: str, kind: str, own: tuple[str, ...], weakref: bool, ancestors: list[str]
    ) -> str | None:
        info, _ = self.classes[q]
        if kind == "dataclass":
            if info.zero_arg_super and self.target < SUPER_FIXED:
                return "zero-argument `super()` in its methods fails with `slots=True` before Python 3.14"
            if weakref and self.target < MIN_WEAKREF_SLOT:
                return "its instances are weakly referenced and `weakref_slot=True` needs Python 3.11"
            return None
        class_level = set(info.class_vars) | set(info.methods)
        for a in ancestors:
            ainfo = self.classes[a][0]
            class_level |= set(ainfo.class_vars) | set(ainfo.methods)
        class_level |= {s.attr for s in self.stores.get(q, ()) if s.on_class}
        for name in own:
            if name in class_level:
                return f"class attribute `{name}` would collide with its slot (set the default in `__init__`)"
        return None

    def _chain_problem(self, q: str) -> str | None:
        for a in self._ancestors(q):
            plan = self.plan(a)
            if plan is not None and not plan.existing and plan.problem is not None:
                return f"base class `{self.classes[a][0].name}` cannot get slots automatically"
        return None

    def _needs_weakref(self, q: str) -> bool:
        if (
            q in self.weakref_targets
            or q in self.escapes
            or q in self.weak_parents
            or self.classes[q][0].self_stored
        ):
            return True
        for child in self.children.get(q, ()):
            existing = self._existing_slots(child)
            if existing is not None and "__weakref__" not in existing and self._needs_weakref(child):
                return True
        return False

    # -- evidence ----------------------------------------------------------------------------
    def _heavy(self, q: str) -> bool:
        methods: set[str] = set()
        for c in (q, *self._ancestors(q)):
            info = self.classes[c][0]
            methods.update(info.methods, info.properties)
        return len(methods) > HEAVY_METHODS

    def evidence(self, q: str) -> Evidence | None:
        if q not in self._evidence:
            self._evidence[q] = None
            self._evidence[q] = self._compute_evidence(q)
        return self._evidence[q]

    def _compute_evidence(self, q: str) -> Evidence | None:
        _, home = self.classes[q]
        if self._heavy(q):
            return None
        sites = self.sites.get(q)
        if sites:
            site, mod, factory = min(sites, key=lambda s: (s[1] is not home, s[1].display_path(), s[0].line))
            return Evidence(site, mod, factory=factory)
        for child in self.children.get(q, ()):
            if not self.ok(child):
                continue
            found = self.evidence(child)
            if found is not None and self._chain_clear(child, q):
                return Evidence(
                    found.site, found.module, found.via or self.classes[child][0].name, found.factory
                )
        return None

    def _chain_clear(self, child: str, q: str) -> bool:
        """Slotting q helps the numerous ``child`` only if the rest of its chain can get slots too."""
        for c in (child, *self._ancestors(child)):
            plan = self.plan(c)
            if c != q and (plan is None or (not plan.existing and plan.problem is not None)):
                return False
        return True

    def flagged(self, q: str) -> bool:
        return self.ok(q) and self._existing_slots(q) is None and self.evidence(q) is not None

    # -- multiple inheritance ----------------------------------------------------------------
    def _layout_conflicts(self) -> set[str]:
        """Classes whose new slots would make some subclass's bases' layouts conflict."""
        blocked: set[str] = set()
        for q in self.classes:
            bases = self.bases[q]
            if len(bases) < 2:
                continue
            solids = {s for b in bases if (s := self._solid(b, set())) is not None}
            planned = {s[5:] for s in solids if s.startswith("plan:")}
            if planned and len(solids) >= 2:
                blocked |= planned
        return blocked

    def _solid(self, base: str | None, seen: set[str]) -> str | None:
        """The class that fixes the instance layout of ``base`` (None for ``object``)."""
        if base == OBJECT:
            return None
        if base in KNOWN_SLOTTED:
            return f"known:{base}" if KNOWN_SLOTTED[base] else None
        if base not in self.classes or base in seen:
            return f"unknown:{base}"
        seen.add(base)
        existing = self._existing_slots(base)
        if existing is not None and set(existing) - {"__weakref__", "__dict__"}:
            return f"have:{base}"
        if existing is None and self.flagged(base):
            plan = self.plan(base)
            if plan is not None and set(plan.new) - {"__weakref__"}:
                return f"plan:{base}"
        for b in self.bases[base]:
            solid = self._solid(b, seen)
            if solid is not None:
                return solid
        return None

    # -- the result --------------------------------------------------------------------------
    def _decide(self, q: str) -> Decision | None:
        if not self.flagged(q):
            return None
        plan = self.plan(q)
        evidence = self.evidence(q)
        if plan is None or evidence is None:
            return None
        info, _ = self.classes[q]
        return Decision(
            qualname=q,
            name=info.name,
            is_dataclass=self._decorator_kind(q) == "dataclass",
            evidence=evidence,
            slots=plan.new,
            weakref=plan.weakref,
            no_fix=plan.problem or self._chain_problem(q),
        )


class ClassFacts(FactCollector):
    """Classes, instantiation sites and instance stores of every module (for MEM201)."""

    NAME = "class-facts"
    VERSION = 1

    @classmethod
    def collect(cls, tree: ast.Module, module: ModuleInfo) -> ModuleFacts:
        return collect_module(tree, module)

    @classmethod
    def merge(cls, per_file: Mapping[str, Any]) -> ClassIndex:
        return ClassIndex({path: facts for path, facts in per_file.items() if facts is not None})
