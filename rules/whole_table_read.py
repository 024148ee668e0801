"""MEM601: a pandas reader loading every column of a whole file with inferred dtypes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import FixAvailability
from memlint.rule import Rule, RuleContext
from memlint.rules._cst_shapes import keyword_arg, positional_args, short
from memlint.rules._names import ASSIGN, WITH, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: Keywords that bound what a reader keeps in memory: the columns, their types, or the rows
#: (streamed in chunks, or only the first ones).
_CSV_BOUNDS = frozenset({"usecols", "dtype", "chunksize", "nrows", "iterator", "dtype_backend"})
#: ``read_json`` has no ``usecols``; ``chunksize`` and ``nrows`` need ``lines=True``, without
#: which pandas raises, so their presence is enough.
_JSON_BOUNDS = frozenset({"dtype", "chunksize", "nrows", "dtype_backend"})
_READERS = {
    "pandas.read_csv": _CSV_BOUNDS,
    "pandas.read_table": _CSV_BOUNDS,
    "pandas.read_json": _JSON_BOUNDS,
}
#: The name of the argument holding the file, per reader.
_SOURCE_KEYWORDS = ("filepath_or_buffer", "path_or_buf")
#: Sources already in memory: reading them parses data the program holds anyway.
_IN_MEMORY = frozenset({"io.StringIO", "io.BytesIO"})
#: Package data (files shipped next to the code, of a size known to its authors).
_PACKAGE_DATA_PREFIXES = ("importlib.resources", "importlib_resources", "pkg_resources", "pkgutil")


@dataclass(frozen=True)
class _Read:
    call: cst.Call
    scope: Scope


class WholeTableRead(Rule):
    """
    ## What it does
    Checks for calls to `pandas.read_csv`, `pandas.read_table` and `pandas.read_json` that load
    a whole file into one DataFrame with every column and inferred types: a `read_csv` or
    `read_table` call with none of `usecols`, `dtype`, `chunksize`, `nrows`, `iterator` and
    `dtype_backend`, and a `read_json` call with none of `dtype`, `chunksize`, `nrows` and
    `dtype_backend` (`read_json` has no `usecols`).

    The reader is resolved through the imports (`import pandas as pd`, `from pandas import
    read_csv`); a name that is not pandas' is not reported. Not reported either: a call that
    passes `*args` or `**kwargs` (the bounds may be in them), a source already in memory
    (`io.StringIO`, `io.BytesIO`, a literal CSV or JSON text), package data (a path built from
    `__file__`, `importlib.resources`, `pkg_resources`, `pkgutil`, in the call or in the
    assignment of a name it uses), and test files, whose fixtures are small by design.

    Whether a string column would be better as `category` depends on the data, which a linter
    does not see: the rule only says what the call shows, that nothing bounds the columns or
    their types.

    ## Why is this bad?
    Without `dtype`, pandas infers 64-bit integers and floats for numbers and, before pandas 3.0,
    stores every string cell as a separate Python object, for every column of the file, all at
    once. A 1,000,000-row CSV of four columns (an id, an amount, a country code among 20, a
    date; 38 MiB on disk) read whole with pandas 3.1 gives a 43 MiB frame (136 MiB with the
    object strings of pandas 2, as `memory_usage(deep=True)` counts them) and raises the peak
    resident memory by 108 MiB; with `usecols` for three columns, `dtype={"country":
    "category", "amount": "float32"}`, the frame takes 12 MiB and the peak grows by 32 MiB.
    `chunksize=` streams a file of any size in bounded memory.

    ## Example
    ```python
    import pandas as pd

    def revenue_by_country(path):
        orders = pd.read_csv(path)
        return orders.groupby("country")["amount"].sum()
    ```

    ## Use instead
    ```python
    import pandas as pd

    def revenue_by_country(path):
        orders = pd.read_csv(
            path,
            usecols=["country", "amount"],
            dtype={"country": "category", "amount": "float32"},
        )
        return orders.groupby("country", observed=True)["amount"].sum()
    ```
    or, for a file larger than memory, `chunksize=` and a reduction per chunk.

    ## Fix safety
    There is no fix: which columns are needed and which types fit them is a decision about the
    data.
    """

    CODE = "MEM601"
    NAME = "whole-table-read"
    SUMMARY = "pandas reader loading every column of a whole file with inferred dtypes"
    FIX = FixAvailability.NONE
    PREVIEW = True
    PRESCREEN = ("read_csv", "read_table", "read_json")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """A reader called by one of its names, or imported under another one."""
        return bool(index.calls_to("read_csv", "read_table", "read_json")) or _aliased(index.source)

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._reads: list[_Read] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, (cst.Name, cst.Attribute)):
            self._reads.append(_Read(node, self.names.current))

    def leave_Module(self, original_node: cst.Module) -> None:
        if self.context.is_test_file:
            return
        for read in self._reads:
            qualified = self.names.qualified_name(read.call.func, read.scope)
            bounds = _READERS.get(qualified or "")
            if bounds is not None and self._unbounded(read, bounds):
                self.report(read.call, self._message(read, qualified or ""))

    def _unbounded(self, read: _Read, bounds: frozenset[str]) -> bool:
        call = read.call
        if positional_args(call) is None:
            return False
        if any(_given(arg) for arg in call.args if arg.keyword is not None and arg.keyword.value in bounds):
            return False
        source = _source(call)
        return source is not None and not self._in_memory_or_package_data(source, read.scope)

    def _in_memory_or_package_data(self, source: cst.BaseExpression, scope: Scope) -> bool:
        if isinstance(source, (cst.SimpleString, cst.ConcatenatedString)):
            text = source.evaluated_value
            if isinstance(text, bytes):
                text = text.decode("latin-1")
            return text is None or "\n" in text or text.lstrip().startswith(("{", "["))
        return self._derived_from_special(source, scope, depth=3, seen=set())

    def _derived_from_special(self, node: cst.CSTNode, scope: Scope, depth: int, seen: set[str]) -> bool:
        """``node`` builds an in-memory buffer or a package-data path, directly or through the
        assignments of the names it uses (up to ``depth`` assignments away)."""
        if self._special(node, scope):
            return True
        if depth == 0:
            return False
        for name in _names_in(node):
            found = self.names.lookup(name, scope) if name not in seen else None
            if found is None:
                continue
            seen.add(name)
            values = [b.value for b in found[1] if b.kind in (ASSIGN, WITH) and b.value is not None]
            if any(self._derived_from_special(value, scope, depth - 1, seen) for value in values):
                return True
        return False

    def _special(self, node: cst.CSTNode, scope: Scope) -> bool:
        """``node`` builds an in-memory buffer or the path of package data."""
        for inner in _walk(node):
            if isinstance(inner, cst.Name) and inner.value == "__file__":
                return True
            if isinstance(inner, cst.Call):
                qualified = self.names.qualified_name(inner.func, scope) or ""
                if qualified in _IN_MEMORY or qualified.startswith(_PACKAGE_DATA_PREFIXES):
                    return True
        return False

    def _message(self, read: _Read, qualified: str) -> str:
        shown = short(self.code_for(read.call), 50)
        if qualified == "pandas.read_json":
            hint = "pass `dtype=` for the columns, or `lines=True` with `chunksize=` to stream it"
        else:
            hint = (
                'pass `usecols=` and `dtype=` (`"category"` for repeated strings, 32-bit numbers), '
                "or `chunksize=` to stream it"
            )
        return (
            f"`{shown}` loads every column of the whole file with inferred types (64-bit numbers, "
            f"every string column in full); {hint}"
        )


def _aliased(source: str) -> bool:
    """``from pandas import read_csv as rc`` (the call then names the alias)."""
    return any(f"{reader} as " in source for reader in ("read_csv", "read_table", "read_json"))


def _given(arg: cst.Arg) -> bool:
    """The keyword is given a value that does something (not ``None`` or ``False``)."""
    value = arg.value
    return not (isinstance(value, cst.Name) and value.value in ("None", "False"))


def _source(call: cst.Call) -> cst.BaseExpression | None:
    args = positional_args(call)
    if args:
        return args[0].value
    for name in _SOURCE_KEYWORDS:
        arg = keyword_arg(call, name)
        if arg is not None:
            return arg.value
    return None


def _names_in(node: cst.CSTNode) -> list[str]:
    return [inner.value for inner in _walk(node) if isinstance(inner, cst.Name)]


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    out = [node]
    for child in node.children:
        out.extend(_walk(child))
    return out
