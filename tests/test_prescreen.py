"""The cheap pre-screens (substrings, then ``ast``) must never hide a finding.

On the standard library of the running interpreter, every rule (preview included) gives the same
findings with the pre-screens on as with LibCST run on every file. The default corpus is a dozen
packages with many findings (bounded for CI); ``MEMLINT_PRESCREEN_CORPUS=full`` checks it all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

STDLIB = Path(sysconfig.get_paths()["stdlib"])
SUBSET = ("asyncio", "concurrent", "email", "idlelib", "json", "logging", "tkinter", "unittest", "xml",
          "argparse.py", "configparser.py", "optparse.py", "timeit.py", "pyclbr.py", "typing.py")  # fmt: skip


def _corpus() -> list[str]:
    """A copy outside any git repository: the project root (and its facts) is then the copy."""
    target = Path(tempfile.mkdtemp(prefix="memlint-prescreen-"))
    names = (
        [p.name for p in STDLIB.iterdir()] if os.environ.get("MEMLINT_PRESCREEN_CORPUS") == "full" else SUBSET
    )
    for name in names:
        source = STDLIB / name
        if source.is_dir() and name not in ("site-packages", "__pycache__"):
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.suffix == ".py":
            shutil.copy2(source, target / name)
    return [str(target / name) for name in names if (target / name).exists()]


def _findings(corpus: list[str], prescreen: bool) -> set[tuple[str, str | None, int, int, str]]:
    env = {**os.environ, "MEMLINT_NO_PRESCREEN": "0" if prescreen else "1"}
    proc = subprocess.run(
        [
            sys.executable, "-m", "memlint", *corpus,
            # every rule: the default families, the opt-in ones (MEM0, MEM6) and preview
            "--select", "MEM,MEM0,MEM6", "--preview",
            "--no-cache", "--output-format", "json", "--exit-zero",
        ],
        capture_output=True, text=True, env=env, timeout=3000,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {
        (d["filename"], d["code"], d["location"]["row"], d["location"]["column"], d["message"])
        for d in json.loads(proc.stdout)
    }


@pytest.mark.slow
def test_prescreens_change_no_finding_on_the_standard_library() -> None:
    corpus = _corpus()  # one copy for both runs: findings are compared path for path
    screened = _findings(corpus, prescreen=True)
    full = _findings(corpus, prescreen=False)
    assert screened == full, {"hidden by the pre-screens": sorted(full - screened)[:20]}
    assert len(full) > 20  # the corpus really was checked
