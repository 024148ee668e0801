"""MEM201: a class whose instances are plausibly numerous lacks ``__slots__``."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import libcst as cst

from memlint.ast_index import AstIndex
from memlint.diagnostics import Applicability, FixAvailability
from memlint.facts import ModuleInfo, ProjectFacts, module_name_for
from memlint.rule import FixProposal, InsertText, NodeEdit, Replace, Rule, RuleContext, tracks_ancestors
from memlint.rules._class_facts import ClassFacts, ClassIndex, Decision, Evidence, collect_module, path_key
from memlint.rules.strong_parent_reference import ParentLinks, weakly_referenced_classes

#: Bytes saved per instance on CPython 3.11 by ``__slots__``, by attribute count (tracemalloc over
#: 20,000 instances; 3.12 saves 8 B less, 3.13 the same). Listing ``__weakref__`` costs 8 B.
_SAVED_311 = ((5, 40), (10, 48), (20, 56))
#: The same on 3.10, where every instance carries a full ``__dict__`` (80-128 B for 1-20 attributes).
_SAVED_310 = 100
_LINE_LENGTH = 88

_KIND_PHRASES = {
    "loop": "in a loop",
    "comprehension": "in a comprehension",
    "generator expression": "in a generator expression",
    "map": "through `map()`",
}


@tracks_ancestors("IndentedBlock", "FunctionDef")
class MissingSlots(Rule):
    """
    ## What it does
    Checks for classes without `__slots__` whose instances are plausibly numerous: somewhere in
    the project (any module, following imports, aliases and re-exports) the class is instantiated
    in a loop, a comprehension or a generator expression and the new instance is kept (appended,
    stored, yielded, collected), is mapped over (`map(Point, rows)`), is the factory of a
    `defaultdict`, or is returned by a factory function or method that is called that way
    (`root.add(name)` in a loop). A base class is flagged too when a subclass is numerous: a
    subclass's slots only take effect when every class above it has slots.

    What is not evidence: loops over small literals or constant ranges (also through a local or
    `self.` name only ever bound to one), a stack (`append` with `pop()` or `del s[-1]` in the same
    function), a queue's `put`, code under `if __name__ == "__main__":`, test modules, and GUI
    modules (they import tkinter, Qt, wx or GTK: their objects are bounded by the screen and wrap
    toolkit resources far larger than the saving).

    It only flags classes where slots would work: every base is `object`, a class of the project
    that has (or gets in the same run) `__slots__`, or a standard class that is slotted itself
    (`abc.ABC`, `typing.Generic`, the `collections.abc` and `numbers` ABCs). Classes with other
    bases (exceptions, enums, named tuples, typed dicts, protocols, third-party classes), a
    metaclass other than `ABCMeta`, an unknown class decorator, a subclass that combines them with
    another layout (`class E(Mixin, KeyError)`), or a need for an instance `__dict__` (they use
    `__dict__` or `vars()`, call `setattr` with a computed name, use `functools.cached_property`,
    define `__setattr__`, swap `__class__`, or get attributes written from outside the class where
    that can be seen) are left alone. `@dataclass` classes are told to use `slots=True` when the
    target version is 3.10 or later; attrs classes (`@define`, `@attr.s(slots=True)`) are slotted.

    ## Why is this bad?
    Without `__slots__`, every instance can hold a `__dict__`. Measured with `tracemalloc` over
    100,000 instances of a class with three attributes, an instance takes 96 bytes on CPython 3.11
    and 56 bytes with `__slots__`: 40 bytes (42%) saved per instance (32 bytes when `__weakref__`
    must be listed). The saving is 32-56 bytes on 3.11 to 3.13 for 1 to 20 attributes, and over a
    kilobyte once the instance dictionary is materialised (more than 30 attributes, or any use of
    `__dict__`). On 3.10 an instance always carries a real dictionary: 152 bytes against 56, about
    100 bytes saved. A million small records save 40-100 MB.

    ## Example
    ```python
    class Point:
        def __init__(self, x, y):
            self.x = x
            self.y = y

    points = [Point(x, y) for x, y in rows]
    ```

    ## Use instead
    ```python
    class Point:
        __slots__ = ("x", "y")

        def __init__(self, x, y):
            self.x = x
            self.y = y
    ```
    For a dataclass, `@dataclass(slots=True)` (Python 3.10+).

    ## Fix safety
    The fix is unsafe. It inserts `__slots__` listing every attribute the class's methods assign
    on `self` (or on new instances they create), every annotated instance field, and every
    attribute the project writes on objects that may be instances: a local bound to the class,
    an object checked with `isinstance(obj, Class)`, or an object that uses an attribute only this
    class and at most two others define. `"__weakref__"` is added when instances may be weakly
    referenced: passed to `weakref.ref`/`proxy`/`finalize` or stored in a weak container anywhere
    in the project, referenced from a module that weakly references objects of unknown class, or
    handing `self` to other objects (which MEM301's weak parent links, or libraries, may reference
    weakly). Properties are never listed: their setters' backing attributes are. The fix and
    MEM301's fix never land in the same pass, and MEM301 renames the slot it turns into a property.

    What it cannot see still breaks: attributes written on objects whose class the code does not
    reveal, weak references taken by code outside the project, pickling with protocol 0 or 1
    (`TypeError: a class that defines __slots__ without defining __getstate__ cannot be pickled`;
    the default protocols are fine, and so are `copy` and `deepcopy`), and code that reads
    `vars(obj)` or `obj.__dict__` elsewhere. No fix is offered when a class attribute default has
    the name of a slot (the slot would shadow it), when a base class cannot be fixed as well, for
    dataclasses whose methods use zero-argument `super()` (it fails with `slots=True` before Python
    3.14), and for dataclasses needing `weakref_slot=True` before 3.11.
    """

    CODE = "MEM201"
    NAME = "missing-slots"
    SUMMARY = "Class with many instances lacks `__slots__`"
    FIX = FixAvailability.SOMETIMES
    #: MEM301's facts name the classes its fix will reference weakly (they need ``__weakref__``).
    FACTS = (ClassFacts, ParentLinks)
    PRESCREEN = ("class",)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Only files defining a class that is, or is an ancestor of, a class instantiated as
        evidence somewhere (by simple name, so any target version and any fix pass is covered)."""
        classes = index.nodes(ast.ClassDef)
        if not classes:
            return False
        project: ClassIndex | None = facts.get(ClassFacts) if facts is not None else None
        if project is None:
            return True
        candidates = project.candidate_names()
        return any(node.name in candidates for node in classes)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._qualnames: list[str] = []
        self._decisions: dict[str, Decision] | None = None
        self._module_name = ""

    # -- facts -------------------------------------------------------------------------------
    def _file_decisions(self) -> dict[str, Decision]:
        """Decisions for this file's classes, from the facts refreshed with this file's content.

        The project facts were collected before any fix; this file is re-read so that a class
        fixed in an earlier pass is not flagged again.
        """
        if self._decisions is not None:
            return self._decisions
        self._decisions = {}
        ctx = self.context
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(ctx.source, filename=ctx.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return self._decisions
        index: ClassIndex | None = ctx.facts.get(ClassFacts) if ctx.facts is not None else None
        stored = index.module_at(ctx.path) if index is not None else None
        if stored is not None:
            info = ModuleInfo(stored.path, stored.name, stored.is_package)
        else:
            name = ctx.module_name or module_name_for(ctx.path)
            info = ModuleInfo(ctx.path, name, Path(ctx.path).stem == "__init__")
        fresh = collect_module(tree, info)
        self._module_name = fresh.name
        if index is None:
            index = ClassIndex({ctx.path: fresh})
        elif stored != fresh:
            index = index.with_module(fresh)
        here = path_key(ctx.path)
        weak = weakly_referenced_classes(ctx.facts.get(ParentLinks)) if ctx.facts is not None else frozenset()
        decisions = index.decisions(ctx.target_version, weak)
        self._decisions = {q: d for q, d in decisions.items() if path_key(index.classes[q][1].path) == here}
        return self._decisions

    # -- visiting ----------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        decisions = self._file_decisions()
        outer = self._qualnames[-1] if self._qualnames else self._module_name
        qualname = f"{outer}.{node.name.value}"
        self._qualnames.append(qualname)
        if any(isinstance(a, cst.FunctionDef) for a in self.ancestors):
            return
        decision = decisions.get(qualname)
        if decision is not None:
            self._report(node, decision)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._qualnames.pop()

    def _report(self, node: cst.ClassDef, decision: Decision) -> None:
        message = self._message(decision)
        fix = None
        if decision.no_fix is not None:
            message += f"; no fix: {decision.no_fix}"
        elif decision.is_dataclass:
            fix = self._dataclass_fix(node, decision)
        else:
            fix = self._slots_fix(node, decision)
        self.report(node.name, message, fix)

    # -- message -----------------------------------------------------------------------------
    def _message(self, decision: Decision) -> str:
        evidence = decision.evidence
        subject = f"its subclass `{evidence.via}` " if evidence.via else ""
        if evidence.site.kind == "defaultdict":
            how = "is the factory of a `defaultdict`"
        elif evidence.factory:
            how = f"is created by `{evidence.factory}()` {_KIND_PHRASES[evidence.site.kind]}"
        else:
            how = f"is instantiated {_KIND_PHRASES[evidence.site.kind]}"
        where = f"{subject}{how} {self._location(evidence)}"
        attributes = len([s for s in decision.slots if s != "__weakref__"])
        saved = next((b for limit, b in _SAVED_311 if attributes <= limit), _SAVED_311[-1][1])
        saved_old = _SAVED_310
        if decision.weakref:
            saved, saved_old = saved - 8, saved_old - 8
        gain = f"about {saved} B per instance on CPython 3.11+ (about {saved_old} B on 3.10)"
        if decision.is_dataclass:
            return f"dataclass `{decision.name}` has no slots and {where}: `slots=True` saves {gain}"
        return f"`{decision.name}` has no `__slots__` and {where}: slots save {gain}"

    def _location(self, evidence: Evidence) -> str:
        if path_key(evidence.module.path) == path_key(self.context.path):
            return f"at line {evidence.site.line}"
        return f"at {evidence.module.display_path()}:{evidence.site.line}"

    # -- fixes -------------------------------------------------------------------------------
    def _slots_fix(self, node: cst.ClassDef, decision: Decision) -> FixProposal | None:
        body = node.body
        if not isinstance(body, cst.IndentedBlock) or not body.body:
            return None
        module = self.context.module
        anchor: cst.CSTNode = body.header
        following: cst.BaseStatement | None = body.body[0]
        first = body.body[0]
        if _is_docstring(first):
            assert isinstance(first, cst.SimpleStatementLine)
            anchor = first.trailing_whitespace
            following = body.body[1] if len(body.body) > 1 else None
            if following is None and not module.has_trailing_newline:
                return None
        indent = "".join(self._indent_of(b) for b in self.ancestors if isinstance(b, cst.IndentedBlock))
        unit = self._indent_of(body)
        text = _slots_text(decision.slots, indent + unit, unit, module.default_newline)
        if isinstance(following, (cst.FunctionDef, cst.ClassDef)) and not _starts_with_blank(following):
            text += module.default_newline
        listed = ", ".join(f"`{name}`" for name in decision.slots) or "no attributes"
        return FixProposal(
            Applicability.UNSAFE,
            f"Add `__slots__` to `{decision.name}` ({listed})",
            (InsertText(anchor, text, after=True), _claim(node)),
        )

    def _indent_of(self, block: cst.IndentedBlock) -> str:
        return block.indent if block.indent is not None else self.context.module.default_indent

    def _dataclass_fix(self, node: cst.ClassDef, decision: Decision) -> FixProposal | None:
        decorator = next((d for d in node.decorators if _is_dataclass_decorator(d.decorator)), None)
        if decorator is None:
            return None
        extra = "slots=True, weakref_slot=True" if decision.weakref else "slots=True"
        expr = decorator.decorator
        title = f"Add `{extra}` to the `@dataclass` decorator of `{decision.name}`"
        edit: NodeEdit
        if isinstance(expr, (cst.Name, cst.Attribute)):
            edit = InsertText(expr, f"({extra})", after=True)
        elif isinstance(expr, cst.Call) and "\n" not in self.code_for(expr):
            args = [
                self.code_for(arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)).strip() for arg in expr.args
            ]
            edit = Replace(expr, f"{self.code_for(expr.func)}({', '.join([*args, extra])})")
        else:
            return None
        return FixProposal(Applicability.UNSAFE, title, (edit, _claim(node)))


def _claim(node: cst.ClassDef) -> Replace:
    """An identity edit on the class name. Fixes that plan the same class's layout (MEM301's weak
    property, which renames a slot) claim it too, so they never land in one pass: each fix sees the
    other's result instead of both editing the class blindly."""
    return Replace(node.name, node.name.value)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and bool(stmt.body)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _starts_with_blank(stmt: cst.BaseCompoundStatement) -> bool:
    leading = stmt.leading_lines
    return bool(leading) and leading[0].comment is None


def _is_dataclass_decorator(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call):
        expr = expr.func
    if isinstance(expr, cst.Name):
        return expr.value == "dataclass"
    return isinstance(expr, cst.Attribute) and expr.attr.value == "dataclass"


def _slots_text(names: tuple[str, ...], indent: str, unit: str, newline: str) -> str:
    """``__slots__ = (...)`` on one line, or one name per line when that line would be long."""
    items = [f'"{name}"' for name in names]
    single = f"{indent}__slots__ = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    if len(single) <= _LINE_LENGTH:
        return single + newline
    lines = [f"{indent}__slots__ = (", *(f"{indent}{unit}{item}," for item in items), f"{indent})"]
    return newline.join(lines) + newline
