"""Small questions about LibCST expressions shared by the materialization rules (MEM102-MEM104).

Every answer errs towards "unknown": a rule built on these only ever loses a finding or a fix
when the shape is unusual, never gains a wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

Chain = tuple[str, ...]

#: Iterables with a statically known length below this are too small to matter for memory.
SMALL_LENGTH = 1000


class _CommentCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def comments_in(node: cst.CSTNode) -> list[str]:
    """The comments inside ``node``, sorted (compare two spans: a fix must not drop one)."""
    collector = _CommentCollector()
    node.visit(collector)
    return sorted(collector.found)


def contains(node: cst.CSTNode, types: tuple[type[cst.CSTNode], ...]) -> bool:
    if isinstance(node, types):
        return True
    return any(contains(child, types) for child in node.children)


def chain_of(node: cst.CSTNode) -> Chain | None:
    """``("self", "fp")`` for ``self.fp``; None for anything but a Name/Attribute chain."""
    if isinstance(node, cst.Name):
        return (node.value,)
    if isinstance(node, cst.Attribute):
        base = chain_of(node.value)
        return (*base, node.attr.value) if base is not None else None
    return None


def chains_in(node: cst.CSTNode) -> Iterator[Chain]:
    """Every maximal Name/Attribute chain read or written in ``node``."""
    chain = chain_of(node)
    if chain is not None:
        yield chain
        return
    for child in node.children:
        yield from chains_in(child)


def mentions(node: cst.CSTNode, chain: Chain) -> bool:
    """``node`` refers to the object ``chain`` names, or to a part of it (``f``, ``f.tell``)."""
    return any(found[: len(chain)] == chain for found in chains_in(node))


def const_int(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = const_int(node.expression)
        return -inner if inner is not None else None
    return None


def static_length(node: cst.BaseExpression) -> int | None:
    """The length of a literal display or string, or of a ``range`` of constants; None if unknown.

    ``range`` is taken by name: a shadowed ``range`` only makes a finding less likely.
    """
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        if any(isinstance(e, cst.StarredElement) for e in node.elements):
            return None
        return len(node.elements)
    if isinstance(node, cst.Dict):
        if any(isinstance(e, cst.StarredDictElement) for e in node.elements):
            return None
        return len(node.elements)
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return len(value) if isinstance(value, (str, bytes)) else None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range":
        if not 1 <= len(node.args) <= 3 or any(a.keyword is not None or a.star for a in node.args):
            return None
        bounds = [const_int(a.value) for a in node.args]
        if any(b is None or abs(b) > 10**12 for b in bounds) or (len(bounds) == 3 and bounds[2] == 0):
            return None
        return len(range(*bounds))  # type: ignore[arg-type]
    return None


def is_small(node: cst.BaseExpression) -> bool:
    length = static_length(node)
    return length is not None and length < SMALL_LENGTH


def positional_args(call: cst.Call) -> list[cst.Arg] | None:
    """The positional arguments, or None when any argument is starred (``*a``, ``**kw``)."""
    if any(a.star for a in call.args):
        return None
    return [a for a in call.args if a.keyword is None]


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def without_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    """The node without its own parentheses (to render it where parentheses are implied)."""
    if getattr(node, "lpar", None):
        return node.with_changes(lpar=(), rpar=())
    return node


def short(text: str, limit: int = 40) -> str:
    """Source text fit for a message: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    flat = re.sub(r"([(\[{]) ", r"\1", flat)
    flat = re.sub(r",? ([)\]}])", r"\1", flat)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
