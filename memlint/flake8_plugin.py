"""The flake8 adapter: the same rules as the CLI, reported through flake8.

flake8 owns selection, ``# noqa`` and ``--per-file-ignores``; the plugin never fixes. flake8 hands
over an ``ast`` tree, but LibCST needs source text, so the plugin asks for the file's lines too
and parses them once with LibCST (the tree is reused for the syntax check and project facts).
flake8 does not read pyproject.toml, so rule options come from ``[tool.memlint]`` directly.
Preview and opt-in rules are in flake8's default ignore list: ``--extend-select MEM6`` enables them.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Iterator

from memlint import __version__


class MemlintChecker:
    name: ClassVar[str] = "memlint"
    version: ClassVar[str] = __version__

    def __init__(self, tree: ast.Module, lines: list[str], filename: str) -> None:
        self.tree = tree
        self.lines = lines
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        from memlint.registry import OPT_IN_PREFIXES, all_rules

        off = [r.CODE for r in all_rules() if r.PREVIEW or r.CODE.startswith(OPT_IN_PREFIXES)]
        if off:
            option_manager.extend_default_ignore(off)

    def run(self) -> Iterator[tuple[int, int, str, type[MemlintChecker]]]:
        from memlint.engine import FileOptions, lint_source
        from memlint.facts import ModuleInfo, facts_for_single_tree, module_name_for
        from memlint.runner import collectors_of

        source = "".join(self.lines)
        options = _file_options(self.filename)
        collectors = collectors_of(options.rules)
        facts = None
        if collectors:
            module = ModuleInfo(self.filename, module_name_for(self.filename))
            facts = facts_for_single_tree(self.tree, module, collectors)
        outcome = lint_source(source, self.filename, options, facts, tree=self.tree, apply_noqa=False)
        for diag in outcome.diagnostics:
            if diag.code is None:
                continue  # syntax errors are flake8's own E999
            yield diag.location.row, diag.location.column - 1, f"{diag.code} {diag.message}", type(self)


def _file_options(filename: str) -> Any:
    from memlint.config import Settings, find_config, is_test_path, settings_from_file
    from memlint.engine import FileOptions
    from memlint.facts import module_name_for
    from memlint.registry import all_rules

    path = Path(filename).resolve()
    settings = _settings(find_config(path.parent)) if filename not in ("-", "stdin") else Settings(Path.cwd())
    rules = tuple(r for r in all_rules() if not r.PREVIEW or settings.preview)
    try:
        rel = path.relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        rel = filename
    return FileOptions(
        rules=rules,
        rule_options={k: dict(v) for k, v in settings.rule_options.items()},
        target_version=settings.target_version,
        module_name=module_name_for(path),
        is_test_file=is_test_path(rel),
    )


@lru_cache(maxsize=None)
def _settings(config: Path | None) -> Any:
    from memlint.config import Settings, settings_from_file

    if config is None:
        return Settings(root=Path.cwd())
    return settings_from_file(config)
