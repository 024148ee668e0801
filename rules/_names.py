"""Which object a name refers to, without LibCST's (costly) scope metadata.

Rules that must know whether ``list`` is still the builtin, or what ``it.chain`` or ``finditer``
was imported as, keep a :class:`NameTracker` next to them. The tracker is itself a batchable
visitor: :func:`with_tracker` merges its visit methods into a rule's, so the tree is still walked
once. It records every binding per scope (module, class, function, lambda) as the walk goes; the
answers are read afterwards (typically in ``leave_Module``), when bindings that come after a use
(a ``def list():`` at the bottom of the module) are known too.

Comprehension targets are recorded in the enclosing scope: a rule asking "is ``x`` rebound?"
then errs on the side of "yes", which only ever costs a finding, never adds one.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

_BUILTINS = frozenset(dir(builtins))

#: Binding kinds.
PARAM, ASSIGN, AUG, FOR, COMP, WITH, WALRUS, EXCEPT, DEL = (
    "param",
    "assign",
    "aug",
    "for",
    "comp",
    "with",
    "walrus",
    "except",
    "del",
)
DEF, CLASS, IMPORT, MATCH, GLOBAL = "def", "class", "import", "match", "global"


@dataclass(frozen=True, eq=False)
class Binding:
    """One place where a name is bound.

    ``value`` is the assigned expression (for a single-name ``=``/annotated assignment) or the
    context-manager expression (``with <value> as name``); ``target`` the dotted name an import
    binds (``"itertools.chain"``, a leading dot for relative imports); ``scope`` the scope a
    ``def``/``class`` opens.
    """

    kind: str
    value: cst.BaseExpression | None = None
    target: str | None = None
    node: cst.CSTNode | None = None
    scope: Scope | None = None


@dataclass(eq=False)
class Scope:
    kind: str  # "module" | "class" | "function" | "lambda"
    parent: Scope | None
    node: cst.CSTNode | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    star_import: bool = False
    is_generator: bool = False

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")

    def function(self) -> Scope | None:
        """The innermost function (or lambda) scope enclosing this one, itself included."""
        scope: Scope | None = self
        while scope is not None and not scope.is_function:
            scope = scope.parent
        return scope

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


def _target_names(node: cst.CSTNode) -> Iterator[str]:
    """Names bound by an assignment target (``a``, ``a, (b, *c)``); attributes bind nothing."""
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _target_names(node.value)


def dotted(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


class NameTracker(cst.BatchableCSTVisitor):
    """Records bindings per scope during the rule's own walk (see :func:`with_tracker`)."""

    def __init__(self) -> None:
        super().__init__()
        self.module_scope = Scope("module", None)
        self._stack: list[Scope] = [self.module_scope]
        #: Top-level packages imported anywhere in the file (``{"os", "threading"}``).
        self.imported_packages: set[str] = set()

    @property
    def current(self) -> Scope:
        return self._stack[-1]

    # -- queries -----------------------------------------------------------------------------
    def lookup(self, name: str, scope: Scope) -> tuple[Scope, list[Binding]] | None:
        """The scope that binds ``name`` as seen from ``scope`` and its bindings there.

        None means "not bound in this file": a builtin, or an undefined name. Class bodies are
        only visible from the class body itself, as in Python.
        """
        current: Scope | None = scope
        while current is not None:
            if current.kind == "class" and current is not scope:
                current = current.parent
                continue
            if name in current.global_names and current.parent is not None:
                current = current.module()
                continue
            if name in current.nonlocal_names:
                current = current.parent
                continue
            if name in current.bindings:
                return current, current.bindings[name]
            current = current.parent
        return None

    def is_builtin(self, name: str, scope: Scope) -> bool:
        """``name`` is a builtin that still refers to itself: bound nowhere visible in the file,
        and no ``import *`` that could rebind it."""
        return name in _BUILTINS and self.lookup(name, scope) is None and not self.module_scope.star_import

    def qualified_name(self, node: cst.CSTNode, scope: Scope) -> str | None:
        """``"builtins.map"``, ``"itertools.chain"``, ``"os.walk"``... for a name or attribute
        chain whose root is a builtin or an import; None when it is anything else."""
        if isinstance(node, cst.Attribute):
            base = self.qualified_name(node.value, scope)
            return f"{base}.{node.attr.value}" if base is not None else None
        if not isinstance(node, cst.Name):
            return None
        found = self.lookup(node.value, scope)
        if found is None:
            return f"builtins.{node.value}" if self.is_builtin(node.value, scope) else None
        targets = {b.target for b in found[1] if b.kind == IMPORT}
        if len(targets) == 1 and all(b.kind == IMPORT for b in found[1]):
            return targets.pop()
        return None

    def is_local(self, name: str, scope: Scope) -> bool:
        """``name`` is bound in the innermost function enclosing ``scope`` (a parameter or a
        local variable), so code that does not receive it cannot reach it by that name."""
        function = scope.function()
        if function is None:
            return False
        found = self.lookup(name, scope)
        return found is not None and found[0] is function

    # -- recording ---------------------------------------------------------------------------
    def bind(self, name: str, binding: Binding) -> None:
        scope = self.current
        if name in scope.global_names:
            scope = self.module_scope
        elif name in scope.nonlocal_names:
            parent = scope.parent.function() if scope.parent is not None else None
            scope = parent or self.module_scope
        scope.bindings.setdefault(name, []).append(binding)

    def bind_target(self, target: cst.CSTNode, kind: str, value: cst.BaseExpression | None = None) -> None:
        single = isinstance(target, cst.Name)
        for name in _target_names(target):
            self.bind(name, Binding(kind, value if single else None, node=target))

    def _push(self, kind: str, node: cst.CSTNode) -> Scope:
        scope = Scope(kind, self.current, node)
        self._stack.append(scope)
        return scope

    def _pop(self) -> None:
        if len(self._stack) > 1:
            self._stack.pop()

    # -- visitor -----------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = Scope("function", self.current, node)
        self.bind(node.name.value, Binding(DEF, node=node, scope=scope))
        self._stack.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._push("lambda", node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = Scope("class", self.current, node)
        self.bind(node.name.value, Binding(CLASS, node=node, scope=scope))
        self._stack.append(scope)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._pop()

    def visit_Param(self, node: cst.Param) -> None:
        self.bind(node.name.value, Binding(PARAM, node=node))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.bind_target(target.target, ASSIGN, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.bind_target(node.target, ASSIGN, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.bind_target(node.target, AUG)

    def visit_For(self, node: cst.For) -> None:
        self.bind_target(node.target, FOR)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.bind_target(node.target, COMP)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.bind_target(node.asname.name, WITH, node.item)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.bind_target(node.target, WALRUS, node.value)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.bind_target(node.name.name, EXCEPT)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None:
            self.bind_target(node.name.name, EXCEPT)

    def visit_Del(self, node: cst.Del) -> None:
        self.bind_target(node.target, DEL)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.bind(node.name.value, Binding(MATCH, node=node))

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.bind(node.name.value, Binding(MATCH, node=node))

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.bind(node.rest.value, Binding(MATCH, node=node))

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.current.global_names.add(item.name.value)
            self.module_scope.bindings.setdefault(item.name.value, []).append(Binding(GLOBAL, node=node))

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        for item in node.names:
            self.current.nonlocal_names.add(item.name.value)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            self.imported_packages.add(full.split(".")[0])
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.bind(alias.asname.name.value, Binding(IMPORT, target=full, node=node))
            else:
                root = full.split(".")[0]
                self.bind(root, Binding(IMPORT, target=root, node=node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = dotted(node.module) if node.module is not None else None
        module = "." * len(node.relative) + (base or "")
        if base is not None and not node.relative:
            self.imported_packages.add(base.split(".")[0])
        if isinstance(node.names, cst.ImportStar):
            self.current.star_import = True
            self.module_scope.star_import = True
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            target = f"{module}{name}" if module.endswith(".") else f"{module}.{name}"
            self.bind(local, Binding(IMPORT, target=target, node=node))

    def visit_Yield(self, node: cst.Yield) -> None:
        function = self.current.function()
        if function is not None:
            function.is_generator = True


VisitorMethod = Callable[[cst.CSTNode], Any]


def _chain(first: VisitorMethod, second: VisitorMethod) -> VisitorMethod:
    def both(node: cst.CSTNode) -> None:
        first(node)
        second(node)

    return both


def with_tracker(
    rule_visitors: Mapping[str, VisitorMethod], tracker: NameTracker
) -> dict[str, VisitorMethod]:
    """A rule's ``get_visitors()`` merged with its tracker's.

    The tracker's ``visit_X`` runs before the rule's (the scope is entered first) and its
    ``leave_X`` after the rule's (the scope is left last). Use it as::

        def get_visitors(self):
            return with_tracker(super().get_visitors(), self.names)
    """
    merged = dict(rule_visitors)
    for name, method in tracker.get_visitors().items():
        mine = merged.get(name)
        if mine is None:
            merged[name] = method
        elif name.startswith("visit_"):
            merged[name] = _chain(method, mine)
        else:
            merged[name] = _chain(mine, method)
    return merged
