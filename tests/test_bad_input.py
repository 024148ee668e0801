"""Bad input a real repository contains: a clear message for that file, the run goes on, nothing lost.

Complements tests/test_cli.py (CRLF, BOM, latin-1, mode, links, undecodable bytes, null bytes,
odd paths), tests/test_sources.py (atomic writes under injected failures) and tests/test_runner.py
(a crashing worker). Most cases run the real command in a subprocess; the ones that must strike
at a precise moment (a file edited or deleted mid-run) patch memlint in-process or in a wrapper
script run as a subprocess.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memlint import cli, sources
from memlint.engine import MAX_SOURCE_CHARS, FileOptions, lint_source
from memlint.registry import all_rules

ALL_CODES = ",".join(rule.CODE for rule in all_rules())
EVERY_RULE = ("--select", ALL_CODES, "--preview", "--no-cache")
GC_FIXABLE = (
    "import gc\n\n\ndef load(path):\n    gc.disable()\n    data = parse(path)\n"
    "    gc.enable()\n    return data\n"
)
GC_FIXED = (
    "import gc\n\n\ndef load(path):\n    gc.disable()\n    try:\n        data = parse(path)\n"
    "    finally:\n        gc.enable()\n    return data\n"
)
#: Makes LibCST's parser worth reaching: every gc rule's pre-screen passes on it.
GC_HEAD = "import gc\ngc.disable()\n"
PYTHON2 = textwrap.dedent(
    """\
    import urllib2

    def fetch(url):
        try:
            return urllib2.urlopen(url).read()
        except urllib2.URLError, e:
            print >>sys.stderr, "failed: %s" % e
            print "retrying", `url`
            exec "x = 1"
            if x <> 1:
                raise ValueError, "bad"
            return ur"done" + str(0777L)
    """
)


#: The same faults as the standard library's test files (bad_coding*.py, badsyntax_*.py).
SYNTHETIC_BROKEN = {
    "s_bad_cookie.py": b"# -*- coding: uft-8 -*-\nx = 1\n",
    "s_bom_and_latin1_cookie.py": b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n",
    "s_euro_identifier.py": "\u20ac = 1\n".encode(),
    "s_not_utf8.py": b"x = 1\ny = '\xf6'\n",
    "s_tab_space_mix.py": b"if x:\n        a = 1\n\tb = 2\n",
    "s_unclosed.py": b"x = (1,\n",
    "s_future_late.py": b"x = 1\nfrom __future__ import annotations\n",
}


def write(root: Path, name: str, content: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def assert_clean_failure(out: str, err: str) -> None:
    """Whatever went wrong was said in memlint's words: no traceback, no internal error."""
    assert "Traceback" not in out + err
    assert "internal error" not in out + err


def stdlib_broken_files() -> list[Path]:
    """The standard library's deliberately broken or Python 2 files, where this Python keeps them."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    patterns = (
        "test/badsyntax_*.py",
        "test/bad_coding*.py",
        "test/tokenizedata/*.py",
        "lib2to3/tests/data/*.py",
        "test/test_lib2to3/data/*.py",
    )
    return sorted(p for pattern in patterns for p in stdlib.glob(pattern))


def test_stdlib_broken_files_and_python2_are_reported_one_by_one(tmp_path: Path, memlint: Any) -> None:
    broken = stdlib_broken_files()  # none in Debian's python3.11 package, hence the ones below
    names = []
    for i, path in enumerate(broken):
        name = f"f{i:02}_{path.name}"
        shutil.copyfile(path, tmp_path / name)
        names.append(name)
    for name, raw in SYNTHETIC_BROKEN.items():
        write(tmp_path, name, raw)
        names.append(name)
    write(tmp_path, "py2_module.py", PYTHON2)
    write(tmp_path, "zz_good.py", GC_HEAD)
    r = memlint(*EVERY_RULE, cwd=tmp_path)
    assert r.code == 1, r.err
    assert_clean_failure(r.out, r.err)
    py2_line = next(line for line in r.out.splitlines() if line.startswith("py2_module.py:"))
    assert py2_line.split(": ")[1] == "SyntaxError"
    assert "zz_good.py:2:1: MEM401" in r.out
    for name in names:
        raw = (tmp_path / name).read_bytes()
        try:
            ast.parse(raw)
        except (SyntaxError, ValueError):
            assert any(
                line.startswith(f"{name}:") and "SyntaxError" in line for line in r.out.splitlines()
            ), name
        else:  # the valid ones among them (Python 3 grammar, odd cookies) are simply checked
            assert not [line for line in r.err.splitlines() if name in line and ": error:" in line]


def test_cp1252_cookie_survives_a_fix(tmp_path: Path, memlint: Any) -> None:
    header = "# -*- coding: cp1252 -*-\n# \u20ac price list \u201cquoted\u201d\n"
    target = write(tmp_path, "shop.py", (header + GC_FIXABLE + "SIGN = '\u20ac'\n").encode("cp1252"))
    r = memlint("--select", "MEM401", "--fix", "--no-cache", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    assert target.read_bytes() == (header + GC_FIXED + "SIGN = '\u20ac'\n").encode("cp1252")


def test_mixed_newlines_form_feeds_and_tabs_survive_a_fix(tmp_path: Path, memlint: Any) -> None:
    mixed = write(
        tmp_path,
        "mixed.py",
        b"import gc\r\ndef f():\n    gc.disable()\r    work()\r\n    gc.enable()\n",
    )
    tabs = write(
        tmp_path,
        "tabs.py",
        b"\x0cimport gc\n\x0c\ndef f():\n\tgc.disable()\n\twork()\n"
        b"\x0c\tmore()  # \x0c keep\n\tgc.enable()\n",
    )
    r = memlint("--select", "MEM401", "--fix", "--no-cache", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    # Lines outside the fix keep their own ending; inserted lines take the file's first one.
    assert mixed.read_bytes() == (
        b"import gc\r\ndef f():\n    gc.disable()\r    try:\r\n        work()\r\n"
        b"    finally:\r\n        gc.enable()\n"
    )
    fixed_tabs = tabs.read_bytes()
    # A form feed resets the tokenizer's column: the added tab goes after it, not before.
    assert fixed_tabs == (
        b"\x0cimport gc\n\x0c\ndef f():\n\tgc.disable()\n\ttry:\n\t\twork()\n"
        b"\x0c\t\tmore()  # \x0c keep\n\tfinally:\n\t\tgc.enable()\n"
    )
    for path in (mixed, tabs):
        compile(path.read_bytes(), str(path), "exec")


def test_fix_libcst_cannot_reread_is_refused_cleanly(tmp_path: Path, memlint: Any) -> None:
    """LibCST 1.9 rejects a block whose first line starts with a form feed (CPython accepts it):
    such a fix output is refused with a message, and the file is left as it was."""
    original = b"import gc\ndef f():\n\tgc.disable()\n\x0c\twork()\n\tgc.enable()\n"
    target = write(tmp_path, "ff.py", original)
    r = memlint("--select", "MEM401", "--fix", "--no-cache", cwd=tmp_path)
    assert_clean_failure(r.out, r.err)
    after = target.read_bytes()
    compile(after, "ff.py", "exec")
    if after == original:
        assert r.code == 2 and "ff.py [MEM401]: fix by MEM401 would produce invalid code" in r.err
    else:  # a LibCST that reads it back: the tab goes after the form feed
        assert (
            after
            == b"import gc\ndef f():\n\tgc.disable()\n\ttry:\n\x0c\t\twork()\n\tfinally:\n\t\tgc.enable()\n"
        )


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", b"\xef\xbb\xbf", b"# only a comment", b"   ", b"\x0c", b"pass", b"\r\n", b'"""doc"""'],
    ids=[
        "empty",
        "newlines",
        "bom-only",
        "comment",
        "spaces",
        "form-feed",
        "no-newline",
        "crlf",
        "docstring",
    ],
)
def test_empty_and_trivial_files(tmp_path: Path, content: bytes) -> None:
    source = sources.decode_source(content).text
    outcome = lint_source(source, "x.py", FileOptions(rules=all_rules()))
    assert (outcome.diagnostics, outcome.problems) == ([], [])


def test_trivial_files_through_the_command(tmp_path: Path, memlint: Any) -> None:
    for i, content in enumerate((b"", b"\xef\xbb\xbf", b"\n", b"# c")):
        write(tmp_path, f"t{i}.py", content)
    r = memlint(*EVERY_RULE, "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert (r.code, r.err) == (0, "")
    assert [(tmp_path / f"t{i}.py").read_bytes() for i in range(4)] == [b"", b"\xef\xbb\xbf", b"\n", b"# c"]


def _ten_megabytes() -> str:
    unit = GC_FIXABLE.replace("def load", "def load_{0}") + "\n\n"
    count = MAX_SOURCE_CHARS * 10 // len(unit) + 1
    return "".join(unit.format(i) for i in range(count))


def test_ten_megabyte_file_is_skipped_fast_with_a_warning(tmp_path: Path, memlint: Any) -> None:
    text = _ten_megabytes()
    assert len(text) >= 10_000_000
    big = write(tmp_path, "generated.py", text)
    write(tmp_path, "small.py", GC_FIXABLE)
    started = time.monotonic()
    r = memlint(*EVERY_RULE, "--fix", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert r.code == 0, r.out + r.err
    assert "generated.py: larger than 1,000,000 characters" in r.err and "skipped" in r.err
    assert_clean_failure(r.out, r.err)
    assert big.read_text() == text  # never touched
    assert (tmp_path / "small.py").read_text() == GC_FIXED  # the rest of the run went on
    # ast alone would take ~10 s and 1.5 GB on it, LibCST many minutes.
    assert elapsed < 60, elapsed


def _deep_inputs() -> dict[str, str]:
    terms = ["a"] * 50_000
    split_sum = " +\n".join(" + ".join(terms[i : i + 40]) for i in range(0, len(terms), 40))
    return {
        "parens.py": "x = " + "(" * 3000 + "a" + ")" * 3000 + "\n",
        "sum_one_line.py": "x = " + "a+" * 50_000 + "a\n",
        "sum_split.py": "x = (\n" + split_sum + "\n)\n",
        "call_chain.py": "x = a" + ".b()" * 3000 + "\n",
        "nots.py": "x = " + "not " * 3000 + "a\n",
        "negations.py": "x = " + "-" * 50_000 + "a\n",
        "long_statement.py": "x = [\n" + "    1,\n" * 6000 + "]\n",
        "long_line.py": "x = [" + "1, " * 10_000 + "]\n",
        "strings.py": "x = (\n" + "    'piece'\n" * 3000 + ")\n",
    }


def test_deep_and_long_inputs_never_take_the_run_down(tmp_path: Path, memlint: Any) -> None:
    """Fewer than 8 files: they run in memlint's own process, where a native crash would end it."""
    cases = _deep_inputs()
    for chunk in (list(cases)[:5], list(cases)[5:]):
        folder = tmp_path / chunk[0]
        for name in chunk:
            write(folder, name, GC_HEAD + cases[name])
        write(folder, "ok.py", GC_HEAD)
        started = time.monotonic()
        r = memlint(*EVERY_RULE, "--jobs", "1", cwd=folder)
        assert time.monotonic() - started < 120
        assert r.code == 1, r.out + r.err
        assert_clean_failure(r.out, r.err)
        assert "ok.py:2:1: MEM401" in r.out
        for name in chunk:
            reported = [line for line in (r.out + r.err).splitlines() if name in line]
            # Either analysed (its gc.disable() found) or skipped with a reason: never silently lost.
            assert reported, name
            assert all(("MEM401" in line or "SyntaxError" in line or "warning" in line) for line in reported)


@pytest.mark.parametrize("name", sorted(_deep_inputs()))
def test_deep_and_long_inputs_in_the_engine(name: str) -> None:
    source = GC_HEAD + _deep_inputs()[name]
    started = time.monotonic()
    outcome = lint_source(source, name, FileOptions(rules=all_rules()))
    assert time.monotonic() - started < 30
    assert not [p for p in outcome.problems if p.severity == "error"], outcome.problems
    codes = {d.code for d in outcome.diagnostics}
    assert outcome.problems or codes in ({None}, {"MEM401"}), (codes, outcome.problems)


def test_expression_too_deep_for_libcst_is_refused_before_parsing() -> None:
    # Python 3.10 and 3.13 accept this in ast; LibCST then needs minutes (or crashes) to parse it.
    source = GC_HEAD + "x = a" + ".b()" * 600 + "\n"
    try:
        ast.parse(source)
    except RecursionError:
        pytest.skip("this Python's ast refuses it already")
    started = time.monotonic()
    outcome = lint_source(source, "chain.py", FileOptions(rules=all_rules()))
    assert time.monotonic() - started < 5
    assert [p.message for p in outcome.problems] == [
        "an expression is nested more than 500 levels deep; file skipped"
    ]


def test_nesting_libcst_can_handle_is_still_analysed() -> None:
    source = GC_HEAD + "x = " + "a+" * 200 + "a\n@d(" + "-" * 100 + "a)\ndef f(): pass\n"
    outcome = lint_source(source, "ok.py", FileOptions(rules=all_rules()))
    assert outcome.problems == []
    assert [d.code for d in outcome.diagnostics] == ["MEM401"]


def test_pydoc_topics_is_survived_and_reported(tmp_path: Path, memlint: Any) -> None:
    topics = Path(sysconfig.get_paths()["stdlib"]) / "pydoc_data" / "topics.py"
    text = topics.read_text(encoding="utf-8")
    write(tmp_path, "topics.py", GC_HEAD + text)
    # The same text cut into one statement per entry: each gets past the statement-length guard,
    # and the long implicit concatenations nest deeply in LibCST's tree.
    module = ast.parse(text)
    value = module.body[-1].value  # type: ignore[attr-defined]
    assert isinstance(value, ast.Dict)
    entries = "".join(
        f"topic_{i} = {ast.get_source_segment(text, v)}\n" for i, v in enumerate(value.values[:40])
    )
    write(tmp_path, "topics_split.py", GC_HEAD + entries)
    r = memlint(*EVERY_RULE, "--fix", "--unsafe-fixes", cwd=tmp_path)
    assert_clean_failure(r.out, r.err)
    assert r.code in (0, 1), r.err
    for name in ("topics.py", "topics_split.py"):
        assert name in r.out + r.err


def test_very_long_lines_under_the_limit_are_analysed(tmp_path: Path, memlint: Any) -> None:
    write(tmp_path, "wide.py", GC_HEAD + "x = '" + "y" * 19_000 + "'\n")
    write(tmp_path, "wider.py", GC_HEAD + "x = '" + "y" * 30_000 + "'\n")
    r = memlint("--select", "MEM401", "--no-cache", cwd=tmp_path)
    assert r.code == 1
    assert "wide.py:2:1: MEM401" in r.out
    assert "wider.py: a line is longer than 20,000 characters; file skipped" in r.err


# -- files that change under memlint's feet ---------------------------------------------------------


def run_in_process(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NO_COLOR", "1")
    code = cli.main([*args, "--no-cache", "--jobs", "1"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_file_changed_between_reading_and_writing_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    target = write(tmp_path, "a.py", GC_FIXABLE)
    other = write(tmp_path, "b.py", GC_FIXABLE)
    edited = GC_FIXABLE + "# edited in the editor meanwhile\n"
    real_write = sources.write_source_atomically

    def user_edits_first(path: str, original_raw: bytes, new_raw: bytes) -> None:
        if path.endswith("a.py"):
            Path(path).write_text(edited)
        real_write(path, original_raw, new_raw)

    monkeypatch.setattr(sources, "write_source_atomically", user_edits_first)
    code, out, err = run_in_process(["--select", "MEM401", "--fix"], tmp_path, monkeypatch, capsys)
    assert target.read_text() == edited
    assert other.read_text() == GC_FIXED
    assert "a.py: fix not written: changed on disk since it was read; not overwritten" in err
    assert code == 2
    assert_clean_failure(out, err)


def test_file_deleted_before_reading_or_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    gone_early = write(tmp_path, "early.py", GC_FIXABLE)
    gone_late = write(tmp_path, "late.py", GC_FIXABLE)
    kept = write(tmp_path, "kept.py", GC_FIXABLE)
    real_read, real_write = sources.read_source, sources.write_source_atomically

    def delete_then_read(path: str) -> sources.SourceFile:
        if str(path).endswith("early.py"):
            os.unlink(path)
        return real_read(path)

    def delete_then_write(path: str, original_raw: bytes, new_raw: bytes) -> None:
        if path.endswith("late.py"):
            os.unlink(path)
        real_write(path, original_raw, new_raw)

    from memlint import runner

    monkeypatch.setattr(runner, "read_source", delete_then_read)
    monkeypatch.setattr(sources, "write_source_atomically", delete_then_write)
    code, out, err = run_in_process(["--select", "MEM401", "--fix"], tmp_path, monkeypatch, capsys)
    assert "early.py: no such file" in err
    assert "late.py: fix not written: cannot re-read before writing" in err
    assert not gone_early.exists() and not gone_late.exists()  # not recreated
    assert kept.read_text() == GC_FIXED
    assert code == 2
    assert_clean_failure(out, err)


def test_unreadable_file_is_an_error_for_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # CI runs as root, where chmod 000 does not stop a read: the refusal is simulated.
    write(tmp_path, "locked.py", GC_FIXABLE)
    write(tmp_path, "open.py", GC_FIXABLE)
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "locked.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    code, out, err = run_in_process(["--select", ALL_CODES, "--preview"], tmp_path, monkeypatch, capsys)
    assert "locked.py: permission denied" in err
    assert "open.py:5:5: MEM401" in out
    assert code == 2
    assert_clean_failure(out, err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_really_unreadable_file(tmp_path: Path, memlint: Any) -> None:
    locked = write(tmp_path, "locked.py", GC_FIXABLE)
    write(tmp_path, "open.py", GC_FIXABLE)
    locked.chmod(0)
    try:
        r = memlint("--select", "MEM401", "--no-cache", cwd=tmp_path)
    finally:
        locked.chmod(0o644)
    assert r.code == 2 and "locked.py: permission denied" in r.err
    assert "open.py:5:5: MEM401" in r.out
    assert_clean_failure(r.out, r.err)


def test_internal_error_is_one_line_without_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    write(tmp_path, "a.py", GC_FIXABLE)
    from memlint import runner

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(runner, "fix_source", broken)
    code, out, err = run_in_process(["--select", "MEM401", "--fix"], tmp_path, monkeypatch, capsys)
    assert code == 2
    assert "a.py: internal error: KeyError: 'boom' (run with --verbose for the traceback)" in err
    assert "Traceback" not in out + err
    code, out, err = run_in_process(
        ["--select", "MEM401", "--fix", "--verbose"], tmp_path, monkeypatch, capsys
    )
    assert code == 2 and "Traceback (most recent call last)" in err


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("[tool.memlint]\nexclude = ['\\']\n", "bad glob"),
        ("[tool.memlint]\nper-file-ignores = {'a\\' = ['MEM4']}\n", "bad glob"),
        ("[tool.memlint]\nselect = 'MEM4'\n", "expected a list of strings"),
        ("[tool.memlint]\nignore = [4]\n", "expected a list of strings"),
        ("[tool.memlint]\n= 1\n", "invalid TOML"),
    ],
)
def test_more_bad_configuration_exits_two_with_one_line(
    tmp_path: Path, memlint: Any, config: str, expected: str
) -> None:
    write(tmp_path, "a.py", "x = 1\n")
    write(tmp_path, "pyproject.toml", config)
    r = memlint(cwd=tmp_path)
    lines = r.err.strip().splitlines()
    assert r.code == 2 and len(lines) == 1, r.err
    assert expected in lines[0] and "pyproject.toml" in lines[0]


# -- processes killed or racing -------------------------------------------------------------------

KILL_AT = textwrap.dedent(
    """
    import os, signal, sys
    from memlint import sources

    point = sys.argv.pop(1)
    real = getattr(sources.os, point)
    calls = []

    def killed(*args, **kwargs):
        calls.append(args)
        if point == "replace" or len(calls) == 2:  # fsync: the backup's passes, the rewrite's dies
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(sources.os, point, killed)
    from memlint.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def run_killed_at(point: str, tmp_path: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path.parent / f"{tmp_path.name}-kill.py"
    script.write_text(KILL_AT)
    return subprocess.run(
        [sys.executable, str(script), point, "--select", "MEM401", "--fix", "--no-cache", *targets],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_killed_between_write_and_replace_leaves_the_original(tmp_path: Path, memlint: Any) -> None:
    target = write(tmp_path, "a.py", GC_FIXABLE)
    os.chmod(target, 0o640)
    proc = run_killed_at("replace", tmp_path, "a.py")
    assert proc.returncode == -signal.SIGKILL
    assert target.read_text() == GC_FIXABLE
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)
    # What a kill leaves behind is a hidden temporary file with the fixed text, never a .py file.
    leftovers = [p for p in tmp_path.iterdir() if p.name != "a.py"]
    assert [p.name.startswith(".memlint-") and p.suffix == ".tmp" for p in leftovers] == [True]
    assert leftovers[0].read_text() == GC_FIXED
    r = memlint("--select", "MEM401", "--fix", "--no-cache", cwd=tmp_path)
    assert r.code == 0 and target.read_text() == GC_FIXED


def test_killed_while_rewriting_a_hard_linked_file_keeps_a_backup(tmp_path: Path) -> None:
    """A file with several links is rewritten in place (a replace would split the links): a kill
    in the middle can leave it half-written, so the original bytes wait in a backup beside it."""
    target = write(tmp_path, "a.py", GC_FIXABLE)
    os.link(target, tmp_path / "twin.py")
    proc = run_killed_at("fsync", tmp_path, "a.py")
    assert proc.returncode == -signal.SIGKILL
    backups = [p for p in tmp_path.iterdir() if p.name.startswith(".memlint-backup-")]
    assert len(backups) == 1 and backups[0].read_text() == GC_FIXABLE
    assert target.read_text() in (GC_FIXABLE, GC_FIXED)


def test_failure_while_rewriting_a_hard_linked_file_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = write(tmp_path, "a.py", GC_FIXABLE)
    os.link(target, tmp_path / "twin.py")
    real_fsync = os.fsync
    calls: list[int] = []

    def disk_full_on_rewrite(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", disk_full_on_rewrite)  # the os module memlint.sources uses
    with pytest.raises(OSError):
        sources.write_source_atomically(str(target), GC_FIXABLE.encode(), GC_FIXED.encode())
    assert target.read_text() == GC_FIXABLE == (tmp_path / "twin.py").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py", "twin.py"]


@pytest.fixture
def tree_to_fix(tmp_path: Path) -> Iterator[Path]:
    for i in range(24):
        write(tmp_path, f"pkg{i % 3}/m{i:02}.py", GC_FIXABLE.replace("parse", f"parse_{i}"))
    write(tmp_path, "pkg0/clean.py", "x = 1\n")
    yield tmp_path


def test_two_fix_runs_at_once_leave_every_file_fixed_or_original(tree_to_fix: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    for round_ in range(2):
        if round_:  # back to the originals, cache kept: the second round races on cache entries too
            for path in tree_to_fix.rglob("m*.py"):
                i = int(path.stem[1:])
                path.write_text(GC_FIXABLE.replace("parse", f"parse_{i}"))
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "memlint", "--select", "MEM401", "--fix", "--jobs", "1", "."],
                cwd=tree_to_fix,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode in (0, 2), err
            assert "Traceback" not in out + err
            # The only error allowed is the loser of a race refusing to overwrite the winner's fix.
            errors = [line for line in err.splitlines() if "error" in line]
            assert all("changed on disk since it was read" in line for line in errors), errors
        for path in tree_to_fix.rglob("m*.py"):
            i = int(path.stem[1:])
            assert path.read_text() == GC_FIXED.replace("parse", f"parse_{i}"), path
        assert (tree_to_fix / "pkg0" / "clean.py").read_text() == "x = 1\n"
        stray = [p for p in tree_to_fix.rglob("*") if p.name.startswith(".memlint-") and p.is_file()]
        assert stray == []


# -- a rule's own failure stays that rule's ----------------------------------------------------------


def _gc_rule_variant(**methods: Any) -> type:
    base = next(rule for rule in all_rules() if rule.CODE == "MEM401")
    return type("Variant", (base,), methods)


def test_a_raising_ast_prescreen_is_that_rules_error_only() -> None:
    def prescreen(cls: type, index: object, facts: object) -> bool:
        raise KeyError("prescreen bug")

    broken = _gc_rule_variant(ast_prescreen=classmethod(prescreen), CODE="MEM999")
    others = tuple(r for r in all_rules() if r.CODE == "MEM401")
    outcome = lint_source(GC_HEAD, "x.py", FileOptions(rules=(broken, *others)))
    assert [d.code for d in outcome.diagnostics] == ["MEM401"]
    assert [(p.rule, p.severity) for p in outcome.problems] == [("MEM999", "error")]
    assert "KeyError" in outcome.problems[0].message


def test_runaway_recursion_in_a_rule_is_not_mistaken_for_deep_code() -> None:
    def visit_Call(self: Any, node: object) -> None:  # LibCST dispatches on the name
        def down(n: int) -> int:
            return down(n + 1)

        down(0)

    broken = _gc_rule_variant(visit_Call=visit_Call, CODE="MEM999")
    others = tuple(r for r in all_rules() if r.CODE == "MEM401")
    outcome = lint_source(GC_HEAD, "x.py", FileOptions(rules=(broken, *others)))
    assert [d.code for d in outcome.diagnostics] == ["MEM401"]
    assert [(p.rule, p.severity) for p in outcome.problems] == [("MEM999", "error")]
    assert "RecursionError" in outcome.problems[0].message


def test_recursion_on_a_really_deep_tree_is_still_a_warning() -> None:
    source = GC_HEAD + "x = (\n" + "    'piece'\n" * 3000 + ")\n"
    outcome = lint_source(source, "x.py", FileOptions(rules=all_rules()))
    assert [(p.severity, p.message) for p in outcome.problems] == [
        ("warning", "too deeply nested for LibCST; file skipped")
    ]
