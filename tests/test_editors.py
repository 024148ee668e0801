"""What an editor integration relies on: ``memlint - --stdin-filename PATH`` on an unsaved buffer.

The buffer is checked as if it were the file at PATH (configuration resolved from PATH), nothing
on disk is read for it or written, the JSON output carries ranges, fix edits and applicability,
and ``--fix`` prints the whole buffer so the editor can replace its contents.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GC_UNGUARDED = "import gc\n\n\ndef run():\n    gc.disable()\n    work()\n"
GC_FIXABLE = (
    "import gc\n\n\ndef load(path):\n"
    "    gc.disable()\n    data = parse(path)\n    gc.enable()\n    return data\n"
)
GC_FIXED = (
    "import gc\n\n\ndef load(path):\n"
    "    gc.disable()\n    try:\n        data = parse(path)\n"
    "    finally:\n        gc.enable()\n    return data\n"
)
#: Both cases in one buffer: the fixable one first (rows 4-8), the unfixable one after (rows 11-13).
BUFFER = GC_FIXABLE + "\n\ndef run():\n    gc.disable()\n    work()\n"


@dataclass
class Completed:
    code: int
    out: bytes
    err: str


def memlint_stdin(buffer: bytes, *args: str, cwd: Path) -> Completed:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "memlint", "-", *args],
        cwd=cwd,
        input=buffer,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr.decode())


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply JSON edits (1-based rows and columns, end exclusive) the way an editor would."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location: dict[str, int]) -> int:
        return starts[location["row"] - 1] + location["column"] - 1

    spans = [(offset(e["location"]), offset(e["end_location"]), e["content"]) for e in edits]
    # Back to front; insertions at one point keep their listed order (later ones go in first).
    for start, end, content in reversed(sorted(spans, key=lambda span: (span[0], span[1]))):
        text = text[:start] + content + text[end:]
    return text


def test_json_carries_ranges_fix_edits_and_applicability(tmp_path: Path) -> None:
    on_disk = write(tmp_path, "pkg/mod.py", "VALUE = 1\n")  # the saved file is clean; the buffer is not
    result = memlint_stdin(
        BUFFER.encode(),
        "--stdin-filename",
        "pkg/mod.py",
        "--output-format",
        "json",
        "--select",
        "MEM401",
        cwd=tmp_path,
    )
    assert (result.code, result.err) == (1, "")
    fixable, unfixable = json.loads(result.out)
    for item, row in ((fixable, 5), (unfixable, 12)):
        assert item["filename"] == str(on_disk)
        assert (item["code"], item["name"]) == ("MEM401", "gc-disable-without-enable")
        # The range covers `gc.disable()` exactly (end exclusive): what the editor underlines.
        assert item["location"] == {"row": row, "column": 5}
        assert item["end_location"] == {"row": row, "column": 17}
        assert item["noqa_row"] == row
    assert unfixable["fix"] is None
    fix = fixable["fix"]
    assert fix["applicability"] == "safe" and fix["message"]
    assert fix["edits"] and all(set(edit) == {"content", "location", "end_location"} for edit in fix["edits"])
    # The edits, applied to the buffer, are exactly the fix `--fix` makes.
    fixed = apply_edits(BUFFER, fix["edits"])
    assert fixed == GC_FIXED + BUFFER[len(GC_FIXABLE) :]
    assert on_disk.read_text(encoding="utf-8") == "VALUE = 1\n"


def test_fix_prints_the_whole_buffer_and_reports_on_stderr(tmp_path: Path) -> None:
    buffer = BUFFER.replace("\n", "\r\n").encode()  # a Windows buffer keeps its line endings
    result = memlint_stdin(buffer, "--stdin-filename", "mod.py", "--fix", "--select", "MEM401", cwd=tmp_path)
    expected = (GC_FIXED + BUFFER[len(GC_FIXABLE) :]).replace("\n", "\r\n").encode()
    assert result.out == expected
    assert result.code == 1  # the unfixable finding remains
    assert "mod.py:14:5: MEM401 " in result.err
    assert not (tmp_path / "mod.py").exists()  # nothing written, even the path named
    clean = memlint_stdin(b"VALUE = 1\n", "--stdin-filename", "mod.py", "--fix", cwd=tmp_path)
    assert (clean.code, clean.out) == (0, b"VALUE = 1\n")


def test_configuration_is_resolved_from_the_stdin_filename(tmp_path: Path) -> None:
    write(tmp_path, "legacy/pyproject.toml", '[tool.memlint]\nignore = ["MEM401"]\n')
    write(tmp_path, "pyproject.toml", '[tool.memlint]\nper-file-ignores = { "scripts/*" = ["MEM4"] }\n')
    args = ("--output-format", "json", "--stdin-filename")

    def codes(path: str) -> list[str]:
        result = memlint_stdin(GC_UNGUARDED.encode(), *args, path, cwd=tmp_path)
        assert result.err == ""
        return [item["code"] for item in json.loads(result.out)]

    assert codes("app/mod.py") == ["MEM401"]
    assert codes("legacy/mod.py") == []  # the pyproject next to the path
    assert codes("scripts/tool.py") == []  # the root pyproject's per-file-ignores, matched on the path
    # The same whatever the editor's working folder: relative to it, or absolute.
    (tmp_path / "app").mkdir()
    inside = memlint_stdin(GC_UNGUARDED.encode(), *args, "mod.py", cwd=tmp_path / "legacy")
    absolute = memlint_stdin(
        GC_UNGUARDED.encode(), *args, str(tmp_path / "legacy/mod.py"), cwd=tmp_path / "app"
    )
    assert json.loads(inside.out) == json.loads(absolute.out) == []


def test_a_buffer_with_a_syntax_error(tmp_path: Path) -> None:
    result = memlint_stdin(
        b"def f(:\n", "--stdin-filename", "mod.py", "--output-format", "json", cwd=tmp_path
    )
    (item,) = json.loads(result.out)
    assert result.code == 1
    assert item["code"] is None and item["message"].startswith("SyntaxError:")
    assert item["location"]["row"] == 1 and item["fix"] is None


def test_unsafe_fixes_are_offered_but_applied_only_on_request(tmp_path: Path) -> None:
    """An editor can offer an unsafe fix as a code action; ``--fix`` alone leaves it out."""
    buffer = (
        "class Group:\n    def __init__(self):\n        self.shapes = []\n\n"
        "    def add(self):\n        self.shapes.append(Shape(self))\n\n\n"
        "class Shape:\n    def __init__(self, group):\n        self.group = group\n"
    )
    args = ("--stdin-filename", "model.py", "--select", "MEM301")
    report = memlint_stdin(buffer.encode(), *args, "--output-format", "json", cwd=tmp_path)
    (item,) = json.loads(report.out)
    assert (item["code"], item["location"]) == ("MEM301", {"row": 11, "column": 9})
    assert item["fix"]["applicability"] == "unsafe"
    safe_only = memlint_stdin(buffer.encode(), *args, "--fix", cwd=tmp_path)
    assert (safe_only.code, safe_only.out) == (1, buffer.encode())
    unsafe = memlint_stdin(buffer.encode(), *args, "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert unsafe.code == 0
    assert unsafe.out.decode() == apply_edits(buffer, item["fix"]["edits"]) != buffer
