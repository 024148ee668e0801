"""Suppression comments follow flake8 7: forms, prefixes, multi-line statements, file level."""

from __future__ import annotations

import pytest

from memlint.noqa import add_noqa_to_source, build_noqa_map, file_directive


@pytest.mark.parametrize(
    ("comment", "code", "suppressed"),
    [
        ("# noqa", "MEM401", True),
        ("#noqa", "MEM401", True),
        ("# NOQA", "MEM401", True),
        ("# noqa: MEM401", "MEM401", True),
        ("# noqa:MEM401", "MEM401", True),
        ("# noqa: mem401", "MEM401", True),
        ("# noqa: MEM4", "MEM401", True),
        ("# noqa: MEM", "MEM401", True),  # no digits: not a code list, so flake8 reads a blanket noqa
        ("# noqa: E501,MEM401", "MEM401", True),
        ("# noqa: E501, MEM401 because reasons", "MEM401", True),
        ("# noqa: E501 MEM401", "MEM401", True),
        ("# noqa: MEM101", "MEM401", False),
        ("# noqa : MEM101", "MEM401", True),  # flake8 reads a spaced colon as a blanket noqa
        ("# some text # noqa: MEM401", "MEM401", True),
        ("# not a noqa", "MEM401", False),
    ],
)
def test_inline_forms(comment: str, code: str, suppressed: bool) -> None:
    noqa = build_noqa_map(f"x = 1  {comment}\n")
    assert (noqa.suppressing(1, code) is not None) is suppressed


def test_comment_anywhere_in_a_multiline_statement() -> None:
    source = "x = f(\n    a,  # noqa: MEM401\n    b,\n)\ny = 2\n"
    noqa = build_noqa_map(source)
    for row in (1, 2, 3, 4):
        assert noqa.suppressing(row, "MEM401") is not None
    assert noqa.suppressing(5, "MEM401") is None
    assert noqa.statement_range(3) == (1, 4)


def test_multiline_string_statement() -> None:
    source = 'x = """\nline\n"""  # noqa: MEM1\n'
    assert build_noqa_map(source).suppressing(1, "MEM101") is not None


def test_compound_header_is_its_own_statement() -> None:
    source = "for x in y:  # noqa: MEM101\n    work(x)\n"
    noqa = build_noqa_map(source)
    assert noqa.suppressing(1, "MEM101") is not None
    assert noqa.suppressing(2, "MEM101") is None


def test_file_directives() -> None:
    assert file_directive("# memlint: noqa\nx = 1\n").skip_all
    assert file_directive("x = 1\n  # Memlint:NOQA\n").skip_all
    assert not file_directive("x = 1  # memlint: noqa\n").skip_all  # must be on its own line
    directive = file_directive("# memlint: noqa: MEM201, MEM4\n")
    assert not directive.skip_all and directive.codes == ("MEM201", "MEM4")
    assert file_directive("x = 1\n").codes == ()


def test_add_noqa_appends_and_merges() -> None:
    source = "a = 1\nb = 2  # keep\nc = 3  # noqa: E501\nd = 4  # noqa\n"
    new, count = add_noqa_to_source(
        source, {1: {"MEM401"}, 2: {"MEM101", "MEM201"}, 3: {"MEM401"}, 4: {"MEM1"}}
    )
    assert count == 3
    assert new == (
        "a = 1  # noqa: MEM401\n"
        "b = 2  # keep  # noqa: MEM101, MEM201\n"
        "c = 3  # noqa: E501, MEM401\n"
        "d = 4  # noqa\n"
    )


def test_add_noqa_keeps_crlf() -> None:
    new, _ = add_noqa_to_source("a = 1\r\nb = 2\r\n", {1: {"MEM401"}})
    assert new == "a = 1  # noqa: MEM401\r\nb = 2\r\n"
