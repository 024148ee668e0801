"""The pre-commit hooks, run for real by ``pre-commit`` on temporary git repositories.

pre-commit installs a hook repository at a committed revision, so the current working tree
(committed or not) is copied into a temporary git repository and committed there. Installing
memlint's dependencies needs PyPI: these tests are marked slow (CI runs them in their own step).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from memlint.registry import all_rules

CHECKOUT = Path(__file__).resolve().parent.parent
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
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "memlint tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "memlint tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Completed:
    code: int
    out: str


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Completed:
    full_env = {**os.environ, **_GIT_ENV, "NO_COLOR": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=full_env, timeout=900)
    return Completed(proc.returncode, proc.stdout + proc.stderr)


def git(cwd: Path, *args: str) -> str:
    result = _run(["git", *args], cwd)
    assert result.code == 0, result.out
    return result.out.strip()


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str
    home: Path  # PRE_COMMIT_HOME: pre-commit's cache of installed hook environments


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """A git repository holding the checkout's current files, committed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not (CHECKOUT / ".git").exists():
        pytest.skip("not run from a git checkout (the hook repository is a snapshot of one)")
    repo = tmp_path_factory.mktemp("memlint-src")
    listed = git(CHECKOUT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = CHECKOUT / name
        if source.is_file():  # deleted but still in the index: skip
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot of the working tree")
    return HookRepo(repo, git(repo, "rev-parse", "HEAD"), tmp_path_factory.mktemp("pre-commit-home"))


def make_project(root: Path, hooks: HookRepo, files: dict[str, str]) -> Path:
    """A git repository whose .pre-commit-config.yaml uses both hooks of ``hooks``."""
    config = (
        f"repos:\n  - repo: {hooks.path}\n    rev: {hooks.rev}\n"
        "    hooks:\n      - id: memlint\n      - id: memlint-fix\n"
    )
    write(root, ".pre-commit-config.yaml", config)
    for name, text in files.items():
        write(root, name, text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


def pre_commit(project: Path, hooks: HookRepo, *args: str) -> Completed:
    return _run([sys.executable, "-m", "pre_commit", *args], project, {"PRE_COMMIT_HOME": str(hooks.home)})


@pytest.mark.slow
def test_check_hook_fails_with_the_finding(tmp_path: Path, hook_repo: HookRepo) -> None:
    project = make_project(tmp_path, hook_repo, {"app/a.py": GC_UNGUARDED, "app/clean.py": "VALUE = 1\n"})
    result = pre_commit(project, hook_repo, "run", "memlint", "--all-files")
    assert result.code == 1, result.out
    assert "- hook id: memlint\n- exit code: 1" in result.out
    assert "app/a.py:5:5: MEM401 `gc.disable()`" in result.out
    assert "Found 1 finding" in result.out
    assert (project / "app/a.py").read_text(encoding="utf-8") == GC_UNGUARDED  # the check hook never writes
    # The way users meet it: an installed hook refuses the commit.
    assert pre_commit(project, hook_repo, "install").code == 0
    refused = _run(["git", "commit", "-q", "-m", "add a"], project, {"PRE_COMMIT_HOME": str(hook_repo.home)})
    assert refused.code != 0 and "app/a.py:5:5: MEM401" in refused.out
    assert _run(["git", "rev-parse", "--verify", "-q", "HEAD"], project).code != 0  # nothing committed


@pytest.mark.slow
def test_fix_hook_rewrites_fails_once_then_passes(tmp_path: Path, hook_repo: HookRepo) -> None:
    project = make_project(tmp_path, hook_repo, {"b.py": GC_FIXABLE})
    first = pre_commit(project, hook_repo, "run", "memlint-fix", "--files", "b.py")
    assert first.code == 1, first.out
    assert "- hook id: memlint-fix\n- files were modified by this hook" in first.out
    assert (project / "b.py").read_text(encoding="utf-8") == GC_FIXED
    second = pre_commit(project, hook_repo, "run", "memlint-fix", "--files", "b.py")
    assert second.code == 0, second.out
    assert "memlint (fix)" in second.out and "Passed" in second.out
    assert pre_commit(project, hook_repo, "run", "memlint", "--files", "b.py").code == 0


@pytest.mark.slow
def test_excluded_files_stay_excluded_when_named(tmp_path: Path, hook_repo: HookRepo) -> None:
    """pre-commit names files explicitly; ``--force-exclude`` makes ``[tool.memlint]`` excludes apply."""
    files = {
        "pyproject.toml": '[tool.memlint]\nextend-exclude = ["generated/"]\n',
        "generated/g.py": GC_UNGUARDED,
        "src/s.py": GC_UNGUARDED,
    }
    project = make_project(tmp_path, hook_repo, files)
    result = pre_commit(project, hook_repo, "run", "memlint", "--all-files")
    assert result.code == 1, result.out
    assert "src/s.py:5:5: MEM401" in result.out
    assert "generated/g.py" not in result.out


SHAPE = "class Shape:\n    def __init__(self, group):\n        self.group = group\n"
GROUP = (
    "from shape import Shape\n\n\nclass Group:\n    def __init__(self):\n        self.shapes = []\n\n"
    "    def add(self):\n        self.shapes.append(Shape(self))\n"
)


@pytest.mark.slow
def test_project_facts_come_from_the_root_not_the_files_passed(tmp_path: Path, hook_repo: HookRepo) -> None:
    """MEM301 in ``shape.py`` depends on ``group.py`` keeping the shape: committing only
    ``shape.py`` still finds it, and the finding is the same whatever files pre-commit passes."""
    if "MEM301" not in {rule.CODE for rule in all_rules()}:
        pytest.skip("MEM301 (a rule with project-wide facts) is not registered")
    project = make_project(tmp_path, hook_repo, {"shape.py": SHAPE, "group.py": GROUP})
    alone = pre_commit(project, hook_repo, "run", "memlint", "--files", "shape.py")
    everything = pre_commit(project, hook_repo, "run", "memlint", "--all-files")
    assert alone.code == everything.code == 1, alone.out + everything.out
    (finding,) = (line for line in everything.out.splitlines() if " MEM301 " in line)
    assert finding.startswith("shape.py:3:9: MEM301 `self.group = group`")
    assert finding in alone.out.splitlines()
    other = pre_commit(project, hook_repo, "run", "memlint", "--files", "group.py")
    assert other.code == 0, other.out  # findings are reported for the files passed only


def test_hook_ids_and_fields_are_the_public_contract() -> None:
    """Users pin these ids in their configs: renaming one breaks every such config."""
    yaml = pytest.importorskip("yaml")
    hooks = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {hook["id"]: hook for hook in hooks}
    assert list(by_id) == ["memlint", "memlint-fix"]
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["entry"].split()[0] == "memlint" and "--force-exclude" in hook["entry"].split()
        # One process sees every file: memlint parallelises itself and reads project facts once.
        assert hook["require_serial"] is True
    assert "--fix" not in by_id["memlint"]["entry"].split()
    assert "--fix" in by_id["memlint-fix"]["entry"].split()
