"""Configuration (placeholder while the full loader is written)."""

from __future__ import annotations

from pathlib import PurePath


def is_test_path(path: str) -> bool:
    """``test_*.py``, ``*_test.py``, ``conftest.py`` and anything under ``tests/`` or ``test/``."""
    p = PurePath(path)
    name = p.name
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    return any(part in ("tests", "test") for part in p.parts[:-1])
