"""MEM202's fixed fixtures, executed: every class the rule flagged has an instance ``__dict__``
before the fix and none after, and its instances still behave (construction, copy, methods)."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "MEM202"
FLAGGED = re.compile(r"MEM202 `(\w+)`")


def _run(path: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"mem202_{path.stem.replace('.', '_')}"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace


def _find(namespace: dict[str, Any], name: str) -> type | None:
    """A flagged class: at module level, nested in a module-level class, or made by a factory."""
    found = namespace.get(name)
    if isinstance(found, type):
        return found
    for value in list(namespace.values()):
        inner = getattr(value, name, None) if isinstance(value, type) else None
        if isinstance(inner, type):
            return inner
        if callable(value) and getattr(value, "__name__", "") == "factory":
            made = value()
            if isinstance(made, type) and made.__name__ == name:
                return made
    return None


def _instance(cls: type) -> Any:
    fields = getattr(cls, "_fields", None)
    if fields is not None:
        return cls(*range(1, len(fields) + 1))
    return cls()


@pytest.mark.parametrize("case", ["named_tuples", "builtins_subclasses"])
def test_fixed_classes_lose_their_instance_dict_and_keep_working(case: str) -> None:
    if case == "named_tuples" and sys.version_info < (3, 11):
        pytest.skip("the fixture defines a generic NamedTuple (NamedTuple, Generic[T]): Python 3.11+")
    findings = (FIXTURES / f"{case}.findings").read_text().splitlines()
    names = [m.group(1) for line in findings if (m := FLAGGED.search(line))]
    assert names
    before, after = _run(FIXTURES / f"{case}.py"), _run(FIXTURES / f"{case}.fixed.py")
    for name in names:
        old, new = _find(before, name), _find(after, name)
        assert old is not None and new is not None, name
        assert old.__dictoffset__ != 0, f"{name} had no __dict__ before the fix"
        assert new.__dictoffset__ == 0, f"{name} still has a __dict__ after the fix"
        old_obj, new_obj = _instance(old), _instance(new)
        assert old_obj == new_obj
        assert copy.copy(new_obj) == new_obj
        with pytest.raises(TypeError):
            vars(new_obj)
