"""The contract between the engine and a rule.

A rule is a LibCST batchable visitor: the engine instantiates every enabled rule once per file and
walks the tree once with all of them. Rules never compute positions or text offsets themselves;
they report nodes, and the engine resolves positions only for files that have something to report.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.diagnostics import Diagnostic
    from memlint.facts import FactCollector, ProjectFacts
    from memlint.noqa import NoqaMap


@dataclass(frozen=True)
class Option:
    """A per-rule setting, read from ``[tool.memlint.<rule-name>]``."""

    name: str
    default: Any
    description: str

    @property
    def type(self) -> type:
        return type(self.default)


@dataclass(frozen=True)
class Replace:
    """Replace the source span of ``node`` with ``replacement`` (a node or literal text)."""

    node: cst.CSTNode
    replacement: cst.CSTNode | str


@dataclass(frozen=True)
class InsertText:
    """Insert ``text`` just before (or after) the source span of ``node``."""

    node: cst.CSTNode
    text: str
    after: bool = False


@dataclass(frozen=True)
class ReplaceLines:
    """Replace whole physical lines, from the line where ``first`` starts up to and including the
    line where ``last`` ends, with ``text`` (which must end with a newline)."""

    first: cst.CSTNode
    last: cst.CSTNode
    text: str


@dataclass(frozen=True)
class InsertLine:
    """Insert a whole line before the line where ``node`` starts, indented like that line.

    ``text`` is the line without indentation or newline; the engine adds both.
    """

    node: cst.CSTNode
    text: str


@dataclass(frozen=True)
class IndentLines:
    """Indent every non-blank physical line from ``first``'s line to ``last``'s by ``unit``.

    Rules must not use this over lines that start inside a multi-line string.
    """

    first: cst.CSTNode
    last: cst.CSTNode
    unit: str


@dataclass(frozen=True)
class AddImport:
    """Ensure ``import module`` (or ``from module import name``) exists at module level."""

    module: str
    name: str | None = None


NodeEdit = Replace | InsertText | ReplaceLines | InsertLine | IndentLines | AddImport


@dataclass(frozen=True)
class FixProposal:
    applicability: Applicability
    message: str
    edits: tuple[NodeEdit, ...]


@dataclass(frozen=True)
class Report:
    node: cst.CSTNode
    message: str
    fix: FixProposal | None = None
    code: str = ""


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know about the file it is checking."""

    path: str
    source: str
    module: cst.Module
    options: dict[str, Any] = field(default_factory=dict)
    target_version: tuple[int, int] = (3, 10)
    module_name: str | None = None
    is_test_file: bool = False
    facts: ProjectFacts | None = None


class Rule(cst.BatchableCSTVisitor):
    """Base class of every memlint rule. Subclasses set the class variables below.

    The class docstring is the rule's user documentation, in ruff's sections: ``## What it does``,
    ``## Why is this bad?``, ``## Example``, ``## Use instead``, ``## Fix safety``.
    """

    CODE: ClassVar[str]
    NAME: ClassVar[str]
    SUMMARY: ClassVar[str]
    FIX: ClassVar[FixAvailability] = FixAvailability.NONE
    PREVIEW: ClassVar[bool] = False
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    #: Project-wide facts this rule reads (see memlint.facts).
    FACTS: ClassVar[tuple[type[FactCollector], ...]] = ()
    #: The rule is skipped for a file containing none of these substrings (a cheap pre-screen).
    #: Empty means "always run".
    PRESCREEN: ClassVar[tuple[str, ...]] = ()
    #: A rule about the suppression comments themselves: it does not visit the tree; the engine
    #: calls ``check_noqa`` after the other rules' findings have been matched to comments.
    CHECKS_NOQA: ClassVar[bool] = False

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.reports: list[Report] = []
        #: Enclosing nodes of the types named in ``@tracks_ancestors``, outermost first.
        self.ancestors: list[cst.CSTNode] = []

    def report(self, node: cst.CSTNode, message: str, fix: FixProposal | None = None) -> None:
        self.reports.append(Report(node=node, message=message, fix=fix, code=self.CODE))

    def option(self, name: str) -> Any:
        if name in self.context.options:
            return self.context.options[name]
        for opt in self.OPTIONS:
            if opt.name == name:
                return opt.default
        raise KeyError(f"{self.NAME} has no option {name!r}")

    def code_for(self, node: cst.CSTNode) -> str:
        return self.context.module.code_for_node(node)

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """Whether this file may hold a finding, judged cheaply from Python's ``ast``.

        Returning False keeps LibCST away from the file for this rule, so it must never hide a
        finding: when in doubt, return True (the default). A test over the standard library
        checks that the pre-screens change no finding.
        """
        return True

    @classmethod
    def check_noqa(
        cls, noqa_map: NoqaMap, enabled: tuple[str, ...], source: str, path: str
    ) -> list[Diagnostic]:
        raise NotImplementedError(f"{cls.__name__} sets CHECKS_NOQA but has no check_noqa")

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def doc_path(cls) -> str:
        """Where the rendered documentation lives in the repository (docs/rules/)."""
        return f"docs/rules/{cls.CODE}.md"


RuleT = TypeVar("RuleT", bound=type[Rule])


def tracks_ancestors(*node_types: str) -> Callable[[RuleT], RuleT]:
    """Class decorator: keep ``self.ancestors`` up to date for the named node types.

    LibCST's batched visitor dispatches on method ``__name__``, so the generated methods are
    given real names; only the listed types pay the cost.
    """

    def decorate(cls: RuleT) -> RuleT:
        for name in node_types:

            def visit(self: Rule, node: cst.CSTNode) -> None:
                self.ancestors.append(node)

            def leave(self: Rule, original_node: cst.CSTNode) -> None:
                self.ancestors.pop()

            visit.__name__ = visit.__qualname__ = f"visit_{name}"
            leave.__name__ = leave.__qualname__ = f"leave_{name}"
            if f"visit_{name}" in cls.__dict__ or f"leave_{name}" in cls.__dict__:
                raise TypeError(f"{cls.__name__} defines its own visit/leave_{name}")
            setattr(cls, f"visit_{name}", visit)
            setattr(cls, f"leave_{name}", leave)
        return cls

    return decorate
