"""memlint: a static analyzer for memory anti-patterns in Python code."""

from __future__ import annotations

__version__ = "0.1.0"
