"""MEM201's fixes, executed: the fixed fixtures behave like the originals, without a ``__dict__``.

Each fixable fixture runs twice, original and fixed, through the same exercise (the functions the
fixture itself defines, called the way a program would). The instances built by both runs must hold
the same attribute values; the fixed instances must have no ``__dict__``, refuse attributes their
class does not declare, and support weak references exactly when ``__weakref__`` is listed.
"""

from __future__ import annotations

import importlib
import sys
import tracemalloc
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from memlint.engine import FileOptions, lint_source
from memlint.facts import merge_facts, module_name_for, read_file_facts
from memlint.fixer import FixPolicy, fix_source
from memlint.rules._class_facts import KNOWN_SLOTTED
from memlint.rules.missing_slots import MissingSlots
from memlint.rules.strong_parent_reference import StrongParentReference

FIXTURES = Path(__file__).parent / "fixtures" / "MEM201"

Loader = Callable[[str], types.ModuleType]
Exercise = Callable[[Loader, Path], list[Any]]


# -- running a fixture's original and fixed code ------------------------------------------------


@contextmanager
def _project(root: Path) -> Iterator[Loader]:
    """Import modules from ``root`` (a fixture folder), removing them again afterwards."""
    before = set(sys.modules)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(root))
        for name in set(sys.modules) - before:
            del sys.modules[name]


def _single_file(path: Path) -> Loader:
    def load(_name: str) -> types.ModuleType:
        module = types.ModuleType(path.stem)
        module.__file__ = str(path)
        sys.modules[path.stem] = module  # dataclasses look their module up
        try:
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
        finally:
            del sys.modules[path.stem]
        return module

    return load


def _run(case: str, fixed: bool, exercise: Exercise, tmp_path: Path) -> list[Any]:
    folder = FIXTURES / (case + ".fixed" if fixed else case)
    if folder.is_dir() or (FIXTURES / case).is_dir():
        root = tmp_path / ("fixed" if fixed else "original")
        _copy_tree(FIXTURES / case, root)
        if fixed:
            _copy_tree(FIXTURES / (case + ".fixed"), root)
        with _project(root) as load:
            return exercise(load, tmp_path)
    path = FIXTURES / (case + (".fixed.py" if fixed else ".py"))
    return exercise(_single_file(path), tmp_path)


def _copy_tree(source: Path, target: Path) -> None:
    for path in source.rglob("*.py"):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")


# -- what the fixtures do -----------------------------------------------------------------------


def _basic(load: Loader, tmp: Path) -> list[Any]:
    m = load("basic")
    csv_file = tmp / "points.csv"
    csv_file.write_text("1,2\n3.5,4\n", encoding="utf-8")
    sessions = m.open_sessions(["ann", "bob"])
    assert len(m._live_sessions) == 2  # the WeakSet holds the sessions (needs __weakref__)
    return [
        *m.read_points(csv_file),
        *m.temperatures([20, 21.5]),
        *m.tokenize(["a b", "c"]),
        *m.spans([1, 5]),
        *m.bucketize([("a", 1), ("b", 2), ("a", 3)]).values(),
        *m.parse_rows(["x", "y"]).values(),
        *sessions,
        *m.versions(["1.2", "0.9"]),
        *m.circles([1.0, 2.0]),
        *m.counters(["c"]),
    ]


def _dataclass_py312(load: Loader, tmp: Path) -> list[Any]:
    m = load("dataclass_py312")
    registry: weakref.WeakSet[Any] = weakref.WeakSet()
    listeners = m.listeners(["n1", "n2"], registry)
    assert len(registry) == 2
    assert sorted(m.prices([3, 1])) == [m.Money(1), m.Money(3)]  # order=True still works
    return [*m.prices([1, 2]), *m.labels(["a"]), *listeners, *m.caches(["k"])]


def _dataclass_py310(load: Loader, tmp: Path) -> list[Any]:
    m = load("dataclass_py310")
    return [*m.subscribe(["t"]), *m.events([("e", {"k": 1})])]


def _dataclass_py39(load: Loader, tmp: Path) -> list[Any]:
    m = load("dataclass_py39")
    return [*m.samples([0.5]), *m.readings([1, 2])]


def _layout(load: Loader, tmp: Path) -> list[Any]:
    m = load("layout")
    intervals = m.intervals([(1, 2), (5, 9)])
    return [
        *[cell for row in m.grid(2, 3) for cell in row],
        *m.measurements("s1", [(0, 1.5), (1, 1.7)]),
        *m.Graph(["a", "b"]).vertices.values(),
        *m.entries([("k", "v")]),
        *m.markers(3),
        *intervals,
        *[i.widened(1) for i in intervals],
    ]


def _imports(load: Loader, tmp: Path) -> list[Any]:
    app = load("app")
    build = load("shapes.build")
    polygons = app.load([(0, 0), (1, 0), (0, 1), (5, 5), (6, 5), (5, 6)])
    return [
        *polygons,
        *[v for p in polygons for v in p.vertices],
        *build.outline([1, 2, 3]),
        *app.tag_all(["x"]),
    ]


def _inherit(load: Loader, tmp: Path) -> list[Any]:
    index = load("nodes.index")
    cache = load("nodes.cache")
    leaves = index.index_leaves([("a", 1), ("b", 2)])
    assert index._by_key["a"] is leaves[0]  # the WeakValueDictionary (needs __weakref__)
    branches = index.branches([("r", leaves)])
    assert cache.remember(branches[0]) and not cache.remember(leaves[0])
    return [*leaves, *index.notes([("k", "note")]), *branches]


def _duck_typed(load: Loader, tmp: Path) -> list[Any]:
    m = load("duck_typed")
    registry = m.register(["a", "b"])
    m.disable_all(registry)  # writes `disabled` on the placeholders
    ranges = m.ranges([(0, 10), (5, 50)])
    m.clamp_all(ranges, 20)  # writes `saved_upper_bound`
    assert [r.saved_upper_bound for r in ranges] == [10, 50]
    return [*registry.values(), *ranges, *m.settings(["p"])]


EXERCISES: dict[str, Exercise] = {
    "basic": _basic,
    "dataclass_py312": _dataclass_py312,
    "dataclass_py310": _dataclass_py310,
    "dataclass_py39": _dataclass_py39,
    "layout": _layout,
    "imports": _imports,
    "inherit": _inherit,
    "duck_typed": _duck_typed,
}


# -- comparing the instances --------------------------------------------------------------------


def _declared(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    return names


def _fully_slotted(cls: type) -> bool:
    """No class of the MRO gives instances a ``__dict__``: each declares ``__slots__`` or, defined
    in C (``typing.Generic`` is since 3.12), has no dict to give (``__dictoffset__`` 0)."""
    return all("__slots__" in klass.__dict__ or klass.__dictoffset__ == 0 for klass in cls.__mro__)


def _state(obj: Any, names: list[str]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in names if hasattr(obj, name)}


def _value(value: Any) -> Any:
    """Nested instances compare by class name and attributes (they are distinct objects)."""
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if hasattr(type(value), "__module__") and type(value).__module__ not in ("builtins", "datetime"):
        names = sorted(getattr(value, "__dict__", {}) or _declared(type(value)) - {"__weakref__", "__dict__"})
        return (type(value).__name__, {n: _value(getattr(value, n)) for n in names if hasattr(value, n)})
    return value


def _check_instance(original: Any, fixed: Any) -> None:
    cls = type(fixed)
    assert type(original).__name__ == cls.__name__
    names = sorted(vars(original))
    assert _state(fixed, names) == _state(original, names), cls.__name__
    if not _fully_slotted(cls):
        return  # a class the fix left alone (no finding, or no fix)
    assert not hasattr(fixed, "__dict__"), f"{cls.__name__} instances still have a __dict__"
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen:
        for name in names:  # every attribute the original held can be written back
            setattr(fixed, name, getattr(fixed, name))
        with pytest.raises(AttributeError):
            fixed.attribute_nobody_declared = 1
    if "__weakref__" in _declared(cls):
        assert weakref.ref(fixed)() is fixed
    else:
        with pytest.raises(TypeError):
            weakref.ref(fixed)


#: Fixtures whose (fixed) code needs a newer interpreter than memlint's oldest.
_RUNS_FROM = {"dataclass_py312": (3, 11)}  # dataclass(weakref_slot=True)


@pytest.mark.parametrize("case", sorted(EXERCISES))
def test_fixed_fixture_behaves_like_the_original(case: str, tmp_path: Path) -> None:
    if sys.version_info < _RUNS_FROM.get(case, (3, 10)):
        pytest.skip(f"the fixed code needs Python {'.'.join(map(str, _RUNS_FROM[case]))}+")
    assert (FIXTURES / f"{case}.fixed.py").exists() or (FIXTURES / f"{case}.fixed").is_dir()
    exercise = EXERCISES[case]
    originals = _run(case, False, exercise, tmp_path)
    fixed = _run(case, True, exercise, tmp_path)
    assert len(originals) == len(fixed) > 0
    for before, after in zip(originals, fixed, strict=True):
        _check_instance(before, after)
    assert any(_fully_slotted(type(obj)) for obj in fixed), "the exercise reached no fixed class"


def test_every_fixed_fixture_is_exercised() -> None:
    fixed = {p.name.split(".fixed")[0] for p in FIXTURES.iterdir() if ".fixed" in p.name}
    assert fixed == set(EXERCISES)


# -- MEM201 with MEM301: fixes planned on one class never land together --------------------------

_TREE = '''\
class Node:
    """A tree node."""

    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []

    def add(self, name):
        child = Node(name, self)
        self.children.append(child)
        return child


def build(names):
    root = Node("root")
    nodes = []
    for n in names:
        nodes.append(root.add(n))
    return root, nodes
'''


def test_slots_and_weak_parent_fixes_compose(tmp_path: Path) -> None:
    path = str(tmp_path / "tree.py")
    rules = (MissingSlots, StrongParentReference)
    collectors = tuple(dict.fromkeys(c for rule in rules for c in rule.FACTS))
    own = read_file_facts(path, _TREE, collectors)
    assert own is not None
    facts = merge_facts({path: own}, collectors)
    options = FileOptions(rules=rules, target_version=(3, 11), module_name=module_name_for(path))

    def lint(text: str) -> tuple[list[Any], list[Any]]:
        outcome = lint_source(text, path, options, facts)
        return outcome.diagnostics, outcome.problems

    result = fix_source(_TREE, path, lint, FixPolicy(unsafe=True))
    assert not result.problems
    assert result.applied == {"MEM201": 1, "MEM301": 1}
    namespace: dict[str, Any] = {}
    exec(compile(result.source, path, "exec"), namespace)
    root, nodes = namespace["build"](["a", "b"])
    node_slots = namespace["Node"].__slots__
    assert "parent" not in node_slots and "_parent_ref" in node_slots and "__weakref__" in node_slots
    assert nodes[0].parent is root and root.children == nodes
    assert not hasattr(nodes[0], "__dict__")


# -- the facts the rule relies on ---------------------------------------------------------------


@pytest.mark.parametrize("dotted", sorted(KNOWN_SLOTTED))
def test_known_slotted_bases_are_slotted_here(dotted: str) -> None:
    module_name, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module_name), name)
    cls = getattr(cls, "__origin__", cls)  # typing's aliases stand for their collections.abc class
    assert isinstance(cls, type) and _fully_slotted(cls), dotted
    nonempty = any(
        set((s,) if isinstance(s, str) else s) - {"__weakref__", "__dict__"}
        for klass in cls.__mro__
        if (s := klass.__dict__.get("__slots__"))
    )
    assert nonempty == KNOWN_SLOTTED[dotted], dotted


def _bytes_per_instance(cls: type, count: int = 20_000) -> float:
    tracemalloc.start()
    try:
        objects = [cls(1, 2, 3) for _ in range(count)]
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (size - sys.getsizeof(objects)) / count


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the documented figure is for CPython 3.11+")
def test_documented_saving_holds_on_this_interpreter() -> None:
    class Plain:
        def __init__(self, a: int, b: int, c: int) -> None:
            self.a, self.b, self.c = a, b, c

    class Slotted:
        __slots__ = ("a", "b", "c")

        def __init__(self, a: int, b: int, c: int) -> None:
            self.a, self.b, self.c = a, b, c

    saved = _bytes_per_instance(Plain) - _bytes_per_instance(Slotted)
    assert 30 <= saved <= 60, saved  # the docstring: 40 B on 3.11 for three attributes
