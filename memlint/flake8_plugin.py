"""The flake8 adapter: the same rules as the CLI, reported through flake8.

What runs is decided by ``[tool.memlint]`` exactly as for ``memlint check`` (select, ignore,
extend-select, preview, per-file-ignores, rule options), so an editor shows what CI reports;
flake8's own ``--select/--ignore``, ``# noqa`` and ``--per-file-ignores`` then filter on top.
That is also why the plugin adds nothing to flake8's default ignore list: preview and opt-in
rules are already off unless ``[tool.memlint]`` turns them on.

flake8 hands over an ``ast`` tree (flake8 7 refuses a plugin that does not take it), but LibCST
needs source text, so the plugin also asks for the lines and lets the engine parse them once.
flake8 only calls tree plugins on files that ``ast`` accepts: syntax errors are flake8's E999.

A plugin that raises aborts the whole flake8 run, so nothing here may raise: a broken
configuration gives one warning on stderr and the defaults, an internal error one line on stderr
and no findings for that file. The plugin never fixes. Project-wide facts come from the file
alone (flake8 checks files independently, possibly in several processes).
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from memlint import __version__

if TYPE_CHECKING:
    from memlint.config import Settings
    from memlint.engine import FileOptions
    from memlint.facts import ProjectFacts
    from memlint.registry import Selection

Finding = tuple[int, int, str, type[Any]]

#: flake8's names for "read from stdin" when no ``--stdin-display-name`` is given.
_STDIN_NAMES = frozenset({"-", "stdin"})
#: Configuration problems already shown in this process (or by the main process).
_announced: set[Path | None] = set()


@dataclass(frozen=True)
class _Loaded:
    """The settings for one configuration file, and what went wrong reading them."""

    settings: Settings
    selection: Selection
    messages: tuple[str, ...] = ()


class MemlintChecker:
    """flake8's tree plugin; flake8 reads ``name`` and ``version`` for ``--version``."""

    name: ClassVar[str] = "memlint"
    version: ClassVar[str] = __version__

    def __init__(self, tree: ast.Module, lines: Sequence[str], filename: str) -> None:
        # ``tree`` is flake8's ``ast``; it is reused for the file's project facts.
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def parse_options(cls, option_manager: Any, options: Any, filenames: Sequence[str] = ()) -> None:
        """Read the configurations of the given paths once, in flake8's main process.

        Workers started with ``spawn`` or ``forkserver`` re-parse the command line and come
        through here too: they record the same problems without printing them again.
        """
        try:
            display = getattr(options, "stdin_display_name", None)
            anchors = [display if name == "-" and display else name for name in filenames or ["."]]
            for anchor in anchors:
                if anchor not in _STDIN_NAMES:
                    path = Path(anchor).resolve()
                    _loaded_for(path if path.is_dir() else path.parent, announce=_is_main_process())
        except Exception as exc:
            _warn(f"could not read the configuration: {type(exc).__name__}: {exc}")

    def run(self) -> Iterator[Finding]:
        try:
            findings = list(self._findings())
        except Exception as exc:  # a bug in memlint must not abort flake8's whole run
            _warn(f"{self.filename}: internal error: {type(exc).__name__}: {exc}; file skipped", "error")
            return
        yield from findings

    def _findings(self) -> Iterator[Finding]:
        from memlint.engine import lint_source

        path = _file_path(self.filename)
        options = _file_options(path)
        if not options.rules:
            return
        facts = _single_file_facts(path, self.tree, options)
        source = "".join(self.lines)
        outcome = lint_source(source, self.filename, options, facts, tree=self.tree, apply_noqa=False)
        for problem in outcome.problems:
            rule = f" [{problem.rule}]" if problem.rule else ""
            _warn(f"{self.filename}{rule}: {problem.message}", problem.severity)
        for diag in outcome.diagnostics:
            if diag.code is None:
                continue  # a syntax error only LibCST saw; flake8 reports the ones ``ast`` sees
            yield diag.location.row, diag.location.column - 1, f"{diag.code} {diag.message}", type(self)


def _file_path(filename: str) -> Path:
    """The file's absolute path; a nameless stdin buffer stands in the current folder."""
    if filename in _STDIN_NAMES:
        return Path.cwd() / "stdin.py"
    return Path(filename).resolve()


def _file_options(path: Path) -> FileOptions:
    from memlint.runner import file_options

    loaded = _loaded_for(path.parent, announce=True)
    return file_options(path, loaded.settings, loaded.selection)


def _single_file_facts(path: Path, tree: ast.Module, options: FileOptions) -> ProjectFacts | None:
    from memlint.facts import merge_facts, read_file_facts
    from memlint.runner import collectors_of

    collectors = collectors_of(options.rules)
    if not collectors:
        return None
    own = read_file_facts(str(path), "", collectors, tree=tree)
    return merge_facts({str(path): own} if own is not None else {}, collectors)


def _loaded_for(folder: Path, announce: bool) -> _Loaded:
    """The settings for the files of ``folder``; their problems are shown once per process."""
    config = _config_for(folder)
    loaded = _load(config, _default_root(folder) if config is None else None)
    if config not in _announced:
        _announced.add(config)
        if announce:
            for message in loaded.messages:
                _warn(message)
    return loaded


@cache
def _config_for(folder: Path) -> Path | None:
    from memlint.config import find_config

    return find_config(folder)


@cache
def _default_root(folder: Path) -> Path:
    """Without a configuration, the root (for test-file detection) is the git root or the cwd."""
    from memlint.config import git_root

    return git_root(folder) or Path.cwd()


@cache
def _load(config: Path | None, default_root: Path | None) -> _Loaded:
    from memlint.config import ConfigError, Settings, settings_from_file
    from memlint.registry import SelectionError
    from memlint.runner import selection_for

    root = config.parent if config is not None else (default_root or Path.cwd())
    if config is not None:
        try:
            settings = settings_from_file(config)
            selection = selection_for(settings)
            return _Loaded(settings, selection, tuple(selection.warnings))
        except (ConfigError, SelectionError) as exc:
            defaults = Settings(root=root)
            message = f"{exc}; using the default settings"
            return _Loaded(defaults, selection_for(defaults), (message,))
    settings = Settings(root=root)
    return _Loaded(settings, selection_for(settings))


def _is_main_process() -> bool:
    return multiprocessing.parent_process() is None


def _warn(message: str, severity: str = "warning") -> None:
    try:
        print(f"memlint: {severity}: {message}", file=sys.stderr, flush=True)
    except Exception:  # a closed stderr must not abort flake8 either
        pass
