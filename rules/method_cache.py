"""MEM302: ``functools.lru_cache`` / ``functools.cache`` (or ``alru_cache``) on a method."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import FixAvailability
from memlint.facts import ProjectFacts
from memlint.rule import Rule, RuleContext
from memlint.rules._class_bases import (
    ENUM_METACLASSES,
    ClassBases,
    ClassGraph,
    body_statements,
    graph_with,
    parse_source,
)
from memlint.rules._names import NameTracker, Scope, with_tracker

#: Cache decorators keyed on their arguments (``self`` included), and their default ``maxsize``
#: (None: unbounded).
_CACHES: dict[str, int | None] = {
    "functools.lru_cache": 128,
    "functools.cache": None,
    "async_lru.alru_cache": 128,
    "backports.functools_lru_cache.lru_cache": 128,
}
#: The decorators that take no ``maxsize`` at all.
_ALWAYS_UNBOUNDED = frozenset({"functools.cache"})
_NOT_INSTANCE_METHODS = frozenset(
    {"builtins.staticmethod", "builtins.classmethod", "abc.abstractclassmethod", "abc.abstractstaticmethod"}
)
_IMPLICIT_CLASS_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
_SHORT = 40


@dataclass(frozen=True)
class _Method:
    node: cst.FunctionDef
    scope: Scope  # the class body's scope (where decorators are evaluated)
    class_qualname: str  # inside the module
    local_class: bool  # the class is defined in a function


@dataclass(frozen=True)
class _Assigned:
    """``name = cache_decorator(...)(function)`` in a class body."""

    call: cst.Call
    scope: Scope
    class_qualname: str
    local_class: bool


@dataclass(frozen=True)
class _Bound:
    """What a cache decorator keeps: ``size`` entries (None: unbounded, "?": a computed bound)."""

    size: int | str | None


class MethodCache(Rule):
    """
    ## What it does
    Checks for `functools.lru_cache`, `functools.cache` and `async_lru.alru_cache` applied to
    methods, whatever the import form (`from functools import lru_cache as lc`, `import functools
    as ft`). Static methods, class methods (and `__new__`, `__init_subclass__`), methods of Enum
    classes (members live as long as their class anyway) and methods of metaclasses (their
    instances are classes) are not reported. `lru_cache(maxsize=0)` caches nothing and is not
    reported either.

    Test files are not checked: a test class caching a method pins a few test cases for the
    length of a test run, and tests of caching do it on purpose.

    ## Why is this bad?
    The cache belongs to the function, which lives in the class, and every entry's key holds a
    strong reference to `self`. An unbounded cache (`functools.cache`, `lru_cache(maxsize=None)`)
    keeps every instance it was ever called on alive, with everything those instances reference,
    for as long as the class exists: for a module-level class, the life of the process. A bounded
    cache keeps up to `maxsize` instances alive (128 by default) after their last use, one per
    entry. Measured on CPython 3.11 with `tracemalloc`: 1,000 instances each holding a 100 kB
    buffer, each calling one cached method once and then dropped, leave 100 MB alive with
    `functools.cache`, 12.8 MB with `lru_cache(maxsize=128)`, and nothing with a per-instance
    cache. The entries also rarely hit, since each instance is a different key.

    ## Example
    ```python
    import functools

    class Report:
        def __init__(self, rows):
            self.rows = rows

        @functools.cache
        def total(self, column):
            return sum(row[column] for row in self.rows)
    ```

    ## Use instead
    A cache that belongs to the instance, so it is freed with it:
    ```python
    import functools

    class Report:
        def __init__(self, rows):
            self.rows = rows
            self.total = functools.lru_cache(maxsize=64)(self._total)

        def _total(self, column):
            return sum(row[column] for row in self.rows)
    ```
    For a method that takes no argument besides `self`, `functools.cached_property` stores the
    result on the instance. A `weakref.WeakKeyDictionary` keyed by the instance is another way.

    ## Fix safety
    There is no fix: the per-instance cache changes how the method is called and what is cached
    across instances, and singletons, whose cache pins one instance that lives forever anyway,
    are legitimate uses that only a reader can tell apart.
    """

    CODE = "MEM302"
    NAME = "method-cache"
    SUMMARY = "`functools.lru_cache` or `functools.cache` on a method keeps instances alive"
    FIX = FixAvailability.NONE
    PREVIEW = True
    FACTS = (ClassBases,)
    PRESCREEN = ("cache",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files with a decorated function (or a call assigned) directly in a class body."""
        for node in index.nodes(ast.ClassDef):
            for stmt in body_statements(node.body):
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.decorator_list:
                    return True
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                    return True
        return False

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._stack: list[tuple[str, cst.CSTNode]] = []
        self._methods: list[_Method] = []
        self._assigned: list[_Assigned] = []
        self._graph: tuple[ClassGraph, str] | None = None

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- collection ---------------------------------------------------------------------------------
    def _enclosing_class(self) -> tuple[str, bool]:
        """The innermost class's qualified name inside its module (the module's name is added
        later), and whether it is defined in a function."""
        parts = []
        for part, node in self._stack:
            parts.append(part)
            if isinstance(node, cst.FunctionDef):
                parts.append("<locals>")
        local = any(isinstance(node, cst.FunctionDef) for _, node in self._stack)
        return ".".join(parts), local

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._stack.append((node.name.value, node))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.names.current.parent  # the tracker has already entered the function
        if self._stack and isinstance(self._stack[-1][1], cst.ClassDef) and scope is not None:
            if node.decorators:
                qualname, local = self._enclosing_class()
                self._methods.append(_Method(node, scope, qualname, local))
        self._stack.append((node.name.value, node))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if not (self._stack and isinstance(self._stack[-1][1], cst.ClassDef)):
            return
        if isinstance(node.value, cst.Call):
            qualname, local = self._enclosing_class()
            self._assigned.append(_Assigned(node.value, self.names.current, qualname, local))

    # -- judgement ------------------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file:
            return
        if not self._methods and not self._assigned:
            return
        self._graph = self._load_graph()
        for method in self._methods:
            self._check_method(method)
        for assigned in self._assigned:
            self._check_assigned(assigned)

    def _load_graph(self) -> tuple[ClassGraph, str] | None:
        tree = parse_source(self.context.source, self.context.path)
        if tree is None:
            return None
        project = self.context.facts.get(ClassBases) if self.context.facts is not None else None
        graph, record = graph_with(tree, self.context.path, self.context.module_name, project)
        return graph, record.name

    def _exempt_class(self, qualname: str) -> bool:
        """Enum classes and metaclasses (found through the project's classes)."""
        if self._graph is None:
            return False
        graph, module = self._graph
        for record in graph.classes.get(f"{module}.{qualname}", []):
            if graph.metaclass(record) in ENUM_METACLASSES:
                return True
            if any(graph.is_enum(b) or graph.is_metaclass(b) for b in graph.bases(record)):
                return True
        return False

    def _check_method(self, method: _Method) -> None:
        node = method.node
        if node.name.value in _IMPLICIT_CLASS_METHODS or not _takes_self(node):
            return
        qualified = [self.names.qualified_name(_callee(d.decorator), method.scope) for d in node.decorators]
        if any(q in _NOT_INSTANCE_METHODS for q in qualified):
            return
        for decorator, name in zip(node.decorators, qualified, strict=True):
            if name not in _CACHES:
                continue
            bound = _bound(decorator.decorator, name)
            if bound is None or self._exempt_class(method.class_qualname):
                return
            only_self = _only_self(node)
            self.report(
                decorator,
                self._message(decorator.decorator, node.name.value, bound, method.local_class, only_self),
            )
            return

    def _check_assigned(self, assigned: _Assigned) -> None:
        """``method = functools.lru_cache(maxsize=None)(_method)`` in a class body."""
        call, scope = assigned.call, assigned.scope
        wrapper = call.func
        name = self.names.qualified_name(_callee(wrapper), scope)
        if name not in _CACHES or len(call.args) != 1 or not isinstance(call.args[0].value, cst.Name):
            return
        if not isinstance(wrapper, cst.Call) and name not in _ALWAYS_UNBOUNDED:
            return  # `lru_cache(f)` on a plain name: rare, and `f` may be a module function
        target = call.args[0].value.value
        defs = [b.node for b in scope.bindings.get(target, []) if isinstance(b.node, cst.FunctionDef)]
        if len(defs) != 1:
            return
        func = defs[0]
        if not _takes_self(func) or func.decorators or func.name.value in _IMPLICIT_CLASS_METHODS:
            return
        bound = _bound(wrapper, name)
        if bound is None or self._exempt_class(assigned.class_qualname):
            return
        message = self._message(wrapper, target, bound, assigned.local_class, _only_self(func), call=True)
        self.report(call, message)

    def _message(
        self,
        decorator: cst.BaseExpression,
        method: str,
        bound: _Bound,
        local: bool,
        only_self: bool,
        call: bool = False,
    ) -> str:
        text = self.code_for(decorator)
        shown = text if len(text) <= _SHORT and "\n" not in text else self.code_for(_callee(decorator))
        what = f"`{shown}(...)` wrapping method `{method}`" if call else f"`@{shown}` on method `{method}`"
        lifetime = "as long as the class exists" if local else "for the life of the process"
        if bound.size is None:
            kept = f"every instance it is called on stays alive {lifetime}"
        else:
            size = "`maxsize`" if bound.size == "?" else str(bound.size)
            kept = f"up to {size} instances stay alive after their last use"
        alternative = (
            "`functools.cached_property` or a per-instance cache" if only_self else "a per-instance cache"
        )
        return f"{what} keeps `self` in every cache entry: {kept}; use {alternative}"


def _callee(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.func if isinstance(expr, cst.Call) else expr


def _params(node: cst.FunctionDef) -> list[cst.Param]:
    return [*node.params.posonly_params, *node.params.params]


def _takes_self(node: cst.FunctionDef) -> bool:
    return bool(_params(node)) or isinstance(node.params.star_arg, cst.Param)


def _only_self(node: cst.FunctionDef) -> bool:
    p = node.params
    return (
        len(_params(node)) == 1
        and not isinstance(p.star_arg, cst.Param)
        and not p.kwonly_params
        and p.star_kwarg is None
    )


def _bound(expr: cst.BaseExpression, name: str) -> _Bound | None:
    """How many entries the cache keeps; None when it caches nothing (``maxsize=0``)."""
    default = _CACHES[name]
    if name in _ALWAYS_UNBOUNDED or not isinstance(expr, cst.Call):
        return _Bound(default)
    value: cst.BaseExpression | None = None
    for arg in expr.args:
        if arg.keyword is not None and arg.keyword.value == "maxsize":
            value = arg.value
        elif arg.keyword is None and not arg.star and value is None:
            value = arg.value
    if value is None:
        return _Bound(default)
    if isinstance(value, cst.Name) and value.value == "None":
        return _Bound(None)
    number = _int_value(value)
    if number is None:
        return _Bound("?")
    return _Bound(number) if number > 0 else None


def _int_value(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _int_value(node.expression)
        return -inner if inner is not None else None
    return None
