"""Checking one file: decode, ``ast`` guard, pre-screen, one LibCST parse, one batched visit.

The order matters for speed and safety. ``ast`` (C, fast) reports syntax errors and refuses the
pathological inputs that crash LibCST; the pre-screen keeps LibCST away from files where no
enabled rule can fire; positions are resolved only for files with something to report, and only
for the nodes their findings and fixes name (memlint.positions).
"""

from __future__ import annotations

import ast
import os
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from memlint.ast_index import AstIndex
from memlint.diagnostics import Diagnostic, Edit, FileProblem, Fix, Location
from memlint.facts import ProjectFacts
from memlint.noqa import NoqaMap, build_noqa_map, code_matches, file_directive
from memlint.positions import Positions, resolve_positions
from memlint.rule import (
    AddImport,
    FixProposal,
    IndentLines,
    InsertLine,
    InsertText,
    NodeEdit,
    Replace,
    ReplaceLines,
    Report,
    Rule,
    RuleContext,
)
from memlint.sources import LineIndex

#: Beyond these sizes LibCST's parser slows down quadratically and can overflow the native stack
#: (a 3,000-term ``a+a+...`` takes 2 s, 5,000 terms 36 s, 50,000 crash the process); such files
#: are generated data, not code with memory anti-patterns, and are skipped with a warning.
MAX_LINE_LENGTH = 20_000
MAX_STATEMENT_LINES = 5_000
#: LibCST's visitors recurse once per level and fail past about 330 ``ast`` levels (at the default
#: recursion limit), while its parser still spends seconds to minutes reaching that point (a
#: 50,000-term sum split over 1,250 lines, which Python 3.10 accepts, never finishes): deeper
#: files are refused before LibCST sees them, which loses nothing it could have found.
MAX_AST_DEPTH = 500
#: Larger sources are generated (hand-written modules stay under 500 kB): even ``ast.parse`` costs
#: seconds and gigabytes on them, LibCST minutes, so they are skipped before any parsing.
MAX_SOURCE_CHARS = 1_000_000
#: LibCST trees of real code are at most ~35 levels deep and its recursion fails near 300: a
#: RecursionError in a tree shallower than this comes from a rule, and is reported as its error.
LIBCST_DEEP = 150

#: Syntax errors that mean "too deep for a parser", not "newer syntax": never retried with LibCST.
_TOO_DEEP_MARKERS = ("too many nested", "too complex", "recursion", "null bytes")


@dataclass(frozen=True)
class FileOptions:
    """Everything the engine needs to check one file; picklable for worker processes."""

    rules: tuple[type[Rule], ...]
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    target_version: tuple[int, int] = (3, 10)
    module_name: str | None = None
    is_test_file: bool = False
    #: The cheap pre-screens (substrings, then ``ast``); off only to verify they hide nothing.
    prescreen: bool = field(default_factory=lambda: not prescreen_disabled())


@dataclass
class LintOutcome:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    skipped: bool = False
    #: The suppression comments of the file, each with the codes it was used for.
    noqa_map: NoqaMap | None = None
    suppressed: int = 0


def parse_ast(source: str, path: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, filename=path)


def syntax_error_diagnostic(path: str, exc: SyntaxError | ValueError, source: str) -> Diagnostic:
    if isinstance(exc, SyntaxError) and "null bytes" not in str(exc.msg):
        loc = Location(exc.lineno or 1, max(exc.offset or 1, 1))
        message = f"SyntaxError: {exc.msg}"
    else:  # null bytes: ValueError on 3.11, SyntaxError without a useful position later
        loc = LineIndex(source).location(max(source.find("\0"), 0))
        message = "SyntaxError: source code cannot contain null bytes"
    return Diagnostic(path=path, code=None, message=message, location=loc, end_location=loc)


def lint_source(
    source: str,
    path: str,
    options: FileOptions,
    facts: ProjectFacts | None = None,
    tree: ast.Module | None = None,
    apply_noqa: bool = True,
) -> LintOutcome:
    """Lint decoded ``source``; never raises for anything the input can do.

    ``apply_noqa=False`` leaves ``# noqa`` to the caller (flake8 applies its own).
    """
    outcome = LintOutcome()
    directive = file_directive(source)
    if directive.skip_all:
        outcome.skipped = True
        return outcome
    rules = [r for r in options.rules if not code_matches(r.CODE, directive.codes)]
    noqa_rules = [r for r in rules if r.CHECKS_NOQA]
    diagnostics = _lint_with_rules(
        source, path, [r for r in rules if not r.CHECKS_NOQA], options, facts, tree, outcome
    )
    if diagnostics is None:  # not analysed (syntax error, skipped): nothing more to say
        return outcome
    if not apply_noqa:
        outcome.diagnostics.extend(diagnostics)
        return outcome
    if not diagnostics and not noqa_rules:
        return outcome
    noqa_map = build_noqa_map(source)
    outcome.noqa_map = noqa_map
    for diag in diagnostics:
        code = diag.code
        assert code is not None
        diag = replace(diag, noqa_row=noqa_map.statement_range(diag.location.row)[1])
        comment = noqa_map.suppressing(diag.location.row, code)
        if comment is not None:
            comment.used.add(code)
            outcome.suppressed += 1
            continue
        outcome.diagnostics.append(diag)
    if noqa_rules and not outcome.problems:
        enabled = tuple(r.CODE for r in options.rules)
        for rule in noqa_rules:
            outcome.diagnostics.extend(rule.check_noqa(noqa_map, enabled, source, path))
    return outcome


def _lint_with_rules(
    source: str,
    path: str,
    rules: list[type[Rule]],
    options: FileOptions,
    facts: ProjectFacts | None,
    tree: ast.Module | None,
    outcome: LintOutcome,
) -> list[Diagnostic] | None:
    """The rules' findings before ``# noqa``; None when the file could not be analysed."""
    if len(source) > MAX_SOURCE_CHARS:
        message = f"larger than {MAX_SOURCE_CHARS:,} characters (generated?); file skipped"
        outcome.problems.append(FileProblem(path, message, severity="warning"))
        return None
    ast_error: SyntaxError | None = None
    if tree is None:
        try:
            tree = parse_ast(source, path)
        except (SyntaxError, ValueError) as exc:
            if isinstance(exc, SyntaxError):
                ast_error = exc
            if not _libcst_may_accept(exc, source):
                outcome.diagnostics.append(syntax_error_diagnostic(path, exc, source))
                return None
        except (RecursionError, MemoryError):
            outcome.problems.append(
                FileProblem(path, "too deeply nested to analyse; file skipped", severity="warning")
            )
            return None

    screened = [r for r in rules if not options.prescreen or _prescreen(r, source)]
    if tree is not None and screened and options.prescreen:
        ast_index = AstIndex(tree, source, path)
        screened = [r for r in screened if _ast_prescreen(r, ast_index, facts, path, outcome)]
    if not screened and tree is not None:
        return []
    oversized = _oversized(source, tree)
    if oversized is not None:
        outcome.problems.append(FileProblem(path, f"{oversized}; file skipped", severity="warning"))
        return None
    module = _parse_cst(source, path, ast_error, outcome)
    if module is None:
        return None
    if not screened:
        return []

    reports, problems, wrapper = _visit(module, source, path, screened, options, facts)
    outcome.problems.extend(problems)
    if not reports:
        return []
    index = LineIndex(source)
    try:
        positions = resolve_positions(module, _placed_nodes(reports, module), source, index, wrapper)
    except RecursionError:  # LibCST's codegen recurses too (met here when no rule needed a visit)
        outcome.problems.append(FileProblem(path, "too deeply nested for LibCST; file skipped", "warning"))
        return None
    diagnostics = []
    for report in reports:
        try:
            diagnostics.append(_to_diagnostic(report, path, module, positions, index, screened))
        except Exception as exc:  # a rule's fix that cannot be resolved is the rule's bug
            outcome.problems.append(_problem(path, report.code, exc))
    return diagnostics


def _parse_cst(
    source: str, path: str, ast_error: SyntaxError | None, outcome: LintOutcome
) -> cst.Module | None:
    """LibCST's tree, or None with the reason recorded (``ast``'s syntax error when it failed too:
    its message and position are the interpreter's own)."""
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        if ast_error is None:
            message = f"LibCST cannot parse this valid file ({exc.message}); skipped"
            outcome.problems.append(FileProblem(path, message, "warning"))
        else:
            outcome.diagnostics.append(syntax_error_diagnostic(path, ast_error, source))
    except (RecursionError, MemoryError):
        outcome.problems.append(FileProblem(path, "too deeply nested for LibCST; file skipped", "warning"))
    return None


def _oversized(source: str, tree: ast.Module | None) -> str | None:
    """Why LibCST should not be given this file, if it should not (see MAX_LINE_LENGTH)."""
    if len(source) > MAX_LINE_LENGTH and max(map(len, source.splitlines())) > MAX_LINE_LENGTH:
        return f"a line is longer than {MAX_LINE_LENGTH:,} characters"
    if tree is not None:
        for stmt in _statements(tree):
            if not hasattr(stmt, "body") and (stmt.end_lineno or 0) - stmt.lineno > MAX_STATEMENT_LINES:
                return f"a statement spans more than {MAX_STATEMENT_LINES:,} lines"
        if _deeper_than(tree, MAX_AST_DEPTH):
            return f"an expression is nested more than {MAX_AST_DEPTH} levels deep"
    return None


def _deeper_than(tree: ast.AST, limit: int) -> bool:
    """Whether any node lies more than ``limit`` levels below ``tree``.

    A one-line expression cannot hold more levels than about twice its width (each level adds at
    least one character, except a same-width wrapper or a context leaf, and its parts lie inside
    it), so short expressions are never descended into: about one step per statement on ordinary
    code. Compound statements are always descended (a decorator lies outside a one-line ``def``)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if (
            isinstance(node, (ast.expr, ast.stmt))
            and node.lineno == node.end_lineno
            and node.end_col_offset is not None
            and not hasattr(node, "body")
        ):
            if depth + 2 * (node.end_col_offset - node.col_offset) + 3 <= limit:
                continue
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """Top-level statements and those one level inside classes and functions (cheap to list).

    Only simple statements can be deep: a long class or function is just long."""
    out: list[ast.stmt] = []
    for stmt in tree.body:
        out.append(stmt)
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            out.extend(stmt.body)
    return out


def _libcst_may_accept(exc: SyntaxError | ValueError, source: str) -> bool:
    """Newer syntax than this interpreter's ``ast`` knows may still be valid: let LibCST try."""
    if not isinstance(exc, SyntaxError):
        return False
    message = (exc.msg or "").lower()
    return not any(marker in message for marker in _TOO_DEEP_MARKERS)


def _ast_prescreen(
    rule: type[Rule], index: AstIndex, facts: ProjectFacts | None, path: str, outcome: LintOutcome
) -> bool:
    """The rule's own ``ast`` pre-screen; one that raises is that rule's error, not the file's."""
    try:
        return rule.ast_prescreen(index, facts)
    except Exception as exc:
        outcome.problems.append(_problem(path, rule.CODE, exc))
        return False


def _prescreen(rule: type[Rule], source: str) -> bool:
    return not rule.PRESCREEN or any(token in source for token in rule.PRESCREEN)


def prescreen_disabled() -> bool:
    """``MEMLINT_NO_PRESCREEN=1`` runs LibCST on every file (to check the pre-screens)."""
    return os.environ.get("MEMLINT_NO_PRESCREEN") == "1"


def _problem(path: str, code: str | None, exc: BaseException) -> FileProblem:
    return FileProblem(
        path=path,
        message=f"internal error: {type(exc).__name__}: {exc}",
        severity="error",
        rule=code,
        traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def _visit(
    module: cst.Module,
    source: str,
    path: str,
    rules: Sequence[type[Rule]],
    options: FileOptions,
    facts: ProjectFacts | None,
) -> tuple[list[Report], list[FileProblem], MetadataWrapper | None]:
    def make(rule: type[Rule]) -> Rule:
        context = RuleContext(
            path=path,
            source=source,
            module=module,
            options=options.rule_options.get(rule.NAME, {}),
            target_version=options.target_version,
            module_name=options.module_name,
            is_test_file=options.is_test_file,
            facts=facts,
        )
        return rule(context)

    wrapper: MetadataWrapper | None = None

    def run(instances: list[Rule]) -> None:
        nonlocal wrapper
        if any(inst.get_inherited_dependencies() for inst in instances):
            if wrapper is None:
                wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
            wrapper.visit_batched(instances)
        elif all(_module_only(type(inst), inst) for inst in instances):
            _visit_module_only(module, instances)
        else:
            cst.visit_batched(module, instances)

    problems: list[FileProblem] = []
    instances = [make(r) for r in rules]
    try:
        run(instances)
    except Exception as exc:
        if isinstance(exc, RecursionError) and _cst_deeper_than(module, LIBCST_DEEP):
            return [], [FileProblem(path, "too deeply nested for LibCST; file skipped", "warning")], None
        # Find the rule at fault by running each alone (a recursion in a shallow tree is a rule's
        # own, e.g. name resolution running away); keep the others' findings.
        instances = []
        for rule in rules:
            inst = make(rule)
            try:
                run([inst])
            except Exception as exc:
                problems.append(_problem(path, rule.CODE, exc))
                continue
            instances.append(inst)
    reports = [rep for inst in instances for rep in inst.reports]
    return reports, problems, wrapper


#: The callbacks that need no traversal: LibCST calls them on the module itself.
_MODULE_CALLBACKS = frozenset({"visit_Module", "leave_Module"})
_module_only_cache: dict[type[Rule], bool] = {}


def _module_only(rule: type[Rule], instance: Rule) -> bool:
    """Whether the rule's only LibCST callbacks (as ``visit_batched`` collects them: no-op stubs
    left out) are ``visit_Module`` and ``leave_Module``; cached per class, as they are class-wide."""
    known = _module_only_cache.get(rule)
    if known is None:
        known = _module_only_cache[rule] = set(instance.get_visitors()) <= _MODULE_CALLBACKS
    return known


def _visit_module_only(module: cst.Module, instances: Sequence[Rule]) -> None:
    """What ``visit_batched`` does for visitors of the module alone, without its traversal, which
    rebuilds every node of the tree (about the cost of a parse): each visitor's ``visit_Module``
    in order, then each one's ``leave_Module``."""
    visitors = [inst.get_visitors() for inst in instances]
    for name in ("visit_Module", "leave_Module"):
        for methods in visitors:
            method = methods.get(name)
            if method is not None:
                method(module)


def _placed_nodes(reports: Sequence[Report], module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every node whose position the reports and their fixes need."""
    for report in reports:
        yield report.node
        if report.fix is None:
            continue
        for edit in report.fix.edits:
            if isinstance(edit, (Replace, InsertText, InsertLine)):
                yield edit.node
            elif isinstance(edit, (ReplaceLines, IndentLines)):
                yield edit.first
                yield edit.last
            elif isinstance(edit, AddImport):
                yield from module.body  # placed after the docstring and leading imports


def _cst_deeper_than(module: cst.CSTNode, limit: int) -> bool:
    """Whether LibCST's tree goes deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[cst.CSTNode, int]] = [(module, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in node.children)
    return False


def _to_diagnostic(
    report: Report,
    path: str,
    module: cst.Module,
    positions: Positions,
    index: LineIndex,
    rules: Sequence[type[Rule]],
) -> Diagnostic:
    start = positions.start(report.node)
    end = positions.end(report.node)
    fix = None
    if report.fix is not None:
        fix = resolve_fix(report.fix, module, positions, index)
    name = next((r.NAME for r in rules if r.CODE == report.code), None)
    return Diagnostic(
        path=path,
        code=report.code,
        message=report.message,
        location=start,
        end_location=end,
        fix=fix,
        rule_name=name,
    )


def resolve_fix(proposal: FixProposal, module: cst.Module, positions: Positions, index: LineIndex) -> Fix:
    edits = [e for edit in proposal.edits for e in _resolve_edit(edit, module, positions, index)]
    edits.sort(key=lambda e: (e.start, e.end))  # stable: insertions at one point keep their order
    return Fix(applicability=proposal.applicability, message=proposal.message, edits=tuple(edits))


def _edit(start: int, end: int, content: str, index: LineIndex) -> Edit:
    return Edit(start, end, content, index.location(start), index.location(end))


def _resolve_edit(edit: NodeEdit, module: cst.Module, positions: Positions, index: LineIndex) -> list[Edit]:
    if isinstance(edit, Replace):
        start, end = positions.span(edit.node)
        if isinstance(edit.replacement, str):
            content = edit.replacement
        else:
            content = render_at(module, edit.node, edit.replacement)
        return [_edit(start, end, content, index)]
    if isinstance(edit, InsertText):
        start, end = positions.span(edit.node)
        at = end if edit.after else start
        return [_edit(at, at, edit.text, index)]
    if isinstance(edit, ReplaceLines):
        start = index.line_start(positions.start_row(edit.first))
        end = index.offset(positions.end_row(edit.last) + 1, 0)
        return [_edit(start, end, edit.text, index)]
    if isinstance(edit, InsertLine):
        row = positions.start_row(edit.node)
        at = index.line_start(row)
        line = index.line_text(row)
        indent = line[: len(line) - len(line.lstrip(" \t\f"))]
        return [_edit(at, at, indent + edit.text + module.default_newline, index)]
    if isinstance(edit, IndentLines):
        first, last = positions.start_row(edit.first), positions.end_row(edit.last)
        return [
            _edit(at, at, edit.unit, index)
            for row in range(first, last + 1)
            if index.line_text(row).strip()
            for at in [index.line_start(row) + _indent_point(index.line_text(row))]
        ]
    if isinstance(edit, AddImport):
        resolved = _resolve_import(edit, module, positions, index)
        return [resolved] if resolved else []
    raise TypeError(f"unknown edit {edit!r}")


_MARKER = "__memlint_render_marker__"


def render_at(module: cst.Module, original: cst.CSTNode, replacement: cst.CSTNode) -> str:
    """The code of ``replacement`` as it must read where ``original`` stands.

    ``Module.code_for_node`` renders as if at top level, so continuation lines of a multi-line
    node inside indented blocks would lose the blocks' indentation; such nodes are rendered
    inside a skeleton of the same blocks instead (public LibCST API only).
    """
    code = module.code_for_node(replacement)
    if "\n" not in code and "\r" not in code:
        return code
    indents = [
        block.indent if block.indent is not None else module.default_indent
        for block in _path_to(module, original)
        if isinstance(block, cst.IndentedBlock)
    ]
    if not indents or not isinstance(replacement, cst.BaseExpression):
        return code

    def nested(inner: cst.BaseExpression) -> str:
        body: list[cst.BaseStatement] = [cst.SimpleStatementLine([cst.Expr(inner)])]
        for indent in reversed(indents):
            body = [cst.If(test=cst.Name("x"), body=cst.IndentedBlock(body=body, indent=indent))]
        return module.with_changes(body=body, header=[], footer=[]).code

    skeleton = nested(cst.Name(_MARKER))
    at = skeleton.index(_MARKER)
    before, after = skeleton[:at], skeleton[at + len(_MARKER) :]
    text = nested(replacement)
    return text[len(before) : len(text) - len(after)]


def _path_to(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes from ``root`` down to ``target`` (by identity); empty when not found."""
    stack: list[tuple[cst.CSTNode, int]] = [(root, 0)]
    path: list[cst.CSTNode] = []
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        path.append(node)
        if node is target:
            return path
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return []


def _indent_point(line: str) -> int:
    """Where added indentation counts: after the last form feed of the leading whitespace, which
    resets the tokenizer's column (a unit put before it would be discarded)."""
    indent = line[: len(line) - len(line.lstrip(" \t\f"))]
    return indent.rfind("\f") + 1


def _resolve_import(
    edit: AddImport, module: cst.Module, positions: Positions, index: LineIndex
) -> Edit | None:
    """Insert the import after the docstring and the leading imports; nothing if present."""
    insert_after: cst.CSTNode | None = None
    for i, stmt in enumerate(module.body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        small = stmt.body
        if (
            i == 0
            and len(small) == 1
            and isinstance(small[0], cst.Expr)
            and isinstance(small[0].value, (cst.SimpleString, cst.ConcatenatedString))
        ):
            insert_after = stmt
            continue
        if all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in small):
            if _provides(small, edit):
                return None
            insert_after = stmt
            continue
        break
    for stmt in module.body:  # present further down, at module level?
        if isinstance(stmt, cst.SimpleStatementLine) and _provides(stmt.body, edit):
            return None
    text = f"from {edit.module} import {edit.name}" if edit.name else f"import {edit.module}"
    newline = module.default_newline
    if insert_after is None:
        if not module.body:
            at = index.offset(10**9, 0)
            return _edit(at, at, text + newline, index)
        at = index.line_start(positions.start_row(module.body[0]))
        return _edit(at, at, text + newline, index)
    at = index.offset(positions.end_row(insert_after) + 1, 0)
    return _edit(at, at, text + newline, index)


def _provides(small: Sequence[cst.BaseSmallStatement], edit: AddImport) -> bool:
    for s in small:
        if isinstance(s, cst.Import) and edit.name is None:
            for alias in s.names:
                if alias.asname is None and cst.helpers.get_full_name_for_node(alias.name) == edit.module:
                    return True
        if isinstance(s, cst.ImportFrom) and edit.name is not None and s.module is not None:
            if cst.helpers.get_full_name_for_node(s.module) == edit.module and not isinstance(
                s.names, cst.ImportStar
            ):
                for alias in s.names:
                    if alias.asname is None and cst.helpers.get_full_name_for_node(alias.name) == edit.name:
                        return True
    return False
