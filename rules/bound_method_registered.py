"""MEM502: a callback that holds ``self`` registered where nothing ever removes it."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import FixAvailability
from memlint.facts import ProjectFacts
from memlint.rule import Rule, RuleContext
from memlint.rules._names import ASSIGN, CLASS, DEF, PARAM, NameTracker, Scope, dotted, with_tracker

#: Registries with a removal function: registering adds an entry, the entry stays until removed.
_ACCUMULATING = {
    "atexit.register": "atexit.unregister",
    "codecs.register": "codecs.unregister",
}
#: Registries that offer no removal at all.
_PERMANENT = frozenset({"sys.addaudithook", "os.register_at_fork"})
#: Process-wide single slots set by a call: the callable stays until something replaces it. The
#: value is the position of the callable among the arguments (None: any argument).
_SLOT_CALLS: dict[str, int | None] = {
    "signal.signal": 1,
    "sys.settrace": 0,
    "sys.setprofile": 0,
    "threading.settrace": 0,
    "threading.setprofile": 0,
    "threading.settrace_all_threads": 0,
    "threading.setprofile_all_threads": 0,
    "sys.set_asyncgen_hooks": None,
    "readline.set_completer": 0,
    "readline.set_startup_hook": 0,
    "readline.set_pre_input_hook": 0,
    "readline.set_completion_display_matches_hook": 0,
}
#: Process-wide single slots set by assignment.
_SLOT_ATTRIBUTES = frozenset(
    {
        "sys.excepthook",
        "sys.displayhook",
        "sys.unraisablehook",
        "sys.breakpointhook",
        "threading.excepthook",
        "warnings.showwarning",
    }
)
#: Finalizers that hold their callback (and its arguments) in a module-level registry and refer
#: to the watched object only weakly.
_FINALIZERS = frozenset({"weakref.finalize", "multiprocessing.util.Finalize"})
#: Module-level lists of callables kept by the interpreter.
_INTERPRETER_LISTS = frozenset({"gc.callbacks", "sys.path_hooks"})
_PARTIALS = frozenset({"functools.partial"})
#: For the ``ast`` pre-screen: the modules above, and the last names of their hooks.
_ALL_HOOKS = (*_ACCUMULATING, *_PERMANENT, *_SLOT_CALLS, *_FINALIZERS)
_HOOK_MODULES = frozenset(
    name.split(".")[0] for name in (*_ALL_HOOKS, *_SLOT_ATTRIBUTES, *_INTERPRETER_LISTS)
)
_HOOK_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _ALL_HOOKS)
_HOOK_ATTRIBUTE_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in _SLOT_ATTRIBUTES)
_NOT_INSTANCE_METHODS = frozenset({"builtins.staticmethod", "builtins.classmethod", "builtins.property"})
#: Decorators that leave a method an ordinary function (``self.m`` is still a bound method).
_TRANSPARENT_DECORATORS = frozenset(
    {"abc.abstractmethod", "typing.override", "typing_extensions.override", "typing.final"}
)
#: Calls that add to a container, with the position of the added value.
_ADDING_METHODS = {"append": 0, "add": 0, "appendleft": 0, "insert": 1, "setdefault": 1}
_REMOVING_METHODS = frozenset({"remove", "discard", "pop", "popitem", "popleft", "clear", "__delitem__"})
#: Builtins that only read a container handed to them (a copy to iterate over, a length...).
_READERS = frozenset(
    {"len", "list", "tuple", "sorted", "reversed", "iter", "enumerate", "bool", "repr", "str", "print"}
    | {"any", "all", "set", "frozenset", "dict", "isinstance", "id", "zip", "map", "filter"}
)
_CONTAINER_FACTORIES = frozenset(
    {
        "builtins.list",
        "builtins.dict",
        "builtins.set",
        "collections.defaultdict",
        "collections.deque",
        "collections.OrderedDict",
    }
)
_MAIN_FUNCTIONS = frozenset({"main", "_main"})
#: Methods that end an instance's use while the process goes on (in this order of preference).
_END_OF_LIFE = (
    "close",
    "__exit__",
    "__aexit__",
    "__del__",
    "aclose",
    "cleanup",
    "dispose",
    "release",
    "detach",
    "uninstall",
    "unregister",
    "teardown",
    "destroy",
)
#: Class attributes by which a class keeps its own single instance.
_SINGLETON_ATTRIBUTES = frozenset(
    {"_instance", "__instance", "_inst", "_singleton", "instance", "_the_instance"}
)
_SHORT = 60


@dataclass(eq=False)
class _Class:
    node: cst.ClassDef
    scope: Scope  # the class body
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    #: Attributes assigned on ``self`` anywhere in the class (they may shadow a method), with
    #: each assigned value (None: unknown, as for ``+=``) and the scope it is evaluated in.
    self_attributes: dict[str, list[tuple[cst.BaseExpression | None, Scope]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Method:
    node: cst.FunctionDef
    klass: _Class


@dataclass(frozen=True)
class _Event:
    """A call, assignment, ``del`` or decorator seen in the file, judged at the end."""

    node: cst.CSTNode
    scope: Scope
    classes: tuple[_Class, ...]  # the enclosing classes, outermost first


class BoundMethodRegistered(Rule):
    """
    ## What it does
    Checks for callbacks that hold `self`, registered in a method into a registry that lives as
    long as the process and that the class never removes them from:

    - `atexit.register(...)` (no `atexit.unregister` in the class), `codecs.register(...)`,
      `sys.addaudithook(...)` and `os.register_at_fork(...)` (these two can never be removed);
    - process-wide hooks the class never puts back: `signal.signal(...)`, `sys.settrace`,
      `sys.setprofile`, their `threading` counterparts, `sys.set_asyncgen_hooks`, the `readline`
      hooks, and assignments to `sys.excepthook`, `sys.displayhook`, `sys.unraisablehook`,
      `sys.breakpointhook`, `threading.excepthook` and `warnings.showwarning`;
    - `weakref.finalize(self, ...)` and `multiprocessing.util.Finalize(self, ...)` whose callback
      or arguments hold `self`;
    - `gc.callbacks`, `sys.path_hooks` and containers created at the top of the same module
      (`_LISTENERS = []`) that the callback is added to (`append`, `add`, `insert`,
      `setdefault`, item assignment, also `_BY_EVENT[name].append(...)`) and that nothing in
      the module removes from (`remove`, `discard`, `pop`, `clear`, `del`, rebinding, or
      `remove` handed on as a cleanup) nor hands to other code that might.

    A callback holds `self` when it is a bound method (`self.close`, for a method defined in the
    class or a base class of the module without `@staticmethod`, `@classmethod` or `@property`,
    or an attribute only ever assigned one), a `lambda` or nested function that uses `self`, or a
    `functools.partial` over either or over `self`. Imports are resolved (`import signal as sig`,
    `from atexit import register`). A removal anywhere in the class, its bases or its subclasses
    in the module counts; for a single hook, so does a later call that installs anything else in
    it (saving what `signal.signal()` returns and restoring it in `close()` is the usual way).

    Hooks and registries that the class could undo (`atexit`, `codecs`, single hooks such as
    signal handlers, `REGISTRY[key] = self.method`) are reported only for classes whose instances
    end before the process does: the class (or a class it derives from, or that derives from it,
    in the module) has a `close()`, `__exit__()`, `__del__()`, `cleanup()`, `dispose()`,
    `release()`, `detach()`, `uninstall()`, `unregister()`, `teardown()` or `destroy()` method,
    or registers one of those (`atexit.register(self.close)`). An application's, server's or
    worker's main object that registers its shutdown at exit or installs the process's signal
    handlers in `start()` lives as long as the process and is not reported. Registrations that
    nothing could undo (listener containers, audit hooks, fork handlers) and finalizers that hold
    their own object are reported in every class.

    Not reported either: classes instantiated at the top level of their module (an `if __name__
    == "__main__":` block included) or in its `main()` function, and classes that keep their one
    instance in a class attribute (`_instance = None`) or have a base or metaclass named like a
    singleton: they live as long as the process anyway. Nor test files, callbacks wrapped in
    `weakref.WeakMethod` or `weakref.ref`, static and class methods, plain functions, and
    registries held by the instance (`self._handlers.append(self.on_event)`). Third-party event
    buses are not checked: most (blinker, Django signals) hold receivers weakly.

    ## Why is this bad?
    A bound method holds its instance, so the registry keeps `self` alive, with everything it
    references (buffers, connections, caches), after the rest of the program has dropped it.
    With `atexit`, audit hooks, fork handlers and module-level listener lists, every instance
    ever created stays alive until the interpreter exits; with a single process-wide hook
    (`signal.signal`, `sys.excepthook`), the last instance stays alive and its handler keeps
    running after the object is closed. `weakref.finalize(self, self.close)` is the extreme case:
    the finalizer's registry holds the bound method, so `self` is never collected and the
    finalizer only runs at exit; the `weakref` documentation warns that "func should not be a
    bound method of obj". On CPython 3.11, 1,000 objects of 100 kB each registered with
    `atexit.register(self.close)` keep 100 MB alive after the program has dropped them all.

    ## Example
    ```python
    import atexit
    import signal
    import weakref

    class Connection:
        def __init__(self, address):
            self.buffer = bytearray(1 << 20)
            atexit.register(self.close)

        def close(self):
            ...

    class Session:
        def __init__(self, sock):
            self.sock = sock
            self._finalizer = weakref.finalize(self, self.close)

        def close(self):
            self.sock.close()

    class Worker:
        def start(self):
            signal.signal(signal.SIGTERM, self.on_term)

        def on_term(self, signum, frame):
            ...

        def close(self):
            ...
    ```

    ## Use instead
    Remove the registration when the object is done, or let a finalizer that does not hold the
    object do the cleanup (it runs when the object is collected or, at the latest, at exit):
    ```python
    import atexit
    import signal
    import weakref

    class Connection:
        def __init__(self, address):
            self.buffer = bytearray(1 << 20)
            atexit.register(self.close)

        def close(self):
            atexit.unregister(self.close)
            ...

    class Session:
        def __init__(self, sock):
            self.sock = sock
            self._finalizer = weakref.finalize(self, sock.close)

        def close(self):
            self._finalizer()

    class Worker:
        def start(self):
            self._previous = signal.signal(signal.SIGTERM, self.on_term)

        def on_term(self, signum, frame):
            ...

        def close(self):
            signal.signal(signal.SIGTERM, self._previous)
    ```
    For a listener list, hold the callback weakly with `weakref.WeakMethod(self.on_change)` (or
    use a `weakref.WeakSet` of instances), or remove it in `close()` or `__exit__`.

    ## Fix safety
    There is no fix: whether the registration should be undone in `close()`, `__exit__` or a
    finalizer, or is meant to last as long as the process, is a design choice only a reader can
    make.
    """

    CODE = "MEM502"
    NAME = "bound-method-registered"
    SUMMARY = "A callback holding `self` registered process-wide and never removed"
    FIX = FixAvailability.NONE
    PREVIEW = True
    PRESCREEN = ("self",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files with a class and a call, decorator or assignment that may register: a hook
        function or attribute by its last name, a name imported from a hook module (any alias),
        or an addition to a container bound at the module's top level."""
        if not index.nodes(ast.ClassDef):
            return False
        imported = _imported_hook_names(index)
        containers = _module_containers(index.tree)
        for call in index.nodes(ast.Call):
            if _prescreen_callee(call.func, imported, containers):
                return True
        functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = [
            *index.nodes(ast.FunctionDef),
            *index.nodes(ast.AsyncFunctionDef),
        ]
        for function in functions:
            if any(
                _last_name(d) in _HOOK_NAMES or _last_name(d) in imported for d in function.decorator_list
            ):
                return True
        for assign in index.nodes(ast.Assign):
            for target in assign.targets:
                if isinstance(target, ast.Attribute) and target.attr in _HOOK_ATTRIBUTE_NAMES:
                    return True
                if isinstance(target, ast.Subscript) and _ast_root(target.value) in containers:
                    return True
        return False

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._classes: list[_Class] = []
        self._by_node: dict[int, _Class] = {}
        self._self_params: dict[int, _Method] = {}
        self._events: list[_Event] = []
        self._scopes: dict[int, Scope] = {}

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- collection -------------------------------------------------------------------------------
    def _event(self, node: cst.CSTNode, scope: Scope | None = None) -> None:
        self._events.append(_Event(node, scope or self.names.current, tuple(self._classes)))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        klass = _Class(node, self.names.current)
        self._classes.append(klass)
        self._by_node[id(node)] = klass

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.names.current  # the tracker has entered the function already
        self._scopes[id(node)] = scope
        outer = scope.parent
        if node.decorators and outer is not None:
            self._event(node, outer)
        if outer is None or outer.kind != "class" or not self._classes:
            return
        klass = self._classes[-1]
        params = [*node.params.posonly_params, *node.params.params]
        if params and params[0].name.value == "self":
            method = _Method(node, klass)
            self._self_params[id(params[0])] = method
            if self._plain_method(node, outer):
                klass.methods[node.name.value] = node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes[id(node)] = self.names.current

    def visit_Call(self, node: cst.Call) -> None:
        self._event(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._event(node)
        value = node.value if len(node.targets) == 1 else None
        for target in node.targets:
            self._note_self_attribute(target.target, value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._note_self_attribute(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._note_self_attribute(node.target, None)

    def visit_Del(self, node: cst.Del) -> None:
        self._event(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in _REMOVING_METHODS:
            self._event(node)  # ``_LISTENERS.remove`` handed on uncalled removes all the same

    def _note_self_attribute(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if (
            self._classes
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
        ):
            assigned = self._classes[-1].self_attributes.setdefault(target.attr.value, [])
            assigned.append((value, self.names.current))

    def _plain_method(self, node: cst.FunctionDef, class_scope: Scope) -> bool:
        """Whether ``instance.name`` is a bound method of the instance. Judged during the walk,
        so decorators imported below the class are unknown: such methods are left out."""
        for decorator in node.decorators:
            name = self.names.qualified_name(_callee(decorator.decorator), class_scope)
            if name not in _TRANSPARENT_DECORATORS:
                return False
        return True

    # -- judgement --------------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file or not self._self_params:
            return
        judge = _Judge(self)
        for event in self._events:
            found = judge.registration(event)
            if found is not None:
                node, message = found
                self.report(node, message)


class _Judge:
    """Answers about the whole file, once every binding is known."""

    def __init__(self, rule: BoundMethodRegistered) -> None:
        self.rule = rule
        self.names = rule.names
        self._singletons: set[int] | None = None
        self._container_removed: dict[int, bool] = {}

    # -- what a callable holds --------------------------------------------------------------------
    def self_method(self, name: cst.BaseExpression, scope: Scope) -> _Method | None:
        """The method whose ``self`` parameter the name ``self`` refers to here."""
        if not isinstance(name, cst.Name) or name.value != "self":
            return None
        found = self.names.lookup("self", scope)
        if found is None or len(found[1]) != 1 or found[1][0].kind != PARAM:
            return None
        param = found[1][0].node
        return self.rule._self_params.get(id(param)) if param is not None else None

    def is_bound_method(self, klass: _Class, name: str, depth: int = 0) -> bool:
        """Whether ``self.<name>`` is a bound method of ``self``: a plain method of the class or of
        a base in this module, or an attribute only ever assigned such a method
        (``self.dispatch = self.dispatch_fast``)."""
        if depth > 5:
            return False
        if name in klass.self_attributes:
            return all(
                value is not None and self.holder(value, scope, depth + 1) is not None
                for value, scope in klass.self_attributes[name]
            )
        if name in klass.methods:
            bindings = klass.scope.bindings.get(name, [])
            return all(b.kind == DEF for b in bindings)
        if name in klass.scope.bindings:
            return False
        return any(self.is_bound_method(base, name, depth + 1) for base in self.bases(klass))

    def bases(self, klass: _Class) -> Iterator[_Class]:
        """Base classes defined in this module (by a plain name)."""
        for arg in klass.node.bases:
            if not isinstance(arg.value, cst.Name) or klass.scope.parent is None:
                continue
            found = self.names.lookup(arg.value.value, klass.scope.parent)
            if found is None or len(found[1]) != 1 or found[1][0].kind != CLASS:
                continue
            node = found[1][0].node
            base = self.rule._by_node.get(id(node)) if node is not None else None
            if base is not None:
                yield base

    def holder(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> _Method | None:
        """The method whose ``self`` the callable ``expr`` holds, if it provably holds one."""
        if depth > 3:
            return None
        if isinstance(expr, cst.Attribute):
            method = self.self_method(expr.value, scope)
            if method is not None and self.is_bound_method(method.klass, expr.attr.value, depth):
                return method
            return None
        if isinstance(expr, cst.Lambda):
            return self._uses_self(expr, expr.params, expr.body, self.rule._scopes.get(id(expr)))
        if isinstance(expr, cst.Call):
            return self._partial_holder(expr, scope, depth)
        if isinstance(expr, cst.Name):
            return self._name_holder(expr, scope, depth)
        return None

    def _partial_holder(self, call: cst.Call, scope: Scope, depth: int) -> _Method | None:
        if self.names.qualified_name(call.func, scope) not in _PARTIALS or not call.args:
            return None
        for arg in call.args:
            held = self.self_method(arg.value, scope) or self.holder(arg.value, scope, depth + 1)
            if held is not None:
                return held
        return None

    def _name_holder(self, name: cst.Name, scope: Scope, depth: int) -> _Method | None:
        """A nested function that uses ``self``, or a local bound once to a callable holding it."""
        found = self.names.lookup(name.value, scope)
        if found is None or not found[0].is_function or len(found[1]) != 1:
            return None
        binding = found[1][0]
        if binding.kind == DEF and isinstance(binding.node, cst.FunctionDef):
            node = binding.node
            return self._uses_self(node, node.params, node.body, binding.scope)
        if binding.kind == ASSIGN and binding.value is not None:
            return self.holder(binding.value, found[0], depth + 1)
        return None

    def _uses_self(
        self, node: cst.CSTNode, params: cst.Parameters, body: cst.CSTNode, scope: Scope | None
    ) -> _Method | None:
        if scope is None or any(p.name.value == "self" for p in _all_params(params)):
            return None
        defaults = [p.default for p in _all_params(params) if p.default is not None]
        for part in (body, *defaults):
            if _mentions_self(part):
                method = self.self_method(cst.Name("self"), scope)
                if method is not None:
                    return method
        return None

    # -- the registrations --------------------------------------------------------------------------
    def registration(self, event: _Event) -> tuple[cst.CSTNode, str] | None:
        node = event.node
        if isinstance(node, cst.Call):
            return self._call(node, event)
        if isinstance(node, cst.Assign):
            return self._assignment(node, event)
        if isinstance(node, cst.FunctionDef):
            return self._decorated(node, event)
        return None

    def _call(self, call: cst.Call, event: _Event) -> tuple[cst.CSTNode, str] | None:
        name = self.names.qualified_name(call.func, event.scope)
        if name in _ACCUMULATING:
            return self._accumulating(call, name, event)
        if name in _PERMANENT:
            return self._permanent(call, name, event)
        if name in _SLOT_CALLS:
            return self._slot_call(call, name, event)
        if name in _FINALIZERS:
            return self._finalizer(call, name, event)
        return self._container_add(call, event)

    def _report(self, node: cst.CSTNode, what: str) -> tuple[cst.CSTNode, str]:
        return node, f"{self.shown(node)} {what}"

    def shown(self, node: cst.CSTNode) -> str:
        text = self.rule.code_for(node).strip()
        if isinstance(node, cst.Assign):
            text = text.rstrip(";").strip()
        if len(text) > _SHORT or "\n" in text:
            if isinstance(node, cst.Call):
                return f"`{self.rule.code_for(node.func)}(...)`"
            return "this registration"
        return f"`{text}`"

    def _accumulating(self, call: cst.Call, name: str, event: _Event) -> tuple[cst.CSTNode, str] | None:
        method = self._held_by_argument(call, 0, event.scope)
        if method is None or self._exempt(method):
            return None
        removal = _ACCUMULATING[name]
        end = self._end_of_life(method.klass) or _end_of_life_name(call.args[0].value)
        if end is None or self._class_calls_function(method.klass, removal):
            return None
        return self._report(
            call,
            f"keeps `self` alive until the interpreter exits, one entry per instance, even after "
            f"`{end}()`: nothing in `{method.klass.node.name.value}` calls `{removal}`; unregister it "
            f"in `{end}()`, or clean up with a `weakref.finalize` that does not hold `self`",
        )

    def _permanent(self, call: cst.Call, name: str, event: _Event) -> tuple[cst.CSTNode, str] | None:
        held = [self.holder(arg.value, event.scope) for arg in call.args if not arg.star]
        method = next((m for m in held if m is not None), None)
        if method is None or self._exempt(method):
            return None
        return self._report(
            call,
            f"keeps `self` alive until the interpreter exits, one entry per instance: `{name}` "
            "registrations can never be removed; register a module-level function that holds the "
            "instance weakly",
        )

    def _slot_call(self, call: cst.Call, name: str, event: _Event) -> tuple[cst.CSTNode, str] | None:
        position = _SLOT_CALLS[name]
        if position is None:
            held = [self.holder(arg.value, event.scope) for arg in call.args if not arg.star]
            method = next((m for m in held if m is not None), None)
        else:
            method = self._held_by_argument(call, position, event.scope)
        if method is None or self._exempt(method):
            return None

        def restores(qualified: str | None, other: cst.Call) -> bool:
            return qualified == name and other is not call and not self._installs_self(other, position)

        end = self._end_of_life(method.klass)
        if end is None or self._class_calls(method.klass, restores):
            return None
        return self._report(call, self._slot_message(method, "handler", end))

    def _slot_message(self, method: _Method, what: str, end: str) -> str:
        if end == "__del__":
            kept, where = "so `__del__()` never runs,", "an explicit `close()`"
        else:
            kept, where = f"and its {what} running, after `{end}()`", f"`{end}()`"
        return (
            f"keeps `self` alive, {kept} until another {what} replaces it: nothing in "
            f"`{method.klass.node.name.value}` puts the previous {what} back; save it and restore it "
            f"in {where}"
        )

    def _end_of_life(self, klass: _Class) -> str | None:
        """The method that ends an instance's use (``close``, ``__exit__``...), in the class or a
        related class of this module. A class without one (a server's or a worker's main object
        installing its signal handlers) is taken to live as long as the process."""
        related = self._related(klass)
        for other in self.rule._by_node.values():
            if id(other.node) in related:
                for name in _END_OF_LIFE:
                    if any(b.kind == DEF for b in other.scope.bindings.get(name, [])):
                        return name
        return None

    def _installs_self(self, call: cst.Call, position: int | None) -> bool:
        """Whether another call to the same hook installs a callable holding a ``self`` too."""
        scope = self._event_scope(call)
        if scope is None:
            return True
        if position is None:
            return any(self.holder(a.value, scope) is not None for a in call.args if not a.star)
        return self._held_by_argument(call, position, scope) is not None

    def _assignment(self, node: cst.Assign, event: _Event) -> tuple[cst.CSTNode, str] | None:
        if len(node.targets) != 1:
            return None
        target = node.targets[0].target
        if isinstance(target, cst.Attribute):
            hook = self.names.qualified_name(target, event.scope)
            if hook not in _SLOT_ATTRIBUTES:
                return None
            method = self.holder(node.value, event.scope)
            if method is None or self._exempt(method):
                return None
            end = self._end_of_life(method.klass)
            if end is None or self._hook_restored(method.klass, hook, node):
                return None
            return self._report(node, self._slot_message(method, "hook", end))
        if isinstance(target, cst.Subscript):
            container = self._module_container(target.value, event.scope)
            if container is None:
                return None
            method = self.holder(node.value, event.scope)
            if method is None or self._exempt(method) or self._end_of_life(method.klass) is None:
                return None
            return self._report(node, self._container_message(container, keyed=True))
        return None

    def _hook_restored(self, klass: _Class, hook: str, assignment: cst.Assign) -> bool:
        for event in self._class_events(klass):
            other = event.node
            if other is assignment or not isinstance(other, cst.Assign) or len(other.targets) != 1:
                continue
            target = other.targets[0].target
            if isinstance(target, cst.Attribute) and self.names.qualified_name(target, event.scope) == hook:
                if self.holder(other.value, event.scope) is None:
                    return True
        return False

    def _finalizer(self, call: cst.Call, name: str, event: _Event) -> tuple[cst.CSTNode, str] | None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if not positional or self.self_method(positional[0].value, event.scope) is None:
            return None
        for arg in call.args[1:]:
            if arg.star or arg is positional[0]:
                continue
            method = self.self_method(arg.value, event.scope) or self.holder(arg.value, event.scope)
            if method is None:
                method = self._self_in_collection(arg.value, event.scope)
            if method is not None and not self._exempt(method):
                return self._report(
                    call,
                    "holds `self` in the finalizer's callback or arguments: `self` is never collected "
                    "and the finalizer only runs at exit; pass a function and the resources to clean "
                    "up, not `self` or its bound methods",
                )
        return None

    def _self_in_collection(self, expr: cst.BaseExpression, scope: Scope) -> _Method | None:
        if isinstance(expr, (cst.Tuple, cst.List)):
            for element in expr.elements:
                found = self.self_method(element.value, scope) or self.holder(element.value, scope)
                if found is not None:
                    return found
        return None

    def _decorated(self, node: cst.FunctionDef, event: _Event) -> tuple[cst.CSTNode, str] | None:
        """``@atexit.register`` on a nested function that uses ``self``."""
        for decorator in node.decorators:
            name = self.names.qualified_name(decorator.decorator, event.scope)
            if name not in _ACCUMULATING:
                continue
            scope = self.rule._scopes.get(id(node))
            method = self._uses_self(node, node.params, node.body, scope)
            if method is None or self._exempt(method):
                return None
            removal = _ACCUMULATING[name]
            if self._end_of_life(method.klass) is None or self._class_calls_function(method.klass, removal):
                return None
            return self._report(
                decorator,
                f"registers a function that uses `self`: it keeps `self` alive until the interpreter "
                f"exits, one entry per instance, and nothing in `{method.klass.node.name.value}` calls "
                f"`{removal}`",
            )
        return None

    # -- module-level containers --------------------------------------------------------------------
    def _container_add(self, call: cst.Call, event: _Event) -> tuple[cst.CSTNode, str] | None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ADDING_METHODS:
            return None
        container = self._interpreter_list(func.value, event.scope) or self._module_container(
            _root_container(func.value), event.scope
        )
        if container is None:
            return None
        method = self._held_by_argument(call, _ADDING_METHODS[func.attr.value], event.scope)
        if method is None or self._exempt(method):
            return None
        keyed = func.attr.value == "setdefault"
        if keyed and self._end_of_life(method.klass) is None:
            return None
        return self._report(call, self._container_message(container, keyed=keyed))

    def _container_message(self, container: str, keyed: bool = False) -> str:
        kept = "the last instance registered under each key" if keyed else "every instance"
        return (
            f"keeps {kept} alive for the life of the process: nothing removes from `{container}`; "
            "remove the callback when the object is done, or hold it with `weakref.WeakMethod`"
        )

    def _interpreter_list(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        name = self.names.qualified_name(expr, scope)
        if name is None or name not in _INTERPRETER_LISTS:
            return None
        if self._removed_anywhere(lambda e, s: self.names.qualified_name(e, s) == name):
            return None
        return name

    def _module_container(self, expr: cst.BaseExpression | None, scope: Scope) -> str | None:
        """The name of a container created once at the top of this module, never removed from."""
        if not isinstance(expr, cst.Name):
            return None
        found = self.names.lookup(expr.value, scope)
        module = self.names.module_scope
        if found is None or found[0] is not module or len(found[1]) != 1 or module.star_import:
            return None
        binding = found[1][0]
        if binding.kind != ASSIGN or binding.value is None or not self._is_container(binding.value):
            return None
        key = id(binding)
        if key not in self._container_removed:
            self._container_removed[key] = self._removed_anywhere(
                lambda e, s: (
                    isinstance(e, cst.Name)
                    and e.value == expr.value
                    and (hit := self.names.lookup(e.value, s)) is not None
                    and hit[0] is module
                )
            )
            if not self._container_removed[key]:
                self._container_removed[key] = _escapes(self.rule.context.module, expr.value)
        return None if self._container_removed[key] else expr.value

    def _is_container(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, (cst.List, cst.Dict, cst.Set)):
            return True
        if isinstance(value, cst.Call):
            return self.names.qualified_name(value.func, self.names.module_scope) in _CONTAINER_FACTORIES
        return False

    def _removed_anywhere(self, matches: Callable[[cst.BaseExpression, Scope], bool]) -> bool:
        """Whether any code in the module removes from (or empties) the container."""
        for event in self.rule._events:
            node = event.node
            if isinstance(node, cst.Attribute):
                if node.attr.value in _REMOVING_METHODS and matches(_root_container(node.value), event.scope):
                    return True
            elif isinstance(node, cst.Del):
                for target in _del_targets(node.target):
                    if isinstance(target, cst.Subscript) and matches(
                        _root_container(target.value), event.scope
                    ):
                        return True
            elif isinstance(node, cst.Assign):
                for assign_target in node.targets:
                    sub = assign_target.target
                    if isinstance(sub, cst.Subscript) and isinstance(sub.slice[0].slice, cst.Slice):
                        if matches(_root_container(sub.value), event.scope):
                            return True
        return False

    # -- shared questions ---------------------------------------------------------------------------
    def _held_by_argument(self, call: cst.Call, position: int, scope: Scope) -> _Method | None:
        positional = [a for a in call.args if a.keyword is None]
        if any(a.star for a in positional[: position + 1]) or len(positional) <= position:
            return None
        return self.holder(positional[position].value, scope)

    def _class_events(self, klass: _Class) -> Iterator[_Event]:
        """Events in the class, its bases and its subclasses in this module: a removal in any of
        them may apply to the instance."""
        related = self._related(klass)
        for event in self.rule._events:
            if any(id(c.node) in related for c in event.classes):
                yield event

    def _related(self, klass: _Class) -> set[int]:
        ancestors: set[int] = set()
        self._add_with_bases(klass, ancestors)
        descendants = {id(klass.node)}
        grew = True
        while grew:
            grew = False
            for other in self.rule._by_node.values():
                if id(other.node) not in descendants and any(
                    id(b.node) in descendants for b in self.bases(other)
                ):
                    descendants.add(id(other.node))
                    grew = True
        return ancestors | descendants

    def _class_calls_function(self, klass: _Class, function: str) -> bool:
        return self._class_calls(klass, lambda qualified, call: qualified == function)

    def _class_calls(self, klass: _Class, predicate: Callable[[str | None, cst.Call], bool]) -> bool:
        for event in self._class_events(klass):
            if isinstance(event.node, cst.Call):
                qualified = self.names.qualified_name(event.node.func, event.scope)
                if predicate(qualified, event.node):
                    return True
        return False

    def _event_scope(self, node: cst.CSTNode) -> Scope | None:
        for event in self.rule._events:
            if event.node is node:
                return event.scope
        return None

    def _exempt(self, method: _Method) -> bool:
        """The instance lives as long as the process anyway: a module-level singleton, or a class
        that keeps its one instance itself."""
        if self._singletons is None:
            self._singletons = self._find_singletons()
        klass = method.klass
        return id(klass.node) in self._singletons or _singleton_pattern(klass)

    def _find_singletons(self) -> set[int]:
        """Classes (and their bases in this module) instantiated at the module's top level or in
        its ``main()``."""
        made: set[int] = set()
        module = self.names.module_scope
        for event in self.rule._events:
            node = event.node
            if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Name) or event.classes:
                continue
            if event.scope is not module and not _in_main(event.scope):
                continue
            found = self.names.lookup(node.func.value, event.scope)
            if found is None or found[0] is not module or len(found[1]) != 1 or found[1][0].kind != CLASS:
                continue
            klass = self.rule._by_node.get(id(found[1][0].node))
            if klass is not None:
                self._add_with_bases(klass, made)
        return made

    def _add_with_bases(self, klass: _Class, made: set[int], depth: int = 0) -> None:
        if id(klass.node) in made or depth > 10:
            return
        made.add(id(klass.node))
        for base in self.bases(klass):
            self._add_with_bases(base, made, depth + 1)


def _escapes(module: cst.Module, name: str) -> bool:
    """Whether the container's name is handed to other code (an argument, a returned or assigned
    value, an element of a display): it may be emptied there. Shadowing is ignored, which only
    ever costs a finding."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _READERS:
            stack.extend(arg.value for arg in node.args)  # ``len(_LISTENERS)`` only reads it
            continue
        handed = _handed_values(node)
        if any(isinstance(value, cst.Name) and value.value == name for value in handed):
            return True
        stack.extend(node.children)
    return False


def _handed_values(node: cst.CSTNode) -> list[cst.BaseExpression | None]:
    if isinstance(node, cst.Yield):  # ``yield from X`` iterates X, it does not hand X out
        return [] if isinstance(node.value, cst.From) else [node.value]
    if isinstance(node, (cst.Arg, cst.Element, cst.Return, cst.NamedExpr)):
        return [node.value]
    if isinstance(node, cst.Assign):
        return [node.value]
    if isinstance(node, cst.AnnAssign):
        return [node.value]
    return []


def _imported_hook_names(index: AstIndex) -> set[str]:
    """Local names bound by ``from <hook module> import ...`` (under any alias)."""
    names: set[str] = set()
    for node in index.nodes(ast.ImportFrom):
        if node.module is not None and node.module.split(".")[0] in _HOOK_MODULES:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _module_containers(tree: ast.Module) -> set[str]:
    """Names bound at the module's top level (any statement nesting) to a display or a call."""
    found: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(
            stmt.value, (ast.List, ast.Dict, ast.Set, ast.Call)
        ):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            found.update(t.id for t in targets if isinstance(t, ast.Name))
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field_name in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(stmt, field_name, []))
    return found


def _prescreen_callee(func: ast.expr, imported: set[str], containers: set[str]) -> bool:
    name = _last_name(func)
    if name in _HOOK_NAMES or name in imported:
        return True
    if isinstance(func, ast.Attribute) and func.attr in _ADDING_METHODS:
        owner = func.value
        if isinstance(owner, ast.Attribute) and owner.attr in ("callbacks", "path_hooks"):
            return True
        return _ast_root(owner) in containers
    return False


def _last_name(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return None


def _ast_root(expr: ast.expr) -> str | None:
    """The ``ast`` twin of :func:`_root_container`."""
    while True:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr
            in (
                "setdefault",
                "get",
            )
        ):
            expr = expr.func.value
        else:
            return expr.id if isinstance(expr, ast.Name) else None


def _end_of_life_name(callback: cst.BaseExpression) -> str | None:
    """``close`` for ``self.close``: registering the method that ends the instance's use."""
    if isinstance(callback, cst.Attribute) and callback.attr.value in _END_OF_LIFE:
        return callback.attr.value
    return None


def _singleton_pattern(klass: _Class) -> bool:
    """``_instance = None`` in the class body, or a base or metaclass named like a singleton."""
    if any(name in klass.scope.bindings for name in _SINGLETON_ATTRIBUTES):
        return True
    arguments = [*klass.node.bases, *klass.node.keywords]
    return any("singleton" in (dotted(a.value) or "").lower() for a in arguments)


def _in_main(scope: Scope) -> bool:
    node = scope.node
    return (
        scope.kind == "function"
        and scope.parent is not None
        and scope.parent.parent is None
        and isinstance(node, cst.FunctionDef)
        and node.name.value in _MAIN_FUNCTIONS
    )


def _callee(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.func if isinstance(expr, cst.Call) else expr


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


def _mentions_self(node: cst.CSTNode) -> bool:
    """Whether the name ``self`` is read anywhere in ``node`` (attribute names aside)."""
    if isinstance(node, cst.Name):
        return node.value == "self"
    if isinstance(node, cst.Attribute):
        return _mentions_self(node.value)
    return any(_mentions_self(child) for child in node.children)


def _root_container(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``_HANDLERS`` for ``_HANDLERS[event]``, ``_HANDLERS.setdefault(event, [])`` or
    ``_HANDLERS.get(event, [])``: the registry a nested list belongs to."""
    while True:
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and expr.func.attr.value in ("setdefault", "get")
        ):
            expr = expr.func.value
        else:
            return expr


def _del_targets(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _del_targets(element.value)
    else:
        yield target
