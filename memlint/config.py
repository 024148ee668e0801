"""``[tool.memlint]`` settings: found, validated and layered (defaults, file, command line).

Every mistake in a configuration file is a ``ConfigError`` whose message names the file, the key
and what was expected, so the CLI can print one clear line and exit 2.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path, PurePath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by CI on 3.10
    import tomli as tomllib

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".memlint_cache",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "__pycache__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)

DEFAULT_TARGET_VERSION = (3, 10)


class ConfigError(Exception):
    """A configuration mistake; the message is one line for the user."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings for the files under one configuration root."""

    root: Path
    config_path: Path | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    target_version: tuple[int, int] = DEFAULT_TARGET_VERSION
    preview: bool = False
    fixable: tuple[str, ...] = ("MEM",)
    unfixable: tuple[str, ...] = ()
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()
    cache_dir: str = ".memlint_cache"
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> Settings:
        """The command line as a layer on top of the file (ruff's model); ``None`` = not given.

        ``--select`` starts the selection afresh (the file's ignores go with it); otherwise the
        command line's ``--ignore`` and ``--extend-select`` add to the file's.
        """
        given = {k: v for k, v in overrides.items() if v is not None}
        if "select" in given:
            given.setdefault("ignore", ())
            given.setdefault("extend_select", ())
        else:
            for key in ("ignore", "extend_select"):
                if key in given:
                    given[key] = (*getattr(self, key), *given[key])
        return replace(self, **given)


# key in TOML -> (Settings field, expected kind)
_KEYS: dict[str, tuple[str, str]] = {
    "select": ("select", "codes"),
    "extend-select": ("extend_select", "codes"),
    "ignore": ("ignore", "codes"),
    "per-file-ignores": ("per_file_ignores", "per-file"),
    "exclude": ("exclude", "globs"),
    "extend-exclude": ("extend_exclude", "globs"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "force-exclude": ("force_exclude", "bool"),
    "target-version": ("target_version", "version"),
    "preview": ("preview", "bool"),
    "fixable": ("fixable", "codes"),
    "unfixable": ("unfixable", "codes"),
    "extend-safe-fixes": ("extend_safe_fixes", "codes"),
    "extend-unsafe-fixes": ("extend_unsafe_fixes", "codes"),
    "cache-dir": ("cache_dir", "str"),
}


def is_test_path(path: str) -> bool:
    """``test_*.py``, ``*_test.py``, ``conftest.py`` and anything under ``tests/`` or ``test/``."""
    p = PurePath(path)
    name = p.name
    if name.startswith("test_") or name.endswith(("_test.py", "_test.pyi")) or name == "conftest.py":
        return True
    return any(part in ("tests", "test") for part in p.parts[:-1])


def parse_version(value: str) -> tuple[int, int]:
    """``py311`` or ``3.11`` (ruff's and packaging's spellings)."""
    match = re.fullmatch(r"py3(\d{1,2})|3\.(\d{1,2})", value.strip())
    if not match:
        raise ValueError(value)
    return (3, int(match.group(1) or match.group(2)))


def version_from_requires_python(spec: str) -> tuple[int, int] | None:
    """The lowest 3.x version a ``requires-python`` specifier admits (``>=3.9``, ``~=3.10``)."""
    match = re.search(r"(?:>=|~=|==|>)\s*3\.(\d+)", spec)
    if not match:
        return None
    minor = int(match.group(1))
    if re.search(r"(?<![=<>~!])>\s*3\.", spec):
        minor += 1
    return (3, minor)


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None


def memlint_table(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``[tool.memlint]`` table, or the whole document of a standalone ``memlint.toml``."""
    if path.name != "pyproject.toml" and "tool" not in data:
        return data
    tool = data.get("tool", {})
    table = tool.get("memlint") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.memlint] must be a table")
    return table


@cache
def has_memlint_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "[tool.memlint" in text or "tool.memlint" in text


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.memlint]`` table, walking up from ``start``."""
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and has_memlint_table(candidate):
            return candidate
    return None


def git_root(start: Path) -> Path | None:
    directory = start if start.is_dir() else start.parent
    for folder in (directory, *directory.parents):
        if (folder / ".git").exists():
            return folder
    return None


def project_root(paths: list[Path], config: Path | None) -> Path:
    """The folder of the config, else the git root, else the common parent of the paths."""
    if config is not None:
        return config.parent
    resolved = [p.resolve() for p in paths] or [Path.cwd()]
    root = git_root(resolved[0])
    if root is not None:
        return root
    common = Path(*_common_parts([p if p.is_dir() else p.parent for p in resolved]))
    return common


def _common_parts(paths: list[Path]) -> list[str]:
    parts = list(paths[0].parts)
    for p in paths[1:]:
        other = p.parts
        n = 0
        while n < min(len(parts), len(other)) and parts[n] == other[n]:
            n += 1
        parts = parts[:n]
    return parts or [Path.cwd().anchor]


def settings_from_file(path: Path) -> Settings:
    data = load_toml(path)
    table = memlint_table(path, data)
    root = path.parent
    base = Settings(root=root, config_path=path)
    requires = data.get("project", {}).get("requires-python") if path.name == "pyproject.toml" else None
    if isinstance(requires, str):
        version = version_from_requires_python(requires)
        if version is not None:
            base = replace(base, target_version=version)
    if table is None:
        return base
    return apply_table(base, table, path)


def apply_table(base: Settings, table: dict[str, Any], path: Path) -> Settings:
    from memlint.registry import all_rules

    rules_by_name = {r.NAME: r for r in all_rules()}
    values: dict[str, Any] = {}
    rule_options: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        if key in rules_by_name:
            rule_options[key] = _rule_options(rules_by_name[key], value, path)
            continue
        if key not in _KEYS:
            known = ", ".join([*sorted(_KEYS), "<rule-name>"])
            raise ConfigError(f"{path}: [tool.memlint] unknown key {key!r} (expected one of: {known})")
        attr, kind = _KEYS[key]
        values[attr] = _convert(value, kind, f"{path}: [tool.memlint] {key}")
    settings = replace(base, **values)
    if rule_options:
        settings = replace(settings, rule_options=rule_options)
    _validate_codes(settings, path)
    return settings


def _rule_options(rule: Any, value: Any, path: Path) -> dict[str, Any]:
    where = f"{path}: [tool.memlint.{rule.NAME}]"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    options = {o.name: o for o in rule.OPTIONS}
    out = {}
    for key, item in value.items():
        if key not in options:
            known = ", ".join(sorted(options)) or "none"
            raise ConfigError(f"{where} unknown option {key!r} (options: {known})")
        expected = options[key].type
        if not _type_ok(item, expected):
            raise ConfigError(f"{where} {key}: expected {_type_name(expected)}, got {_type_name(type(item))}")
        out[key] = tuple(item) if isinstance(item, list) else item
    return out


def _type_ok(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected in (tuple, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, expected)


def _type_name(t: type) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        tuple: "a list of strings",
        list: "a list of strings",
        dict: "a table",
    }.get(t, t.__name__)


def _convert(value: Any, kind: str, where: str) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if kind == "version":
        try:
            return parse_version(str(value))
        except ValueError:
            raise ConfigError(f'{where}: expected a version like "py311" or "3.11", got {value!r}') from None
    if kind in ("codes", "globs"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        if kind == "globs":
            for pattern in value:
                _check_glob(pattern, where)
        return tuple(value)
    if kind == "per-file":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of glob = [codes], got {value!r}")
        out = []
        for pattern, codes in value.items():
            _check_glob(pattern, where)
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise ConfigError(f"{where}: {pattern!r} expected a list of codes, got {codes!r}")
            out.append((pattern, tuple(codes)))
        return tuple(out)
    raise AssertionError(kind)


def _check_glob(pattern: str, where: str) -> None:
    from memlint.discovery import compile_glob

    try:
        compile_glob(pattern)
    except ValueError as exc:
        raise ConfigError(f"{where}: bad glob {pattern!r}: {exc}") from None


def _validate_codes(settings: Settings, path: Path | None) -> None:
    from memlint.registry import SelectionError, validate_code

    groups = [
        ("select", settings.select or ()),
        ("extend-select", settings.extend_select),
        ("ignore", settings.ignore),
        ("fixable", settings.fixable),
        ("unfixable", settings.unfixable),
        ("extend-safe-fixes", settings.extend_safe_fixes),
        ("extend-unsafe-fixes", settings.extend_unsafe_fixes),
        *(("per-file-ignores", codes) for _, codes in settings.per_file_ignores),
    ]
    for key, codes in groups:
        for code in codes:
            try:
                validate_code(code)
            except SelectionError as exc:
                where = f"{path}: [tool.memlint] {key}" if path else f"--{key}"
                raise ConfigError(f"{where}: {exc}") from None


def validate_cli_codes(settings: Settings) -> None:
    _validate_codes(settings, None)


def settings_field_names() -> list[str]:
    return [f.name for f in fields(Settings)]
