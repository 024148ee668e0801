"""MEM102: a whole file read into memory only to be iterated line by line."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
from memlint.rule import FixProposal, Replace, Rule, RuleContext
from memlint.rules._cst_shapes import (
    Chain,
    chain_of,
    comments_in,
    const_int,
    contains,
    mentions,
    positional_args,
    short,
)
from memlint.rules._names import ASSIGN, WITH, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

#: Calls whose result is a file object that iterates line by line exactly as ``readlines()``
#: splits (both go through ``readline()``).
_FILE_OPENERS = frozenset(
    (
        "builtins.open io.open os.fdopen gzip.open bz2.open lzma.open io.StringIO io.BytesIO "
        "tempfile.TemporaryFile tempfile.NamedTemporaryFile tempfile.SpooledTemporaryFile"
    ).split()
)
#: Consumers that exhaust a generator expression before returning.
_EAGER_CONSUMERS = frozenset("sum min max any all list tuple set frozenset sorted dict".split())
_READS = frozenset({"read", "read_text", "read_bytes"})
#: Calls in a loop body that change files: reading lazily would see their changes.
_FS_FUNCTIONS = frozenset(
    (
        "os.remove os.unlink os.rename os.replace os.truncate os.ftruncate shutil.move shutil.copy "
        "shutil.copy2 shutil.copyfile shutil.rmtree"
    ).split()
)
_FS_METHODS = frozenset({"write_text", "write_bytes", "unlink", "truncate", "rmtree"})
_OPEN_NAMES = frozenset({"open", "fdopen"})
_MODULES_WITH_OPEN = frozenset({"io", "os", "gzip", "bz2", "lzma", "codecs", "builtins"})


@dataclass(frozen=True)
class _Site:
    """An iterable that reads a whole file, consumed once by a loop or a comprehension."""

    kind: str  # "readlines" | "slice" | "splitlines" | "split"
    expr: cst.BaseExpression  # what is reported (and replaced by the fix)
    receiver: cst.BaseExpression  # the file object: `f` in `f.readlines()`
    loop: cst.CSTNode  # the For or the comprehension
    body: tuple[cst.CSTNode, ...]  # what runs once per line
    scope: Scope
    via: cst.Call | None  # enumerate() between the iterable and the loop
    eager: bool  # the loop runs to completion before anything else runs (not a lazy genexp)
    read_method: str = "readlines"


class WholeFileReadToIterate(Rule):
    """
    ## What it does
    Checks for loops and comprehensions that iterate over a whole file read into memory:
    `for line in f.readlines()` (also through `enumerate()`), `f.readlines()[1:]` and other
    slices with constant bounds, `f.read().splitlines()`, `f.read().split("\\n")`, and the same
    after `path.read_text()` / `path.read_bytes()`.

    Nothing is reported when the loop body uses the file object itself (`f.tell()`,
    `f.readline()`, passing `f` on): the body then depends on the whole file having been read
    first. `self.readlines()` is not reported either: that is a file-like class calling its own
    method, which may be what its iteration is built on.

    ## Why is this bad?
    `readlines()` builds a list of every line before the first iteration, and
    `read().splitlines()` holds the whole text and the list of its lines at the same time, while
    the loop needs one line at a time. Iterating over the file object reads it in chunks. On
    CPython 3.11, looping over a 45 MiB file of 1,000,000 lines peaks at 100.6 MiB with
    `f.readlines()`, 145.4 MiB with `f.read().splitlines()` and 0.02 MiB with `for line in f`
    (`tracemalloc`); the plain loop is also the fastest (175 ms against 423 ms and 500 ms).

    ## Example
    ```python
    def count_errors(path):
        errors = 0
        with open(path) as f:
            for line in f.readlines():
                if "ERROR" in line:
                    errors += 1
        return errors
    ```

    ## Use instead
    ```python
    def count_errors(path):
        errors = 0
        with open(path) as f:
            for line in f:
                if "ERROR" in line:
                    errors += 1
        return errors
    ```

    ## Fix safety
    Only `f.readlines()` has a fix (`f`), and it is safe when `f` is known to be a file object
    (bound by `with open(...) as f` or `f = open(...)` in the same scope, or `open(...)` itself;
    also `io.open`, `os.fdopen`, `gzip`/`bz2`/`lzma.open`, `tempfile` files, `io.StringIO` /
    `BytesIO`), because iteration splits lines exactly as `readlines()` does. It is unsafe when
    the object may be something else that has a `readlines()` method but cannot be iterated;
    when the file is used after the loop (after a `break` or an exception it is no longer at its
    end) or by a nested function; when the loop suspends (`yield`, `await`) or changes files,
    since lines are now read while it runs. No fix is offered for a generator expression that
    is not consumed on the spot (it could outlive the `with` block that closes the file), for
    slices, or when it would drop a comment.

    `read().splitlines()` and `read().split("\\n")` are reported without a fix: iterating the
    file yields lines that keep their line break, `str.splitlines()` also breaks on `\\v`, `\\f`,
    `\\x1c`-`\\x1e`, `\\x85`, `\\u2028` and `\\u2029`, and `split("\\n")` yields an empty string
    after a final newline, so each loop needs its own adjustment (`line.rstrip("\\n")`).
    """

    CODE = "MEM102"
    NAME = "whole-file-read-to-iterate"
    SUMMARY = "Whole file read into memory only to be iterated line by line"
    FIX = FixAvailability.SOMETIMES
    PREVIEW = True
    #: `readlines` for the first shapes; `split` covers `splitlines` and `split("\n")`.
    PRESCREEN = ("readlines", "split")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """A `.readlines()` call, or `.split...()` called on the result of a `.read...()` call."""
        for call in index.calls_to("readlines", "splitlines", "split"):
            func = call.func
            if not isinstance(func, ast.Attribute):
                continue
            if func.attr == "readlines":
                return True
            value = func.value
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr in _READS
            ):
                return True
        return False

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._sites: list[_Site] = []
        #: Generator expressions passed as the only argument of a call, with the callee's name.
        self._consumed_genexps: dict[int, cst.Call] = {}

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- finding the iterables ------------------------------------------------------------------
    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is None:
            self._iterable(node.iter, node, (node.target, node.body), eager=True)

    def visit_Call(self, node: cst.Call) -> None:
        if len(node.args) == 1 and isinstance(node.args[0].value, cst.GeneratorExp):
            self._consumed_genexps[id(node.args[0].value)] = node

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node, (node.elt,))

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node, (node.elt,))

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node, (node.key, node.value))

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node, (node.elt,))

    def _comprehension(self, node: cst.BaseComp, elements: tuple[cst.CSTNode, ...]) -> None:
        first = node.for_in
        if first.asynchronous is not None or contains(node, (cst.Await,)):
            return
        body: tuple[cst.CSTNode, ...] = (*elements, first.target, *first.ifs)
        if first.inner_for_in is not None:
            body = (*body, first.inner_for_in)
        self._iterable(first.iter, node, body, eager=not isinstance(node, cst.GeneratorExp))

    def _iterable(
        self, expr: cst.BaseExpression, loop: cst.CSTNode, body: tuple[cst.CSTNode, ...], eager: bool
    ) -> None:
        via = None
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "enumerate":
            args = positional_args(expr)
            if not args or args[0].value is None:
                return
            via, expr = expr, args[0].value
        site = _match(expr, loop, body, self.names.current, via, eager)
        if site is not None:
            self._sites.append(site)

    # -- judging them ---------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for site in self._sites:
            self._check(site)

    def _check(self, site: _Site) -> None:
        names = self.names
        if site.via is not None and not names.is_builtin("enumerate", site.scope):
            return
        chain = chain_of(site.receiver)
        if chain is not None:
            if chain[0] in ("self", "cls") and len(chain) == 1:
                return
            if any(mentions(part, chain) for part in site.body):
                return
        elif not isinstance(site.receiver, cst.Call):
            return
        eager = site.eager or self._consumed_on_the_spot(site)
        if site.kind != "readlines":
            self.report(site.expr, self._message(site), None)
            return
        self.report(site.expr, self._message(site), self._fix(site, chain, eager))

    def _consumed_on_the_spot(self, site: _Site) -> bool:
        call = self._consumed_genexps.get(id(site.loop))
        if call is None:
            return False
        func = call.func
        if isinstance(func, cst.Name):
            return func.value in _EAGER_CONSUMERS and self.names.is_builtin(func.value, site.scope)
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value == "join"
            and isinstance(func.value, (cst.SimpleString, cst.ConcatenatedString))
        )

    def _message(self, site: _Site) -> str:
        receiver = short(self.code_for(site.receiver))
        where = "the loop starts" if isinstance(site.loop, cst.For) else "the comprehension runs"
        if site.kind == "readlines":
            return (
                f"`{receiver}.readlines()` reads the whole file into a list before {where}; iterate "
                f"over `{receiver}` itself to hold one line at a time"
            )
        if site.kind == "slice":
            return (
                f"`{short(self.code_for(site.expr))}` reads every line into a list and copies the slice; "
                "`itertools.islice()` over the file object streams the same lines"
            )
        assert isinstance(site.expr, cst.Call) and isinstance(site.expr.func, cst.Attribute)
        split = f"{site.expr.func.attr.value}({', '.join(self.code_for(a) for a in site.expr.args)})"
        suggestion = (
            "iterate over the file object instead"
            if site.read_method == "read"
            else "open the file and iterate over it instead"
        )
        return (
            f"`{receiver}.{site.read_method}().{short(split)}` holds the whole file twice (its text and "
            f"its lines) for a loop that needs one line at a time; {suggestion} (each line then keeps "
            "its line break)"
        )

    # -- the fix --------------------------------------------------------------------------------
    def _fix(self, site: _Site, chain: Chain | None, eager: bool) -> FixProposal | None:
        if not eager or comments_in(site.expr) != comments_in(site.receiver):
            return None
        known = self._known_file(site, chain)
        safe = (
            known
            and not any(contains(part, (cst.Yield, cst.Await)) for part in site.body)
            and not any(_changes_files(part) for part in site.body)
            and not (chain is not None and self._used_elsewhere(site, chain[0]))
        )
        receiver = self.code_for(site.receiver)
        return FixProposal(
            Applicability.SAFE if safe else Applicability.UNSAFE,
            f"Iterate over `{short(receiver)}` directly",
            (Replace(site.expr, site.receiver),),
        )

    def _known_file(self, site: _Site, chain: Chain | None) -> bool:
        if isinstance(site.receiver, cst.Call):
            return self._is_opener(site.receiver, site.scope)
        if chain is None or len(chain) != 1:
            return False
        found = self.names.lookup(chain[0], site.scope)
        if found is None or found[0] is not site.scope:
            return False
        return all(
            b.kind in (WITH, ASSIGN)
            and isinstance(b.value, cst.Call)
            and self._is_opener(b.value, site.scope)
            for b in found[1]
        )

    def _is_opener(self, call: cst.Call, scope: Scope) -> bool:
        return self.names.qualified_name(call.func, scope) in _FILE_OPENERS

    def _used_elsewhere(self, site: _Site, name: str) -> bool:
        """The file is read after the loop (or by code that runs after it): its position then
        depends on how far the loop got."""
        scope_node = site.scope.node if site.scope.node is not None else self.context.module
        scan = _UseScan(name, site.loop)
        scope_node.visit(scan)
        return scan.used


class _UseScan(cst.CSTVisitor):
    """Looks for reads of ``name`` that run after ``loop``: textually after it (its ``else``
    included) or in a loop that encloses it, or in a nested function or class (which may run at
    any time). When the site sits in ``with ... as name:``, reads outside that block see a closed
    file, which fails alike whether or not the loop read it to the end. ``name.close()`` and
    rebinding ``name`` do not read the file."""

    def __init__(self, name: str, loop: cst.CSTNode) -> None:
        super().__init__()
        self.name = name
        self.loop = loop
        self.captured = False
        self._root: cst.CSTNode | None = None
        self._after = False
        self._inside_site = False
        self._loops: list[cst.CSTNode] = []
        self._withs: list[cst.With] = []
        self._enclosing: tuple[cst.CSTNode, ...] = ()
        self._binding_with: cst.With | None = None
        self._ignored: set[int] = set()
        #: The ``with`` statements around each read that runs after the loop.
        self._reads: list[tuple[cst.With, ...]] = []

    @property
    def used(self) -> bool:
        if self.captured:
            return True
        binding = self._binding_with
        return any(binding is None or binding in withs for withs in self._reads)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._root is None:
            self._root = node
        elif isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            self.captured = self.captured or _reads_name(node, self.name)
            return False
        if node is self.loop:
            self._at_site()
            if not isinstance(node, cst.For) or node.orelse is None:
                self._after = True
                return False
            self._inside_site = True
        elif self._inside_site and isinstance(self.loop, cst.For) and node is self.loop.orelse:
            self._inside_site, self._after = False, True
        if isinstance(node, (cst.For, cst.While)):
            self._loops.append(node)
        elif isinstance(node, cst.With):
            self._withs.append(node)
        self._remember_ignored(node)
        if isinstance(node, cst.Name) and node.value == self.name and id(node) not in self._ignored:
            if not self._inside_site and self._runs_after():
                self._reads.append(tuple(self._withs))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if original_node is self.loop:
            self._inside_site, self._after = False, True
        if self._loops and self._loops[-1] is original_node:
            self._loops.pop()
        if self._withs and self._withs[-1] is original_node:
            self._withs.pop()

    def _at_site(self) -> None:
        self._enclosing = tuple(self._loops)
        for with_node in reversed(self._withs):
            if any(_binds(item, self.name) for item in with_node.items):
                self._binding_with = with_node
                break

    def _runs_after(self) -> bool:
        return self._after or any(loop in self._enclosing for loop in self._loops)

    def _remember_ignored(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.WithItem) and node.asname is not None:
            self._ignored.add(id(node.asname.name))
        elif isinstance(node, cst.AssignTarget):
            self._ignored.add(id(node.target))
        elif isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value == "close" and not node.args:
                self._ignored.add(id(func.value))


def _binds(item: cst.WithItem, name: str) -> bool:
    return (
        item.asname is not None and isinstance(item.asname.name, cst.Name) and item.asname.name.value == name
    )


def _reads_name(node: cst.CSTNode, name: str) -> bool:
    if isinstance(node, cst.Name):
        return node.value == name
    return any(_reads_name(child, name) for child in node.children)


def _match(
    expr: cst.BaseExpression,
    loop: cst.CSTNode,
    body: tuple[cst.CSTNode, ...],
    scope: Scope,
    via: cst.Call | None,
    eager: bool,
) -> _Site | None:
    receiver = _readlines_receiver(expr)
    if receiver is not None:
        return _Site("readlines", expr, receiver, loop, body, scope, via, eager)
    if isinstance(expr, cst.Subscript):
        receiver = _readlines_receiver(expr.value)
        if receiver is not None and _constant_slice(expr):
            return _Site("slice", expr, receiver, loop, body, scope, via, eager)
        return None
    if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
        return None
    method = expr.func.attr.value
    if method == "splitlines" and _plain_splitlines(expr):
        kind = "splitlines"
    elif method == "split" and _splits_on_newline(expr):
        kind = "split"
    else:
        return None
    read = expr.func.value
    if not isinstance(read, cst.Call) or not isinstance(read.func, cst.Attribute):
        return None
    read_method = read.func.attr.value
    if read_method not in _READS or not _reads_everything(read):
        return None
    return _Site(kind, expr, read.func.value, loop, body, scope, via, eager, read_method)


def _readlines_receiver(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    if (
        isinstance(expr, cst.Call)
        and not expr.args
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "readlines"
    ):
        return expr.func.value
    return None


def _constant_slice(node: cst.Subscript) -> bool:
    """``[1:]``, ``[:10]``, ``[2:5]``: a prefix or middle that a stream can produce."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Slice):
        return False
    part = node.slice[0].slice
    if part.step is not None:
        return False
    bounds = [b for b in (part.lower, part.upper) if b is not None]
    values = [const_int(b) for b in bounds]
    return bool(bounds) and all(v is not None and v >= 0 for v in values)


def _plain_splitlines(call: cst.Call) -> bool:
    """``splitlines()`` or ``splitlines(keepends)``."""
    return len(call.args) <= 1 and not any(a.star for a in call.args)


def _splits_on_newline(call: cst.Call) -> bool:
    if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
        return False
    value = call.args[0].value
    return isinstance(value, cst.SimpleString) and value.evaluated_value in ("\n", b"\n")


def _reads_everything(read: cst.Call) -> bool:
    """``read()``, ``read_text()``, ``read_text(encoding=...)``: no size, no member name."""
    if read.func.attr.value == "read":  # type: ignore[attr-defined]
        return not read.args
    return all(a.keyword is not None and not a.star for a in read.args)


def _changes_files(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Call) and _is_file_change(node):
        return True
    return any(_changes_files(child) for child in node.children)


def _is_file_change(call: cst.Call) -> bool:
    func = call.func
    name = (
        func.attr.value
        if isinstance(func, cst.Attribute)
        else func.value
        if isinstance(func, cst.Name)
        else ""
    )
    if name in _OPEN_NAMES:
        return _may_write(call)
    dotted = chain_of(func)
    return name in _FS_METHODS or (dotted is not None and ".".join(dotted) in _FS_FUNCTIONS)


def _is_method_call(call: cst.Call) -> bool:
    """``path.open(mode)`` (mode first) as opposed to ``open(path, mode)``, ``io.open(path, mode)``."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    return not (isinstance(func.value, cst.Name) and func.value.value in _MODULES_WITH_OPEN)


def _may_write(call: cst.Call) -> bool:
    """``open(path, mode)`` whose mode can create or change a file (a non-literal mode may)."""
    mode: cst.BaseExpression | None = None
    positional = [a for a in call.args if a.keyword is None]
    index = 0 if _is_method_call(call) else 1
    if len(positional) > index:
        mode = positional[index].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "mode":
            mode = arg.value
    if mode is None:
        return False
    if isinstance(mode, cst.SimpleString):
        value = mode.evaluated_value
        return isinstance(value, str) and any(flag in value for flag in "wax+")
    return True
