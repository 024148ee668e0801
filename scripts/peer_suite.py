#!/usr/bin/env python3
"""A real project's own test suite as the judge of memlint's safe fixes.

Downloads a pure-Python package's source release (with its tests) from PyPI, runs its tests,
applies ``memlint --fix`` (safe fixes only, every rule, preview included) to the whole release,
runs the tests again and compares test by test: every test that passed before must pass after,
and no outcome may change.

The default peer is boltons 24.1.0: its tests run in seconds, and memlint's safe fixes land in
the library code those tests exercise (list comprehensions consumed once by ``sum``, ``max``,
``tuple``, ``sorted``...). Its ``tests/conftest.py`` uses a pytest hook argument removed in
pytest 9 and only skips Python 2 test files, so it is left out (``--noconftest``).

Usage: ``python scripts/peer_suite.py [--package NAME] [--work DIR] [--json FILE]``.
Exit status 0 when the same tests pass, 1 when not, 3 when the release cannot be downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_stdlib import all_codes, fixes_from_show_fixes


@dataclass(frozen=True)
class Peer:
    version: str
    #: pytest arguments, relative to the unpacked release.
    test_args: tuple[str, ...]


#: Others tried (findings with every rule, preview included): humanize 4.11.0, more-itertools 10.5.0
#: and sortedcontainers 2.4.0 have none; attrs 24.2.0 and tomlkit 0.13.2 one safe fix each (MEM202);
#: toolz 1.0.0's five land only in its vendored versioneer.py, which its tests never run;
#: python-dateutil 2.9.0 has unsafe fixes only.
PEERS = {"boltons": Peer("24.1.0", ("--noconftest", "tests"))}
EXIT_DOWNLOAD = 3


@dataclass
class PeerReport:
    package: str
    version: str
    findings_per_rule: dict[str, int] = field(default_factory=dict)
    fixes_per_rule: dict[str, int] = field(default_factory=dict)
    files_changed: list[str] = field(default_factory=list)
    memlint_exit: int = 0
    memlint_errors: list[str] = field(default_factory=list)
    tests_before: dict[str, int] = field(default_factory=dict)
    tests_after: dict[str, int] = field(default_factory=dict)
    changed_outcomes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.changed_outcomes
            and not self.memlint_errors
            and self.memlint_exit != 2
            and self.tests_before.get("passed", 0) > 0
        )


class DownloadError(Exception):
    pass


def download(package: str, version: str, dest: Path) -> Path:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-binary",
            ":all:",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            f"{package}=={version}",
            "-d",
            str(dest),
        ],
        capture_output=True,
        text=True,
    )
    archives = sorted(dest.glob("*.tar.gz"))
    if proc.returncode != 0 or not archives:
        raise DownloadError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no sdist")
    return archives[0]


def unpack(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # pragma: no cover - Pythons without extraction filters
            tar.extractall(dest)
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    return root


def run_tests(root: Path, peer: Peer, report_file: Path) -> dict[str, str]:
    """Each test's outcome (``passed``, ``failed``, ``error``, ``skipped``) from pytest's JUnit XML."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(root)}
    env.pop("PYTEST_ADDOPTS", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"--junitxml={report_file}",
            "-o",
            "addopts=",
            *peer.test_args,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    outcomes: dict[str, str] = {}
    for case in ET.parse(report_file).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        outcome = next((t for t in ("failure", "error", "skipped") if t in tags), "passed")
        outcomes[name] = {"failure": "failed"}.get(outcome, outcome)
    return outcomes


def memlint(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "memlint",
            "--isolated",
            "--select",
            ",".join(all_codes()),
            "--preview",
            "--no-cache",
            "--no-respect-gitignore",
            *extra,
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=1200,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def check_peer(package: str, work: Path) -> PeerReport:
    peer = PEERS[package]
    report = PeerReport(package, peer.version)
    started = time.monotonic()
    root = unpack(download(package, peer.version, work / "download"), work / "src")
    report.seconds["download"] = time.monotonic() - started

    started = time.monotonic()
    before = run_tests(root, peer, work / "before.xml")
    report.seconds["tests before"] = time.monotonic() - started
    report.tests_before = dict(Counter(before.values()))

    found = memlint(root, "--output-format", "json", "--exit-zero")
    report.findings_per_rule = dict(
        sorted(Counter(d["code"] or "syntax" for d in json.loads(found.stdout)).items())
    )
    original = snapshot(root)
    started = time.monotonic()
    fixed = memlint(root, "--fix", "--show-fixes", "--exit-zero")
    report.seconds["memlint fix"] = time.monotonic() - started
    report.memlint_exit = fixed.returncode
    report.memlint_errors = [line for line in fixed.stderr.splitlines() if "error" in line]
    totals: Counter[str] = Counter()
    for counts in fixes_from_show_fixes(fixed.stdout).values():
        totals.update(counts)
    report.fixes_per_rule = dict(sorted(totals.items()))
    report.files_changed = sorted(name for name, raw in snapshot(root).items() if original.get(name) != raw)

    started = time.monotonic()
    after = run_tests(root, peer, work / "after.xml")
    report.seconds["tests after"] = time.monotonic() - started
    report.tests_after = dict(Counter(after.values()))
    report.changed_outcomes = [
        f"{name}: {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]
    return report


def render(report: PeerReport) -> str:
    lines = [
        f"{report.package} {report.version}",
        f"findings per rule: {report.findings_per_rule}",
        f"safe fixes applied per rule: {report.fixes_per_rule} in {len(report.files_changed)} files",
        f"  {', '.join(report.files_changed)}",
        f"tests before: {report.tests_before}",
        f"tests after:  {report.tests_after}",
        f"seconds: {', '.join(f'{k} {v:.1f}' for k, v in report.seconds.items())}",
    ]
    for title, items in (
        ("memlint errors", report.memlint_errors),
        ("changed outcomes", report.changed_outcomes),
    ):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {item}" for item in items[:50]]
    lines.append("OK" if report.ok else "FAILED")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--package", choices=sorted(PEERS), default="boltons")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memlint-peer-") as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        try:
            report = check_peer(args.package, work)
        except DownloadError as exc:
            print(f"cannot download {args.package}: {exc}", file=sys.stderr)
            return EXIT_DOWNLOAD
    print(render(report))
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
