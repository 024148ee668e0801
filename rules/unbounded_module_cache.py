"""MEM501: a private module-level container that functions add to and nothing removes from."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.config import is_test_path
from memlint.diagnostics import FixAvailability
from memlint.facts import FactCollector, ModuleInfo, ProjectFacts, walk_nodes
from memlint.rule import Option, Rule
from memlint.rules._class_bases import parse_source

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
#: Module-level compound statements whose bodies still run at import time.
_MODULE_BLOCKS = (
    ast.If,
    ast.Try,
    ast.With,
    ast.For,
    ast.While,
    *([ast.TryStar] if hasattr(ast, "TryStar") else []),
)

#: Constructors of growable containers, by qualified name, and the kind shown in the message.
_CONSTRUCTORS = {
    "builtins.dict": "dict",
    "builtins.list": "list",
    "builtins.set": "set",
    "collections.defaultdict": "dict",
    "collections.OrderedDict": "dict",
    "collections.Counter": "dict",
    "collections.deque": "deque",
}
#: Kinds where ``x[k] += v`` inserts a missing key instead of raising ``KeyError``.
_AUTOVIVIFYING = frozenset({"collections.defaultdict", "collections.Counter"})

#: Methods that add, and the position of the argument that is the new key (None: always a new item).
_ADDING: dict[str, int | None] = {
    "append": None,
    "appendleft": None,
    "extend": None,
    "extendleft": None,
    "insert": None,
    "update": None,
    "add": 0,
    "setdefault": 0,
    "__setitem__": 0,
}
_REMOVING = frozenset(
    {
        "pop",
        "popitem",
        "popleft",
        "clear",
        "remove",
        "discard",
        "__delitem__",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "__isub__",
        "__iand__",
    }
)
#: Methods that neither add nor remove (nor let the container escape).
_READING = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "copy",
        "count",
        "index",
        "sort",
        "reverse",
        "rotate",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "most_common",
        "elements",
        "total",
        "__contains__",
        "__getitem__",
        "__len__",
        "__iter__",
        "__repr__",
    }
)
#: Builtins that read their argument and keep no reference to it.
_READING_BUILTINS = frozenset(
    {
        "len",
        "bool",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "sorted",
        "reversed",
        "iter",
        "enumerate",
        "zip",
        "map",
        "filter",
        "any",
        "all",
        "sum",
        "min",
        "max",
        "repr",
        "str",
        "id",
        "print",
        "isinstance",
        "type",
    }
)
#: Key expressions bounded by the program's code rather than by its input: names of classes and
#: functions (``f.__name__``), classes themselves (``type(x)``, ``cls``).
_CODE_ATTRIBUTES = frozenset({"__class__", "__name__", "__qualname__", "__module__"})
_CLASS_NAMES = frozenset({"cls", "klass", "mcs", "mcls", "metacls"})
#: Methods that run when a class is created (usually at import time).
_CLASS_CREATION = frozenset({"__init_subclass__", "__set_name__"})
#: Function names that say what the additions are: registrations, and "warn once" sets keyed by
#: messages written in the code.
_REGISTERING_NAMES = ("register", "registry", "warn")
_METACLASS_BASES = frozenset({"type", "ABCMeta", "EnumMeta", "EnumType"})


@dataclass(frozen=True)
class Candidate:
    name: str
    kind: str  # "dict" | "list" | "set" | "deque"
    qualified: str  # the constructor's qualified name ("builtins.dict" for displays)
    node: ast.Assign | ast.AnnAssign


@dataclass(frozen=True)
class Growth:
    """An addition made inside a function."""

    node: ast.AST
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    where: str  # the function's dotted name, as shown


class _Stop(Exception):
    """The container is removed from, bounded, or escapes: not a finding."""


# -- project facts ----------------------------------------------------------------------------------


class PrivateReferences(FactCollector):
    """``pkg.mod._name`` for every private module attribute that a non-test module references
    (``mod._cache.clear()``, ``from pkg.mod import _cache``): code elsewhere may bound it."""

    NAME = "private-module-references"
    VERSION = 1

    @classmethod
    def collect(cls, tree: ast.Module, module: ModuleInfo) -> frozenset[str]:
        if _is_test_module(module):
            return frozenset()
        aliases: dict[str, str] = {}
        found: set[str] = set()
        nodes = walk_nodes(tree)
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else local
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module)
                if base is None:
                    continue
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
                    if _is_private(alias.name):
                        found.add(f"{base}.{alias.name}")
        for node in nodes:
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                base = _dotted_name(node.value, aliases)
                if base is not None:
                    found.add(f"{base}.{node.attr}")
        return frozenset(found)

    @classmethod
    def merge(cls, per_file: Mapping[str, Any]) -> frozenset[str]:
        merged: set[str] = set()
        for value in per_file.values():
            if isinstance(value, frozenset):
                merged |= value
        return frozenset(merged)


def _is_test_module(module: ModuleInfo) -> bool:
    """Judged on the dotted name when there is one (a fixture or vendored copy inside some
    ``tests/`` folder is not a test for its own package), else on the path."""
    if module.name is None:
        return is_test_path(module.path)
    parts = module.name.split(".")
    last = parts[-1]
    return (
        any(part in ("tests", "test") for part in parts)
        or last.startswith("test_")
        or last.endswith("_test")
        or last == "conftest"
    )


def _absolute(node: ast.ImportFrom, module: ModuleInfo) -> str | None:
    if not node.level:
        return node.module
    if module.name is None:
        return None
    parts = module.name.split(".")
    keep = len(parts) - node.level + (1 if module.is_package else 0)
    if keep < 0:
        return None
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}".strip(".") if node.module else base or None


def _dotted_name(node: ast.expr, aliases: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value, aliases)
        return f"{base}.{node.attr}" if base is not None else None
    return None


class UnboundedModuleCache(Rule):
    """
    ## What it does
    Checks for private module-level containers (a `dict`, `list`, `set`, `defaultdict`,
    `OrderedDict`, `Counter`, or a `deque` without `maxlen`, bound to a `_name`) that functions
    or methods add to (`x[key] = value`, `append`, `add`, `setdefault`, `update`, `extend`...)
    while nothing anywhere removes from them. The classic case is hand-written memoization:
    `if key in _cache: return _cache[key]` ... `_cache[key] = value`.

    Any of the following makes the container bounded, or unknown, and it is not reported:
    a removal anywhere in the module (`pop`, `popitem`, `popleft`, `clear`, `remove`, `discard`,
    `del x[k]`, `x[:] = ...`, `-=`), a rebinding of the name (`global x; x = {}`), a size check
    (`len(x)` in a comparison), the container escaping (passed to a function other than a
    reading builtin such as `len` or `sorted`, returned, aliased, stored elsewhere, or a method
    taken without being called), its name written in a string (`globals()["_cache"]`), and a
    reference from another (non-test) module of the project (`mod._cache.clear()`).

    Only additions that happen at run time count. These are registrations, not caches:
    - additions at module or class level (import time);
    - additions in a function used as a decorator in the module, or in a decorator-shaped
      function: one that stores its parameter and returns it, or returns a function it defines;
    - additions in a private function that the module only calls at module level;
    - additions in `__init_subclass__`, `__set_name__`, or a metaclass's `__new__`/`__init__`
      (class creation);
    - additions that store only the function's parameters (and constants) as they are
      (`_handlers[name] = handler`, `_callbacks.append(callback)`): registration functions
      store what their callers pass, where a cache stores what the function computed;
    - additions in functions whose name says they register (`register`, `registry`) or warn
      once (`warn`: "seen" sets keyed by messages written in the code);
    - additions inside `if not _table:` (a table built lazily, once);
    - additions whose key is bounded by the code rather than by the input, every part of it
      being a constant, a class (`type(x)`, `x.__class__`, `cls`), a function's or class's
      name (`f.__name__`), a flag parameter (default `True`, `False`, `0` or `1`), a loop
      variable over a literal (or a module-level name bound to one), or a parameter of a
      private function that the module only calls with literals there (or with its default).
    Otherwise `append`, `extend` and `insert` always count: every call adds an item.

    Public module-level names are part of the module's interface: code in other projects may
    clear or bound them, so they are not checked; neither are dunder names (`__all__`) nor test
    files (their processes are short-lived).

    ## Why is this bad?
    A module lives as long as the process, and so does everything its globals reference. A cache
    that only ever grows holds every key and value it was given: in a long-running service (a web
    server, a worker, a notebook kernel) keyed by request data, user ids or file names, its
    memory grows with the traffic until the process is restarted or killed, and the growth looks
    like a leak in monitoring. python/cpython#116804 reports exactly this for `inspect`'s
    module-level dict caches. The values may also pin large objects (parsed documents, compiled
    templates, database rows) that would otherwise be freed.

    ## Example
    ```python
    _cache = {}

    def lookup(user_id):
        if user_id in _cache:
            return _cache[user_id]
        profile = fetch_profile(user_id)
        _cache[user_id] = profile
        return profile
    ```

    ## Use instead
    A bounded cache that evicts the least recently used entries:
    ```python
    import functools

    @functools.lru_cache(maxsize=1024)
    def lookup(user_id):
        return fetch_profile(user_id)
    ```
    Or keep the dict and bound it explicitly (`if len(_cache) >= 1024: _cache.clear()`, or
    `_cache.popitem(last=False)` on an `OrderedDict`), use a `collections.deque(maxlen=...)` for
    a log, or a `weakref.WeakValueDictionary` when the values are owned elsewhere.

    ## Fix safety
    There is no fix: the right bound (a size, an eviction policy, a weak reference, or a
    `clear_cache()` hook) depends on how the cache is used, and only its author knows.

    ## Options
    - `unbounded-function-caches`: also report module-level functions (not methods: see MEM302)
      decorated with `functools.cache`, `functools.lru_cache(maxsize=None)` or `lru_cache(None)`
      (whatever the import form) that take a parameter whose values are unbounded, in a module
      that shows it runs in a long-lived process. `lru_cache()` and bare `@lru_cache` keep
      128 entries and are not reported, nor are coroutine functions and functions nested in
      other functions. Default: false.
      - Unbounded parameters: annotated `str`, `bytes`, `int`, `float`, `complex`, a `pathlib`
        path, `tuple[...]` or `frozenset[...]` (also inside `Optional`, `Union`, `X | None` or
        `Annotated`); or unannotated, without a default, and named like an identifier or free
        text: `id`, `*_id`, `url`, `uri`, `query`, `text`, `email`, `username` (a guess from the
        name, kept short). `Literal[...]`, `bool`, enums and other classes are not evidence, nor
        are unannotated parameters with a default; a function without parameters keeps one
        entry. A private function that the module only calls with literals for the parameter is
        bounded by its callers.
      - Long-running modules: the module imports a server or worker framework (`flask`,
        `django`, `fastapi`, `starlette`, `aiohttp`, `tornado`, `sanic`, `quart`, `falcon`,
        `bottle`, `pyramid`, `cherrypy`, `twisted`, `grpc`, `uvicorn`, `gunicorn`, `celery`,
        `dramatiq`, `rq`, `socketserver`, `http.server`, `xmlrpc.server`,
        `wsgiref.simple_server`), calls `serve_forever()` or `run_forever()`, or has a
        `while True:` loop in a module-level `main`, `run`, `serve` or `worker` function.
        Without such evidence nothing is reported: a script's caches die with it.
    """

    CODE = "MEM501"
    NAME = "unbounded-module-cache"
    SUMMARY = "Module-level cache that grows at run time and is never evicted"
    FIX = FixAvailability.NONE
    PREVIEW = True
    FACTS = (PrivateReferences,)
    OPTIONS = (
        Option(
            "unbounded-function-caches",
            False,
            "Also report module-level functions behind `functools.cache` or "
            "`lru_cache(maxsize=None)` whose parameters are unbounded, in long-running modules.",
        ),
    )
    #: Containers, or (for the option) `functools.cache` / `lru_cache`.
    PRESCREEN = ("{", "[", "dict", "list", "set", "deque", "Counter", "cache")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files binding a private module-level name to an empty or literal container, or
        (the option may be on: the pre-screen does not know) with a function it would report."""
        return any(True for _ in _candidates(index.tree)) or bool(_cached_functions(index.tree))

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file:
            return
        tree = parse_source(self.context.source, self.context.path)
        if tree is None:
            return
        external = self._external_references()
        analysis = _Module(tree)
        for candidate in _candidates(tree):
            if self.context.module_name and f"{self.context.module_name}.{candidate.name}" in external:
                continue
            growth = analysis.unbounded_growth(candidate)
            if not growth:
                continue
            target = _cst_definition(original_node, candidate.name)
            if target is not None:
                self.report(target, _message(candidate, growth))
        if self.option("unbounded-function-caches"):
            self._check_function_caches(original_node, tree, analysis)

    def _check_function_caches(self, module: cst.Module, tree: ast.Module, analysis: _Module) -> None:
        cached = _cached_functions(tree)
        if not cached:
            return
        evidence = _long_running(tree)
        functions = _module_functions(tree)
        cst_functions = _cst_module_functions(module)
        if len(functions) != len(cst_functions):
            return
        for found in cached:
            parameter = next(
                (p for p in found.parameters if not _bounded_by_callers(found.node, p, analysis)), None
            )
            if parameter is None:
                continue
            node = cst_functions[functions.index(found.node)]
            decorator = node.decorators[found.node.decorator_list.index(found.decorator)]
            self.report(decorator, self._function_message(found, decorator, parameter, evidence))

    def _function_message(
        self, found: CachedFunction, decorator: cst.Decorator, parameter: str, evidence: str | None
    ) -> str:
        shown = self.code_for(decorator.decorator)
        if len(shown) > 40 or "\n" in shown:
            call = isinstance(found.decorator, ast.Call)
            shown = "functools.lru_cache(maxsize=None)" if call else "functools.cache"
        return (
            f"`{found.node.name}()` caches every distinct `{parameter}` forever (`@{shown}`) "
            f"in a long-running module (it {evidence}): bound it (`functools.lru_cache(maxsize=...)`)"
        )

    def _external_references(self) -> frozenset[str]:
        facts = self.context.facts
        value = facts.get(PrivateReferences) if facts is not None else None
        return value if isinstance(value, frozenset) else frozenset()


# -- candidates -------------------------------------------------------------------------------------


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at module level, looking into ``if``/``try``/``with`` blocks."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, _MODULE_BLOCKS):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(stmt, field, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _module_statements(handler.body)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _candidates(tree: ast.Module) -> Iterator[Candidate]:
    imports = _module_imports(tree)
    for stmt in _module_statements(tree.body):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if not isinstance(target, ast.Name) or not _is_private(target.id):
            continue
        qualified = _container(value, imports)
        if qualified is not None:
            yield Candidate(target.id, _CONSTRUCTORS[qualified], qualified, stmt)


def _module_imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> qualified name, for module-level imports (ambiguous names dropped)."""
    found: dict[str, set[str]] = {}
    for stmt in _module_statements(tree.body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                found.setdefault(local, set()).add(alias.name if alias.asname else local)
        elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for alias in stmt.names:
                found.setdefault(alias.asname or alias.name, set()).add(f"{stmt.module}.{alias.name}")
    return {name: targets.pop() for name, targets in found.items() if len(targets) == 1}


def _qualified(node: ast.expr, imports: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Attribute):
        base = _qualified(node.value, imports)
        return f"{base}.{node.attr}" if base is not None else None
    if isinstance(node, ast.Name):
        if node.id in imports:
            return imports[node.id]
        return f"builtins.{node.id}" if node.id in ("dict", "list", "set") else None
    return None


def _container(value: ast.expr, imports: Mapping[str, str]) -> str | None:
    """The constructor's qualified name when ``value`` builds an empty or literal container."""
    if isinstance(value, ast.Dict):
        return "builtins.dict" if None not in value.keys else None
    if isinstance(value, ast.List):
        return "builtins.list" if not any(isinstance(e, ast.Starred) for e in value.elts) else None
    if isinstance(value, ast.Set):
        return "builtins.set"
    if not isinstance(value, ast.Call):
        return None
    qualified = _qualified(value.func, imports)
    if qualified not in _CONSTRUCTORS:
        return None
    if qualified == "collections.deque" and (
        len(value.args) > 1 or any(k.arg in ("maxlen", None) for k in value.keywords)
    ):
        return None
    if qualified.startswith("builtins.") and (value.args or any(k.arg is None for k in value.keywords)):
        return None
    return qualified


# -- the module's uses ------------------------------------------------------------------------------


class _Module:
    """One module's ``ast`` with parent links, and the questions MEM501 asks of it."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        self.names: dict[str, list[ast.Name]] = {}
        self.bound: dict[str, int] = {}  # name -> number of binding sites other than plain Names
        self.strings: set[str] = set()
        self.decorator_names: set[str] = set()
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            self._note(node)
        self.imports = _module_imports(tree)

    def _note(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.names.setdefault(node.id, []).append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.strings.add(node.value)
        elif isinstance(node, (*_DEFS,)):
            self._bind(node.name)
            for decorator in node.decorator_list:
                callee = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(callee, ast.Name):
                    self.decorator_names.add(callee.id)
        elif isinstance(node, ast.arg):
            self._bind(node.arg)
        elif isinstance(node, ast.alias):
            self._bind(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self._bind(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self._bind(node.rest)
        elif isinstance(node, ast.Nonlocal):
            for name in node.names:
                self._bind(name)

    def _bind(self, name: str) -> None:
        self.bound[name] = self.bound.get(name, 0) + 1

    # -- judgement --------------------------------------------------------------------------------
    def unbounded_growth(self, candidate: Candidate) -> list[Growth]:
        """The run-time additions to ``candidate``, or [] when it is bounded or unknown."""
        name = candidate.name
        if self.bound.get(name) or name in self.strings:
            return []
        target = _definition_target(candidate.node)
        growth: list[Growth] = []
        try:
            for use in self.names.get(name, []):
                if use is target:
                    continue
                found = self._use(use, candidate)
                if found is not None:
                    growth.extend(self._runtime(found, name))
        except _Stop:
            return []
        return growth

    def _use(self, node: ast.Name, candidate: Candidate) -> tuple[ast.AST, ast.expr | None] | None:
        """An addition (the node adding, and its key when keyed); None for a read; raises
        :class:`_Stop` for a removal, a bound, a rebinding or an escape."""
        if isinstance(node.ctx, ast.Store):
            return self._augmented(node)
        if isinstance(node.ctx, ast.Del):
            raise _Stop
        return self._load(node, candidate)

    def _augmented(self, node: ast.Name) -> tuple[ast.AST, ast.expr | None] | None:
        parent = self.parents.get(node)
        if isinstance(parent, ast.AugAssign) and parent.target is node:
            if isinstance(parent.op, (ast.Add, ast.BitOr)):
                return parent, None
        raise _Stop

    def _load(self, node: ast.expr, candidate: Candidate) -> tuple[ast.AST, ast.expr | None] | None:
        parent = self.parents.get(node)
        if isinstance(parent, ast.Subscript) and parent.value is node:
            return self._subscript(parent, candidate)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return self._method(parent)
        if isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.IfExp) and parent.test is not node):
            return self._load(parent, candidate)  # the container may be the expression's value
        if isinstance(parent, ast.Call) and node in parent.args:
            self._argument(parent)
            return None
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
            return None
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
            return None
        if isinstance(
            parent, (ast.Compare, ast.UnaryOp, ast.BinOp, ast.FormattedValue, ast.Starred, ast.Expr)
        ):
            return None
        raise _Stop

    def _subscript(self, sub: ast.Subscript, candidate: Candidate) -> tuple[ast.AST, ast.expr | None] | None:
        if isinstance(sub.ctx, ast.Del) or isinstance(sub.slice, ast.Slice):
            if isinstance(sub.ctx, ast.Load):
                return None
            raise _Stop
        if isinstance(sub.ctx, ast.Load):
            return None
        if isinstance(self.parents.get(sub), ast.AugAssign):
            return (sub, sub.slice) if candidate.qualified in _AUTOVIVIFYING else None
        return sub, sub.slice

    def _method(self, attribute: ast.Attribute) -> tuple[ast.AST, ast.expr | None] | None:
        method = attribute.attr
        if method in _READING:
            return None
        call = self.parents.get(attribute)
        if not (isinstance(call, ast.Call) and call.func is attribute) or method not in _ADDING:
            raise _Stop
        position = _ADDING[method]
        if method == "update":
            return call, _update_key(call)
        if position is None:
            return call, None
        return call, call.args[position] if len(call.args) > position else None

    def _argument(self, call: ast.Call) -> None:
        func = call.func
        if not (isinstance(func, ast.Name) and func.id in _READING_BUILTINS and not self._shadowed(func.id)):
            raise _Stop
        if func.id == "len" and isinstance(self.parents.get(call), ast.Compare):
            raise _Stop  # a size check: the author bounds it

    def _shadowed(self, name: str) -> bool:
        return bool(self.bound.get(name)) or any(
            isinstance(n.ctx, (ast.Store, ast.Del)) for n in self.names.get(name, [])
        )

    # -- when does the addition run? ----------------------------------------------------------------
    def _initialises_once(self, node: ast.AST, name: str) -> bool:
        """Inside ``if not _table:``: a lazily built table, filled on first use only."""
        child, current = node, self.parents.get(node)
        while current is not None and not isinstance(current, _FUNCTIONS):
            if isinstance(current, ast.If) and any(child is stmt for stmt in current.body):
                test = current.test
                if (
                    isinstance(test, ast.UnaryOp)
                    and isinstance(test.op, ast.Not)
                    and _is_name(test.operand, name)
                ):
                    return True
            child, current = current, self.parents.get(current)
        return False

    def _runtime(self, found: tuple[ast.AST, ast.expr | None], name: str) -> list[Growth]:
        node, key = found
        if key is not None and _bounded_key(key):
            return []
        if self._initialises_once(node, name):
            return []
        chain = self._enclosing(node)
        functions = [n for n in chain if isinstance(n, _FUNCTIONS)]
        if not functions:
            return []  # module or class level: import time
        innermost = functions[-1]
        if key is not None and self._bounded_by_callers(key, innermost, chain):
            return []
        if _passes_parameters(node, self.parents.get(node), innermost) or self._registers(
            innermost, node, chain
        ):
            return []
        return [Growth(node, innermost, _dotted(chain))]

    def _bounded_by_callers(self, key: ast.expr, function: ast.AST, chain: list[ast.AST]) -> bool:
        """Every part of the key is a flag parameter (``terse=False``), a loop variable over a
        literal, or a parameter that the module's only callers fill with literals."""
        parts = key.elts if isinstance(key, ast.Tuple) else [key]
        return all(
            _bounded_key(part)
            or (isinstance(part, ast.Name) and self._bounded_name(part.id, function, chain))
            for part in parts
        )

    def _bounded_name(self, name: str, function: ast.AST, chain: list[ast.AST]) -> bool:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        for node in _own_nodes(function):
            if isinstance(node, (ast.For, ast.AsyncFor)) and _is_name(node.target, name):
                return self._literal(node.iter)
        position, default = _parameter(function, name)
        if position is None:
            return False
        if isinstance(default, ast.Constant) and default.value in (True, False):
            return True  # a flag: True, False, 0 or 1
        if len(chain) != 1 or not _is_private(function.name):
            return False
        return self._callers_pass_literals(function.name, position, name, default)

    def _callers_pass_literals(
        self, function: str, position: int, name: str, default: ast.expr | None
    ) -> bool:
        uses = [n for n in self.names.get(function, []) if isinstance(n.ctx, ast.Load)]
        if not uses:
            return False
        for use in uses:
            call = self.parents.get(use)
            if not (isinstance(call, ast.Call) and call.func is use):
                return False
            if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords
            ):
                return False
            passed = [k.value for k in call.keywords if k.arg == name]
            if not passed and position < len(call.args):
                passed = [call.args[position]]
            value = passed[0] if passed else default  # not passed: the default
            if value is None or not self._literal(value):
                return False
        return True

    def _literal(self, node: ast.expr) -> bool:
        """A literal, or a module-level name bound once to a literal."""
        if isinstance(node, ast.Name):
            stores = [n for n in self.names.get(node.id, []) if not isinstance(n.ctx, ast.Load)]
            if len(stores) != 1 or self.bound.get(node.id):
                return False
            statement = self.parents.get(stores[0])
            if not isinstance(statement, (ast.Assign, ast.AnnAssign)) or self._enclosing(statement):
                return False
            value = statement.value
            return value is not None and _constant(value)
        return _constant(node)

    def _enclosing(self, node: ast.AST) -> list[ast.AST]:
        """Enclosing functions and classes, outermost first."""
        chain: list[ast.AST] = []
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, (*_FUNCTIONS, ast.ClassDef)):
                chain.append(current)
            current = self.parents.get(current)
        chain.reverse()
        return chain

    def _registers(self, function: ast.AST, node: ast.AST, chain: list[ast.AST]) -> bool:
        """The function runs at import or class-creation time, or has a decorator's shape."""
        if isinstance(function, ast.Lambda):
            return False
        assert isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        if function.name in self.decorator_names or function.name in _CLASS_CREATION:
            return True
        if any(hint in function.name.lower() for hint in _REGISTERING_NAMES):
            return True
        statement = self.parents.get(node) if isinstance(node, ast.Subscript) else node
        if self._metaclass_method(function, chain) or _decorator_shaped(function, statement or node):
            return True
        return self._import_time_only(function, chain)

    def _metaclass_method(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, chain: list[ast.AST]
    ) -> bool:
        if function.name not in ("__new__", "__init__", "__call__") or len(chain) < 2:
            return False
        owner = chain[-2]
        if not isinstance(owner, ast.ClassDef):
            return False
        return any(
            (isinstance(b, ast.Name) and b.id in _METACLASS_BASES)
            or (isinstance(b, ast.Attribute) and b.attr in _METACLASS_BASES)
            for b in owner.bases
        )

    def _import_time_only(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, chain: list[ast.AST]
    ) -> bool:
        """A private module-level function that the module only calls at module level."""
        if len(chain) != 1 or not _is_private(function.name):
            return False
        uses = [n for n in self.names.get(function.name, []) if isinstance(n.ctx, ast.Load)]
        if not uses:
            return False
        for use in uses:
            call = self.parents.get(use)
            if not (isinstance(call, ast.Call) and call.func is use):
                return False
            if any(isinstance(n, _FUNCTIONS) for n in self._enclosing(use)):
                return False
        return True


def _definition_target(node: ast.Assign | ast.AnnAssign) -> ast.expr:
    return node.targets[0] if isinstance(node, ast.Assign) else node.target


def _passes_parameters(node: ast.AST, parent: ast.AST | None, function: ast.AST) -> bool:
    """The addition stores only the function's parameters (and constants) as they are:
    ``_handlers[name] = handler``, ``_callbacks.append(callback)`` register what the caller
    passed, where a cache stores what the function computed."""
    if isinstance(node, ast.Subscript):
        if not isinstance(parent, ast.Assign):
            return False  # `x[k] += 1` counts, `for x[k] in ...` is unknown
        stored = [node.slice, parent.value]
    elif isinstance(node, ast.Call):
        stored = [*node.args, *(k.value for k in node.keywords)]
    else:
        return False
    assert isinstance(function, _FUNCTIONS)
    arguments = function.args
    params = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    return bool(stored) and all(
        isinstance(e, ast.Constant) or (isinstance(e, ast.Name) and e.id in params) for e in stored
    )


def _update_key(call: ast.Call) -> ast.expr | None:
    """``update({"a": 1})`` and ``update(a=1)`` add constant keys: the key's expression then."""
    if call.args and len(call.args) == 1 and isinstance(call.args[0], ast.Dict) and not call.keywords:
        keys = call.args[0].keys
        if keys and all(k is not None and _bounded_key(k) for k in keys):
            return keys[0]
    if not call.args and call.keywords and all(k.arg is not None for k in call.keywords):
        return ast.Constant(value=call.keywords[0].arg)
    return None


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_constant(e) for e in node.elts)
    return False


def _parameter(
    function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
) -> tuple[int | None, ast.expr | None]:
    """The parameter's position (len(positional) for keyword-only ones) and default."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults += arguments.defaults
    for index, arg in enumerate(positional):
        if arg.arg == name:
            return index, defaults[index]
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        if arg.arg == name:
            return len(positional), default
    return None, None


def _bounded_key(key: ast.expr) -> bool:
    if isinstance(key, ast.Constant):
        return True
    if isinstance(key, ast.Tuple):
        return all(_bounded_key(e) for e in key.elts)
    if isinstance(key, ast.Attribute):
        return key.attr in _CODE_ATTRIBUTES
    if isinstance(key, ast.Name):
        return key.id in _CLASS_NAMES
    if isinstance(key, ast.Call):
        return isinstance(key.func, ast.Name) and key.func.id == "type" and len(key.args) == 1
    return False


def _decorator_shaped(function: ast.FunctionDef | ast.AsyncFunctionDef, addition: ast.AST) -> bool:
    """Stores a parameter and returns it, or returns a function or class it defines."""
    params = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    defined = {s.name for s in ast.walk(function) if isinstance(s, _DEFS) and s is not function}
    stored = {n.id for n in ast.walk(addition) if isinstance(n, ast.Name)}
    for node in _own_nodes(function):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            returned = node.value.id
            if (returned in params and returned in stored) or returned in defined:
                return True
    return False


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of the functions and classes nested in it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _dotted(chain: list[ast.AST]) -> str:
    parts = []
    for node in chain:
        if isinstance(node, ast.Lambda):
            parts.append("<lambda>")
        elif isinstance(node, (*_DEFS,)):
            parts.append(node.name)
    return ".".join(parts)


def _message(candidate: Candidate, growth: list[Growth]) -> str:
    where = list(dict.fromkeys(g.where for g in growth))
    shown = f"`{where[0]}()`"
    if len(where) == 2:
        shown += f" and `{where[1]}()`"
    elif len(where) > 2:
        shown += f" (and {len(where) - 1} more functions)"
    what = "cache" if candidate.kind == "dict" else candidate.kind
    advice = {
        "dict": "bound it (`functools.lru_cache(maxsize=...)`) or evict entries",
        "list": "bound it (`collections.deque(maxlen=...)`) or drop old items",
        "deque": "give it a `maxlen` or drop old items",
        "set": "bound it or clear it when it is no longer needed",
    }[candidate.kind]
    return f"Module-level {what} `{candidate.name}` grows in {shown} and nothing removes from it: {advice}"


# -- unbounded function caches (option `unbounded-function-caches`) ---------------------------------

#: Packages whose import says the module runs in a server or a worker (a long-running process).
_LONG_RUNNING_PACKAGES = (
    "flask",
    "django",
    "fastapi",
    "starlette",
    "aiohttp",
    "tornado",
    "sanic",
    "quart",
    "falcon",
    "bottle",
    "pyramid",
    "cherrypy",
    "twisted",
    "grpc",
    "uvicorn",
    "gunicorn",
    "celery",
    "dramatiq",
    "rq",
    "socketserver",
    "http.server",
    "xmlrpc.server",
    "wsgiref.simple_server",
)
#: Calls that run an event loop or a server until the process stops.
_FOREVER_CALLS = frozenset({"serve_forever", "run_forever"})
#: Module-level functions whose ``while True:`` loop is the program's main loop.
_MAIN_LOOPS = frozenset({"main", "run", "serve", "worker"})
#: Annotations whose values are unbounded, by qualified name.
_UNBOUNDED_TYPES = frozenset(
    {
        "builtins.str",
        "builtins.bytes",
        "builtins.int",
        "builtins.float",
        "builtins.complex",
        "typing.Text",
        "typing.AnyStr",
        "pathlib.Path",
        "pathlib.PurePath",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
    }
)
#: Generic containers whose parameterised forms (``tuple[str, ...]``) are unbounded.
_UNBOUNDED_GENERICS = frozenset(
    {"builtins.tuple", "builtins.frozenset", "typing.Tuple", "typing.FrozenSet", "typing.AbstractSet"}
)
#: Wrappers whose arguments are the possible types: unbounded when any of them is.
_UNIONS = frozenset({"typing.Optional", "typing.Union"})
_BUILTIN_TYPES = frozenset({"str", "bytes", "int", "float", "complex", "tuple", "frozenset"})
#: Names of unannotated parameters that hold identifiers or free text (the values of requests).
_UNBOUNDED_NAMES = frozenset({"id", "url", "uri", "query", "text", "email", "username"})


@dataclass(frozen=True)
class CachedFunction:
    """A module-level function behind an unbounded ``functools`` cache."""

    node: ast.FunctionDef
    decorator: ast.expr
    parameters: tuple[str, ...]  # the parameters whose values are evidently unbounded


def _cached_functions(tree: ast.Module) -> list[CachedFunction]:
    """Module-level functions with an unbounded cache and an unbounded parameter, in a module
    that shows it is long-running; [] without that evidence."""
    if _long_running(tree) is None:
        return []
    imports = _module_imports(tree)
    found = []
    for function in _module_functions(tree):
        if not isinstance(function, ast.FunctionDef):
            continue  # `functools.cache` on a coroutine function caches one-shot coroutines
        decorator = next((d for d in function.decorator_list if _unbounded_cache(d, imports)), None)
        if decorator is None:
            continue
        parameters = tuple(_unbounded_parameters(function, imports))
        if parameters:
            found.append(CachedFunction(function, decorator, parameters))
    return found


def _bounded_by_callers(function: ast.FunctionDef, parameter: str, analysis: _Module) -> bool:
    """A private function that the module only calls with literals for that parameter."""
    if not _is_private(function.name):
        return False
    position, default = _parameter(function, parameter)
    return position is not None and analysis._callers_pass_literals(
        function.name, position, parameter, default
    )


def _module_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions defined at module scope (in ``if``/``try``/... blocks too), in source order."""
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(child)
            elif not isinstance(child, (ast.expr, ast.ClassDef)):
                stack.append(child)
    found.sort(key=lambda f: (f.lineno, f.col_offset))
    return found


def _cst_module_functions(module: cst.Module) -> list[cst.FunctionDef]:
    """The LibCST counterpart of :func:`_module_functions`, in source order."""
    found: list[cst.FunctionDef] = []

    def walk(node: cst.CSTNode) -> None:
        for child in node.children:
            if isinstance(child, cst.FunctionDef):
                found.append(child)
            elif not isinstance(child, (cst.ClassDef, cst.BaseExpression)):
                walk(child)

    walk(module)
    return found


def _unbounded_cache(decorator: ast.expr, imports: Mapping[str, str]) -> bool:
    """``functools.cache``, ``functools.lru_cache(maxsize=None)`` or ``lru_cache(None)``."""
    if not isinstance(decorator, ast.Call):
        return _qualified(decorator, imports) == "functools.cache"
    if _qualified(decorator.func, imports) != "functools.lru_cache":
        return False
    sizes = [k.value for k in decorator.keywords if k.arg == "maxsize"] + decorator.args[:1]
    return len(sizes) == 1 and isinstance(sizes[0], ast.Constant) and sizes[0].value is None


def _unbounded_parameters(function: ast.FunctionDef, imports: Mapping[str, str]) -> Iterator[str]:
    """Parameters annotated with an unbounded type, or unannotated ones without a default named
    like an identifier or free text."""
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True),
    ]
    for arg, default in pairs:
        if arg.annotation is not None:
            if _unbounded_annotation(arg.annotation, imports):
                yield arg.arg
        elif default is None and _identifier_name(arg.arg):
            yield arg.arg


def _identifier_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _UNBOUNDED_NAMES or lowered.endswith("_id")


def _annotation_name(node: ast.expr, imports: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Name) and node.id not in imports and node.id in _BUILTIN_TYPES:
        return f"builtins.{node.id}"
    return _qualified(node, imports)


def _unbounded_annotation(node: ast.expr, imports: Mapping[str, str]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
        return not isinstance(parsed, ast.Constant) and _unbounded_annotation(parsed, imports)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _unbounded_annotation(node.left, imports) or _unbounded_annotation(node.right, imports)
    if isinstance(node, ast.Subscript):
        generic = _annotation_name(node.value, imports)
        if generic in _UNBOUNDED_GENERICS:
            return True
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if generic in _UNIONS:
            return any(_unbounded_annotation(part, imports) for part in parts)
        if generic == "typing.Annotated":
            return _unbounded_annotation(parts[0], imports)
        return False
    return _annotation_name(node, imports) in _UNBOUNDED_TYPES


def _long_running(tree: ast.Module) -> str | None:
    """What shows that the module runs in a long-lived process, as shown in the message."""
    for node in ast.walk(tree):
        for module in _imported_modules(node):
            package = next(
                (p for p in _LONG_RUNNING_PACKAGES if module == p or module.startswith(f"{p}.")), None
            )
            if package is not None:
                return f"imports `{package}`"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _FOREVER_CALLS
        ):
            return f"calls `{node.func.attr}()`"
    for function in _module_functions(tree):
        if function.name in _MAIN_LOOPS and any(_loops_forever(n) for n in _own_nodes(function)):
            return f"loops forever in `{function.name}()`"
    return None


def _imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def _loops_forever(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value in (True, 1)
    )


def _cst_definition(module: cst.Module, name: str) -> cst.CSTNode | None:
    """The module-level ``name = ...`` statement in the LibCST tree (the name is bound once)."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            target: cst.BaseExpression | None = node.targets[0].target
        elif isinstance(node, cst.AnnAssign):
            target = node.target
        else:
            if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
                stack.extend(node.children)
            continue
        if isinstance(target, cst.Name) and target.value == name:
            return node
    return None
