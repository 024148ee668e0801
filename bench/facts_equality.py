"""Record every fact collector's per-file facts over a corpus, to prove an optimisation changed none.

The project-facts pass is cached per file content, and the cache is keyed on memlint's code, so a
faster collector that computed a slightly different fact would go unnoticed: no test compares the
facts of thousands of real files. This script writes, per file and per collector, the facts in the
encoded form the facts cache stores (``memlint.literal.encode``, as JSON with sorted keys), so
two runs (before and after a change) can be compared byte for byte::

    python bench/facts_equality.py --out /tmp/facts_before.json       # on the old code
    python bench/facts_equality.py --out /tmp/facts_after.json        # on the new code
    python bench/facts_equality.py --compare /tmp/facts_before.json /tmp/facts_after.json

``--time`` instead measures the CPU time (``time.process_time``) of collecting the facts of every
file, per collector, with the files already read and parsed, which is the part collectors own.
The corpus defaults to /tmp/stdlib311 (a copy outside any git repository).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from memlint import literal
from memlint.engine import MAX_SOURCE_CHARS
from memlint.facts import FactCollector, ModuleInfo, module_name_for
from memlint.rules import ALL_RULES
from memlint.runner import collectors_of
from memlint.sources import SourceError, decode_source


def _sources(corpus: Path) -> list[tuple[str, str]]:
    """(path, text) of every Python file the facts pass would read, in a stable order."""
    out = []
    for path in sorted(corpus.rglob("*.py")):
        try:
            source = decode_source(path.read_bytes(), str(path))
        except (OSError, SourceError):
            continue
        if len(source.text) <= MAX_SOURCE_CHARS:
            out.append((str(path), source.text))
    return out


def _parse(path: str, text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _module(path: str) -> ModuleInfo:
    return ModuleInfo(path=path, name=module_name_for(path), is_package=Path(path).stem == "__init__")


def record(corpus: Path, collectors: list[type[FactCollector]]) -> dict[str, dict[str, str]]:
    """Per file, per collector: the encoded facts as JSON text (one shared tree, as the runner does)."""
    result: dict[str, dict[str, str]] = {}
    for path, text in _sources(corpus):
        tree = _parse(path, text)
        if tree is None:
            continue
        module = _module(path)
        facts: dict[str, str] = {}
        for c in collectors:
            value: Any = c.collect(tree, module)
            try:
                facts[c.NAME] = json.dumps(literal.encode(value), sort_keys=True)
            except literal.Unencodable:
                facts[c.NAME] = "unencodable:" + repr(value)
        result[path] = facts
    return result


def compare(before: Path, after: Path) -> int:
    old = json.loads(before.read_text())
    new = json.loads(after.read_text())
    differing = [
        (path, name)
        for path in sorted(set(old) | set(new))
        for name in sorted(set(old.get(path, {})) | set(new.get(path, {})))
        if old.get(path, {}).get(name) != new.get(path, {}).get(name)
    ]
    print(f"{len(set(old) | set(new))} files, {len(differing)} differing (file, collector) pairs")
    for path, name in differing[:20]:
        print(f"  {path}: {name}")
    return 1 if differing else 0


def timing(corpus: Path, collectors: list[type[FactCollector]]) -> dict[str, float]:
    """CPU seconds per collector over the corpus (parsing excluded), and their total."""
    trees = [(tree, _module(path)) for path, text in _sources(corpus) if (tree := _parse(path, text))]
    spent = dict.fromkeys((c.NAME for c in collectors), 0.0)
    for tree, module in trees:
        for c in collectors:
            start = time.process_time()
            c.collect(tree, module)
            spent[c.NAME] += time.process_time() - start
    spent["total"] = sum(spent.values())
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/stdlib311"))
    parser.add_argument("--out", type=Path, help="write the per-file encoded facts here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--time", action="store_true", help="print CPU seconds per collector as JSON")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    collectors = collectors_of(ALL_RULES)
    if args.time:
        print(json.dumps(timing(args.corpus, collectors)))
        return 0
    if args.out is None:
        parser.error("one of --out, --compare, --time is required")
    args.out.write_text(json.dumps(record(args.corpus, collectors), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
