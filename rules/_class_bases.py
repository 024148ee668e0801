"""Project-wide facts about class statements and what their bases are, for the object-layout rules
(MEM202 immutable-subclass-without-slots, MEM203 ineffective-slots) and MEM302 (method-cache).

Whether a class's instances carry a ``__dict__`` depends on every class above it, and those are
often defined in other modules. Each file contributes a :class:`ModuleRecord` computed from its
``ast`` alone: its module-level bindings (imports, classes, aliases, names made by
``collections.namedtuple(...)``) and, per class statement, its bases as dotted names, its
``__slots__``, decorators and metaclass. :class:`ClassGraph` merges them and answers "what is this
base" across modules (re-exports, aliases, star imports). A base it cannot follow (a third-party
class, a call, a name bound twice) is unknown, and the rules treat unknown as "no finding".

This is deliberately smaller than MEM201's ``_class_facts`` (which also records instantiation
sites, attribute stores and weak references, and resolves nothing it does not need for slots
advice): it records call-form named tuples, which that collector does not, and walks only module
and class bodies (plus functions that define classes).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memlint.facts import FactCollector, ModuleInfo, walk_nodes

#: A value made by ``collections.namedtuple(...)`` or the call form of ``typing.NamedTuple``.
NAMEDTUPLE = "<namedtuple>"
NAMEDTUPLE_FACTORIES = frozenset(
    {"collections.namedtuple", "typing.NamedTuple", "typing_extensions.NamedTuple"}
)
#: Bases that make a class statement a named tuple itself (``class P(NamedTuple): x: int``).
NAMEDTUPLE_CLASS_BASES = frozenset({"typing.NamedTuple", "typing_extensions.NamedTuple"})
ENUM_CLASSES = frozenset(
    f"enum.{name}" for name in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum")
)
ENUM_METACLASSES = frozenset({"enum.EnumMeta", "enum.EnumType"})
#: Standard classes whose whole MRO declares ``__slots__`` (they add no ``__dict__``).
KNOWN_SLOTTED_EXTERNAL = frozenset(
    {"abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol"}
    | {f"numbers.{n}" for n in ("Number", "Complex", "Real", "Rational", "Integral")}
    | {
        f"{m}.{n}"
        for m in ("collections.abc", "typing")
        for n in (
            "Awaitable Coroutine AsyncIterable AsyncIterator AsyncGenerator Hashable Iterable Iterator "
            "Generator Reversible Sized Container Callable Collection Set MutableSet Mapping "
            "MutableMapping Sequence MutableSequence"
        ).split()
    }
)
ABC_METACLASSES = frozenset({"abc.ABCMeta", "_py_abc.ABCMeta"})
BUILTIN_NAMES = frozenset(dir(builtins))
#: Builtin types whose instances always have a ``__dict__`` (the exception hierarchy, ``type``).
BUILTIN_DICT_TYPES = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and value.__dictoffset__ and not name.startswith("_")
)


@dataclass(frozen=True)
class DecoratorRecord:
    target: str | None
    #: The ``slots=`` keyword: True/False when a constant, None when absent or computed.
    slots: bool | None = None
    called: bool = False


@dataclass(frozen=True)
class ClassRecord:
    qualname: str
    name: str
    line: int
    #: Each base as a dotted name, :data:`NAMEDTUPLE`, or None (an expression that is not a name).
    bases: tuple[str | None, ...]
    #: The ``metaclass=`` keyword as a dotted name ("?" when it is not a name); None when absent.
    metaclass: str | None
    decorators: tuple[DecoratorRecord, ...]
    #: Declared ``__slots__`` names; None when the class body never binds ``__slots__``.
    slots: tuple[str, ...] | None
    slots_known: bool
    #: Other class keywords (``total=False``...), which a metaclass may act on.
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModuleRecord:
    path: str
    name: str
    is_package: bool
    bindings: tuple[tuple[str, str | None], ...]
    star_imports: tuple[str, ...]
    classes: tuple[ClassRecord, ...]


# -- collection -----------------------------------------------------------------------------------


def _absolute(package: str, level: int, name: str | None) -> str | None:
    """The absolute module of ``from <level dots><name> import ...`` inside ``package``."""
    if level == 0:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if name:
        base.append(name)
    return ".".join(base) or None


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def slot_names(value: ast.expr | None) -> tuple[str, ...] | None:
    """The names in a ``__slots__`` value, or None when they are not all literal strings."""
    if value is None:
        return None
    single = _const_str(value)
    if single is not None:
        return (single,)
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        items = list(value.elts)
    elif isinstance(value, ast.Dict) and all(k is not None for k in value.keys):
        items = [k for k in value.keys if k is not None]
    else:
        return None
    names = [_const_str(item) for item in items]
    return tuple(n for n in names if n is not None) if all(n is not None for n in names) else None


def slots_statement(stmt: ast.stmt) -> tuple[tuple[str, ...] | None, ast.expr | None] | None:
    """``(names, value)`` when a class-body statement binds ``__slots__`` (names None: not literal)."""
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:
            if isinstance(target, ast.Name) and target.id == "__slots__":
                return slot_names(stmt.value), stmt.value
            if isinstance(target, (ast.Tuple, ast.List)) and any(
                isinstance(e, ast.Name) and e.id == "__slots__" for e in target.elts
            ):
                return None, None
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        if isinstance(stmt.target, ast.Name) and stmt.target.id == "__slots__":
            if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                return slot_names(stmt.value), stmt.value
            return None, None
    return None


def body_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a body, descending into compound statements but not into new scopes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for attr in ("body", "orelse", "finalbody"):
            sub = getattr(stmt, attr, None)
            if isinstance(sub, list):
                yield from body_statements(sub)
        for handler in getattr(stmt, "handlers", ()):
            yield from body_statements(handler.body)
        for case in getattr(stmt, "cases", ()):
            yield from body_statements(case.body)


def class_slots(node: ast.ClassDef) -> tuple[tuple[str, ...] | None, bool]:
    """``(slots, known)``: the class's ``__slots__`` (None: none at all) and whether they are literal.

    A ``__slots__`` bound only conditionally (inside an ``if``) counts as present but unknown."""
    found: tuple[str, ...] | None = None
    known = True
    for stmt in body_statements(node.body):
        result = slots_statement(stmt)
        if result is None:
            continue
        names, _ = result
        direct = stmt in node.body
        if found is not None or names is None or not direct:
            known = False
        found = names if names is not None else ()
    return found, known and found is not None


def _stored_names(nodes: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in nodes:
        for node in walk_nodes(stmt):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


class _Collector:
    def __init__(self, tree: ast.Module, module: ModuleInfo) -> None:
        self.tree = tree
        self.name = module.name or Path(module.path).stem
        self.package = self.name if module.is_package else self.name.rpartition(".")[0]
        self.stars: list[str] = []
        self.bindings: dict[str, str | None] = {}
        self.classes: list[ClassRecord] = []

    # -- module-level bindings --------------------------------------------------------------------
    def _bind(self, name: str, value: str | None) -> None:
        if name in self.bindings and self.bindings[name] != value:
            self.bindings[name] = None
        else:
            self.bindings[name] = value

    def _import_bindings(self, node: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, str | None]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    yield alias.asname, alias.name
                else:
                    head = alias.name.split(".")[0]
                    yield head, head
            return
        base = _absolute(self.package, node.level, node.module)
        for alias in node.names:
            if alias.name == "*":
                if base:
                    self.stars.append(base)
                continue
            yield alias.asname or alias.name, f"{base}.{alias.name}" if base else None

    def collect_bindings(self) -> None:
        """Imports and classes first (so that values can be resolved through them), then values."""
        values: list[tuple[str, ast.expr | None]] = []
        for stmt in body_statements(self.tree.body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for name, value in self._import_bindings(stmt):
                    self._bind(name, value)
            elif isinstance(stmt, ast.ClassDef):
                self._bind(stmt.name, f"{self.name}.{stmt.name}")
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(stmt.name, None)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                single = len(targets) == 1 and isinstance(targets[0], ast.Name)
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            values.append((node.id, stmt.value if single else None))
            else:
                for stored in self._own_stores(stmt):
                    values.append((stored, None))
        for name, expr in values:
            self._bind(name, self._value(expr) if expr is not None else None)

    @staticmethod
    def _own_stores(stmt: ast.stmt) -> Iterator[str]:
        """Names a simple or compound statement binds at its own level (not in nested blocks)."""
        targets: list[ast.AST] = []
        if isinstance(stmt, (ast.AugAssign, ast.For, ast.AsyncFor)):
            targets = [stmt.target]
        elif isinstance(stmt, ast.Delete):
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
        elif isinstance(stmt, ast.Try):
            yield from (h.name for h in stmt.handlers if h.name)
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    yield node.id

    def _value(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Call) and self.dotted(expr.func, self.bindings) in NAMEDTUPLE_FACTORIES:
            return NAMEDTUPLE
        if isinstance(expr, (ast.Name, ast.Attribute)):
            return self.dotted(expr, self.bindings)
        return None

    # -- names ----------------------------------------------------------------------------------
    def dotted(self, expr: ast.AST, table: Mapping[str, str | None]) -> str | None:
        if isinstance(expr, ast.Name):
            if expr.id in table:
                return table[expr.id]
            if expr.id in self.bindings:
                return self.bindings[expr.id]
            if self.stars:
                return f"?{expr.id}"
            return f"builtins.{expr.id}" if expr.id in BUILTIN_NAMES else None
        if isinstance(expr, ast.Attribute):
            base = self.dotted(expr.value, table)
            return f"{base}.{expr.attr}" if base and base != NAMEDTUPLE else None
        if isinstance(expr, ast.Subscript):
            return self.dotted(expr.value, table)
        if isinstance(expr, ast.Call) and self.dotted(expr.func, table) in NAMEDTUPLE_FACTORIES:
            return NAMEDTUPLE
        return None

    # -- classes ----------------------------------------------------------------------------------
    def collect_classes(self, body: list[ast.stmt], prefix: str, table: dict[str, str | None]) -> None:
        """Classes in ``body`` (a module, class or function body); ``table`` shadows module names."""
        for stmt in body_statements(body):
            if isinstance(stmt, ast.ClassDef):
                self._class(stmt, prefix, table)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(isinstance(s, ast.ClassDef) for s in walk_nodes(stmt)):
                    local = dict(table)
                    own = {s.name for s in body_statements(stmt.body) if isinstance(s, ast.ClassDef)}
                    for name in _stored_names(stmt.body) | {
                        a.arg for a in walk_nodes(stmt.args) if isinstance(a, ast.arg)
                    }:
                        local[name] = (
                            f"{self.name}.{prefix}{stmt.name}.<locals>.{name}" if name in own else None
                        )
                    self.collect_classes(stmt.body, f"{prefix}{stmt.name}.<locals>.", local)

    def _class(self, node: ast.ClassDef, prefix: str, table: dict[str, str | None]) -> None:
        qualname = f"{self.name}.{prefix}{node.name}"
        metaclass = None
        keywords = []
        for kw in node.keywords:
            if kw.arg == "metaclass":
                metaclass = self.dotted(kw.value, table) or "?"
            elif kw.arg is not None:
                keywords.append(kw.arg)
            else:
                keywords.append("**")
        slots, known = class_slots(node)
        self.classes.append(
            ClassRecord(
                qualname=qualname,
                name=node.name,
                line=node.lineno,
                bases=tuple(
                    None if isinstance(b, ast.Starred) else self.dotted(b, table) for b in node.bases
                ),
                metaclass=metaclass,
                decorators=tuple(self._decorator(d, table) for d in node.decorator_list),
                slots=slots,
                slots_known=known,
                keywords=tuple(keywords),
            )
        )
        body_table = dict(table)
        for stmt in body_statements(node.body):
            if isinstance(stmt, ast.ClassDef):
                body_table[stmt.name] = f"{qualname}.{stmt.name}"
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body_table[stmt.name] = None
        for name in _stored_names(
            [s for s in node.body if not isinstance(s, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        ):
            body_table[name] = None
        self.collect_classes(node.body, f"{prefix}{node.name}.", body_table)

    def _decorator(self, expr: ast.expr, table: dict[str, str | None]) -> DecoratorRecord:
        if not isinstance(expr, ast.Call):
            return DecoratorRecord(self.dotted(expr, table))
        slots: bool | None = None
        for kw in expr.keywords:
            if kw.arg == "slots" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool):
                slots = kw.value.value
        return DecoratorRecord(self.dotted(expr.func, table), slots, called=True)


def collect_module(tree: ast.Module, module: ModuleInfo) -> ModuleRecord:
    collector = _Collector(tree, module)
    try:
        collector.collect_bindings()
        collector.collect_classes(tree.body, "", {})
    except RecursionError:
        return ModuleRecord(module.path, collector.name, module.is_package, (), (), ())
    return ModuleRecord(
        path=module.path,
        name=collector.name,
        is_package=module.is_package,
        bindings=tuple(sorted(collector.bindings.items())),
        star_imports=tuple(collector.stars),
        classes=tuple(collector.classes),
    )


# -- the merged graph -----------------------------------------------------------------------------


class ClassGraph:
    """The project's class statements, with cross-module name resolution."""

    def __init__(self, modules: Mapping[str, ModuleRecord]) -> None:
        self.modules = dict(modules)
        self._build()

    def _build(self) -> None:
        self.by_name: dict[str, ModuleRecord] = {}
        for mod in sorted(self.modules.values(), key=lambda m: m.path):
            self.by_name.setdefault(mod.name, mod)
        self.bindings = {name: dict(mod.bindings) for name, mod in self.by_name.items()}
        self.classes: dict[str, list[ClassRecord]] = {}
        self.home: dict[str, ModuleRecord] = {}
        for mod in self.by_name.values():
            for record in mod.classes:
                self.classes.setdefault(record.qualname, []).append(record)
                self.home.setdefault(record.qualname, mod)
        self._cache: dict[str, str | None] = {}
        #: Per-graph results of the rules' own questions (computed once per run).
        self.memo: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"modules": self.modules}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.modules = state["modules"]
        self._build()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClassGraph) and other.modules == self.modules

    __hash__ = None  # type: ignore[assignment]

    def with_module(self, record: ModuleRecord) -> ClassGraph:
        """This graph with one module replaced (a file's current text during fixes)."""
        modules = {p: m for p, m in self.modules.items() if m.name != record.name}
        modules[record.path] = record
        return ClassGraph(modules)

    # -- names ----------------------------------------------------------------------------------
    def record(self, qualname: str | None) -> ClassRecord | None:
        """The one class statement with this qualified name (None: unknown or defined twice)."""
        found = self.classes.get(qualname or "")
        return found[0] if found is not None and len(found) == 1 else None

    def resolve(self, dotted: str | None, module: str) -> str | None:
        """The canonical name of a base written in ``module``: a project class's qualified name,
        :data:`NAMEDTUPLE`, ``builtins.X`` or an external dotted name; None when unknowable."""
        if dotted is None or dotted == NAMEDTUPLE:
            return dotted
        if dotted.startswith("?"):
            mod = self.by_name.get(module)
            for star in mod.star_imports if mod is not None else ():
                found = self.canonical(f"{star}.{dotted[1:]}")
                if found is not None and (found in self.classes or found == NAMEDTUPLE):
                    return found
            return None
        return self.canonical(dotted)

    def canonical(self, dotted: str) -> str | None:
        """Memoised: star imports chain modules to each other, and each step is resolved once (a
        name met again while it is being resolved, through an import cycle, is unknown)."""
        if dotted not in self._cache:
            self._cache[dotted] = None  # cycle guard
            self._cache[dotted] = self._canonical(dotted)
        return self._cache[dotted]

    def _canonical(self, dotted: str) -> str | None:
        if dotted in self.classes:
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
                if value is None or (value == NAMEDTUPLE and rest):
                    return None
                if value == NAMEDTUPLE or value == ".".join(parts[: i + 1]):
                    return value if value == NAMEDTUPLE else dotted
                return self.canonical(".".join([value, *rest]))
            for star in self.by_name[prefix].star_imports:
                found = self.canonical(".".join([star, *parts[i:]]))
                if found is not None and (found in self.classes or found == NAMEDTUPLE):
                    return found
            return None  # a project module without that name: defined dynamically
        return dotted

    def names_resolving_to(self, wanted: Callable[[str], bool]) -> frozenset[str]:
        """Every simple name under which some module binds something ``wanted`` accepts (by its
        canonical name), and the simple names of the project's classes it accepts."""
        names: set[str] = set()
        for module, bindings in self.bindings.items():
            for name in bindings:
                target = self.canonical(f"{module}.{name}")
                if target is not None and wanted(target):
                    names.add(name)
        for qualname, records in self.classes.items():
            if wanted(qualname):
                names.update(r.name for r in records)
        return frozenset(names)

    def bases(self, record: ClassRecord) -> list[str | None]:
        module = self.home[record.qualname].name if record.qualname in self.home else ""
        return [self.resolve(b, module) for b in record.bases]

    def metaclass(self, record: ClassRecord) -> str | None:
        if record.metaclass is None or record.metaclass == "?":
            return record.metaclass
        module = self.home[record.qualname].name if record.qualname in self.home else ""
        return self.resolve(record.metaclass, module) or "?"

    def decorator_targets(self, record: ClassRecord) -> list[tuple[str | None, DecoratorRecord]]:
        module = self.home[record.qualname].name if record.qualname in self.home else ""
        return [(self.resolve(d.target, module), d) for d in record.decorators]

    # -- questions --------------------------------------------------------------------------------
    def is_enum(self, qualname: str | None, seen: frozenset[str] = frozenset()) -> bool:
        """The class is an Enum (a known enum base or metaclass anywhere above it)."""
        if qualname is None or qualname in seen:
            return False
        if qualname in ENUM_CLASSES:
            return True
        record = self.record(qualname)
        if record is None:
            return False
        if self.metaclass(record) in ENUM_METACLASSES:
            return True
        return any(self.is_enum(b, seen | {qualname}) for b in self.bases(record))

    def is_metaclass(self, qualname: str | None, seen: frozenset[str] = frozenset()) -> bool:
        """The class derives from ``type``: its instances are classes."""
        if qualname is None or qualname in seen:
            return False
        if qualname == "builtins.type" or qualname in ENUM_METACLASSES or qualname in ABC_METACLASSES:
            return True
        record = self.record(qualname)
        return record is not None and any(self.is_metaclass(b, seen | {qualname}) for b in self.bases(record))


class ClassBases(FactCollector):
    """Class statements, their bases and ``__slots__``, and module bindings of every module."""

    NAME = "class-bases"
    VERSION = 1

    @classmethod
    def collect(cls, tree: ast.Module, module: ModuleInfo) -> ModuleRecord:
        return collect_module(tree, module)

    @classmethod
    def merge(cls, per_file: Mapping[str, Any]) -> ClassGraph:
        return ClassGraph({path: rec for path, rec in per_file.items() if isinstance(rec, ModuleRecord)})


def parse_source(source: str, path: str) -> ast.Module | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def graph_with(
    tree: ast.Module, path: str, module_name: str | None, project: Any
) -> tuple[ClassGraph, ModuleRecord]:
    """The project's graph with this file's current text, and the file's own record.

    The project facts were collected before any fix, so a rule reads its own file afresh: a class
    fixed in an earlier pass must not be flagged again."""
    from memlint.facts import module_name_for

    name = module_name or module_name_for(path)
    record = collect_module(tree, ModuleInfo(path=path, name=name, is_package=Path(path).stem == "__init__"))
    if not isinstance(project, ClassGraph):
        return ClassGraph({path: record}), record
    if project.modules.get(path) == record:
        return project, record
    return project.with_module(record), record
