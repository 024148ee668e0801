"""The results cache, through the real command: reuse, invalidation, sharing, opting out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

GC = "import gc\n\n\ndef run():\n    gc.disable()\n    work()\n"


def test_warm_run_gives_the_same_output_and_marks_the_folder(tmp_path: Path, memlint: Any) -> None:
    (tmp_path / "a.py").write_text(GC)
    (tmp_path / "b.py").write_text("x = 1\n")
    cold = memlint("--select", "MEM401", cwd=tmp_path)
    cache = tmp_path / ".memlint_cache"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    entries = list(cache.rglob("results/*/*.json"))
    assert len(entries) == 2
    warm = memlint("--select", "MEM401", cwd=tmp_path)
    assert (warm.code, warm.out) == (cold.code, cold.out)
    assert sorted(cache.rglob("results/*/*.json")) == sorted(entries)  # nothing recomputed


def test_editing_a_file_or_the_settings_refreshes_its_result(tmp_path: Path, memlint: Any) -> None:
    target = tmp_path / "a.py"
    target.write_text(GC)
    assert memlint("--select", "MEM401", cwd=tmp_path).code == 1
    target.write_text("x = 1\n")
    assert memlint("--select", "MEM401", cwd=tmp_path).code == 0
    target.write_text(GC)
    assert memlint("--select", "MEM401", cwd=tmp_path).code == 1
    assert memlint("--select", "MEM402", cwd=tmp_path).code == 0
    (tmp_path / "pyproject.toml").write_text("[tool.memlint]\nignore = ['MEM401']\n")
    assert "MEM401" not in memlint(cwd=tmp_path).out


def test_no_cache_and_cache_dir(tmp_path: Path, memlint: Any) -> None:
    (tmp_path / "a.py").write_text(GC)
    memlint("--select", "MEM401", "--no-cache", cwd=tmp_path)
    assert not (tmp_path / ".memlint_cache").exists()
    memlint("--select", "MEM401", "--cache-dir", "elsewhere", cwd=tmp_path)
    assert (tmp_path / "elsewhere" / "CACHEDIR.TAG").exists()
    assert "elsewhere" not in memlint("--show-files", cwd=tmp_path).out


def test_corrupt_entries_are_misses(tmp_path: Path, memlint: Any) -> None:
    (tmp_path / "a.py").write_text(GC)
    cold = memlint("--select", "MEM401", cwd=tmp_path)
    for entry in (tmp_path / ".memlint_cache").rglob("results/*/*.json"):
        entry.write_text("{not json")
    warm = memlint("--select", "MEM401", cwd=tmp_path)
    assert (warm.code, warm.out) == (cold.code, cold.out)


def test_two_runs_sharing_a_cache(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"m{i:02}.py").write_text(GC if i % 2 else "x = 1\n")
    command = [sys.executable, "-m", "memlint", "--select", "MEM401", "--jobs", "1"]
    procs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [1, 1]
    assert outputs[0] == outputs[1] and outputs[0].count("MEM401") == 15
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.stdout == outputs[0]


def test_editing_a_file_without_changing_its_facts_keeps_other_results(tmp_path: Path, memlint: Any) -> None:
    (tmp_path / "shapes.py").write_text("class Point:\n    def __init__(self, x):\n        self.x = x\n")
    (tmp_path / "use.py").write_text(
        "from shapes import Point\n\npoints = [Point(i) for i in range(10**6)]\n"
    )
    first = memlint("--select", "MEM201", cwd=tmp_path)
    assert "shapes.py:1:7: MEM201" in first.out
    cache = tmp_path / ".memlint_cache"
    before = set(cache.rglob("results/*/*.json"))
    with (tmp_path / "use.py").open("a") as handle:
        handle.write("# a comment changes no fact\n")
    second = memlint("--select", "MEM201", cwd=tmp_path)
    assert second.out == first.out
    added = set(cache.rglob("results/*/*.json")) - before
    assert len(added) == 1  # only the edited file was checked again
    (tmp_path / "use.py").write_text("from shapes import Point\n\npoint = Point(1)\n")
    assert "MEM201" not in memlint("--select", "MEM201", cwd=tmp_path).out  # facts changed: refreshed
