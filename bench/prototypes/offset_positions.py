"""Prototype for the engine: positions of a few nodes from one plain codegen pass.

``MetadataWrapper.resolve(PositionProvider)`` builds a ``CodeRange`` for every node of the
module and tracks line and column token by token: about twice the cost of parsing the file
(0.47 s for ``typing.py`` where ``parse_module`` takes 0.25 s and ``module.code`` 0.07 s). A
file with one finding pays all of it. This state tracks only the text offset and records spans
for the nodes asked for (and the children their syntactic span is hoisted from), with the same
rules as LibCST's ``PositionProvider``; offsets become lines and columns afterwards. The engine
now does this in ``memlint/positions.py``; this script stays as the measurement it was.

Usage (checks the spans against ``PositionProvider`` on a random sample of nodes)::

    python bench/prototypes/offset_positions.py FILE.py [SAMPLE_SIZE]
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import MetadataWrapper, PositionProvider

_NOTHING: AbstractContextManager[None] = nullcontext()


class OffsetCodegenState(CodegenState):
    """Counts characters instead of keeping tokens; records ``[start, end)`` offsets of the
    wanted nodes only (syntactic spans, as ``PositionProvider`` defines them)."""

    def __init__(self, wanted: set[int], default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.offset = 0
        self.wanted = wanted
        self.starts: dict[int, int] = {}
        self.spans: dict[int, tuple[int, int]] = {}

    def add_token(self, value: str) -> None:
        self.offset += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts[id(node)] = self.offset

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.spans:  # a syntactic record made inside wins
            self.spans[key] = (self.starts[key], self.offset)

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> AbstractContextManager[None]:
        if id(node) not in self.wanted:
            return _NOTHING
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(
        self, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> Iterator[None]:
        for hoisted in (start_node, end_node):
            if hoisted is not None:
                self.wanted.add(id(hoisted))  # generated inside the block below
        start = self.offset
        yield
        end = self.offset
        if start_node is not None:
            start = self.spans[id(start_node)][0]
        if end_node is not None:
            end = self.spans[id(end_node)][1]
        self.spans[id(node)] = (start, end)


def node_spans(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[int, int]]:
    """Offsets into ``module.code`` (== the parsed source) of each node, keyed by ``id(node)``."""
    state = OffsetCodegenState({id(n) for n in nodes}, module.default_indent, module.default_newline)
    module._codegen(state)
    return state.spans


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based line, 0-based column (LibCST's convention); the engine's LineIndex does this in
    O(log n) per offset."""
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1)


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def main(argv: list[str]) -> int:
    source = open(argv[0], encoding="utf-8").read()
    size = int(argv[1]) if len(argv) > 1 else 40
    module = cst.parse_module(source)
    nodes = _all_nodes(module)
    sample = random.Random(1).sample(nodes, min(size, len(nodes)))
    start = time.process_time()
    spans = node_spans(module, sample)
    mine = time.process_time() - start
    start = time.process_time()
    reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    full = time.process_time() - start
    differ = 0
    for node in sample:
        begin, end = spans[id(node)]
        expected = reference[node]
        got = (line_col(source, begin), line_col(source, end))
        differ += got != (
            (expected.start.line, expected.start.column),
            (expected.end.line, expected.end.column),
        )
    print(
        f"{argv[0]}: {len(sample)} nodes: offsets {mine:.3f} s CPU, PositionProvider {full:.3f} s CPU; "
        f"{differ} differ"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
