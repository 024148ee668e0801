"""MEM303: an exception or traceback kept beyond the handler that caught it."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import FixAvailability
from memlint.facts import ProjectFacts
from memlint.rule import Rule, RuleContext
from memlint.rules._names import PARAM, NameTracker, Scope, with_tracker

EXC, TB, INFO, FRAME = "exception", "traceback", "exc_info", "frame"
#: Container methods that keep their argument: (method, index of the kept argument).
_RETAINING = {"append": 0, "appendleft": 0, "add": 0, "insert": 1, "extend": 0, "setdefault": 1, "update": 0}
#: Documented places for the last unhandled exception (read by ``pdb.pm()``).
_POST_MORTEM = frozenset({"sys.last_type", "sys.last_value", "sys.last_traceback", "sys.last_exc"})
_EXIT_METHODS = frozenset({"__exit__", "__aexit__"})
_STATIC = frozenset({"builtins.staticmethod"})
_CLASS_LEVEL = frozenset({"builtins.classmethod"})
#: Methods that take items out of a container: a container its own class drains is a hand-off queue.
_CONSUMING = frozenset({"popleft", "pop", "popitem", "get", "get_nowait", "clear"})


@dataclass(frozen=True)
class Holder:
    """An expression that references an exception's traceback (directly or through the exception)."""

    kind: str
    description: str

    @property
    def has_traceback(self) -> bool:
        return self.kind in (TB, INFO, FRAME)


@dataclass
class _Frame:
    """One scope being analysed: the module, a class body or a function."""

    kind: str  # "module" | "class" | "function"
    scope: Scope
    self_name: str | None = None
    cls_name: str | None = None
    params: dict[str, Holder] = field(default_factory=dict)
    aliases: dict[str, Holder] = field(default_factory=dict)
    handlers: list[str | None] = field(default_factory=list)
    order: dict[int, int] = field(default_factory=dict)  # id(small statement) -> position
    #: (position, code) of `x = None`, `del x`, `x.clear()`, `return x`...
    clears: list[tuple[float, str]] = field(default_factory=list)
    frames_cleared: bool = False
    #: Attributes of the instance that a method of the same class drains (`self.queue.popleft()`).
    drained: frozenset[str] = frozenset()


class ExceptionKeptAlive(Rule):
    """
    ## What it does
    Checks for exceptions and tracebacks stored where they outlive the handler that caught them:

    - the caught exception (or `sys.exc_info()`, `exc.__traceback__`, a frame of it) assigned to an
      attribute of `self` or `cls`, or of a module-level object, or added to such a container
      (`self.errors.append(exc)`, `FAILURES[key] = exc`), or bound to a module-level name;
    - the same for the exception and traceback that `__exit__` receives;
    - a traceback or `sys.exc_info()` tuple bound to a local variable inside the handler of the
      same function and never deleted.

    It stays silent when the stored value has no traceback (`exc.with_traceback(None)`, `str(exc)`,
    `traceback.format_exc()`), when the function clears the frames (`traceback.clear_frames()`) or
    the traceback (`exc.__traceback__ = None`), when the attribute or variable is reset to `None`,
    deleted, returned or walked to its end (`while tb: tb = tb.tb_next`) later in the same
    function, when the module releases the attribute on its owner after use
    (`outcome.failure = None`; setting it to `None` on `self` in `__init__` does not count), and for
    the post-mortem variables `sys.last_value` and `sys.last_traceback`. Passing the exception on
    (`raise ... from exc`, logging it, returning it, `future.set_exception(exc)`, `queue.put(exc)`,
    appending it to an instance queue that the same class takes items out of with `popleft()`,
    `pop()`, `get()` or `clear()`) is not storing it, and neither is a local variable holding the exception
    itself (the "remember the last error and re-raise it" idiom). Test files are not checked: test
    runners release each test case once it has run.

    ## Why is this bad?
    An exception references its traceback, and the traceback references every frame between the
    handler and the `raise`, each with all its local variables. Storing the exception on a
    long-lived object keeps all of that alive with it. Measured on CPython 3.11 with
    `tracemalloc`: ten job objects that each stored the exception raised by a function with a
    10 MB local buffer held 100 MB; storing `exc.with_traceback(None)` or clearing the frames
    first held nothing. A traceback kept in a local of the function that caught it forms a
    reference cycle (the traceback references the frame, the frame references the traceback):
    this is why Python deletes the `except ... as` name at the end of the handler. Ten calls of
    such a function with the collector paused held 100 MB until `gc.collect()`.

    ## Example
    ```python
    class Job:
        def run(self):
            try:
                self.result = compute()
            except Exception as exc:
                self.error = exc
    ```

    ## Use instead
    ```python
    import traceback


    class Job:
        def run(self):
            try:
                self.result = compute()
            except Exception as exc:
                # keep the message and the formatted stack, not the frames
                self.error = traceback.TracebackException.from_exception(exc)
    ```
    When the exception itself is needed later (to re-raise it in another thread), store
    `exc.with_traceback(None)`, or call `traceback.clear_frames(exc.__traceback__)` first: the
    traceback keeps its lines but the frames drop their local variables. For a local traceback,
    `del tb` in a `finally` clause.

    ## Fix safety
    There is no fix: whether the traceback is needed later (to print it, to re-raise with it) is
    a decision the code's author has to make.
    """

    CODE = "MEM303"
    NAME = "exception-kept-alive"
    SUMMARY = "Exception or traceback kept beyond its handler"
    FIX = FixAvailability.NONE
    PREVIEW = True
    PRESCREEN = ("except", "exc_info", "__exit__")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files where something can hold a traceback: a handler that uses its ``as`` name, a
        call or import of ``exc_info``/``exception``, or an ``__exit__`` method."""
        if index.calls_to("exc_info", "exception"):
            return True
        for node in index.nodes(ast.ImportFrom):
            if any(a.name in ("exc_info", "exception", "*") for a in node.names):
                return True
        functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = [
            *index.nodes(ast.FunctionDef),
            *index.nodes(ast.AsyncFunctionDef),
        ]
        if any(f.name in _EXIT_METHODS for f in functions):
            return True
        return any(_uses_own_name(handler) for handler in index.nodes(ast.ExceptHandler))

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._scopes: dict[int, Scope] = {}
        #: Statements already reported (one finding per statement).
        self._reported: set[int] = set()
        self._released: frozenset[str] = frozenset()

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes[id(node)] = self.names.current

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes[id(node)] = self.names.current

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file:
            return
        released = _ReleasedAttributes()
        original_node.visit(released)
        #: Attribute names the module sets to None or deletes on an object other than `self`:
        #: the owner of the object releases what was stored there (`outcome.failure = None`).
        self._released = frozenset(released.names)
        frame = _Frame("module", self.names.module_scope)
        self._analyse(frame, original_node.body)

    # -- frames -----------------------------------------------------------------------------------
    def _analyse(self, frame: _Frame, body: Sequence[cst.BaseStatement]) -> None:
        for position, item in enumerate(_smalls(body)):
            frame.order[id(item)] = position
            if isinstance(item, cst.While):
                _note_exhausting_loop(frame, item, position)
            else:
                self._note_clear(frame, item, position)
        self._walk(frame, body)

    def _function_frame(self, node: cst.FunctionDef) -> _Frame | None:
        scope = self._scopes.get(id(node))
        if scope is None:
            return None
        frame = _Frame("function", scope)
        params = [*node.params.posonly_params, *node.params.params]
        parent = scope.parent
        if parent is not None and parent.kind == "class" and params:
            decorators = {self.names.qualified_name(d.decorator, parent) for d in node.decorators}
            if decorators & _CLASS_LEVEL or node.name.value in ("__new__", "__init_subclass__"):
                frame.cls_name = params[0].name.value
            elif not decorators & _STATIC:
                frame.self_name = params[0].name.value
                if node.name.value in _EXIT_METHODS:
                    self._exit_params(frame, node, params)
        return frame

    @staticmethod
    def _exit_params(frame: _Frame, node: cst.FunctionDef, params: list[cst.Param]) -> None:
        exit_kinds = {
            2: Holder(EXC, "the exception passed to `__exit__`"),
            3: Holder(TB, "the traceback passed to `__exit__`"),
        }
        for index, holder in exit_kinds.items():
            if index < len(params):
                frame.params[params[index].name.value] = holder
        star = node.params.star_arg
        if isinstance(star, cst.Param) and len(params) == 1:
            frame.params[star.name.value] = Holder(INFO, "the exception details passed to `__exit__`")

    def _walk(self, frame: _Frame, body: Sequence[cst.BaseStatement]) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._small(frame, small)
            elif isinstance(stmt, cst.FunctionDef):
                inner = self._function_frame(stmt)
                if inner is not None:
                    inner.drained = frame.drained if frame.kind == "class" else frozenset()
                    self._analyse(inner, _statements(stmt.body))
            elif isinstance(stmt, cst.ClassDef):
                scope = self._scopes.get(id(stmt))
                if scope is not None:
                    drained = frozenset(_drained_attributes(stmt))
                    self._analyse(_Frame("class", scope, drained=drained), _statements(stmt.body))
            elif isinstance(stmt, (cst.Try, cst.TryStar)):
                self._walk(frame, _statements(stmt.body))
                for handler in stmt.handlers:
                    name = handler.name.name if handler.name is not None else None
                    frame.handlers.append(name.value if isinstance(name, cst.Name) else None)
                    self._walk(frame, _statements(handler.body))
                    frame.handlers.pop()
                for extra in (stmt.orelse, stmt.finalbody):
                    if extra is not None:
                        self._walk(frame, _statements(extra.body))
            else:
                for suite in _suites(stmt):
                    self._walk(frame, _statements(suite))

    # -- what holds a traceback -------------------------------------------------------------------
    def _holder(self, frame: _Frame, expr: cst.BaseExpression) -> Holder | None:
        if isinstance(expr, cst.Name):
            name = expr.value
            if name in frame.handlers:
                return Holder(EXC, "the caught exception")
            return frame.aliases.get(name) or frame.params.get(name)
        if isinstance(expr, cst.Call):
            return self._call_holder(frame, expr)
        if isinstance(expr, cst.Attribute):
            base = self._holder(frame, expr.value)
            if base is None:
                return None
            attr = expr.attr.value
            if base.kind == EXC and attr == "__traceback__":
                return Holder(TB, "a traceback")
            if base.kind == EXC and attr in ("__context__", "__cause__"):
                return Holder(EXC, "a chained exception")
            if base.kind == TB and attr == "tb_next":
                return Holder(TB, "a traceback")
            if base.kind in (TB, FRAME) and attr in ("tb_frame", "f_back"):
                return Holder(FRAME, "a frame")
            return None
        if isinstance(expr, cst.Subscript):
            return self._subscript_holder(frame, expr)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return _strongest(self._holder(frame, e.value) for e in expr.elements)
        if isinstance(expr, cst.Dict):
            return _strongest(
                self._holder(frame, part)
                for e in expr.elements
                if isinstance(e, cst.DictElement)
                for part in (e.key, e.value)
            )
        return None

    def _call_holder(self, frame: _Frame, call: cst.Call) -> Holder | None:
        name = self.names.qualified_name(call.func, frame.scope)
        if name == "sys.exc_info" and not call.args:
            return Holder(INFO, "`sys.exc_info()`")
        if name == "sys.exception" and not call.args:
            return Holder(EXC, "the exception being handled")
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "with_traceback" and len(call.args) == 1:
            arg = call.args[0].value
            if isinstance(arg, cst.Name) and arg.value == "None":
                return None
            return self._holder(frame, func.value)
        return None

    def _subscript_holder(self, frame: _Frame, expr: cst.Subscript) -> Holder | None:
        base = self._holder(frame, expr.value)
        if base is None or base.kind != INFO or len(expr.slice) != 1:
            return None
        index = expr.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
            position = int(index.value.evaluated_value)
            if position == 1:
                return Holder(EXC, "the exception from `sys.exc_info()`")
            if position == 2:
                return Holder(TB, "the traceback from `sys.exc_info()`")
        return None

    # -- statements --------------------------------------------------------------------------------
    def _small(self, frame: _Frame, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Assign):
            holder = self._holder(frame, small.value)
            for target in small.targets:
                self._bind(frame, target.target, small.value, holder)
                self._sink(frame, target.target, holder, small, value=small.value)
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and small.value is not None:
            holder = self._holder(frame, small.value)
            if isinstance(small, cst.AnnAssign):
                self._bind(frame, small.target, small.value, holder)
            self._sink(frame, small.target, holder, small, value=small.value)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self._container_call(frame, small.value, small)

    def _bind(
        self, frame: _Frame, target: cst.BaseExpression, value: cst.BaseExpression, holder: Holder | None
    ) -> None:
        """Remember local names that now hold a traceback (``err = exc``, ``t, v, tb = sys.exc_info()``)."""
        if isinstance(target, cst.Name):
            if holder is not None:
                frame.aliases[target.value] = holder
            else:
                frame.aliases.pop(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)) and holder is not None and holder.kind == INFO:
            parts = [
                Holder(EXC, "the exception from `sys.exc_info()`"),
                Holder(TB, "the traceback from `sys.exc_info()`"),
            ]
            for index, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name) and 1 <= index <= 2:
                    frame.aliases[element.value.value] = parts[index - 1]

    def _container_call(self, frame: _Frame, call: cst.Call, small: cst.BaseSmallStatement) -> None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _RETAINING:
            return
        index = _RETAINING[func.attr.value]
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if index >= len(positional):
            return
        value = positional[index].value
        if func.attr.value in ("extend", "update") and not isinstance(
            value, (cst.List, cst.Tuple, cst.Set, cst.Dict)
        ):
            return
        holder = self._holder(frame, value)
        if holder is not None:
            self._sink(frame, func.value, holder, small, method=func.attr.value)

    # -- where it is kept --------------------------------------------------------------------------
    def _sink(
        self,
        frame: _Frame,
        target: cst.BaseExpression,
        holder: Holder | None,
        small: cst.BaseSmallStatement,
        method: str | None = None,
        value: cst.BaseExpression | None = None,
    ) -> None:
        if holder is None or id(small) in self._reported:
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            if holder.kind == INFO and method is None:
                self._unpacked(frame, target, small)
            return
        position = frame.order.get(id(small), -1)
        code = self.code_for(target)
        if frame.frames_cleared or self._cleared_later(frame, code, position):
            return
        if isinstance(target, cst.Name) and method is None:
            # a second name for a value already held is not where the cycle starts
            alias = isinstance(value, cst.Name)
            self._name_sink(frame, target, holder, small, alias=alias)
            return
        if code in _POST_MORTEM or self._passed_on(frame, target, method):
            return
        lifetime = self._lifetime(frame, target)
        if lifetime is None:
            return
        where = f"`{code}.{method}(...)`" if method else f"`{code}`"
        self._reported.add(id(small))
        self.report(
            small,
            f"{where} keeps {holder.description} alive {lifetime}, and with it every frame of its traceback "
            "and all their local variables; keep `exc.with_traceback(None)` or a "
            "`traceback.TracebackException`, or call `traceback.clear_frames()` on the traceback first",
        )

    def _unpacked(self, frame: _Frame, target: cst.Tuple | cst.List, small: cst.BaseSmallStatement) -> None:
        """``etype, value, tb = sys.exc_info()`` in a handler: the traceback local is the cycle."""
        elements = target.elements
        if len(elements) == 3 and isinstance(elements[2].value, cst.Name):
            name = elements[2].value
            position = frame.order.get(id(small), -1)
            if not frame.frames_cleared and not self._cleared_later(frame, name.value, position):
                self._name_sink(
                    frame, name, Holder(TB, "the traceback from `sys.exc_info()`"), small, at=small
                )

    def _name_sink(
        self,
        frame: _Frame,
        target: cst.Name,
        holder: Holder,
        small: cst.BaseSmallStatement,
        at: cst.CSTNode | None = None,
        alias: bool = False,
    ) -> None:
        name = target.value
        if id(small) in self._reported:
            return
        if frame.kind == "module" or name in frame.scope.global_names:
            self._reported.add(id(small))
            self.report(
                at or target,
                f"module-level `{name}` keeps {holder.description} alive for the life of the process, and "
                "with it every frame of its traceback and all their local variables; keep "
                "`exc.with_traceback(None)` or a `traceback.TracebackException` instead",
            )
        elif frame.kind == "function" and frame.handlers and holder.has_traceback and not alias:
            self._reported.add(id(small))
            self.report(
                at or target,
                f"`{name}` holds {holder.description} of an exception caught in this function: the traceback "
                f"references this frame and the frame references `{name}`, a cycle that keeps every local "
                f"variable alive until the garbage collector runs; `del {name}` when done (in a `finally`)",
            )

    def _passed_on(self, frame: _Frame, target: cst.BaseExpression, method: str | None) -> bool:
        """A queue the class drains hands the exception on, and an attribute the module releases on
        its owner (`outcome.failure = None` after the run) does not outlive its use."""
        if method is not None or isinstance(target, cst.Subscript):
            container = target.value if isinstance(target, cst.Subscript) else target
            attr = _self_attribute(container, frame.self_name)
            return attr is not None and attr in frame.drained
        attr = _self_attribute(target, frame.self_name)
        return attr is not None and attr in self._released

    def _lifetime(self, frame: _Frame, target: cst.BaseExpression) -> str | None:
        """How long the object a stored attribute or item belongs to lives (None: not long)."""
        root = target
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            root = root.value
        if not isinstance(root, cst.Name):
            return None
        name = root.value
        if name == frame.self_name:
            return "as long as the instance"
        if name == frame.cls_name or (frame.kind == "class" and name in frame.scope.bindings):
            return "as long as the class"
        found = self.names.lookup(name, frame.scope)
        if found is None:
            return None
        scope, bindings = found
        if scope.kind == "module":
            return "for the life of the process"
        if scope.is_function and scope is not frame.scope and any(b.kind == PARAM for b in bindings):
            owner = scope.node
            if (
                isinstance(owner, cst.FunctionDef)
                and scope.parent is not None
                and scope.parent.kind == "class"
            ):
                params = [*owner.params.posonly_params, *owner.params.params]
                if params and params[0].name.value == name:
                    return "as long as the instance"
        return None

    # -- clearing ----------------------------------------------------------------------------------
    def _note_clear(self, frame: _Frame, small: cst.BaseSmallStatement, position: int) -> None:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                if _is_none(small.value) or _is_empty_container(small.value):
                    frame.clears.append((position, self.code_for(target.target)))
                if isinstance(target.target, cst.Attribute) and target.target.attr.value == "__traceback__":
                    frame.frames_cleared = frame.frames_cleared or _is_none(small.value)
        elif isinstance(small, cst.Return) and isinstance(small.value, cst.Name):
            frame.clears.append((position, small.value.value))
        elif isinstance(small, cst.Del):
            for element in _del_targets(small.target):
                frame.clears.append((position, self.code_for(element)))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            name = self.names.qualified_name(call.func, frame.scope)
            if name == "traceback.clear_frames":
                frame.frames_cleared = True
            func = call.func
            if isinstance(func, cst.Attribute):
                if func.attr.value == "clear" and not call.args:
                    frame.clears.append((position, self.code_for(func.value)))
                elif (
                    func.attr.value == "with_traceback"
                    and len(call.args) == 1
                    and _is_none(call.args[0].value)
                ):
                    frame.frames_cleared = True

    @staticmethod
    def _cleared_later(frame: _Frame, code: str, position: int) -> bool:
        return any(at > position and cleared == code for at, cleared in frame.clears)


def _self_attribute(node: cst.BaseExpression, self_name: str | None) -> str | None:
    """``X`` for ``self.X`` (None for anything else)."""
    if (
        self_name is not None
        and isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == self_name
    ):
        return node.attr.value
    return None


def _first_param(node: cst.FunctionDef) -> str | None:
    params = [*node.params.posonly_params, *node.params.params]
    return params[0].name.value if params else None


def _drained_attributes(cls: cst.ClassDef) -> Iterator[str]:
    """Attributes of the instance that a method of the class takes items out of, directly
    (`self.queue.popleft()`) or through a local (`events = self.queue; events.popleft()`)."""
    for stmt in _statements(cls.body):
        if not isinstance(stmt, cst.FunctionDef):
            continue
        self_name = _first_param(stmt)
        if self_name is None:
            continue
        aliases: dict[str, str] = {}
        for assign in _find(stmt.body, cst.Assign):
            attr = _self_attribute(assign.value, self_name)
            if (
                attr is not None
                and len(assign.targets) == 1
                and isinstance(assign.targets[0].target, cst.Name)
            ):
                aliases[assign.targets[0].target.value] = attr
        for call in _find(stmt.body, cst.Call):
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in _CONSUMING:
                continue
            if func.attr.value in ("get", "get_nowait") and any(a.keyword is None for a in call.args):
                continue  # `mapping.get(key)` looks an item up; `queue.get()` takes one out
            receiver = func.value
            attr = _self_attribute(receiver, self_name)
            if attr is None and isinstance(receiver, cst.Name):
                attr = aliases.get(receiver.value)
            if attr is not None:
                yield attr


_N = TypeVar("_N", bound=cst.CSTNode)


def _find(node: cst.CSTNode, kind: type[_N]) -> Iterator[_N]:
    """The nodes of one kind under ``node``, not descending into nested definitions."""
    for child in node.children:
        if isinstance(child, kind):
            yield child
        if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            yield from _find(child, kind)


class _ReleasedAttributes(cst.CSTVisitor):
    """Attribute names set to None or deleted on an object that is not the method's own instance
    (`outcome.failure = None`, `del job.error`): ``self.error = None`` in ``__init__`` initialises
    the attribute, it does not release anything."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        #: For each enclosing definition: the instance parameter of a method, else None.
        self._selves: list[str | None] = []
        self._in_class: list[bool] = [False]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._in_class.append(True)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._in_class.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._selves.append(_first_param(node) if self._in_class[-1] else None)
        self._in_class.append(False)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._selves.pop()
        self._in_class.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if _is_none(node.value):
            for target in node.targets:
                self._note(target.target)

    def visit_Del(self, node: cst.Del) -> None:
        for target in _del_targets(node.target):
            self._note(target)

    def _note(self, target: cst.BaseExpression) -> None:
        if not isinstance(target, cst.Attribute) or not isinstance(target.value, cst.Name):
            return
        if target.value.value in ("self", "cls") or (self._selves and target.value.value == self._selves[-1]):
            return
        self.names.add(target.attr.value)


def _uses_own_name(handler: ast.ExceptHandler) -> bool:
    if handler.name is None:
        return False
    return any(
        isinstance(node, ast.Name) and node.id == handler.name
        for stmt in handler.body
        for node in ast.walk(stmt)
    )


def _note_exhausting_loop(frame: _Frame, loop: cst.While, position: int) -> None:
    """``while tb: ...; tb = tb.tb_next`` leaves ``tb`` None when the loop ends."""
    test = loop.test
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        comparison = test.comparisons[0]
        if isinstance(comparison.operator, cst.IsNot) and _is_none(comparison.comparator):
            test = test.left
    if not isinstance(test, cst.Name):
        return
    inside = list(_smalls(_statements(loop.body)))
    for small in inside:
        if isinstance(small, cst.Assign) and any(
            isinstance(t.target, cst.Name) and t.target.value == test.value for t in small.targets
        ):
            frame.clears.append((position + len(inside) + 0.5, test.value))  # when the loop ends
            return


def _strongest(holders: Iterator[Holder | None]) -> Holder | None:
    found = [h for h in holders if h is not None]
    if not found:
        return None
    best = next((h for h in found if h.has_traceback), found[0])
    return Holder(best.kind if best.kind != INFO else INFO, best.description)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_empty_container(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.List, cst.Dict)) and not node.elements


def _del_targets(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _del_targets(element.value)
    else:
        yield target


def _statements(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    return [cst.SimpleStatementLine(body=suite.body)] if isinstance(suite, cst.SimpleStatementSuite) else []


def _suites(stmt: cst.BaseStatement) -> Iterator[cst.BaseSuite]:
    """The blocks of a compound statement other than a definition or ``try``."""
    if isinstance(stmt, cst.If):
        yield stmt.body
        orelse = stmt.orelse
        while isinstance(orelse, cst.If):
            yield orelse.body
            orelse = orelse.orelse
        if orelse is not None:
            yield orelse.body
    elif isinstance(stmt, (cst.For, cst.While)):
        yield stmt.body
        if stmt.orelse is not None:
            yield stmt.orelse.body
    elif isinstance(stmt, cst.With):
        yield stmt.body
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield case.body


def _smalls(body: Sequence[cst.BaseStatement]) -> Iterator[cst.BaseSmallStatement | cst.While]:
    """The small statements of a scope in source order, not descending into definitions, and the
    ``while`` statements (just before their bodies)."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            yield from _smalls(_statements(stmt.body))
            for handler in stmt.handlers:
                yield from _smalls(_statements(handler.body))
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    yield from _smalls(_statements(extra.body))
        else:
            if isinstance(stmt, cst.While):
                yield stmt
            for suite in _suites(stmt):
                yield from _smalls(_statements(suite))
