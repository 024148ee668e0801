"""The results cache: findings and project facts keyed by file content, settings and version.

Entries are small JSON files (never pickles: a cache folder can come from anywhere) written
atomically, so two runs sharing a cache folder can only ever read whole entries. A result is
keyed on everything that can change it: the file's bytes and path, memlint's version, the rules
and their options, the target version, and (for rules that read other files' facts) a digest of
those facts, so editing one file refreshes the findings it affects elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memlint import __version__
from memlint.diagnostics import (
    Applicability,
    Diagnostic,
    Edit,
    FileProblem,
    FileResult,
    Fix,
    Location,
)

CACHE_FORMAT = 1
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is a cache made by memlint.\n"


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def code_fingerprint() -> str:
    """Changes whenever memlint's own code does (an edited rule in a development checkout must
    not be answered from results of its previous version): sizes and mtimes of its modules."""
    import memlint
    import memlint.rules

    parts = []
    for package in (memlint, memlint.rules):
        if package.__file__ is None:
            continue
        folder = Path(package.__file__).parent
        for module in sorted(folder.glob("*.py")):
            try:
                st = module.stat()
            except OSError:
                continue
            parts.append(f"{module.name}:{st.st_size}:{st.st_mtime_ns}")
    return digest(*parts)[:12]


class Cache:
    """A folder of JSON entries; every failure to read or write is a miss, never an error."""

    def __init__(self, folder: Path) -> None:
        self.base = folder
        self.folder = folder / f"v{__version__}-{CACHE_FORMAT}-{code_fingerprint()}"
        self._ready = False

    def _prepare(self) -> None:
        if self._ready:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", "# Made by memlint.\n*\n"), ("CACHEDIR.TAG", _TAG)):
            marker = self.base / name
            if not marker.exists():
                _write_atomically(marker, text)
        self._ready = True

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
        """The entry, or None; ``object_hook`` (``json.load``'s) failing in any way is a miss too."""
        try:
            with self._path(kind, key).open(encoding="utf-8") as handle:
                return json.load(handle, object_hook=object_hook)
        except Exception:
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        try:
            self._prepare()
            path = self._path(kind, key)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, json.dumps(value, separators=(",", ":")))
        except (OSError, TypeError, ValueError):
            pass  # a cache that cannot be written is just a slower run


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- (de)serialising results ------------------------------------------------------------------


def _loc(loc: Location) -> list[int]:
    return [loc.row, loc.column]


def result_to_json(result: FileResult) -> dict[str, Any]:
    return {
        "diagnostics": [
            {
                "code": d.code,
                "message": d.message,
                "location": _loc(d.location),
                "end_location": _loc(d.end_location),
                "rule_name": d.rule_name,
                "noqa_row": d.noqa_row,
                "fix": None
                if d.fix is None
                else {
                    "applicability": d.fix.applicability.value,
                    "message": d.fix.message,
                    "edits": [
                        [e.start, e.end, e.content, _loc(e.start_location), _loc(e.end_location)]
                        for e in d.fix.edits
                    ],
                },
            }
            for d in result.diagnostics
        ],
        "problems": [[p.message, p.severity, p.rule] for p in result.problems],
        "skipped": result.skipped,
    }


def result_from_json(path: str, data: dict[str, Any]) -> FileResult:
    diagnostics = []
    for d in data["diagnostics"]:
        fix = None
        if d["fix"] is not None:
            edits = tuple(
                Edit(start, end, content, Location(*start_loc), Location(*end_loc))
                for start, end, content, start_loc, end_loc in d["fix"]["edits"]
            )
            fix = Fix(Applicability(d["fix"]["applicability"]), d["fix"]["message"], edits)
        diagnostics.append(
            Diagnostic(
                path=path,
                code=d["code"],
                message=d["message"],
                location=Location(*d["location"]),
                end_location=Location(*d["end_location"]),
                fix=fix,
                rule_name=d["rule_name"],
                noqa_row=d["noqa_row"],
            )
        )
    problems = [FileProblem(path, message, severity, rule) for message, severity, rule in data["problems"]]
    return FileResult(path=path, diagnostics=diagnostics, problems=problems, skipped=data["skipped"])


def cacheable(result: FileResult) -> bool:
    """Internal errors are never cached: the next run should try again (and show the error)."""
    return not any(p.severity == "error" for p in result.problems)
