"""The peer test suite (scripts/peer_suite.py): its judge on a tiny project, then a real package."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script() -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location("peer_suite", SCRIPTS / "peer_suite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


peer_suite = load_script()


def test_each_test_outcome_is_read(tmp_path: Path) -> None:
    (tmp_path / "test_mini.py").write_text(
        "import pytest\n\n\ndef test_ok():\n    pass\n\n\ndef test_bad():\n    assert False\n\n\n"
        "@pytest.mark.skip\ndef test_skipped():\n    pass\n\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError\n\n\n"
        "def test_error(broken):\n    pass\n"
    )
    outcomes = peer_suite.run_tests(tmp_path, peer_suite.Peer("0", ("test_mini.py",)), tmp_path / "r.xml")
    assert outcomes == {
        "test_mini::test_ok": "passed",
        "test_mini::test_bad": "failed",
        "test_mini::test_skipped": "skipped",
        "test_mini::test_error": "error",
    }


@pytest.mark.slow
def test_peer_suite_passes_the_same_tests_after_safe_fixes(tmp_path: Path) -> None:
    figures = tmp_path / "peer.json"
    code = peer_suite.main(["--work", str(tmp_path / "work"), "--json", str(figures)])
    if code == peer_suite.EXIT_DOWNLOAD:
        pytest.skip("PyPI cannot be reached")
    report = json.loads(figures.read_text())
    assert report["changed_outcomes"] == [] and report["memlint_errors"] == []
    assert report["tests_before"] == report["tests_after"]
    assert report["tests_before"]["passed"] > 100
    assert sum(report["fixes_per_rule"].values()) > 0, "nothing fixed: the peer proves nothing"
    assert any(name.startswith("boltons/") for name in report["files_changed"])  # library code, not tests
    assert code == 0
