"""Helpers shared by the object-layout rules (MEM202, MEM203): matching ``ast`` class statements
to LibCST ones, and what a class body does with its instances."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

#: Calls that give an object attributes by name, or read its ``__dict__``.
_DICT_CALLS = frozenset({"setattr", "vars", "__setattr__", "__dict__"})
#: Method decorators (by their last name) known not to store anything on the instance; any other
#: decorator may (``importlib.metadata``'s ``method_cache`` replaces the method on ``self``).
_HARMLESS_METHOD_DECORATORS = frozenset(
    {
        "property", "setter", "getter", "deleter", "staticmethod", "classmethod", "abstractmethod",
        "abstractproperty", "abstractclassmethod", "abstractstaticmethod", "overload", "override", "final",
        "lru_cache", "cache", "recursive_repr", "singledispatchmethod", "deprecated",
    }
)  # fmt: skip


def classdefs_in_order(tree: ast.AST) -> list[ast.ClassDef]:
    """Class statements in source (pre-)order, the order LibCST visits them in."""
    out: list[ast.ClassDef] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return out


def paired(tree: ast.AST, nodes: list[cst.ClassDef]) -> list[tuple[ast.ClassDef, cst.ClassDef]] | None:
    """The file's class statements as (ast, LibCST) pairs; None if the two trees disagree."""
    try:
        found = classdefs_in_order(tree)
    except RecursionError:
        return None
    if len(found) != len(nodes) or any(a.name != c.name.value for a, c in zip(found, nodes, strict=True)):
        return None
    return list(zip(found, nodes, strict=True))


def qualnames(tree: ast.Module, module: str) -> dict[ast.ClassDef, str]:
    """Each class statement's qualified name, as :mod:`memlint.rules._class_bases` spells it."""
    out: dict[ast.ClassDef, str] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                out[child] = f"{module}.{prefix}{child.name}"
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, f"{prefix}{child.name}.<locals>.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def _functions(node: ast.ClassDef) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for child in ast.walk(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield child


def _decorator_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for deco in func.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _class_level_first_param(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The ``cls`` of a classmethod (or ``__new__``/``__init_subclass__``): stores on it are
    class attributes."""
    decorators = _decorator_names(func)
    implicit = func.name in ("__new__", "__init_subclass__", "__class_getitem__")
    if "staticmethod" in decorators or not ("classmethod" in decorators or implicit):
        return None
    params = [*func.args.posonlyargs, *func.args.args]
    return params[0].arg if params else None


def _store_roots(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[str]:
    """Root names of attribute stores (``x.a = ...``, ``x.a += ...``, ``del x.a``) in a function."""
    for node in ast.walk(func):
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            root: ast.expr = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and node.value is root:
                yield root.id


def _local_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def needs_instance_dict(node: ast.ClassDef) -> str | None:
    """Why instances of this class may need a ``__dict__`` (None: nothing in the class body says so).

    A store ``x.attr = ...`` in any function of the class on a parameter or local other than a
    classmethod's ``cls`` counts as an instance attribute; so do ``setattr``, ``vars``,
    ``__dict__``, a custom ``__setattr__`` and ``functools.cached_property`` (which stores in the
    instance dictionary), and so does a method decorator that is not known to leave the instance
    alone."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and child.id in _DICT_CALLS:
            return f"uses `{child.id}`"
        if isinstance(child, ast.Attribute) and child.attr in _DICT_CALLS:
            return f"uses `{child.attr}`"
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            unknown = _decorator_names(stmt) - _HARMLESS_METHOD_DECORATORS
            if unknown:
                return f"decorates a method with `{sorted(unknown)[0]}`"
    for func in _functions(node):
        if func.name == "__setattr__":
            return "defines `__setattr__`"
        cls_name = _class_level_first_param(func)
        local = _local_names(func)
        for root in _store_roots(func):
            if root in local and root != cls_name:
                return f"assigns attributes on `{root}`"
    return None


def externally_extended(tree: ast.Module, class_name: str) -> bool:
    """Code in this file gives instances of ``class_name`` attributes: ``p = Name(...)`` then
    ``p.extra = ...`` in the same scope."""
    scopes: list[ast.AST] = [
        tree,
        *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
    ]
    for scope in scopes:
        made: set[str] = set()
        roots: set[str] = set()
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                callee = (
                    func.id
                    if isinstance(func, ast.Name)
                    else func.attr
                    if isinstance(func, ast.Attribute)
                    else None
                )
                if callee == class_name:
                    made.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                if isinstance(node.value, ast.Name):
                    roots.add(node.value.id)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                if node.args and isinstance(node.args[0], ast.Name):
                    roots.add(node.args[0].id)
        if made & roots:
            return True
    return False


def indentation(source_lines: list[str], stmt: ast.stmt) -> str | None:
    """The indentation of the line where ``stmt`` starts, when only whitespace precedes it."""
    if stmt.lineno > len(source_lines):
        return None
    prefix = source_lines[stmt.lineno - 1][: stmt.col_offset]
    return prefix if not prefix.strip() else None


def is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )
