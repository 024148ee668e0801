"""The command line, through a real subprocess: exit codes, formats, stdin, config, fixes, noqa."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

GC_FIXABLE = """import gc


def load(path):
    gc.disable()
    data = parse(path)
    gc.enable()
    return data
"""
GC_FIXED = """import gc


def load(path):
    gc.disable()
    try:
        data = parse(path)
    finally:
        gc.enable()
    return data
"""
GC_UNFIXABLE = "import gc\n\n\ndef run():\n    gc.disable()\n    work()\n"
MSG = "`gc.disable()` without a guaranteed `gc.enable()`"


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_clean_tree_exits_zero(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "ok.py", "x = 1\n")
    r = memlint("--select", "MEM401", cwd=tmp_path)
    assert (r.code, r.out.strip(), r.err) == (0, "All checks passed!", "")


def test_findings_exit_one_with_exact_lines(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "b.py", GC_UNFIXABLE)
    write(tmp_path, "a.py", GC_FIXABLE)
    r = memlint("--select", "MEM401", cwd=tmp_path)
    assert r.code == 1
    lines = r.out.splitlines()
    assert lines[0].startswith(f"a.py:5:5: MEM401 [*] {MSG}")
    assert lines[1].startswith(f"b.py:5:5: MEM401 {MSG}")
    assert lines[-1] == "Found 2 findings (1 fixable with --fix)."


def test_exit_zero(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    assert memlint("--select", "MEM401", "--exit-zero", cwd=tmp_path).code == 0


def test_syntax_error_is_reported_and_other_files_still_checked(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "broken.py", "def f(:\n")
    write(tmp_path, "py2.py", 'print "hello"\n')
    write(tmp_path, "z.py", GC_UNFIXABLE)
    r = memlint("--select", "MEM401", cwd=tmp_path)
    assert r.code == 1
    assert "broken.py:1:" in r.out and "SyntaxError" in r.out
    assert "py2.py:1:" in r.out
    assert "z.py:5:5: MEM401" in r.out
    assert "Traceback" not in r.err


def test_fix_writes_and_second_run_is_clean(tmp_path: Path, memlint: Any) -> None:
    target = write(tmp_path, "a.py", GC_FIXABLE)
    r = memlint("--select", "MEM401", "--fix", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    assert target.read_text() == GC_FIXED
    assert memlint("--select", "MEM401", cwd=tmp_path).code == 0


def test_fix_keeps_crlf_bom_cookie_and_mode(tmp_path: Path, memlint: Any) -> None:
    crlf = write(tmp_path, "crlf.py", GC_FIXABLE.replace("\n", "\r\n").encode())
    bom = write(tmp_path, "bom.py", b"\xef\xbb\xbf" + GC_FIXABLE.encode())
    latin = write(
        tmp_path, "latin.py", ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + GC_FIXABLE).encode("latin-1")
    )
    os.chmod(crlf, 0o751)
    r = memlint("--select", "MEM401", "--fix", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    assert crlf.read_bytes() == GC_FIXED.replace("\n", "\r\n").encode()
    assert bom.read_bytes() == b"\xef\xbb\xbf" + GC_FIXED.encode()
    assert latin.read_bytes() == ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + GC_FIXED).encode("latin-1")
    assert stat.S_IMODE(crlf.stat().st_mode) == 0o751


def test_fix_writes_through_symlink_and_keeps_hard_links(tmp_path: Path, memlint: Any) -> None:
    real = write(tmp_path, "real.py", GC_FIXABLE)
    (tmp_path / "link.py").symlink_to(real)
    hard = tmp_path / "sub" / "hard.py"
    hard.parent.mkdir()
    os.link(real, hard)
    r = memlint("--select", "MEM401", "--fix", "link.py", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    assert (tmp_path / "link.py").is_symlink()
    assert real.read_text() == GC_FIXED
    assert hard.read_text() == GC_FIXED  # still the same inode
    assert real.stat().st_ino == hard.stat().st_ino


def test_diff_writes_nothing_and_exits_one(tmp_path: Path, memlint: Any) -> None:
    target = write(tmp_path, "a.py", GC_FIXABLE)
    r = memlint("--select", "MEM401", "--diff", cwd=tmp_path)
    assert r.code == 1
    assert target.read_text() == GC_FIXABLE
    assert r.out.startswith("--- a.py\n+++ a.py\n")
    assert "+    try:\n" in r.out and "+    finally:\n" in r.out
    assert r.err.strip() == "Would fix 1 finding in 1 file."
    assert memlint("--select", "MEM401", "--diff", "--exit-zero", cwd=tmp_path).code == 0
    target.write_text("x = 1\n")
    clean = memlint("--select", "MEM401", "--diff", cwd=tmp_path)
    assert (clean.code, clean.out, clean.err.strip()) == (0, "", "No fixes available.")


def test_unsafe_fixes_hidden_without_flag(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    r = memlint("--select", "MEM401", "--fix", cwd=tmp_path)
    assert r.code == 1  # nothing fixable: the finding remains


def test_json_output_follows_ruff_schema(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_FIXABLE)
    write(tmp_path, "bad.py", "def f(:\n")
    r = memlint("--select", "MEM401", "--output-format", "json", cwd=tmp_path)
    assert r.code == 1
    data = json.loads(r.out)
    by_file = {Path(d["filename"]).name: d for d in data}
    finding = by_file["a.py"]
    assert set(finding) >= {
        "cell",
        "code",
        "end_location",
        "filename",
        "fix",
        "location",
        "message",
        "noqa_row",
        "url",
    }
    assert finding["code"] == "MEM401"
    assert Path(finding["filename"]).is_absolute()
    assert finding["location"] == {"row": 5, "column": 5}
    assert finding["noqa_row"] == 5
    assert finding["fix"]["applicability"] == "safe"
    assert by_file["bad.py"]["code"] is None


def test_sarif_and_github_outputs(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    sarif = memlint("--select", "MEM401", "--output-format", "sarif", cwd=tmp_path)
    doc = json.loads(sarif.out)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["MEM401"]
    assert run["results"][0]["ruleId"] == "MEM401"
    gh = memlint("--select", "MEM401", "--output-format", "github", cwd=tmp_path)
    assert gh.out.startswith(f"::error title=memlint (MEM401),file={tmp_path / 'a.py'},line=5,col=5,")


def test_output_file(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    r = memlint("--select", "MEM401", "--output-format", "json", "--output-file", "out/r.json", cwd=tmp_path)
    assert r.code == 1 and r.out == ""
    assert json.loads((tmp_path / "out" / "r.json").read_text())[0]["code"] == "MEM401"


def test_stdin_check_and_fix(tmp_path: Path, memlint: Any) -> None:
    r = memlint(
        "-", "--stdin-filename", "pkg/mod.py", "--select", "MEM401", cwd=tmp_path, stdin=GC_UNFIXABLE.encode()
    )
    assert r.code == 1
    assert r.out.startswith("pkg/mod.py:5:5: MEM401")
    fixed = memlint(
        "-",
        "--stdin-filename",
        "mod.py",
        "--select",
        "MEM401",
        "--fix",
        cwd=tmp_path,
        stdin=GC_FIXABLE.encode(),
    )
    assert fixed.out == GC_FIXED
    assert fixed.code == 0
    unchanged = memlint("-", "--select", "MEM401", "--fix", cwd=tmp_path, stdin=b"x = 1\n")
    assert unchanged.out == "x = 1\n"


def test_config_errors_exit_two_with_one_line(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", "x = 1\n")
    cases = {
        "[tool.memlint\n": "invalid TOML",
        "[tool.memlint]\nbogus = 1\n": "unknown key 'bogus'",
        "[tool.memlint]\npreview = 'yes'\n": "preview: expected true or false",
        "[tool.memlint]\nselect = ['MEM999']\n": "unknown rule code",
        "[tool.memlint]\nselect = ['XYZ']\n": "unknown rule code",
        "[tool.memlint]\ntarget-version = 'py2'\n": "target-version",
        "[tool.memlint.gc-disable-without-enable]\nnope = 1\n": "unknown option 'nope'",
    }
    for text, expected in cases.items():
        write(tmp_path, "pyproject.toml", text)
        r = memlint(cwd=tmp_path)
        assert r.code == 2, text
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and "pyproject.toml" in lines[0], (text, r.err)


def test_unknown_cli_code_and_bad_usage(tmp_path: Path, memlint: Any) -> None:
    assert memlint("--select", "MEM999", cwd=tmp_path).code == 2
    assert memlint("--jobs", "0", cwd=tmp_path).code == 2
    r = memlint("missing.py", cwd=tmp_path)
    assert r.code == 2 and "missing.py" in r.err


def test_select_ignore_and_per_file_ignores(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    write(tmp_path, "tests/test_a.py", GC_UNFIXABLE)
    assert memlint("--select", "MEM4", "--ignore", "MEM401", cwd=tmp_path).code == 0
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.memlint]\nselect = ["MEM401"]\nper-file-ignores = {"tests/*" = ["MEM4"]}\n',
    )
    r = memlint(cwd=tmp_path)
    assert "a.py:5:5" in r.out and "test_a.py" not in r.out
    isolated = memlint("--isolated", "--select", "MEM401", cwd=tmp_path)
    assert "test_a.py" in isolated.out


def test_noqa_forms(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", "import gc\ngc.disable()  # noqa\n")
    write(tmp_path, "b.py", "import gc\ngc.disable()  # NOQA:MEM4\n")
    write(tmp_path, "c.py", "import gc\ngc.disable()  # noqa: MEM101\n")
    write(tmp_path, "d.py", "import gc\nx = [\n    gc.disable(),\n]  # noqa: MEM401\n")
    write(tmp_path, "e.py", "# memlint: noqa\nimport gc\ngc.disable()\n")
    write(tmp_path, "f.py", "# memlint: noqa: MEM401\nimport gc\ngc.disable()\n")
    r = memlint("--select", "MEM401", cwd=tmp_path)
    reported = {line.split(":")[0] for line in r.out.splitlines() if ":" in line}
    assert reported == {"c.py"}


def test_add_noqa_then_clean(tmp_path: Path, memlint: Any) -> None:
    target = write(tmp_path, "a.py", "import gc\ngc.disable()  # noqa: MEM101\nwork()\n")
    r = memlint("--select", "MEM401", "--add-noqa", cwd=tmp_path)
    assert r.code == 0 and "Added 1 noqa directive" in r.err
    assert target.read_text() == "import gc\ngc.disable()  # noqa: MEM101, MEM401\nwork()\n"
    assert memlint("--select", "MEM401", cwd=tmp_path).code == 0


def test_information_commands(tmp_path: Path, memlint: Any) -> None:
    explain = memlint("--explain", "MEM401", cwd=tmp_path)
    assert explain.code == 0 and "## What it does" in explain.out and "## Fix safety" in explain.out
    assert memlint("--explain", "MEM999", cwd=tmp_path).code == 2
    listing = memlint("--list-rules", cwd=tmp_path)
    assert "MEM401  gc-disable-without-enable" in listing.out
    from memlint import __version__

    assert memlint("--version", cwd=tmp_path).out.strip() == f"memlint {__version__}"


def test_show_files_respects_excludes_and_gitignore(tmp_path: Path, memlint: Any) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".gitignore", "generated/\n")
    for name in ("src/a.py", "generated/g.py", ".venv/lib/x.py", "build/b.py", "node_modules/n.py", "s.pyi"):
        write(tmp_path, name, "x = 1\n")
    write(tmp_path, "notes.txt", "hello")
    r = memlint("--show-files", cwd=tmp_path)
    assert r.out.split() == ["s.pyi", os.path.join("src", "a.py")]
    r = memlint("--show-files", "--no-respect-gitignore", cwd=tmp_path)
    assert os.path.join("generated", "g.py") in r.out.split()


def test_odd_paths(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "pkg.py/inner.py", GC_UNFIXABLE)  # a folder named like a module
    write(tmp_path, "data.txt", "not python")
    (tmp_path / "loop").symlink_to(tmp_path)
    r = memlint("--select", "MEM401", ".", "data.txt", cwd=tmp_path)
    assert r.code == 1
    assert os.path.join("pkg.py", "inner.py") + ":5:5: MEM401" in r.out
    assert "data.txt: not a Python file" in r.err


def test_undecodable_and_null_bytes_are_reported_not_crashed(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "bad_utf8.py", b"x = '\xff'\n")
    write(tmp_path, "nul.py", b"x = 1\x00\n")
    write(tmp_path, "cookie.py", b"# -*- coding: klingon -*-\nx = 1\n")
    r = memlint("--select", "MEM401", cwd=tmp_path)
    assert r.code == 1, r.err
    assert "Traceback" not in r.err + r.out
    for name in ("bad_utf8.py", "nul.py", "cookie.py"):
        assert f"{name}:" in r.out


def test_statistics(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "a.py", GC_UNFIXABLE)
    write(tmp_path, "b.py", GC_FIXABLE)
    r = memlint("--select", "MEM401", "--statistics", cwd=tmp_path)
    assert r.code == 1
    assert "2" in r.out and "MEM401" in r.out and "gc-disable-without-enable" in r.out


def test_python_dash_m_and_jobs(tmp_path: Path, memlint: Any) -> None:
    for i in range(12):
        write(tmp_path, f"m{i:02}.py", GC_UNFIXABLE)
    one = memlint("--select", "MEM401", "--jobs", "1", cwd=tmp_path)
    two = memlint("--select", "MEM401", "--jobs", "2", cwd=tmp_path)
    assert one.code == two.code == 1
    assert one.out == two.out  # deterministic order whatever the parallelism
    assert one.out.count("MEM401") == 12


def test_stdin_buffer_under_an_excluded_path_with_force_exclude(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "pyproject.toml", '[tool.memlint]\nextend-exclude = ["generated/"]\n')
    args = ("-", "--stdin-filename", "generated/x.py", "--select", "MEM401")
    assert memlint(*args, cwd=tmp_path, stdin=GC_UNFIXABLE.encode()).code == 1
    skipped = memlint(*args, "--force-exclude", cwd=tmp_path, stdin=GC_UNFIXABLE.encode())
    assert (skipped.code, skipped.out) == (0, "")
    passed = memlint(*args, "--force-exclude", "--fix", cwd=tmp_path, stdin=GC_FIXABLE.encode())
    assert (passed.code, passed.out) == (0, GC_FIXABLE)
