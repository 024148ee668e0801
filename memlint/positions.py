"""Source positions of the few nodes a file's findings and fixes name, without ``PositionProvider``.

``MetadataWrapper.resolve(PositionProvider)`` builds a ``CodeRange`` for every node of the module
and tracks line and column token by token: about twice the cost of parsing the file, paid in full
by a file with a single finding. The engine knows every node it needs before resolving (the
reported nodes and the nodes their fix edits name), so one plain codegen pass that only counts
characters, and records spans for those nodes alone, gives the same positions for a fraction of
the cost. Offsets become rows and columns through ``LineIndex``, which counts line endings as
LibCST does.

Spans are syntactic, as ``PositionProvider`` defines them: a node whose codegen calls
``record_syntactic_position`` gets that range, possibly hoisted from a child (a decorated
function starts at its first decorator), otherwise the range of everything it generated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodeRange
from libcst.metadata import MetadataWrapper, PositionProvider

from memlint.diagnostics import Location
from memlint.sources import LineIndex

_NOTHING: AbstractContextManager[None] = nullcontext()


class _OffsetCodegenState(CodegenState):
    """Counts characters instead of keeping tokens; records ``[start, end)`` offsets of the
    wanted nodes (keyed by ``id``) and of the children their spans are hoisted from."""

    def __init__(self, wanted: set[int], default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.offset = 0
        self.wanted = wanted
        self.starts: dict[int, int] = {}
        self.spans: dict[int, tuple[int, int]] = {}
        self.last_token = ""
        self.popped = 0

    def add_token(self, value: str) -> None:
        # ``Module._codegen_impl`` asks whether anything was generated (``len(tokens)``) before
        # adding a lone newline: keep one token so the answer stays LibCST's.
        if not self.tokens:
            self.tokens.append(value)
        self.offset += len(value)
        self.last_token = value

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.offset += len(token)

    def pop_trailing_newline(self) -> None:
        """LibCST drops the last token of a file without a final newline but, like
        ``PositionProvider``, the ends of the last line and the module stay past it
        (``NodePositions`` clamps them to the end of the text)."""
        self.popped = len(self.last_token)

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


class Positions:
    """Where nodes stand in the source: offsets for edits, rows and columns for diagnostics.

    Unknown nodes (not in the tree, or not asked for) raise ``KeyError``, as
    ``PositionProvider``'s mapping does.
    """

    def __init__(self, index: LineIndex) -> None:
        self.index = index

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        raise NotImplementedError

    def start(self, node: cst.CSTNode) -> Location:
        return self.index.location(self.span(node)[0])

    def end(self, node: cst.CSTNode) -> Location:
        return self.index.location(self.span(node)[1])

    def start_row(self, node: cst.CSTNode) -> int:
        return self.start(node).row

    def end_row(self, node: cst.CSTNode) -> int:
        return self.end(node).row


class NodePositions(Positions):
    """Offsets recorded by one counting codegen pass, for the nodes asked for."""

    def __init__(self, spans: Mapping[int, tuple[int, int]], index: LineIndex, length: int) -> None:
        super().__init__(index)
        self._spans = spans
        self._length = length

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        start, end = self._spans[id(node)]
        # Only ends can lie past the text: the module's, and in a file without a final newline
        # the last line's (LibCST counts the newline it left out).
        return min(start, self._length), min(end, self._length)


class ProviderPositions(Positions):
    """``PositionProvider``'s ranges, for trees whose metadata a rule already resolved."""

    def __init__(self, ranges: Mapping[cst.CSTNode, CodeRange], index: LineIndex) -> None:
        super().__init__(index)
        self._ranges = ranges

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        rng = self._ranges[node]
        return (
            self.index.offset(rng.start.line, rng.start.column),
            self.index.offset(rng.end.line, rng.end.column),
        )

    def start(self, node: cst.CSTNode) -> Location:
        rng = self._ranges[node]
        return Location(rng.start.line, rng.start.column + 1)

    def end(self, node: cst.CSTNode) -> Location:
        rng = self._ranges[node]
        return Location(rng.end.line, rng.end.column + 1)


def node_positions(
    module: cst.Module, nodes: Iterable[cst.CSTNode], source: str, index: LineIndex
) -> NodePositions | None:
    """Positions of ``nodes`` in ``source``, the text ``module`` was parsed from; None if the
    module does not generate ``source``'s length back (never seen: LibCST round-trips exactly),
    for the caller to fall back to ``PositionProvider``."""
    state = _OffsetCodegenState({id(n) for n in nodes}, module.default_indent, module.default_newline)
    module._codegen(state)
    if state.offset - state.popped != len(source):
        return None
    return NodePositions(state.spans, index, len(source))


def resolve_positions(
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    source: str,
    index: LineIndex,
    wrapper: MetadataWrapper | None = None,
) -> Positions:
    """The positions of ``nodes``: from ``PositionProvider`` when a rule's metadata already needed
    a ``MetadataWrapper`` (or when LibCST does not give ``source`` back, e.g. a file whose lines
    end with a lone ``\\r``: its last one is dropped), otherwise from the counting codegen."""
    if wrapper is None:
        positions = node_positions(module, nodes, source, index)
        if positions is not None:
            return positions
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return ProviderPositions(wrapper.resolve(PositionProvider), index)
