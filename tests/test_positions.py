"""The engine's counting codegen gives every node the position ``PositionProvider`` gives it.

Compared node by node on whole real files (every node asked for at once) and on a file made of the
constructs whose spans are hoisted or whose text is unusual: line endings of every kind, a BOM,
tabs, form feeds, multi-line strings, f-strings, continuation lines, no final newline.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from memlint.diagnostics import Location
from memlint.positions import NodePositions, node_positions, resolve_positions
from memlint.sources import LineIndex, decode_source

STDLIB = Path(os.environ.get("MEMLINT_STDLIB", "/tmp/stdlib311"))
STDLIB_FILES = ("typing.py", "argparse.py", "asyncio/base_events.py")

_TRICKY_LINES = [
    "# -*- coding: utf-8 -*-",
    '"""Doc\tstring',
    'spanning lines"""',
    "import os, \\",
    "    sys",
    "\f",
    "class A:",
    "\tdef f(self, x):",
    "\t\ty = f\"{x!r:>{10}} {'a' + 'b'} {x=}\"",
    '\t\treturn """multi',
    "line\"\"\" + rb'''raw",
    "bytes'''",
    "@dec",
    "@other(1,",
    "       2)",
    "def g(*, a=[1,",
    '            2], **kw) -> "int":',
    "    \f",
    "    if a:  # comment",
    "        pass",
    "    elif (a",
    "          and kw):",
    "        return [i for i in a if i]",
    "    else:",
    "        x = lambda: (yield)",
    "    with open(a) as f, open(kw) as h:",
    "        print(f, h, sep='', end=\"\")",
    "    match a:",
    "        case [1, *rest] if rest:",
    "            pass",
    '        case {"k": v, **r}:',
    "            pass",
    "    try:",
    "        pass",
    "    except* ValueError as e:",
    "        raise",
    "    s = 'caf\\u00e9 \\N{EN DASH} \u00fc \U0001f600'",
    "    return a[1:2, ::3]",
    "x: dict[str, int] = {**{}, 'a': 1}",
    "async def h():",
    "    async for i in g():",
    "        await i",
    "    async with h() as k: pass",
    "t = (1,); u = 2",
    "del t",
]


def _tricky_sources() -> dict[str, str]:
    lf = "\n".join(_TRICKY_LINES)
    return {
        "lf": lf + "\n",
        "crlf": lf.replace("\n", "\r\n") + "\r\n",
        "cr": lf.replace("\n", "\r") + "\r",
        "lf-no-final-newline": lf,
        "crlf-no-final-newline": lf.replace("\n", "\r\n"),
        "bom": decode_source(b"\xef\xbb\xbf" + (lf + "\n").encode()).text,
        "empty": "",
        "blank-lines": "\n\n",
        "comment-no-final-newline": "# c",
    }


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def _assert_same_positions(source: str, nodes_of: str = "all") -> int:
    module = cst.parse_module(source)
    nodes = _all_nodes(module)
    if nodes_of == "sample":
        nodes = random.Random(5).sample(nodes, min(len(nodes), 300))
    index = LineIndex(source)
    positions = resolve_positions(module, nodes, source, index)
    # LibCST gives back every text but one whose lines end with a lone CR (it drops the last).
    assert isinstance(positions, NodePositions) == (module.code == source)
    last_row = index.location(len(source)).row
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for node in nodes:
        rng = reference[node]
        expected_span = (
            index.offset(rng.start.line, rng.start.column),
            index.offset(rng.end.line, rng.end.column),
        )
        assert positions.span(node) == expected_span, (type(node).__name__, expected_span)
        expected = (
            Location(rng.start.line, rng.start.column + 1),
            Location(rng.end.line, rng.end.column + 1),
        )
        got = (positions.start(node), positions.end(node))
        if rng.end.line > last_row:
            # PositionProvider ends the module, and in a file without a final newline the last
            # line, one line past the text; the offset, clamped to the text's end as the engine
            # always did, is the same (tested above), and the row is the text's last.
            assert got[0] == expected[0] and got[1] == index.location(len(source))
            continue
        assert got == expected, (type(node).__name__, got, expected)
    return len(nodes)


@pytest.mark.parametrize("name", STDLIB_FILES)
def test_every_node_of_stdlib_files(name: str) -> None:
    path = STDLIB / name
    if not path.exists():
        pytest.skip(f"no stdlib copy at {STDLIB}")
    source = decode_source(path.read_bytes(), str(path)).text
    assert _assert_same_positions(source) > 20_000


@pytest.mark.parametrize("kind", sorted(_tricky_sources()))
def test_every_node_of_unusual_text(kind: str) -> None:
    _assert_same_positions(_tricky_sources()[kind])


@pytest.mark.parametrize("kind", ["lf", "crlf"])
def test_a_sample_of_nodes_alone(kind: str) -> None:
    """Asking for a few nodes records the children their spans are hoisted from by itself."""
    _assert_same_positions(_tricky_sources()[kind], nodes_of="sample")


def test_sample_of_a_real_file() -> None:
    path = STDLIB / "typing.py"
    if not path.exists():
        pytest.skip(f"no stdlib copy at {STDLIB}")
    assert _assert_same_positions(path.read_text(encoding="utf-8"), nodes_of="sample") == 300


def test_a_source_libcst_does_not_give_back_is_refused() -> None:
    """LibCST drops a BOM left in the text: offsets would be one off, so the engine falls back."""
    source = "\ufeffx = 1\n"
    module = cst.parse_module(source)
    assert node_positions(module, [module], source, LineIndex(source)) is None


def test_unknown_node_raises_key_error() -> None:
    source = "x = 1\n"
    module = cst.parse_module(source)
    positions = node_positions(module, [module], source, LineIndex(source))
    assert positions is not None
    with pytest.raises(KeyError):
        positions.span(cst.Name("y"))
