"""Cached project facts decode to exactly what was collected, by the fast path or the slow one."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from memlint import literal
from memlint.cache import Cache
from memlint.rules import ALL_RULES
from memlint.runner import collectors_of, project_facts

FIXTURES = Path(__file__).parent / "fixtures"
STDLIB = Path("/tmp/stdlib311")


def _project_files() -> list[Path]:
    """Fixture projects (classes, parents, slots across modules) and a few stdlib modules."""
    files = sorted(p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py"))
    for name in ("typing.py", "argparse.py", "enum.py", "dataclasses.py", "asyncio/base_events.py"):
        if (STDLIB / name).exists():
            files.append(STDLIB / name)
    return files


def _decode_both(value: Any) -> tuple[Any, Any]:
    text = json.dumps(literal.encode(value))
    return literal.decode(json.loads(text)), json.loads(text, object_hook=literal.object_hook)


def test_object_hook_decodes_every_file_facts_as_decode_does() -> None:
    collectors = collectors_of(ALL_RULES)
    assert collectors
    facts = project_facts(_project_files(), collectors)
    assert facts is not None and len(facts.per_file) > 50
    for path, per_file in facts.per_file.items():
        slow, fast = _decode_both(per_file)
        assert fast == slow == per_file, path


@pytest.mark.parametrize(
    "value",
    [
        (1, (2, "t"), [3, {"d": 4}]),
        {frozenset({1, 2}): {(1, "a"), (2, "b")}, "s": [], "": None},
        [{"t": [1]}, {"v": 1, "c": 2}, set(), frozenset(), ()],
    ],
)
def test_object_hook_on_nested_containers(value: Any) -> None:
    slow, fast = _decode_both(value)
    assert fast == slow == value
    assert type(fast) is type(value)


@dataclasses.dataclass(frozen=True)
class OneField:
    t: list[int]


@dataclasses.dataclass(frozen=True)
class TagLike:
    c: str
    v: int


@pytest.fixture
def memlint_dataclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dataclasses whose fields read as tags, made decodable (only memlint's own types are)."""
    module = types.ModuleType("memlint._test_literal_types")
    for cls in (OneField, TagLike):
        monkeypatch.setattr(cls, "__module__", module.__name__)
        setattr(module, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, module.__name__, module)


@pytest.mark.usefixtures("memlint_dataclasses")
@pytest.mark.parametrize("value", [OneField([1, 2]), TagLike("memlint.facts:ModuleInfo", 3)])
def test_fields_that_read_as_tags_ask_for_the_full_decode(value: Any) -> None:
    text = json.dumps(literal.encode([value]))
    assert literal.decode(json.loads(text)) == [value]
    with pytest.raises(Exception):  # noqa: B017 - NeedsFullDecode, or whatever the misread raised
        json.loads(text, object_hook=literal.object_hook)


def test_project_facts_from_the_cache_equal_the_collected(tmp_path: Path) -> None:
    collectors = collectors_of(ALL_RULES)
    files = _project_files()
    fresh = project_facts(files, collectors)
    cache = Cache(tmp_path)
    first = project_facts(files, collectors, cache)
    cached = project_facts(files, collectors, cache)
    assert fresh is not None and first is not None and cached is not None
    assert cached.per_file == first.per_file == fresh.per_file
    assert cached.input_digest == first.input_digest == fresh.input_digest
    assert all(cached.get(c) == fresh.get(c) for c in collectors)


@pytest.mark.usefixtures("memlint_dataclasses")
def test_an_entry_the_fast_path_cannot_read_is_decoded_the_slow_way(tmp_path: Path) -> None:
    """A cached entry holding such a dataclass still answers (no recomputation, same facts)."""
    collectors = collectors_of(ALL_RULES)
    files = _project_files()[:3]
    cache = Cache(tmp_path)
    first = project_facts(files, collectors, cache)
    assert first is not None
    entries = sorted(cache.folder.glob("facts/*/*.json"))
    assert len(entries) == 3
    planted = {"facts": literal.encode({"not-a-collector": OneField([7])}), "digest": "planted"}
    entries[0].write_text(json.dumps(planted), encoding="utf-8")
    again = project_facts(files, collectors, cache)
    assert again is not None
    assert {"not-a-collector": OneField([7])} in again.per_file.values()
