"""Property-based tests: whatever the source, the engine never raises, and fixes always parse.

Two sources of programs: hypothesmith (valid Python from the grammar and from LibCST's node
types) and random mutations of the fixture files, which hold the code every rule reacts to (a
random program almost never calls ``gc.disable()`` or builds a list to sum it). The cheap
pre-screens are switched off so that every rule visits every generated program. The default run
is short; ``-m slow`` runs many more examples.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlint.diagnostics import Diagnostic, FileProblem
from memlint.engine import FileOptions, lint_source
from memlint.facts import ModuleInfo, facts_for_single_tree, module_name_for
from memlint.fixer import FixPolicy, fix_source, parse_error
from memlint.registry import all_rules
from memlint.runner import collectors_of
from memlint.sources import decode_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILES = sorted(
    p for p in FIXTURES.rglob("*.py") if ".fixed" not in p.name and ".fixed" not in p.parent.name
)
RULES = all_rules()
OPTIONS = FileOptions(rules=RULES, prescreen=False)
EVERY_FIX = FixPolicy(unsafe=True)
QUICK = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True
)
LONG = settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def lint_and_fix(source: str, path: str = "fuzz.py") -> None:
    """The properties: linting never raises nor reports an internal error; when the input parses,
    fixing (unsafe fixes included) yields code that parses and no fix is refused as invalid."""
    facts = None
    if parses(source):
        tree = ast.parse(source)
        info = ModuleInfo(path=path, name=module_name_for(path))
        facts = facts_for_single_tree(tree, info, collectors_of(RULES))

    def lint(current: str) -> tuple[list[Diagnostic], list[FileProblem]]:
        outcome = lint_source(current, path, OPTIONS, facts)
        return outcome.diagnostics, outcome.problems

    diagnostics, problems = lint(source)
    assert not [p for p in problems if "internal error" in p.message], problems
    if not parses(source):
        return
    assert all(d.code is not None for d in diagnostics), "a parseable file reported as a syntax error"
    fixed = fix_source(source, path, lint, EVERY_FIX)
    assert not [p for p in fixed.problems if p.severity == "error"], fixed.problems
    assert parse_error(fixed.source) is None


# -- hypothesmith: valid programs -----------------------------------------------------------------


@QUICK
@given(source=hypothesmith.from_grammar())
def test_programs_from_the_grammar(source: str) -> None:
    lint_and_fix(source)


@QUICK
@given(source=hypothesmith.from_node())
def test_programs_from_libcst_nodes(source: str) -> None:
    lint_and_fix(source)


@pytest.mark.slow
@LONG
@given(source=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()))
def test_many_generated_programs(source: str) -> None:
    lint_and_fix(source)


# -- mutations of the fixtures --------------------------------------------------------------------

Mutation = Callable[[list[str]], list[str]]
#: Text that shifts structure when dropped in anywhere: brackets, quotes, keywords, indentation.
NOISE = [
    "(",
    ")",
    "[",
    "]",
    ":",
    "'",
    '"""',
    "#",
    "\\",
    "\t",
    "    ",
    "\x0c",
    "\r",
    "\n",
    "lambda",
    " if ",
    "*",
]


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "noise", "truncate"]))
    a, b = draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000))
    noise = draw(st.sampled_from(NOISE))

    def apply(lines: list[str]) -> list[str]:
        if not lines:
            return lines
        i, j = a % len(lines), b % len(lines)
        out = list(lines)
        if kind == "delete":
            low = min(i, j)
            del out[low : min(max(i, j) + 1, low + 3)]
        elif kind == "duplicate":
            out.insert(j, out[i])
        elif kind == "swap":
            out[i], out[j] = out[j], out[i]
        elif kind == "indent":
            out[i] = "    " + out[i]
        elif kind == "dedent":
            out[i] = out[i][4:] if out[i].startswith("    ") else out[i].lstrip()
        elif kind == "noise":
            column = b % (len(out[i]) + 1)
            out[i] = out[i][:column] + noise + out[i][column:]
        else:
            out = out[: i + 1]
        return out

    return apply


def mutate(path: Path, steps: list[Mutation]) -> str:
    lines = decode_source(path.read_bytes()).text.splitlines(keepends=True)
    for step in steps:
        lines = step(lines)
    return "".join(lines)


def test_fixtures_are_found() -> None:
    assert len(FIXTURE_FILES) > 50


@QUICK
@given(path=st.sampled_from(FIXTURE_FILES), steps=st.lists(mutations(), min_size=1, max_size=4))
def test_mutated_fixtures(path: Path, steps: list[Mutation]) -> None:
    lint_and_fix(mutate(path, steps), path.name)


@pytest.mark.slow
@LONG
@given(path=st.sampled_from(FIXTURE_FILES), steps=st.lists(mutations(), min_size=1, max_size=6))
def test_many_mutated_fixtures(path: Path, steps: list[Mutation]) -> None:
    lint_and_fix(mutate(path, steps), path.name)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_unmutated(path: Path) -> None:
    """The starting points themselves, every rule on each (fixtures are written for one rule)."""
    lint_and_fix(decode_source(path.read_bytes()).text, path.name)
