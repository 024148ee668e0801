"""The wheel: every rules/*.py inside as memlint.rules, no top-level ``rules``, entry points."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0 and "No module named build" in proc.stderr:
        pytest.skip("the 'build' package is not installed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (found,) = out.glob("pymemlint-*.whl")
    return found


def test_wheel_contains_every_rule_module_under_memlint_rules(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in (ROOT / "rules").glob("*.py"):
        assert f"memlint/rules/{module.name}" in names, module.name
    assert not any(name.startswith("rules/") for name in names)
    assert "memlint/py.typed" in names
    top_level = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    if top_level:
        assert zipfile.ZipFile(wheel).read(top_level[0]).decode().split() == ["memlint"]


def test_wheel_metadata_and_entry_points(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = archive.read(entry_points).decode()
    assert "memlint = memlint.cli:main" in text
    assert "MEM = memlint.flake8_plugin:MemlintChecker" in text
    metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: pymemlint" in metadata
    assert "Requires-Python: >=3.10" in metadata
    assert 'tomli>=2.0; python_version < "3.11"' in metadata


def test_importing_the_checkout_folder_as_rules_is_refused(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import rules"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "must be imported as 'memlint.rules'" in proc.stderr


def test_python_dash_m_memlint_works(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "memlint", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("memlint ")
