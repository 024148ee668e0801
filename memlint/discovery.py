"""Which files to check: walking folders with default and configured excludes and .gitignore.

Patterns use gitignore semantics (pathspec's ``gitignore``): a pattern without a slash matches
a name at any depth, one with a slash matches relative to the folder of its configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from memlint.config import Settings

PYTHON_SUFFIXES = (".py", ".pyi")


def compile_glob(pattern: str) -> pathspec.PathSpec[Any]:
    try:
        return pathspec.PathSpec.from_lines("gitignore", [pattern])
    except Exception as exc:  # pathspec raises several types for malformed patterns
        raise ValueError(str(exc)) from None


def _spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    #: Explicitly named paths that are not checked, with the reason (shown as warnings).
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    #: Paths that do not exist or cannot be listed.
    errors: list[tuple[Path, str]] = field(default_factory=list)


class _Excluder:
    """Answers "is this path excluded?" for one Settings (one configuration root)."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.root.resolve()
        self.spec = _spec(settings.exclude + settings.extend_exclude)
        self.respect_gitignore = settings.respect_gitignore
        self._gitignores: dict[Path, pathspec.PathSpec[Any] | None] = {}

    def excluded(self, path: Path, is_dir: bool) -> bool:
        rel = _relative(path, self.root)
        if rel is not None:
            text = rel + ("/" if is_dir else "")
            if self.spec.match_file(text):
                return True
        elif self.spec.match_file(path.name + ("/" if is_dir else "")):
            return True
        return self.respect_gitignore and self._gitignored(path, is_dir)

    def _gitignored(self, path: Path, is_dir: bool) -> bool:
        for folder in path.parents:
            spec = self._gitignore(folder)
            if spec is not None:
                rel = _relative(path, folder)
                if rel is not None and spec.match_file(rel + ("/" if is_dir else "")):
                    return True
            if (folder / ".git").exists():
                break
        return False

    def _gitignore(self, folder: Path) -> pathspec.PathSpec[Any] | None:
        if folder not in self._gitignores:
            lines: list[str] = []
            for name in (".gitignore", ".git/info/exclude"):
                try:
                    lines += (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            self._gitignores[folder] = _spec(tuple(lines)) if lines else None
        return self._gitignores[folder]


def is_excluded(path: Path, settings: Settings) -> bool:
    """Whether ``path`` falls under the settings' excludes (or .gitignore), for one-off checks
    such as an editor buffer given with ``--stdin-filename``."""
    excluder = _Excluder(settings)
    path = Path(os.path.abspath(path))
    return any(
        excluder.excluded(p, is_dir=True) for p in path.parents if p.is_relative_to(excluder.root)
    ) or (excluder.excluded(path, is_dir=False))


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def discover(paths: list[Path], settings_for: Callable[[Path], Settings]) -> Discovery:
    """Files to check under ``paths``, sorted and unique."""
    result = Discovery()
    excluders: dict[Path, _Excluder] = {}

    def excluder(path: Path) -> _Excluder:
        settings = settings_for(path)
        if settings.root not in excluders:
            excluders[settings.root] = _Excluder(settings)
        return excluders[settings.root]

    seen: set[Path] = set()
    for given in paths:
        path = Path(os.path.abspath(given))
        if not path.exists() and not path.is_symlink():
            result.errors.append((given, "no such file or directory"))
            continue
        if path.is_dir():
            for found in _walk(path, excluder, result):
                if found not in seen:
                    seen.add(found)
                    result.files.append(found)
            continue
        settings = settings_for(path)
        if settings.force_exclude and excluder(path).excluded(path, is_dir=False):
            continue
        if path.suffix not in PYTHON_SUFFIXES:
            result.skipped.append((given, "not a Python file (.py or .pyi)"))
            continue
        if path not in seen:
            seen.add(path)
            result.files.append(path)
    result.files.sort()
    return result


def _walk(top: Path, excluder: Callable[[Path], _Excluder], result: Discovery) -> Iterator[Path]:
    """Depth-first, never following symlinked folders (no loops, no escaping the tree)."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            result.errors.append((folder, f"cannot list: {exc.strerror or exc}"))
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file()
            except OSError:
                continue
            if is_dir:
                if not excluder(path).excluded(path, is_dir=True):
                    subfolders.append(path)
            elif is_file and path.suffix in PYTHON_SUFFIXES:
                if not excluder(path).excluded(path, is_dir=False):
                    yield path
        stack.extend(reversed(subfolders))
