"""MEM301's fixed fixtures, executed: the weak parent property behaves like the strong attribute
while the parent lives, is None once it is gone, accepts None, and breaks the reference cycle."""

from __future__ import annotations

import gc
import importlib.util
import shutil
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "MEM301"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@contextmanager
def _gc_disabled() -> Iterator[None]:
    """Without the cyclic collector, only reference counting frees objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest.fixture(scope="module")
def fixed() -> ModuleType:
    return _load(FIXTURES / "fixes.fixed.py", "mem301_fixes_fixed")


@pytest.fixture(scope="module")
def original() -> ModuleType:
    return _load(FIXTURES / "fixes.py", "mem301_fixes_original")


def test_tree_reads_the_parent_and_accepts_a_none_root(fixed: ModuleType, original: ModuleType) -> None:
    for module in (fixed, original):
        root = module.Node("root")
        child = module.Node("a", root)
        grandchild = module.Node("b", child)
        assert root.parent is None
        assert child.parent is root
        assert root.children == [child]
        assert grandchild.path() == "root/a/b"


def test_tree_parent_is_none_once_collected(fixed: ModuleType) -> None:
    root = fixed.Node("root")
    child = fixed.Node("a", root)
    del root
    gc.collect()
    assert child.parent is None
    assert child.path() == "a"


def test_the_cycle_is_gone(fixed: ModuleType, original: ModuleType) -> None:
    """With gc disabled the original pair survives its last reference; the fixed one does not."""
    with _gc_disabled():
        survivors = {}
        for name, module in (("original", original), ("fixed", fixed)):
            root = module.Node("root")
            module.Node("a", root)
            probe = weakref.ref(root)
            del root
            survivors[name] = probe() is not None
    gc.collect()
    assert survivors == {"original": True, "fixed": False}


def test_created_children(fixed: ModuleType) -> None:
    document = fixed.Document()
    paragraph = document.add_paragraph("two words")
    assert paragraph.document is document
    assert paragraph.word_count() == 2
    assert fixed.Printer().preview("one") == 1  # a parent of another class, not kept
    with _gc_disabled():
        del document
        assert paragraph.document is None


def test_keyword_child_with_deleter(fixed: ModuleType) -> None:
    playlist = fixed.Playlist()
    playlist.add("intro")
    track = playlist.tracks["intro"]
    assert track.playlist is playlist
    playlist.drop(track)
    assert playlist.tracks == {}
    with pytest.raises(AttributeError):
        track.playlist  # noqa: B018 - deleted, as before the fix
    track.playlist = playlist
    assert track.playlist is playlist


def test_slotted_classes(fixed: ModuleType) -> None:
    assert fixed.Item.__slots__ == ("name", "_basket_ref")
    assert "__weakref__" in fixed.Basket.__slots__
    basket = fixed.Basket()
    item = basket.add("apple")
    assert item.basket is basket
    assert not hasattr(item, "__dict__") and not hasattr(basket, "__dict__")
    with _gc_disabled():
        del basket
        assert item.basket is None


def test_slotted_tree_is_its_own_parent_class(fixed: ModuleType) -> None:
    assert fixed.SlottedNode.__slots__ == ("_parent_ref", "children", "__weakref__")
    root = fixed.SlottedNode()
    leaf = fixed.SlottedNode(root)
    assert root.parent is None and leaf.parent is root and root.children == [leaf]
    with _gc_disabled():
        del root
        assert leaf.parent is None


def test_multi_line_slots(fixed: ModuleType) -> None:
    assert fixed.Sheet.__slots__ == ("rows", "title", "__weakref__")
    assert fixed.Row.__slots__ == ("_sheet_ref", "values")
    sheet = fixed.Sheet("totals")
    row = sheet.add_row(1, 2)
    assert row.sheet is sheet and row.values == (1, 2) and sheet.rows == [row]
    with _gc_disabled():
        del sheet
        assert row.sheet is None


def test_back_reference_set_by_the_parent(fixed: ModuleType) -> None:
    entry = fixed.MenuEntry("alone")
    assert entry.menu is None  # the __init__ stores None: no weak reference to None
    menu = fixed.Menu()
    entry = menu.add_entry("open")
    assert entry.menu is menu and menu.entries == [entry]
    with _gc_disabled():
        del menu
        assert entry.menu is None


def test_unfixed_cases_still_run(fixed: ModuleType) -> None:
    chapter = fixed.Chapter()
    page = fixed.Page(chapter)
    assert page.book is chapter and chapter.pages == [page]
    shelf = fixed.Shelf([])
    assert shelf.add("atlas").shelf is shelf


def test_widget_registering_with_its_master() -> None:
    module = _load(FIXTURES / "links.fixed.py", "mem301_links_fixed")

    class Master:
        def __init__(self) -> None:
            self.children: dict[str, object] = {}

    master = Master()
    widget = module.Widget(master, "button")
    assert widget.master is master and master.children["button"] is widget
    with _gc_disabled():
        del master
        assert widget.master is None


def test_project_fixed_across_modules(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "project", root)
    for fixed_file in (FIXTURES / "project.fixed").rglob("*.py"):
        shutil.copy(fixed_file, root / fixed_file.relative_to(FIXTURES / "project.fixed"))
    sys.path.insert(0, str(root))
    try:
        import shapes  # type: ignore[import-not-found]

        group = shapes.Group("drawing")
        square = group.add("square")
        assert square.group is group
        assert square.describe() == "square in drawing"
        with _gc_disabled():
            del group
            assert square.group is None
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "shapes" or n.startswith("shapes.")]:
            del sys.modules[name]
