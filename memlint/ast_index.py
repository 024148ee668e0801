"""One walk of Python's ``ast`` per file, shared by the rules' pre-screens.

LibCST parsing costs about six times ``ast.parse`` plus an index walk; a rule that can tell from
the ``ast`` that a file holds no candidate for it keeps LibCST away from that file entirely.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from typing import TypeVar

N = TypeVar("N", bound=ast.AST)


class AstIndex:
    """The nodes of a module grouped by type, built on first use."""

    def __init__(self, tree: ast.Module, source: str, path: str = "<unknown>") -> None:
        self.tree = tree
        self.source = source
        self.path = path
        self._by_type: dict[type[ast.AST], list[ast.AST]] | None = None

    def nodes(self, node_type: type[N]) -> list[N]:
        if self._by_type is None:
            by_type: dict[type[ast.AST], list[ast.AST]] = defaultdict(list)
            for node in ast.walk(self.tree):
                by_type[type(node)].append(node)
            self._by_type = by_type
        return self._by_type.get(node_type, [])  # type: ignore[return-value]

    def calls_to(self, *names: str) -> list[ast.Call]:
        """Calls whose callee is a name or an attribute with one of these names."""
        wanted = set(names)
        out = []
        for call in self.nodes(ast.Call):
            func = call.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else None
            )
            if name in wanted:
                out.append(call)
        return out
