"""The documentation cannot go stale: generated pages, rule docstrings, registry and references.

A rule's docstring is its user documentation, so its examples are checked like code: the
Example must trigger the rule and the Use-instead code must not. The hand-written configuration
reference must name every setting and every command-line flag the code accepts.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import GenericAlias, ModuleType

import pytest

from memlint.cli import build_parser
from memlint.config import _KEYS, DEFAULT_TARGET_VERSION
from memlint.engine import FileOptions, LintOutcome, lint_source
from memlint.facts import ProjectFacts, merge_facts, read_file_facts
from memlint.registry import all_rules
from memlint.rule import Rule

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
RULES_SOURCE = ROOT / "rules"
KEBAB = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

#: Rules whose documented Example cannot trigger on its own, because the finding depends on
#: other modules of the project. Each entry says why; keep it empty when possible.
EXAMPLE_NEEDS_PROJECT: dict[str, str] = {}


def _load_gen_docs() -> ModuleType:
    """scripts/ is not a package: load the generator from its file (the tests may run against a
    wheel, but the docs and the script are the checkout's)."""
    name = "memlint_gen_docs"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "gen_docs.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


gen_docs = _load_gen_docs()
RULES = all_rules()


def _ids(rule: type[Rule]) -> str:
    return rule.CODE


# -- generated pages ------------------------------------------------------------------------------


def test_generated_docs_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    status = gen_docs.main(["--check"])
    listing = capsys.readouterr().out
    assert status == 0, f"stale documentation; run `python scripts/gen_docs.py`:\n{listing}"


def test_check_mode_lists_stale_and_orphaned_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of the docs with one page edited, one missing and one left over from a removed rule."""
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "configuration.md").write_text(
        (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert gen_docs.write_files(tmp_path)
    first, *rest = RULES
    (tmp_path / "docs" / "rules" / f"{first.CODE}.md").write_text("edited by hand\n", encoding="utf-8")
    orphan = tmp_path / "docs" / "rules" / "MEM999.md"
    orphan.write_text(gen_docs.MARKER + "\n# a removed rule\n", encoding="utf-8")
    hand_written = tmp_path / "docs" / "rules" / "NOTES.md"
    hand_written.write_text("not generated\n", encoding="utf-8")
    if rest:
        (tmp_path / "docs" / "rules" / f"{rest[0].CODE}.md").unlink()

    assert gen_docs.main(["--check"], root=tmp_path) == 1
    listed = capsys.readouterr().out.splitlines()
    expected = {f"docs/rules/{first.CODE}.md is stale", "docs/rules/MEM999.md is stale"}
    if rest:
        expected.add(f"docs/rules/{rest[0].CODE}.md is stale")
    assert set(listed) == expected

    assert gen_docs.main([], root=tmp_path) == 0
    assert gen_docs.main(["--check"], root=tmp_path) == 0
    assert not orphan.exists() and hand_written.exists()


def test_rule_page_carries_metadata_and_docstring() -> None:
    for rule in RULES:
        page = gen_docs.render_rule(rule)
        assert page.startswith(gen_docs.MARKER + "\n")
        assert f"# {rule.NAME} ({rule.CODE})" in page
        assert ("preview" if rule.PREVIEW else "stable") in page
        assert rule.documentation() in page
        for option in rule.OPTIONS:
            assert f"`{option.name}`" in page
        if rule.OPTIONS:
            assert f"[tool.memlint.{rule.NAME}]" in page


def test_catalogue_lists_every_rule_under_its_family() -> None:
    catalogue = gen_docs.render_catalogue(RULES)
    for rule in RULES:
        assert f"[{rule.CODE}]({rule.CODE}.md)" in catalogue
        heading = f"## {gen_docs.family_of(rule.CODE).heading}"
        assert catalogue.index(heading) < catalogue.index(f"[{rule.CODE}]")


def test_options_render_as_toml_that_memlint_accepts(tmp_path: Path) -> None:
    """The TOML shown on a rule page, pasted into pyproject.toml, is a valid configuration."""
    from memlint.config import settings_from_file

    for rule in (r for r in RULES if r.OPTIONS):
        toml = "\n".join(gen_docs.options_toml(rule)[1:-1])
        (tmp_path / "pyproject.toml").write_text("[tool.memlint]\n" + toml + "\n", encoding="utf-8")
        settings = settings_from_file(tmp_path / "pyproject.toml")
        assert settings.rule_options[rule.NAME] == {
            o.name: tuple(o.default) if isinstance(o.default, list) else o.default for o in rule.OPTIONS
        }


# -- rule docstrings ------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_docstring_has_ruffs_sections(rule: type[Rule]) -> None:
    problems = gen_docs.section_problems(rule.documentation())
    assert not problems, f"{rule.CODE} ({rule.__module__}): " + "; ".join(problems)


def test_section_checker_rejects_misordered_and_unknown_sections() -> None:
    good = "\n".join(f"## {title}\ntext" for title in gen_docs.REQUIRED_SECTIONS)
    assert gen_docs.section_problems(good) == []
    assert gen_docs.section_problems(good + "\n## Options\n- `x`: y") == []
    assert gen_docs.section_problems("Intro.\n" + good)
    assert gen_docs.section_problems(good + "\n## References\nx")
    assert gen_docs.section_problems(good + "\n## Options\nx\n## Options\ny")
    swapped = (
        good.replace("## Example", "## TMP")
        .replace("## Use instead", "## Example")
        .replace("## TMP", "## Use instead")
    )
    assert gen_docs.section_problems(swapped)
    assert gen_docs.section_problems(good.replace("## Fix safety\ntext", "## Fix safety\n"))
    in_code = good.replace("## Example\ntext", "## Example\n```python\n# not a heading\n## nor this\n```")
    assert gen_docs.section_problems(in_code) == []


def _rules_for_example(rule: type[Rule]) -> tuple[type[Rule], ...]:
    """The rule alone, except a rule about suppression comments: it judges the other rules'
    ``# noqa`` codes, so they run beside it (its assertions still concern its own code)."""
    if getattr(rule, "CHECKS_NOQA", False):
        return (rule, *(other for other in RULES if other is not rule))
    return (rule,)


def _lint(rule: type[Rule], source: str) -> LintOutcome:
    """Run a rule over a documentation snippet, as a one-file project (its own facts)."""
    path = "example.py"
    rules = _rules_for_example(rule)
    collectors = tuple({c for r in rules for c in r.FACTS})
    facts: ProjectFacts | None = None
    if collectors:
        own = read_file_facts(path, source, collectors)
        facts = merge_facts({path: own} if own is not None else {}, collectors)
    options = FileOptions(rules=rules, target_version=DEFAULT_TARGET_VERSION)
    return lint_source(source, path, options, facts)


def _assert_clean_run(rule: type[Rule], outcome: LintOutcome, section: str) -> None:
    syntax = [d.message for d in outcome.diagnostics if d.code is None]
    assert not syntax, f"{rule.CODE}: the {section} code does not parse: {syntax}"
    assert not outcome.problems, f"{rule.CODE}: {outcome.problems}"


@pytest.mark.parametrize("rule", [r for r in RULES if r.CODE not in EXAMPLE_NEEDS_PROJECT], ids=_ids)
def test_example_triggers_the_rule(rule: type[Rule]) -> None:
    blocks = gen_docs.code_blocks(gen_docs.section_body(rule, "Example"))
    assert blocks, f"{rule.CODE}: the Example section has no ```python block"
    for block in blocks:
        outcome = _lint(rule, block)
        _assert_clean_run(rule, outcome, "Example")
        assert any(d.code == rule.CODE for d in outcome.diagnostics), (
            f"{rule.CODE}: Example not reported:\n{block}"
        )


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_use_instead_does_not_trigger_the_rule(rule: type[Rule]) -> None:
    blocks = gen_docs.code_blocks(gen_docs.section_body(rule, "Use instead"))
    assert blocks, f"{rule.CODE}: the Use instead section has no ```python block"
    for block in blocks:
        outcome = _lint(rule, block)
        _assert_clean_run(rule, outcome, "Use instead")
        found = [d.message for d in outcome.diagnostics if d.code == rule.CODE]
        assert not found, f"{rule.CODE}: Use instead is reported: {found}\n{block}"


def test_exemptions_name_registered_rules() -> None:
    codes = {rule.CODE for rule in RULES}
    assert set(EXAMPLE_NEEDS_PROJECT) <= codes


# -- registry -------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=_ids)
def test_every_rule_has_fixtures(rule: type[Rule]) -> None:
    folder = FIXTURES / rule.CODE
    assert folder.is_dir(), f"{rule.CODE}: no tests/fixtures/{rule.CODE}/"
    cases = [p for p in folder.iterdir() if p.is_dir() or (p.suffix == ".py" and ".fixed" not in p.name)]
    assert cases, f"{rule.CODE}: tests/fixtures/{rule.CODE}/ holds no case"


def test_codes_are_unique_well_formed_and_in_order() -> None:
    codes = [rule.CODE for rule in RULES]
    assert all(re.fullmatch(r"MEM[0-9]{3}", code) for code in codes), codes
    assert len(set(codes)) == len(codes), f"duplicate codes: {codes}"
    assert codes == sorted(codes), f"ALL_RULES is not in code order: {codes}"


def test_names_are_unique_kebab_case() -> None:
    names = [rule.NAME for rule in RULES]
    assert len(set(names)) == len(names), f"duplicate names: {names}"
    bad = [name for name in names if not KEBAB.match(name)]
    assert not bad, f"names must be kebab-case: {bad}"


def _rule_modules() -> list[str]:
    return sorted(p.stem for p in RULES_SOURCE.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("stem", _rule_modules())
def test_rule_module_defines_exactly_one_registered_rule(stem: str) -> None:
    module = importlib.import_module(f"memlint.rules.{stem}")
    defined = [
        obj
        for obj in vars(module).values()
        # On 3.10, isinstance(tuple[str, ...], type) is true: aliases in annotations are not classes.
        if isinstance(obj, type)
        and not isinstance(obj, GenericAlias)
        and issubclass(obj, Rule)
        and obj.__module__ == module.__name__
    ]
    assert len(defined) == 1, (
        f"rules/{stem}.py defines {[c.__name__ for c in defined]}; one rule per module "
        "(shared helpers go in a module whose name starts with '_')"
    )
    assert defined[0] in RULES, f"{defined[0].__name__} is not registered in ALL_RULES"


def test_every_registered_rule_has_its_own_module() -> None:
    stems = set(_rule_modules())
    for rule in RULES:
        package, _, stem = rule.__module__.rpartition(".")
        assert package == "memlint.rules" and stem in stems, f"{rule.CODE} lives in {rule.__module__}"


# -- hand-written references ----------------------------------------------------------------------


def _configuration() -> str:
    return (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(_KEYS))
def test_every_setting_is_documented(key: str) -> None:
    assert f"| `{key}` |" in _configuration(), f"docs/configuration.md does not document `{key}`"


def _cli_options() -> list[str]:
    parser = build_parser()
    return sorted({option for action in parser._actions for option in action.option_strings})


@pytest.mark.parametrize("option", _cli_options())
def test_every_command_line_option_is_documented(option: str) -> None:
    assert re.search(rf"`{re.escape(option)}[` ]", _configuration()), (
        f"docs/configuration.md does not document {option}"
    )


@pytest.mark.parametrize("page", ["getting-started.md", "configuration.md", "fix-safety.md"])
def test_relative_links_resolve(page: str) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (ROOT / "docs" / target).exists(), f"docs/{page} links to missing {target}"
