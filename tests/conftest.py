"""Shared test helpers: running the real ``memlint`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Completed:
    code: int
    out: str
    err: str


def run_memlint(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> Completed:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "memlint", *args],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        timeout=300,
    )
    return Completed(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def memlint():  # type: ignore[no-untyped-def]
    return run_memlint


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI's wheel step, make sure the installed package is what is tested."""
    if os.environ.get("MEMLINT_EXPECT_INSTALLED") == "1":
        import memlint

        checkout = Path(__file__).resolve().parent.parent
        if Path(memlint.__file__).resolve().is_relative_to(checkout):
            raise pytest.UsageError(f"memlint imported from the checkout ({memlint.__file__}), not the wheel")
