"""What the garbage-collector rules (MEM401-MEM403) share.

``GcFile`` indexes a module once (parents, scopes, how ``gc`` is spelled there, every call that
reaches a ``gc`` function) and is shared by the gc rules checking that module. ``Guarantee``
answers the question MEM401 (``gc.disable()``) and MEM402 (``gc.set_threshold(0)``) both ask:
is a call that switches automatic collection off guaranteed to be undone? Both rules must agree
on what "guaranteed" means, so the answer lives here once, parameterised by two predicates.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import Applicability
from memlint.facts import ProjectFacts
from memlint.rule import FixProposal, IndentLines, InsertLine, Rule

#: What ``from gc import *`` binds (``dir(gc)`` on CPython 3.10-3.14).
GC_PUBLIC_NAMES = frozenset(
    {
        "DEBUG_COLLECTABLE", "DEBUG_LEAK", "DEBUG_SAVEALL", "DEBUG_STATS", "DEBUG_UNCOLLECTABLE",
        "callbacks", "collect", "disable", "enable", "freeze", "garbage", "get_count", "get_debug",
        "get_freeze_count", "get_objects", "get_referents", "get_referrers", "get_stats",
        "get_threshold", "is_finalized", "is_tracked", "isenabled", "set_debug", "set_threshold",
        "unfreeze",
    }
)  # fmt: skip

#: Calls that run their first argument later, whatever happens in between (unittest cleanups,
#: ``ExitStack.callback``, pytest's ``request.addfinalizer``).
CLEANUP_REGISTRARS = frozenset(
    {"addCleanup", "addClassCleanup", "addModuleCleanup", "callback", "addfinalizer"}
)

#: A hook that may leave the collector off because its partner undoes it: ``with`` always runs
#: ``__exit__`` once ``__enter__`` returned; test runners always run the teardown of a setup.
#: Teardowns that run after every test of their class (or module), whatever the test did.
TEST_TEARDOWNS = ("tearDown", "asyncTearDown", "teardown_method", "tearDownClass", "teardown_class")
MODULE_TEARDOWNS = ("tearDownModule", "teardown_module", "teardown_function")

HOOK_PARTNERS: dict[str, tuple[str, ...]] = {
    "__enter__": ("__exit__",),
    "__aenter__": ("__aexit__",),
    "setUp": ("tearDown",),
    "asyncSetUp": ("asyncTearDown", "tearDown"),
    "setUpClass": ("tearDownClass",),
    "setUpModule": ("tearDownModule",),
    "setup_method": ("teardown_method",),
    "setup_class": ("teardown_class",),
    "setup_module": ("teardown_module",),
    "setup_function": ("teardown_function",),
}

#: Calls that cannot raise in practice, so a section made of them needs no ``finally``.
_HARMLESS_CALLS = frozenset(
    {"time.perf_counter", "time.perf_counter_ns", "time.monotonic", "time.monotonic_ns", "time.time",
     "time.time_ns", "time.process_time", "time.process_time_ns", "perf_counter", "monotonic"}
)  # fmt: skip

_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Module)
Scope = cst.CSTNode


@dataclass(frozen=True)
class GcCall:
    """A ``gc`` function reached from a call: called directly (``kind="call"``), registered as a
    cleanup (``addCleanup(gc.enable)``: ``kind="cleanup"``) or as an after-fork hook in the child
    (``os.register_at_fork(after_in_child=gc.enable)``: ``kind="fork-child"``)."""

    node: cst.Call
    function: str
    args: tuple[cst.Arg, ...]
    kind: str = "call"


Predicate = Callable[[GcCall], bool]


class GcFile:
    """One module's gc usage, with the parent links the analysis walks."""

    _last: tuple[cst.Module, GcFile] | None = None

    @classmethod
    def of(cls, module: cst.Module, source: str) -> GcFile:
        """The index of ``module``, built once however many gc rules check it."""
        last = cls._last
        if last is not None and last[0] is module:
            return last[1]
        built = cls(module, source)
        cls._last = (module, built)
        return built

    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.source = source
        self._parents: dict[int, cst.CSTNode] = {}
        self._order: dict[int, int] = {}
        self._scopes: dict[int, Scope] = {}
        self._gc_bindings: dict[int, dict[str, str]] = {}  # scope -> local name -> gc name ("" = module)
        self._gc_anywhere: dict[str, str] = {}
        self._other_bindings: dict[int, set[str]] = {}  # scope -> names bound by anything else
        self._defs: dict[int, dict[str, cst.FunctionDef]] = {}  # scope -> function name -> def
        #: Whether the module imports ``gc`` anywhere (``import gc``, ``from gc import ...``).
        self.imports_gc = False
        #: The callee name (``f`` of ``f()`` or ``x.f()``) of every call in the module.
        self.callee_names: set[str] = set()
        #: ``(local name, gc name)`` of every name imported from ``gc``, in any scope.
        self.from_gc: set[tuple[str, str]] = set()
        raw_calls: list[cst.Call] = []
        self._walk(raw_calls)
        #: Calls reaching a gc function, in source order.
        self.calls: list[GcCall] = []
        #: Calls of functions defined in this file, with the function.
        self.local_calls: list[tuple[cst.Call, cst.FunctionDef]] = []
        #: Functions of this file registered as cleanups or after-fork child hooks.
        self.local_hooks: list[tuple[cst.Call, cst.FunctionDef, str]] = []
        for call in raw_calls:
            self._classify(call)

    # -- indexing ------------------------------------------------------------------------------
    def _walk(self, calls: list[cst.Call]) -> None:
        bindings: list[tuple[cst.CSTNode, str]] = []
        stack: list[cst.CSTNode] = [self.module]
        while stack:
            node = stack.pop()
            self._order[id(node)] = len(self._order)
            if isinstance(node, cst.Call):
                calls.append(node)
                name = _callee_name(node.func)
                if name is not None:
                    self.callee_names.add(name)
            elif isinstance(node, (cst.Import, cst.ImportFrom)):
                self._note_import(node)
            bindings.extend((node, name) for name in _bound_names(node))
            for child in reversed(_children(node)):
                self._parents[id(child)] = node
                stack.append(child)
        for node, name in bindings:
            scope = self.scope(node)
            if isinstance(node, cst.FunctionDef):
                self._defs.setdefault(id(scope), {})[name] = node
            self._other_bindings.setdefault(id(scope), set()).add(name)

    def _note_import(self, node: cst.Import | cst.ImportFrom) -> None:
        scope = self.scope(node)
        found: dict[str, str] = {}
        if isinstance(node, cst.Import):
            for alias in node.names:
                if isinstance(alias.name, cst.Name) and alias.name.value == "gc":
                    found[_alias_name(alias) or "gc"] = ""
                    self.imports_gc = True
        elif isinstance(node.module, cst.Name) and node.module.value == "gc" and not node.relative:
            self.imports_gc = True
            if isinstance(node.names, cst.ImportStar):
                found.update({name: name for name in GC_PUBLIC_NAMES})
            else:
                for alias in node.names:
                    if isinstance(alias.name, cst.Name) and alias.name.value in GC_PUBLIC_NAMES:
                        found[_alias_name(alias) or alias.name.value] = alias.name.value
        self._gc_bindings.setdefault(id(scope), {}).update(found)
        self._gc_anywhere.update(found)
        self.from_gc.update((local, name) for local, name in found.items() if name)

    def _classify(self, call: cst.Call) -> None:
        function = self.gc_name(call.func, call)
        if function is not None:
            self.calls.append(GcCall(call, function, tuple(call.args)))
            return
        local = self.local_function(call.func, call)
        if local is not None:
            self.local_calls.append((call, local))
        name = _callee_name(call.func)
        if name in CLEANUP_REGISTRARS and call.args and not call.args[0].keyword and not call.args[0].star:
            self._note_hook(call, call.args[0].value, tuple(call.args[1:]), "cleanup")
        elif name == "register_at_fork":
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "after_in_child":
                    self._note_hook(call, arg.value, (), "fork-child")

    def _note_hook(
        self, call: cst.Call, target: cst.BaseExpression, args: tuple[cst.Arg, ...], kind: str
    ) -> None:
        """``target`` runs later: ``gc.enable``, ``lambda: gc.set_threshold(*old)``,
        ``functools.partial(gc.set_threshold, *old)`` or a function of this file."""
        if isinstance(target, cst.Lambda) and isinstance(target.body, cst.Call):
            body = target.body
            target, args = body.func, tuple(body.args)
        elif isinstance(target, cst.Call) and _callee_name(target.func) == "partial" and target.args:
            partial = target
            target, args = partial.args[0].value, tuple(partial.args[1:])
        function = self.gc_name(target, call)
        if function is not None:
            self.calls.append(GcCall(call, function, args, kind))
            return
        local = self.local_function(target, call)
        if local is not None:
            self.local_hooks.append((call, local, kind))

    # -- navigation ----------------------------------------------------------------------------
    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(id(node))

    def order(self, node: cst.CSTNode) -> int:
        return self._order[id(node)]

    def scope(self, node: cst.CSTNode) -> Scope:
        """The function, lambda, class or module whose code ``node`` runs in (never ``node``)."""
        cached = self._scopes.get(id(node))
        if cached is not None:
            return cached
        path = []
        parent = self.parent(node)
        while parent is not None and not isinstance(parent, _SCOPES) and id(parent) not in self._scopes:
            path.append(parent)
            parent = self.parent(parent)
        if parent is None:
            scope: Scope = self.module
        else:
            scope = parent if isinstance(parent, _SCOPES) else self._scopes[id(parent)]
        for passed in (node, *path):
            self._scopes[id(passed)] = scope
        return scope

    def ancestors_within_scope(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """``node``'s parents up to and including its scope."""
        parent = self.parent(node)
        while parent is not None:
            yield parent
            if isinstance(parent, _SCOPES):
                return
            parent = self.parent(parent)

    def defs_in(self, scope: Scope) -> dict[str, cst.FunctionDef]:
        return self._defs.get(id(scope), {})

    def _visible_scopes(self, node: cst.CSTNode) -> Iterator[Scope]:
        """The scopes a name used at ``node`` is looked up in (class bodies only when direct)."""
        scope = self.scope(node)
        yield scope
        while not isinstance(scope, cst.Module):
            scope = self.scope(scope)
            if not isinstance(scope, cst.ClassDef):
                yield scope

    # -- resolution ----------------------------------------------------------------------------
    def _lookup(self, name: str, at: cst.CSTNode) -> cst.FunctionDef | str | None:
        """A local def, a gc name (``""`` for the module itself), or None (unknown/shadowed)."""
        for scope in self._visible_scopes(at):
            local_def = self.defs_in(scope).get(name)
            if local_def is not None:
                return local_def
            if name in self._other_bindings.get(id(scope), ()):
                return None
            gc_name = self._gc_bindings.get(id(scope), {}).get(name)
            if gc_name is not None:
                return gc_name
        return self._gc_anywhere.get(name)

    def gc_name(self, expr: cst.BaseExpression, at: cst.CSTNode) -> str | None:
        """``"enable"`` for ``gc.enable``, ``g.enable`` or an imported ``enable``; else None."""
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            if expr.attr.value in GC_PUBLIC_NAMES and self._lookup(expr.value.value, at) == "":
                return expr.attr.value
            return None
        if isinstance(expr, cst.Name):
            found = self._lookup(expr.value, at)
            return found if isinstance(found, str) and found else None
        return None

    def local_function(self, expr: cst.BaseExpression, at: cst.CSTNode) -> cst.FunctionDef | None:
        """The function of this file ``expr`` names: ``helper`` or ``self.method``/``cls.method``."""
        if isinstance(expr, cst.Name):
            found = self._lookup(expr.value, at)
            return found if isinstance(found, cst.FunctionDef) else None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
            if expr.value.value not in ("self", "cls"):
                return None
            method = self.scope(at)
            if not isinstance(method, cst.FunctionDef):
                return None
            owner = self.scope(method)
            return self.defs_in(owner).get(expr.attr.value) if isinstance(owner, cst.ClassDef) else None
        return None

    def names_assigned_from(self, function: str) -> set[str]:
        """Names (and attribute names) assigned the result of a gc function: ``was = gc.isenabled()``."""
        names: set[str] = set()
        for call in self.calls:
            parent = self.parent(call.node)
            if call.function == function and call.kind == "call" and isinstance(parent, cst.Assign):
                for target in parent.targets:
                    name = _terminal_name(target.target)
                    if name is not None:
                        names.add(name)
        return names


#: Layout-only nodes: the analysis never needs their parents, and they are most of a tree.
_LAYOUT = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
    cst.Comma,
    cst.Colon,
    cst.Semicolon,
    cst.Dot,
    cst.AssignEqual,
)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` without layout nodes, read from the dataclass fields (``children``
    rebuilds the node, which costs more than parsing for a whole tree)."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            if not isinstance(value, _LAYOUT):
                out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode) and not isinstance(v, _LAYOUT))
    return out


def _alias_name(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return None


def _bound_names(node: cst.CSTNode) -> Iterator[str]:
    """Names ``node`` binds in its scope, other than gc imports (noted separately)."""
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        yield node.name.value
    elif isinstance(node, cst.Param):
        yield node.name.value
    elif isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)):
        yield from _target_names(node.target)
    elif isinstance(node, (cst.WithItem, cst.ExceptHandler, cst.ExceptStarHandler)):
        asname = node.asname if isinstance(node, cst.WithItem) else node.name
        if asname is not None:
            yield from _target_names(asname.name)
    elif isinstance(node, cst.NamedExpr):
        yield from _target_names(node.target)
    elif isinstance(node, cst.Import):
        for alias in node.names:
            if not (isinstance(alias.name, cst.Name) and alias.name.value == "gc"):
                yield (
                    _alias_name(alias)
                    or cst.helpers.get_full_name_for_node_or_raise(alias.name).split(".")[0]
                )
    elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
        if not (isinstance(node.module, cst.Name) and node.module.value == "gc" and not node.relative):
            for alias in node.names:
                yield _alias_name(alias) or cst.helpers.get_full_name_for_node_or_raise(alias.name)


def _target_names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value)


def _callee_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _terminal_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def literal_int(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Integer):
        value = ast.literal_eval(expr.value)
        return value if isinstance(value, int) else None
    return None


class GcRule(Rule):
    """Base of the gc rules. A file can only hold a finding if it imports ``gc`` and calls the
    rule's trigger by name (``gc.disable()``, ``disable()``, or an alias from ``from gc import
    disable as d``): the ``ast`` pre-screen asks exactly that, so LibCST sees only those files,
    and the rule needs no LibCST traversal of its own: ``leave_Module`` builds the ``GcFile``
    index (shared by the gc rules, a walk that does not rebuild nodes) and asks again, for the
    files that reach LibCST without an ``ast`` pre-screen (newer syntax than the interpreter's)."""

    #: The gc functions whose calls the rule is about (``disable`` for MEM401).
    TRIGGERS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        imports_gc = any(alias.name == "gc" for node in index.nodes(ast.Import) for alias in node.names)
        trigger_names = set(cls.TRIGGERS)
        for node in index.nodes(ast.ImportFrom):
            if node.module == "gc" and node.level == 0:
                imports_gc = True
                trigger_names.update(a.asname or a.name for a in node.names if a.name in cls.TRIGGERS)
        return imports_gc and bool(index.calls_to(*trigger_names))

    def leave_Module(self, original_node: cst.Module) -> None:
        gc = GcFile.of(self.context.module, self.context.source)
        trigger_names = set(self.TRIGGERS)
        trigger_names.update(local for local, name in gc.from_gc if name in self.TRIGGERS)
        if gc.imports_gc and not gc.callee_names.isdisjoint(trigger_names):
            self.check(gc)

    def check(self, gc: GcFile) -> None:
        raise NotImplementedError


# -- the guarantee ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrapPlan:
    """``off(); A; B; restore`` becomes ``off(); try: A; B finally: restore``."""

    first: cst.BaseStatement
    last: cst.BaseStatement
    restore: cst.BaseStatement


@dataclass(frozen=True)
class Unguarded:
    """A call after which automatic collection may stay off."""

    call: cst.Call
    #: Functions of this file between ``call`` and the gc call, innermost first (``call`` calls
    #: ``via[-1]``); empty when ``call`` is the gc call itself.
    via: tuple[cst.FunctionDef, ...]
    #: Whether collection is restored after ``call`` in its scope (just not guaranteed).
    restored_later: bool
    plan: WrapPlan | None
    #: The hook expected to restore (``__exit__``, ``tearDown``) when ``call`` is in its partner.
    partner: str | None = None


def call_text(found: Unguarded, module: cst.Module, gc_call: str) -> str:
    """How the message names the call: as written, with the gc call it reaches when that differs."""
    text = module.code_for_node(found.call)
    if "\n" in text or len(text) > 60:
        text = module.code_for_node(found.call.func) + "(...)"
    if found.via:
        return f"`{text}` (which calls `{gc_call}`)"
    return f"`{text}`" if text == gc_call else f"`{text}` (`{gc_call}`)"


def unguarded_message(found: Unguarded, what: str, verb: str, hint: str, never_note: str = "") -> str:
    """The finding's message. ``what`` starts it (the rule's summary), ``verb`` names the undo
    ("re-enable"), ``hint`` says where to put it when there is no fix."""
    if found.partner is not None:
        return (
            f"{what}: `{found.partner}` does not {verb} it, so automatic collection stays off "
            f"afterwards and reference cycles are never freed; {verb} in `{found.partner}`"
        )
    if found.restored_later:
        message = (
            f"{what}: if an exception or an early exit skips the {verb}, automatic collection "
            "stays off and reference cycles are never freed"
        )
    else:
        message = (
            f"{what}: nothing in this scope {verb}s it, so automatic collection stays off for the "
            f"rest of the process{never_note} and reference cycles are never freed"
        )
    return message if found.plan is not None else f"{message}; {hint}"


class Guarantee:
    """Which calls switching automatic collection off are not guaranteed to be undone.

    Guaranteed means one of: a ``finally`` that restores covers the call (also ``if was_enabled:``
    inside it); the restore follows with nothing in between that can raise; a cleanup that
    restores is registered in the same function; the function is a hook whose partner restores
    (``__enter__``/``__exit__``, setUp/tearDown, or any test whose class or module teardown
    restores); the process ends right after (``sys.exit``); the pre-fork pattern (a
    ``gc.freeze()`` later in the same scope with no restore there, an after-fork child hook that
    restores, or a server configuration switching off at import, freezing in one hook and
    restoring in another). A function that only switches collection off and returns is a helper:
    its callers in the file are checked instead. A restore counts only where it runs: not inside
    a nested ``def`` or ``lambda``.
    """

    def __init__(self, gc: GcFile, switches_off: Predicate, restores: Predicate) -> None:
        self.gc = gc
        self._switches_off = switches_off
        restoring_defs = self._restoring_functions(restores)
        self._restores = [c.node for c in gc.calls if c.kind == "call" and restores(c)]
        self._restores += [call for call, fn in gc.local_calls if id(fn) in restoring_defs]
        self._restore_calls = {id(call) for call in self._restores}
        #: Nodes that contain a restore running in their own scope (a nested def's does not count).
        self._restoring: set[int] = set(self._restore_calls)
        for call in self._restores:
            self._restoring.update(id(node) for node in gc.ancestors_within_scope(call))
        hooks = [(c.node, c.kind) for c in gc.calls if c.kind != "call" and restores(c)]
        hooks += [(call, kind) for call, fn, kind in gc.local_hooks if id(fn) in restoring_defs]
        self._cleanup_scopes = {id(gc.scope(call)) for call, kind in hooks if kind == "cleanup"}
        self._child_restore_scopes = {id(gc.scope(call)) for call, kind in hooks if kind == "fork-child"}
        self._freezes = [c.node for c in gc.calls if c.kind == "call" and c.function == "freeze"]

    def _restoring_functions(self, restores: Predicate) -> set[int]:
        """Functions of the file that restore collection themselves or through another one."""
        found = {
            id(scope)
            for c in self.gc.calls
            if c.kind == "call"
            and restores(c)
            and isinstance(scope := self.gc.scope(c.node), cst.FunctionDef)
        }
        changed = True
        while changed:
            changed = False
            for call, fn in self.gc.local_calls:
                scope = self.gc.scope(call)
                if id(fn) in found and isinstance(scope, cst.FunctionDef) and id(scope) not in found:
                    found.add(id(scope))
                    changed = True
        return found

    def unguarded(self) -> list[Unguarded]:
        out: list[Unguarded] = []
        for c in self.gc.calls:
            if c.kind == "call" and self._switches_off(c):
                out.extend(self._check(c.node, ()))
        return out

    def _check(self, call: cst.Call, via: tuple[cst.FunctionDef, ...]) -> list[Unguarded]:
        if self._prefork(call):
            return []
        status, scope = self._walk(call)
        if status == "covered" or id(scope) in self._cleanup_scopes:
            return []
        partner = None
        if isinstance(scope, cst.FunctionDef):
            name = scope.name.value
            if name in HOOK_PARTNERS:
                if self._partner_restores(scope, HOOK_PARTNERS[name]):
                    return []
                partner = HOOK_PARTNERS[name][0]
            elif name.startswith("test") and self._teardown_restores(scope):
                return []
            elif status == "clear":
                return self._check_callers(scope, via)
        elif isinstance(scope, cst.Lambda) and status == "clear":
            return []  # a callback that switches collection off: who calls it is unknown
        at = self.gc.order(call)
        later = any(self.gc.scope(r) is scope and self.gc.order(r) > at for r in self._restores)
        return [Unguarded(call, via, later, self._plan(call), partner)]

    def _check_callers(self, helper: cst.FunctionDef, via: tuple[cst.FunctionDef, ...]) -> list[Unguarded]:
        """A function that only switches collection off leaves the guarantee to its callers."""
        if helper in via or len(via) >= 3:
            return []
        sites = [call for call, fn in self.gc.local_calls if fn is helper]
        return [found for site in sites for found in self._check(site, (*via, helper))]

    def _teardown_restores(self, test: cst.FunctionDef) -> bool:
        """A teardown of the test's class or module restores after every test."""
        owner = self.gc.scope(test)
        if isinstance(owner, cst.ClassDef) and self._partner_restores(test, TEST_TEARDOWNS):
            return True
        return self._partner_restores(self.gc.module, MODULE_TEARDOWNS)

    def _partner_restores(self, hook: cst.CSTNode, partners: tuple[str, ...]) -> bool:
        """One of ``partners``, defined next to ``hook`` (in the module for the module itself),
        restores collection."""
        defs = self.gc.defs_in(hook if isinstance(hook, cst.Module) else self.gc.scope(hook))
        return any(p in defs and id(defs[p]) in self._restoring for p in partners)

    def _prefork(self, call: cst.Call) -> bool:
        """``gc.disable()``, then ``gc.freeze()`` before forking, collection restored in the child."""
        scope = self.gc.scope(call)
        if id(scope) in self._child_restore_scopes:
            return True
        at = self.gc.order(call)
        restored_here = any(self.gc.scope(r) is scope and self.gc.order(r) > at for r in self._restores)
        if not restored_here and any(
            self.gc.scope(f) is scope and self.gc.order(f) > at for f in self._freezes
        ):
            return True  # off until the fork: the child restores
        # a server config: off at import, frozen in one hook, restored in a post-fork hook
        return (
            isinstance(scope, cst.Module)
            and bool(self._freezes)
            and any(isinstance(self.gc.scope(r), cst.FunctionDef) for r in self._restores)
        )

    # -- walking up from the call --------------------------------------------------------------
    def _walk(self, call: cst.Call) -> tuple[str, Scope]:
        """``covered``, ``exposed`` (something that can raise runs before any restore) or
        ``clear`` (the scope ends with collection off and nothing else done), and the scope."""
        scope = self.gc.scope(call)
        fixture = isinstance(scope, cst.FunctionDef) and _is_fixture(scope)
        # inside the body of a try whose catch-all handler restores, only early exits expose
        protector = next((t for t in self._enclosing_try_bodies(call) if self._catch_all_restores(t)), None)
        node: cst.CSTNode = call
        exposed = False
        while node is not scope:
            parent = self.gc.parent(node)
            assert parent is not None
            if isinstance(parent, (cst.Try, cst.TryStar)) and node is not parent.finalbody:
                if parent.finalbody is not None and id(parent.finalbody) in self._restoring:
                    return "covered", scope
                if parent is protector:
                    protector = None
                status = "clear" if exposed else self._leaving_try(parent, node, fixture)
                if status == "restored":
                    return "covered", scope
                exposed = exposed or status == "exposed"
            statements = _statements(parent)
            if statements is not None and not exposed:
                status = self._scan(_after(statements, node), fixture, tolerant=protector is not None)
                if status == "restored":
                    return "covered", scope
                exposed = status == "exposed"
            node = parent
        return ("exposed" if exposed else "clear"), scope

    def _enclosing_try_bodies(self, call: cst.Call) -> Iterator[cst.Try | cst.TryStar]:
        node: cst.CSTNode = call
        for parent in self.gc.ancestors_within_scope(call):
            if isinstance(parent, (cst.Try, cst.TryStar)) and node is parent.body:
                yield parent
            node = parent

    def _catch_all_restores(self, node: cst.CSTNode) -> bool:
        """``except:`` or ``except BaseException:`` whose handler restores first."""
        if not isinstance(node, (cst.Try, cst.TryStar)):
            return False
        return any(_catches_all(h) and self._restores_first(h.body, False) for h in node.handlers)

    def _leaving_try(self, node: cst.Try | cst.TryStar, part: cst.CSTNode, fixture: bool) -> str:
        """What runs between leaving ``part`` normally and the statement after the ``try``."""
        rest: list[cst.CSTNode] = []
        if part is node.body and node.orelse is not None:
            rest.extend(_block(node.orelse.body))
        status = self._scan(rest, fixture)
        if status != "clear" or node.finalbody is None:
            return status
        trivial = all(self._trivial_statement(s, fixture) for s in _block(node.finalbody.body))
        return "clear" if trivial else "exposed"

    def _scan(self, statements: Sequence[cst.CSTNode], fixture: bool, tolerant: bool = False) -> str:
        """``restored`` if a restore runs before anything that can raise (``tolerant``: before
        any early exit), ``exposed`` if not, ``clear`` if the statements end first."""
        for i, stmt in enumerate(statements):
            if self._restores_first(stmt, fixture) or _ends_process(stmt):
                return "restored"
            if self._catch_all_restores(stmt) and self._normal_path_restores(
                stmt, statements[i + 1 :], fixture
            ):
                return "restored"
            if self._trivial_statement(stmt, fixture) or (tolerant and not _exits_early(stmt)):
                continue
            return "exposed"
        return "clear"

    def _normal_path_restores(self, node: cst.CSTNode, rest: Sequence[cst.CSTNode], fixture: bool) -> bool:
        """A try whose catch-all handler restores, then a restore on the way out without it."""
        assert isinstance(node, (cst.Try, cst.TryStar))
        status = self._scan(_block(node.body), fixture, tolerant=True)
        if status == "clear":
            status = self._leaving_try(node, node.body, fixture)
        if status == "clear":
            status = self._scan(rest, fixture)
        return status == "restored"

    def _restores_first(self, stmt: cst.CSTNode, fixture: bool) -> bool:
        """Whether ``stmt`` restores collection before running anything that can raise."""
        if id(stmt) not in self._restoring:
            return False
        if isinstance(stmt, cst.BaseSmallStatement):
            return True
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock)):
            return self._scan(stmt.body, fixture) == "restored"
        if isinstance(stmt, cst.If):
            return self._trivial_expr(stmt.test) and self._restores_first(stmt.body, fixture)
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            finalbody = stmt.finalbody
            return (finalbody is not None and id(finalbody) in self._restoring) or self._restores_first(
                stmt.body, fixture
            )
        return False

    def _trivial_statement(self, stmt: cst.CSTNode, fixture: bool) -> bool:
        """Cannot raise in practice (so it needs no ``finally``)."""
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            return all(self._trivial_small(s, fixture) for s in stmt.body)
        return isinstance(stmt, cst.BaseSmallStatement) and self._trivial_small(stmt, fixture)

    def _trivial_small(self, stmt: cst.BaseSmallStatement, fixture: bool) -> bool:
        if isinstance(stmt, (cst.Pass, cst.Global, cst.Nonlocal)):
            return True
        if isinstance(stmt, cst.Expr):
            if fixture and isinstance(stmt.value, cst.Yield):  # pytest runs the teardown anyway
                value = stmt.value.value
                return value is None or (isinstance(value, cst.BaseExpression) and self._trivial_expr(value))
            return self._trivial_expr(stmt.value)
        if isinstance(stmt, cst.Assign):
            return all(_plain_target(t.target) for t in stmt.targets) and self._trivial_expr(stmt.value)
        if isinstance(stmt, cst.AnnAssign):
            return _plain_target(stmt.target) and (stmt.value is None or self._trivial_expr(stmt.value))
        if isinstance(stmt, cst.Return):
            return stmt.value is None or self._trivial_expr(stmt.value)
        return False

    def _trivial_expr(self, expr: cst.BaseExpression) -> bool:
        if isinstance(
            expr, (cst.Name, cst.BaseNumber, cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)
        ):
            return True
        if isinstance(expr, cst.Attribute):
            return self._trivial_expr(expr.value)
        if isinstance(expr, (cst.Tuple, cst.List)):
            return all(isinstance(e, cst.Element) and self._trivial_expr(e.value) for e in expr.elements)
        if isinstance(expr, cst.UnaryOperation):
            return self._trivial_expr(expr.expression)
        if isinstance(expr, cst.Comparison):
            return self._trivial_expr(expr.left) and all(
                isinstance(c.operator, (cst.Is, cst.IsNot)) and self._trivial_expr(c.comparator)
                for c in expr.comparisons
            )
        if isinstance(expr, cst.Call):
            harmless = self.gc.gc_name(expr.func, expr) is not None or (
                not expr.args and cst.helpers.get_full_name_for_node(expr.func) in _HARMLESS_CALLS
            )
            return harmless and all(self._trivial_expr(a.value) for a in expr.args)
        return False

    # -- the fix -------------------------------------------------------------------------------
    def _plan(self, call: cst.Call) -> WrapPlan | None:
        """``off()`` alone on its line, then a section, then a simple restore in the same block."""
        expr = self.gc.parent(call)
        line = self.gc.parent(expr) if expr is not None else None
        if not (
            isinstance(expr, cst.Expr) and isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1
        ):
            return None
        block = self.gc.parent(line)
        if not isinstance(block, (cst.IndentedBlock, cst.Module)):
            return None
        siblings = list(block.body)
        index = next(i for i, s in enumerate(siblings) if s is line)
        for j in range(index + 1, len(siblings)):
            stmt = siblings[j]
            if id(stmt) not in self._restoring:
                continue
            section = siblings[index + 1 : j]
            if not section or not self._simple_restore(stmt) or _reads_names_bound_in(stmt, section):
                return None
            if any(_has_multiline_string(node) for node in (*section, stmt)) or _mixes_tabs(self.gc):
                return None  # re-indenting would not be an exact text edit
            return WrapPlan(section[0], section[-1], stmt)
        return None

    def _simple_restore(self, stmt: cst.CSTNode) -> bool:
        """``restore()`` alone on its line, or ``if flag: restore()`` without ``else``."""
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            body = stmt.body
            return (
                len(body) == 1
                and isinstance(body[0], cst.Expr)
                and isinstance(body[0].value, cst.Call)
                and id(body[0].value) in self._restore_calls
            )
        if (
            isinstance(stmt, cst.If)
            and stmt.orelse is None
            and not any(isinstance(n, cst.Call) for n in descendants(stmt.test))
        ):
            inner = stmt.body
            if isinstance(inner, cst.IndentedBlock):
                return len(inner.body) == 1 and self._simple_restore(inner.body[0])
            return self._simple_restore(inner)
        return False


def wrap_fix(plan: WrapPlan, module: cst.Module, title: str) -> FixProposal:
    """The safe fix moving the restore into a ``finally`` around the section."""
    unit = module.default_indent
    return FixProposal(
        Applicability.SAFE,
        title,
        (
            InsertLine(plan.first, "try:"),
            IndentLines(plan.first, plan.last, unit),
            InsertLine(plan.restore, "finally:"),
            IndentLines(plan.restore, plan.restore, unit),
        ),
    )


def _mixes_tabs(gc: GcFile) -> bool:
    """Indenting by the module's unit must not mix tabs into space indentation (or back)."""
    source = gc.source
    tab_indented = "\n\t" in source or source.startswith("\t")
    return tab_indented != ("\t" in gc.module.default_indent)


def _has_multiline_string(node: cst.CSTNode) -> bool:
    for found in descendants(node):
        if isinstance(found, cst.SimpleString) and ("\n" in found.value or "\r" in found.value):
            return True
        if isinstance(found, cst.FormattedString) and found.start.endswith(('"""', "'''")):
            return True
    return False


def _reads_names_bound_in(stmt: cst.CSTNode, section: Sequence[cst.CSTNode]) -> bool:
    """A restore reading a name the section assigns (``if was_enabled:``, ``restore(saved)``)
    could meet it unbound in the ``finally``."""
    read = {n.value for n in descendants(stmt) if isinstance(n, cst.Name)}
    bound = {name for node in section for inner in descendants(node) for name in _bound_names(inner)}
    return bool(read & bound)


def descendants(node: cst.CSTNode, into_scopes: bool = True) -> Iterator[cst.CSTNode]:
    """``node`` and the nodes under it, layout left out; ``into_scopes=False`` stops at nested
    functions, lambdas and classes (whose code runs elsewhere)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if (
            into_scopes
            or current is node
            or not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef))
        ):
            stack.extend(reversed(_children(current)))


def _statements(node: cst.CSTNode | None) -> Sequence[cst.CSTNode] | None:
    if isinstance(node, (cst.Module, cst.IndentedBlock, cst.SimpleStatementSuite, cst.SimpleStatementLine)):
        return node.body
    return None


def _block(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return suite.body


def _after(statements: Sequence[cst.CSTNode], node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    for i, stmt in enumerate(statements):
        if stmt is node:
            return statements[i + 1 :]
    return ()


def _catches_all(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    candidates = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    return any(isinstance(c, cst.Name) and c.value == "BaseException" for c in candidates)


#: Calls after which nothing is left to collect.
_PROCESS_EXITS = frozenset({"sys.exit", "os._exit", "os.abort", "exit", "quit"})


def _ends_process(stmt: cst.CSTNode) -> bool:
    """``sys.exit(...)``, ``os._exit(...)`` or ``raise SystemExit``: the process is ending."""
    small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else stmt
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        return cst.helpers.get_full_name_for_node(small.value.func) in _PROCESS_EXITS
    if isinstance(small, cst.Raise) and small.exc is not None:
        exc = small.exc.func if isinstance(small.exc, cst.Call) else small.exc
        return isinstance(exc, cst.Name) and exc.value == "SystemExit"
    return False


def _exits_early(stmt: cst.CSTNode) -> bool:
    """``return``, ``break`` or ``continue`` in ``stmt`` (outside nested functions)."""
    stack = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Return, cst.Break, cst.Continue)):
            return True
        if not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(node.children)
    return False


def _plain_target(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Name):
        return True
    if isinstance(target, cst.Attribute):
        return isinstance(target.value, cst.Name)
    if isinstance(target, (cst.Tuple, cst.List)):
        return all(isinstance(e, cst.Element) and _plain_target(e.value) for e in target.elements)
    return False


def _is_fixture(fn: cst.FunctionDef) -> bool:
    for decorator in fn.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        if _terminal_name(target) in ("fixture", "yield_fixture"):
            return True
    return False
