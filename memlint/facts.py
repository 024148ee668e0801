"""The project-wide pass: facts about every file, merged before rules run.

Some findings depend on other files (a class is instantiated in a loop elsewhere). Each file
yields facts on its own, computed from Python's ``ast`` (cheap, and a function of the file's
content alone, so they can be cached per content digest); the facts of all files are merged into
one read-only value per collector; rules read the merged value through their context.
"""

from __future__ import annotations

import ast
import hashlib
import json
import pickle
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ModuleInfo:
    path: str
    name: str | None
    is_package: bool = False


def module_name_for(path: str | Path) -> str | None:
    """The dotted module name of a file, found by walking up through ``__init__.py`` folders."""
    p = Path(path)
    if p.suffix not in (".py", ".pyi"):
        return None
    parts = [] if p.stem == "__init__" else [p.stem]
    parent = p.parent.resolve() if not p.parent.is_absolute() else p.parent
    while (parent / "__init__.py").is_file() or (parent / "__init__.pyi").is_file():
        parts.append(parent.name)
        if parent.parent == parent:
            break
        parent = parent.parent
    if not parts:
        return None
    return ".".join(reversed(parts))


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """``ast.iter_child_nodes`` as a list, without the expression-context singletons (``Load``,
    ``Store``, ``Del``: no collector looks at them, and they are a third of a tree's nodes).

    The facts pass walks every file's tree several times, and ``iter_child_nodes`` (a generator
    over the generator ``iter_fields``) was most of its cost."""
    out: list[ast.AST] = []
    for name in node._fields:
        if name == "ctx":
            continue
        value = getattr(node, name, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.AST):
                    out.append(item)
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes ``ast.walk`` yields, in its order, but without expression contexts (see
    :func:`child_nodes`), as a list."""
    out = [node]
    for item in out:  # grows while it is read: breadth first, like ast.walk
        out.extend(child_nodes(item))
    return out


class FactCollector(ABC):
    """Computes one kind of fact from a file's ``ast`` and merges the facts of all files."""

    NAME: ClassVar[str]
    #: Bump when the shape of the collected data changes (invalidates caches).
    VERSION: ClassVar[int] = 1

    @classmethod
    @abstractmethod
    def collect(cls, tree: ast.Module, module: ModuleInfo) -> Any:
        """Facts of one file: plain picklable data, a function of the file's content only."""

    @classmethod
    @abstractmethod
    def merge(cls, per_file: Mapping[str, Any]) -> Any:
        """Merge per-file facts (keyed by path) into the value rules read."""


class ProjectFacts:
    """The merged facts of a project, and a digest of them per collector (for caching)."""

    def __init__(
        self, merged: dict[str, Any], per_file: dict[str, dict[str, Any]], input_digest: str | None = None
    ) -> None:
        self._merged = merged
        self.per_file = per_file
        #: A digest of what the facts were computed from (every file's path and content, and the
        #: collectors): merging is deterministic, so equal inputs mean equal facts.
        self.input_digest = input_digest

    def get(self, collector: type[FactCollector]) -> Any:
        return self._merged.get(collector.NAME)

    def digest(self, collectors: Iterable[type[FactCollector]]) -> str:
        """A digest that is stable across runs (the inputs' digest when known)."""
        from memlint import literal

        if self.input_digest is not None:
            return self.input_digest
        h = hashlib.sha256()
        for c in sorted(collectors, key=lambda c: c.NAME):
            h.update(c.NAME.encode())
            value = self._merged.get(c.NAME)
            try:
                h.update(json.dumps(literal.encode(value), sort_keys=True).encode())
            except literal.Unencodable:
                h.update(pickle.dumps(value, protocol=4))
        return h.hexdigest()


def collect_file_facts(
    tree: ast.Module, module: ModuleInfo, collectors: Iterable[type[FactCollector]]
) -> dict[str, Any]:
    return {c.NAME: c.collect(tree, module) for c in collectors}


def merge_facts(
    per_file: dict[str, dict[str, Any]],
    collectors: Iterable[type[FactCollector]],
    input_digest: str | None = None,
) -> ProjectFacts:
    merged = {}
    for c in collectors:
        merged[c.NAME] = c.merge({path: facts[c.NAME] for path, facts in per_file.items() if c.NAME in facts})
    return ProjectFacts(merged, per_file, input_digest)


def facts_for_single_tree(
    tree: ast.Module, module: ModuleInfo, collectors: Iterable[type[FactCollector]]
) -> ProjectFacts:
    """Facts when only one file is known (the flake8 plugin, stdin without a project)."""
    collectors = list(collectors)
    return merge_facts({module.path: collect_file_facts(tree, module, collectors)}, collectors)


def read_file_facts(
    path: str, source: str, collectors: Iterable[type[FactCollector]], tree: ast.Module | None = None
) -> dict[str, Any] | None:
    """Facts of one file from its text; None when it does not parse (it contributes nothing)."""
    import warnings

    if tree is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    module = ModuleInfo(path=path, name=module_name_for(path), is_package=Path(path).stem == "__init__")
    return collect_file_facts(tree, module, collectors)
