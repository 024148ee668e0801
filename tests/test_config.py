"""Configuration: discovery of the closest pyproject, layering, validation, project root."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlint.config import (
    ConfigError,
    Settings,
    find_config,
    is_test_path,
    parse_version,
    project_root,
    settings_from_file,
    version_from_requires_python,
)
from memlint.registry import SelectionError, select_rules
from memlint.runner import SettingsResolver


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_closest_pyproject_with_memlint_table_wins(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", "[tool.memlint]\npreview = true\n")
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.memlint]
    inner = write(tmp_path / "pkg" / "sub" / "pyproject.toml", "[tool.memlint]\nignore = ['MEM4']\n")
    assert find_config(tmp_path / "pkg" / "mod.py") == outer
    assert find_config(tmp_path / "pkg" / "sub" / "deep" / "m.py") == inner
    resolver = SettingsResolver({})
    assert resolver.for_path(tmp_path / "pkg" / "mod.py").preview is True
    deep = resolver.for_path(tmp_path / "pkg" / "sub" / "m.py")
    assert deep.ignore == ("MEM4",) and deep.preview is False and deep.root == inner.parent


def test_cli_overrides_file(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[tool.memlint]\nselect = ['MEM4']\npreview = true\n")
    resolver = SettingsResolver({"select": ("MEM401",), "preview": None}, config=config)
    settings = resolver.for_path(tmp_path / "a.py")
    assert settings.select == ("MEM401",) and settings.preview is True


def test_target_version_from_requires_python(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[project]\nrequires-python = '>=3.9'\n[tool.memlint]\n")
    assert settings_from_file(config).target_version == (3, 9)
    config.write_text("[project]\nrequires-python = '>=3.9'\n[tool.memlint]\ntarget-version = 'py312'\n")
    assert settings_from_file(config).target_version == (3, 12)
    assert version_from_requires_python(">3.10") == (3, 11)
    assert version_from_requires_python("~=3.11") == (3, 11)
    assert version_from_requires_python(">=2.7, !=3.0.*") is None
    assert parse_version("3.13") == (3, 13) and parse_version("py310") == (3, 10)


def test_standalone_memlint_toml(tmp_path: Path) -> None:
    config = write(tmp_path / "memlint.toml", "ignore = ['MEM401']\n")
    assert settings_from_file(config).ignore == ("MEM401",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.memlint]\nselect = 'MEM4'\n", "select: expected a list of strings"),
        ("[tool.memlint]\nrespect-gitignore = 1\n", "respect-gitignore: expected true or false"),
        ("[tool.memlint]\nper-file-ignores = ['x']\n", "per-file-ignores: expected a table"),
        ("[tool.memlint]\nper-file-ignores = {'a/*' = 'MEM4'}\n", "expected a list of codes"),
        ("[tool.memlint]\nexclude = ['\\']\n", "bad glob"),
        ("[tool.memlint]\nignore = ['MEM9']\n", "unknown rule code"),
        ("[tool.memlint]\nfixable = ['W']\n", "unknown rule code"),
        ("[tool.memlint]\ncolour = true\n", "unknown key 'colour'"),
        ("[tool.memlint.gc-disable-without-enable]\nx = 1\n", "unknown option 'x'"),
        ("[tool.memlint]\ngc-disable-without-enable = 3\n", "must be a table"),
        ("[tool]\nmemlint = 3\n", "must be a table"),
        ("[tool.memlint\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as info:
        settings_from_file(config)
    assert message in str(info.value)
    assert str(config) in str(info.value)
    assert "\n" not in str(info.value)


def test_project_root(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo" / "src" / "a.py", "")
    assert project_root([tmp_path / "repo" / "src" / "a.py"], None) == (tmp_path / "repo").resolve()
    config = write(tmp_path / "repo" / "sub" / "pyproject.toml", "[tool.memlint]\n")
    assert project_root([tmp_path / "repo" / "sub"], config) == config.parent
    write(tmp_path / "loose" / "x" / "a.py", "")
    write(tmp_path / "loose" / "y" / "b.py", "")
    got = project_root([tmp_path / "loose" / "x" / "a.py", tmp_path / "loose" / "y" / "b.py"], None)
    assert got == (tmp_path / "loose").resolve()


def test_test_paths() -> None:
    for path in ("test_x.py", "x_test.py", "conftest.py", "tests/helpers.py", "pkg/test/util.py"):
        assert is_test_path(path), path
    for path in ("testing.py", "contest.py", "src/latest/x.py", "attest.py"):
        assert not is_test_path(path), path


def test_selection_prefixes_preview_and_opt_in() -> None:
    codes = [r.CODE for r in select_rules(["MEM4"]).rules]
    assert "MEM401" in codes and all(c.startswith("MEM4") for c in codes)
    assert "MEM401" not in [r.CODE for r in select_rules(["MEM"], ignore=["MEM401"]).rules]
    # A more specific select beats a broader ignore (ruff's rule).
    assert "MEM401" in [r.CODE for r in select_rules(["MEM401"], ignore=["MEM4"]).rules]
    assert [r.CODE for r in select_rules(["ALL"]).rules] == [r.CODE for r in select_rules().rules]
    with pytest.raises(SelectionError):
        select_rules(["MEM999"])
    with pytest.raises(SelectionError):
        select_rules(["E501"])


def test_settings_defaults_exclude_the_usual_folders() -> None:
    defaults = Settings(root=Path("."))
    for name in (
        ".git",
        ".venv",
        "venv",
        "build",
        "dist",
        "__pycache__",
        ".tox",
        "node_modules",
        ".memlint_cache",
    ):
        assert name in defaults.exclude


def test_command_line_is_a_layer_on_top_of_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "pyproject.toml", "[tool.memlint]\nignore = ['MEM402']\nextend-select = ['MEM001']\n"
    )
    added = SettingsResolver({"ignore": ("MEM401",), "extend_select": ("MEM0",)}, config=config)
    settings = added.for_path(tmp_path / "a.py")
    assert settings.ignore == ("MEM402", "MEM401") and settings.extend_select == ("MEM001", "MEM0")
    fresh = SettingsResolver({"select": ("MEM4",)}, config=config).for_path(tmp_path / "a.py")
    assert fresh.select == ("MEM4",) and fresh.ignore == () and fresh.extend_select == ()
