"""MEM101: ``list()`` (or a list comprehension) materializing an iterable consumed once."""

from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import libcst as cst

from memlint.diagnostics import Applicability, FixAvailability
from memlint.rule import FixProposal, Option, Replace, Rule, RuleContext
from memlint.rules._names import ASSIGN, CLASS, DEF, IMPORT, WITH, NameTracker, Scope, with_tracker

if TYPE_CHECKING:
    from memlint.ast_index import AstIndex
    from memlint.facts import ProjectFacts

Chain = tuple[str, ...]
#: Finds the literal a name is bound to, if any.
Lookup = Callable[[cst.Name], "cst.BaseExpression | None"]

#: Consumers that read their whole argument before returning: dropping the list changes nothing.
_ALL_AT_ONCE = frozenset({"sum", "min", "max", "sorted", "set", "frozenset", "tuple", "dict", "len"})
#: Consumers that may stop early: dropping the list skips the producer's remaining side effects.
_SHORT_CIRCUIT = frozenset({"any", "all"})
#: Lazy wrappers between the list and what consumes it: ``for i, x in enumerate(list(...))``.
_WRAPPERS = frozenset({"enumerate", "zip"})
_CALL_CONSUMERS = _ALL_AT_ONCE | _SHORT_CIRCUIT
_BUILTIN_NAMES = frozenset(dir(builtins))

_BUILTIN_PRODUCERS = frozenset({"range", "map", "filter", "zip", "enumerate", "reversed", "iter", "open"})
_ITERTOOLS = frozenset(
    (
        "accumulate batched chain combinations combinations_with_replacement compress count cycle "
        "dropwhile filterfalse groupby islice pairwise permutations product repeat starmap takewhile "
        "zip_longest"
    ).split()
)
_FS_FUNCTIONS = frozenset({"os.walk", "os.fwalk", "os.scandir", "glob.glob", "glob.iglob"})
_FS_METHODS = frozenset({"glob", "rglob", "iterdir"})
_CSV_FUNCTIONS = frozenset({"csv.reader", "csv.DictReader"})
_NAMESPACE_CALLS = frozenset({"builtins.globals", "builtins.locals", "builtins.vars"})

#: Calls in a loop body that cannot add to or remove from any container.
_PURE_CALLS = frozenset(
    f"builtins.{name}"
    for name in (
        "abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float "
        "format frozenset getattr hasattr hash hex id int isinstance issubclass iter len list map "
        "max min oct ord pow print range repr reversed round set sorted str sum tuple type zip"
    ).split()
)
_PURE_MODULES = ("os.path.", "posixpath.", "ntpath.", "math.", "operator.")
#: Methods that only read the container they are called on.
_READ_ONLY_CONTAINER_METHODS = frozenset(
    (
        "get keys values items copy count index __contains__ __getitem__ __len__ issubset issuperset "
        "isdisjoint union intersection difference"
    ).split()
)
#: Methods of strings, paths and mappings that only read the element they are called on.
_READ_ONLY_ELEMENT_METHODS = _READ_ONLY_CONTAINER_METHODS | frozenset(
    (
        "startswith endswith lower upper strip lstrip rstrip split rsplit splitlines partition "
        "rpartition find rfind format join encode decode casefold title capitalize isdigit isalpha "
        "isalnum isidentifier isspace isupper islower zfill ljust rjust center removeprefix removesuffix "
        "is_file is_dir is_symlink exists stat lstat read_text read_bytes relative_to with_suffix "
        "with_name with_stem match as_posix resolve absolute group groups groupdict start end span"
    ).split()
)
#: Calls that add, remove or rename directory entries, for loops over a directory listing.
_FS_MUTATORS = frozenset(
    (
        "remove unlink rmdir rmtree removedirs rename renames replace mkdir makedirs touch write_text "
        "write_bytes symlink symlink_to hardlink_to link copy copy2 copyfile copytree move mkstemp "
        "mkdtemp NamedTemporaryFile TemporaryDirectory chdir extract extractall unpack_archive "
        "make_archive"
    ).split()
)
_RENDER_MARKER = "__memlint_render_marker__"
#: A module importing these may share containers between threads.
_THREADING_PACKAGES = frozenset(
    {"threading", "_thread", "concurrent", "multiprocessing", "queue", "socketserver"}
)
_FRESH_FACTORIES = frozenset(
    (
        "builtins.list builtins.dict builtins.set builtins.bytearray collections.defaultdict "
        "collections.OrderedDict collections.Counter collections.deque"
    ).split()
)


@dataclass(frozen=True)
class _Site:
    """A ``list(...)`` call or list comprehension in a position that consumes it once."""

    expr: cst.Call | cst.ListComp
    context: str  # "for" | "comp" | "call"
    consumer: cst.CSTNode  # the For, the comprehension, or the consuming call
    scope: Scope
    comp_for: cst.CompFor | None = None
    via: cst.Call | None = None  # enumerate()/zip() between the list and its consumer
    indents: tuple[str, ...] = ()  # indentation of the enclosing blocks, for rendering fixes


@dataclass(frozen=True)
class _Producer:
    """What the materialized iterable is, and what a loop body could disturb by mutating."""

    kind: str
    label: str
    sources: frozenset[Chain] = frozenset()
    #: Which loop targets are items of a container: "none", "members", or "second" (``k, v``).
    elements: str = "none"
    small: bool = False
    sized: bool = False  # supports len() without materializing
    local_args: bool = False  # zip/enumerate/reversed over function-local names only
    binds_namespace: bool = False  # iterates globals()/vars()/__dict__: loop targets mutate it
    filesystem: bool = False
    reads_globals: bool = False


@dataclass
class _Verdict:
    conflict: bool = False  # the body may change what the iterable reads: no finding
    opaque: bool = False  # the body calls code we cannot see (the fix stays unsafe)


class ListMaterializedOnce(Rule):
    """
    ## What it does
    Checks for `list(...)` around a lazy or potentially large iterable (`range`, `map`, `filter`,
    `zip`, `enumerate`, `reversed`, generator expressions, `itertools` iterators, dict views, open
    files and `readlines()`, `csv` readers, `os.walk`/`os.scandir`, `re.finditer`,
    `Path.glob`/`rglob`/`iterdir`, generators defined in the same module) whose result is consumed
    exactly once: as the iterable of a `for` loop or comprehension, or as the only argument of
    `sum`, `min`, `max`, `any`, `all`, `sorted`, `set`, `frozenset`, `tuple`, `dict`, `len` (also
    through `enumerate`/`zip`). A list comprehension consumed once in the same places is reported
    too: a generator expression does the job.

    `str.join` is not a consumer here: it builds a list of its argument anyway.

    ## Why is this bad?
    The list holds every item at the same time, so peak memory grows with the size of the input,
    while the consumer only needs one item at a time. On CPython 3.11,
    `sum(list(range(10**6)))` peaks at about 40 MB (measured with `tracemalloc`) where
    `sum(range(10**6))` needs 160 bytes; iterating `list(d.items())` over a million-entry dict
    peaks at about 64 MB, `d.items()` at about 120 bytes.

    For small inputs a list comprehension can be slightly faster than a generator expression;
    this rule is about memory, so statically small iterables (a `range` or a literal shorter than
    `min-known-length`) are not reported.

    The copy is sometimes needed, and then nothing is reported: when the loop body mutates the
    container being iterated (`for k in list(d.keys()): del d[k]`, `.pop`/`.append`/`.remove`/
    `.add`/`.discard`/`.clear`/`.update`/`.insert`/`.setdefault`, item or attribute assignment,
    also in nested blocks), calls a method of the container's owner
    (`for c in list(self.children): self.remove(c)`), calls a method of, or passes on, an item that
    may detach itself from its container (`for w in list(parent.children.values()): w.destroy()`),
    suspends (`yield`, `await`), or when the iterable contains `await`. In a module that uses
    threads (`threading`, `concurrent`, `multiprocessing`...), a loop over shared state (an
    attribute, a global) is not reported either: `list(d.values())` is then often an atomic
    snapshot of a dict another thread changes. Nothing is reported when the list is bound to a
    name, indexed, returned or stored, nor when `any()`/`all()` would skip items whose
    computation calls code (`all([w.wait() for w in workers])` means every `wait()` to run).

    ## Example
    ```python
    total = sum(list(map(len, lines)))
    for i in list(range(n)):
        process(i)
    count = len(list(filter(is_valid, records)))
    largest = max([row.size for row in rows])
    ```

    ## Use instead
    ```python
    total = sum(map(len, lines))
    for i in range(n):
        process(i)
    count = sum(1 for _ in filter(is_valid, records))
    largest = max(row.size for row in rows)
    ```

    ## Fix safety
    The fix is safe when the iterable goes straight into a consumer that reads all of it before
    returning (`sum`, `min`, `max`, `sorted`, `set`, `frozenset`, `tuple`, `dict`; `len` becomes
    `sum(1 for _ in ...)`), and for a `for` loop or comprehension over `range(...)`, or over
    `zip`/`enumerate`/`reversed` of local names when the body calls nothing that could reach them.
    Everywhere else it is unsafe: without the list, `map` functions and generator expressions run
    interleaved with the loop body instead of all before it, `any`/`all` stop early and skip the
    remaining side effects, and a dict view or an unknown iterable may be changed by code the body
    calls (`RuntimeError: dictionary changed size during iteration`). No fix is offered when
    removing `list(...)` would drop a comment.

    ## Options
    - `min-known-length`: iterables whose length is known statically (a `range` of constants, a
      literal tuple, list, set or string, and producers over them) are reported only from this
      length on. Default: 1000.
    """

    CODE = "MEM101"
    NAME = "list-materialized-once"
    SUMMARY = "`list()` materializes an iterable that is consumed once"
    FIX = FixAvailability.SOMETIMES
    OPTIONS = (
        Option(
            "min-known-length",
            1000,
            "Iterables whose length is known statically are reported only from this length on.",
        ),
    )
    #: A `list(` call needs "list"; a list comprehension needs "[" (and "for").
    PRESCREEN = ("list", "[")

    @classmethod
    def ast_prescreen(cls, index: AstIndex, facts: ProjectFacts | None) -> bool:
        """The same sites ``_consumed`` collects, found on Python's ast (no LibCST otherwise)."""
        for loop in index.nodes(ast.For):
            if _ast_consumed(loop.iter):
                return True
        for comp in index.nodes(ast.comprehension):
            if not comp.is_async and _ast_consumed(comp.iter):
                return True
        for call in index.nodes(ast.Call):
            if isinstance(call.func, ast.Name) and call.func.id in _CALL_CONSUMERS:
                if any(isinstance(a, ast.Starred) for a in call.args):
                    continue
                limit = 2 if call.func.id == "sum" else 1
                if 1 <= len(call.args) <= limit and _ast_candidate(call.args[0]):
                    return True
        return False

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self.names = NameTracker()
        self._sites: list[_Site] = []
        self._indents: list[str] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        return with_tracker(super().get_visitors(), self.names)

    # -- finding consumers -------------------------------------------------------------------
    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._indents.append(node.indent if node.indent is not None else self.context.module.default_indent)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._indents.pop()

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is None:
            self._consumed(node.iter, "for", node)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in _CALL_CONSUMERS:
            arg = _consumed_arg(func.value, node.args)
            if arg is not None:
                self._consumed(arg.value, "call", node)

    def _comprehension(self, node: cst.BaseComp) -> None:
        fors = list(_comp_fors(node.for_in))
        if any(f.asynchronous is not None for f in fors):
            return
        for comp_for in fors:
            self._consumed(comp_for.iter, "comp", node, comp_for)

    def _consumed(
        self,
        expr: cst.BaseExpression,
        context: str,
        consumer: cst.CSTNode,
        comp_for: cst.CompFor | None = None,
    ) -> None:
        scope, indents = self.names.current, tuple(self._indents)
        if _candidate(expr):
            self._sites.append(_Site(expr, context, consumer, scope, comp_for, None, indents))  # type: ignore[arg-type]
            return
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in _WRAPPERS:
            args = [a for a in expr.args if a.keyword is None and not a.star]
            if expr.func.value == "enumerate":
                args = args[:1]
            for arg in args:
                if _candidate(arg.value):
                    self._sites.append(
                        _Site(arg.value, context, consumer, scope, comp_for, expr, indents)  # type: ignore[arg-type]
                    )

    # -- analysis ----------------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        for site in self._sites:
            self._check(site)

    def _check(self, site: _Site) -> None:
        names, scope = self.names, site.scope
        if isinstance(site.consumer, cst.Call) and not names.is_builtin(_func_name(site.consumer), scope):
            return
        if site.via is not None and not names.is_builtin(_func_name(site.via), scope):
            return
        if isinstance(site.expr, cst.ListComp):
            producer = self._comprehension_producer(site.expr, scope, "list comprehension")
        elif self._is_builtin_list(site.expr.func, scope):
            producer = self._producer(site.expr.args[0].value, scope)
        else:
            return
        if producer is None or producer.small:
            return
        if site.via is not None and _func_name(site.via) == "zip" and self._zip_shares_source(site, producer):
            return
        if (
            isinstance(site.consumer, cst.Call)
            and _func_name(site.consumer) in _SHORT_CIRCUIT
            and self._runs_code_per_item(site, producer)
        ):
            return  # `all([w.wait() for w in workers])`: every call is meant to run
        verdict = _Verdict()
        if site.context != "call":
            if producer.binds_namespace:
                return
            verdict = self._scan(site, producer)
            if verdict.conflict:
                return
        self._report(site, producer, verdict)

    def _is_builtin_list(self, func: cst.BaseExpression, scope: Scope) -> bool:
        return self.names.qualified_name(func, scope) == "builtins.list"

    def _runs_code_per_item(self, site: _Site, producer: _Producer) -> bool:
        """Producing an item calls code that may have side effects (a short-circuit would skip it)."""
        if producer.kind in ("generator", "name", "itertools"):
            return True
        scope = site.scope
        expr = site.expr if isinstance(site.expr, cst.ListComp) else site.expr.args[0].value
        if not isinstance(expr, cst.Call):
            return self._impure_call_in(expr, scope)
        if (
            producer.kind in ("map", "filter")
            and expr.args
            and not self._is_pure_callable(expr.args[0].value, scope)
        ):
            return True
        return any(self._impure_call_in(arg.value, scope) for arg in expr.args)

    def _is_pure_callable(self, func: cst.BaseExpression, scope: Scope) -> bool:
        if isinstance(func, cst.Name) and func.value == "None":
            return True
        if isinstance(func, cst.Lambda):
            return not self._impure_call_in(func.body, scope)
        qualified = self.names.qualified_name(func, scope)
        return qualified is not None and (
            qualified in _PURE_CALLS
            or qualified.startswith(("builtins.str.", "builtins.bytes.", *_PURE_MODULES))
        )

    def _impure_call_in(self, node: cst.CSTNode, scope: Scope) -> bool:
        if isinstance(node, cst.Call):
            func = node.func
            literal_receiver = isinstance(func, cst.Attribute) and isinstance(
                func.value, (cst.SimpleString, cst.ConcatenatedString)
            )
            if not literal_receiver and not self._is_pure_callable(func, scope):
                return True
        return any(self._impure_call_in(child, scope) for child in node.children)

    def _zip_shares_source(self, site: _Site, producer: _Producer) -> bool:
        """``zip(list(it), it)`` pairs differently without the list: leave it alone."""
        assert site.via is not None
        for arg in site.via.args:
            if arg.value is site.expr:
                continue
            if any(_related(c, s) for c in self._chains(arg.value, site.scope) for s in producer.sources):
                return True
        return False

    # -- producers ---------------------------------------------------------------------------
    def _producer(self, expr: cst.BaseExpression, scope: Scope) -> _Producer | None:
        if _contains(expr, (cst.Await, cst.Yield)):
            return None
        if isinstance(expr, cst.GeneratorExp):
            return self._comprehension_producer(expr, scope, "a generator expression")
        if isinstance(expr, cst.Name):
            return self._lazy_name(expr, scope)
        if not isinstance(expr, cst.Call):
            return None
        producer = self._call_producer(expr, scope)
        if producer is not None and _contains_namespace(expr, self.names, scope):
            producer = replace(producer, binds_namespace=True)
        return producer

    def _call_producer(self, call: cst.Call, scope: Scope) -> _Producer | None:
        func = call.func
        qualified = self.names.qualified_name(func, scope)
        if qualified is not None and qualified.startswith("builtins."):
            return self._builtin_producer(qualified[len("builtins.") :], call, scope)
        if qualified is not None:
            module_producer = self._module_producer(qualified, call, scope)
            if module_producer is not None:
                return module_producer
        if isinstance(func, cst.Attribute):
            return self._method_producer(func, call, scope)
        if isinstance(func, cst.Name) and self._is_generator_function(func.value, scope):
            return _Producer(
                "generator",
                f"the generator `{func.value}()`",
                self._sources(call, scope),
                "members",
                reads_globals=True,
            )
        return None

    def _builtin_producer(self, name: str, call: cst.Call, scope: Scope) -> _Producer | None:
        if name not in _BUILTIN_PRODUCERS or any(a.star for a in call.args):
            return None
        label = f"`{name}()`"
        positional = [a.value for a in call.args if a.keyword is None]
        if name == "range":
            length = _const_len(call, self._literal_lookup(scope))
            return _Producer(
                "range", label, small=length is not None and length < self._threshold(), sized=True
            )
        if name == "open":
            return _Producer("file", "a file's lines", self._sources(call, scope))
        iterables = (
            positional[1:]
            if name in ("map", "filter")
            else positional[:1]
            if name in ("enumerate", "reversed", "iter")
            else positional
        )
        # map() yields what its function returns, not members of the container it reads
        elements = {"enumerate": "second", "map": "none"}.get(name, "members")
        local_args = (
            name in ("zip", "enumerate", "reversed")
            and all(isinstance(v, cst.Name) and self.names.is_local(v.value, scope) for v in iterables)
            and all(_is_constant(v) for v in positional[len(iterables) :])
        )
        return _Producer(
            name,
            label,
            self._sources(call, scope),
            elements,
            small=self._all_small(iterables, scope),
            local_args=local_args,
        )

    def _module_producer(self, qualified: str, call: cst.Call, scope: Scope) -> _Producer | None:
        module, _, function = qualified.partition(".")
        label = f"`{qualified}()`"
        if module == "itertools" and function in _ITERTOOLS:
            return _Producer("itertools", label, self._sources(call, scope), "members")
        if module == "itertools" and function == "chain.from_iterable":
            return _Producer("itertools", label, self._sources(call, scope), "members")
        if qualified in _FS_FUNCTIONS:
            return _Producer("fs", label, self._sources(call, scope), "members", filesystem=True)
        if qualified == "re.finditer":
            return _Producer("re", label)  # strings are immutable: nothing to disturb
        if qualified in _CSV_FUNCTIONS:
            return _Producer("csv", label, self._sources(call, scope))
        return None

    def _method_producer(self, func: cst.Attribute, call: cst.Call, scope: Scope) -> _Producer | None:
        method = func.attr.value
        if method in ("keys", "values", "items") and not call.args:
            elements = {"keys": "none", "values": "members", "items": "second"}[method]
            return _Producer(
                "view", f"a dict view (`.{method}()`)", self._sources(call, scope), elements, sized=True
            )
        if method == "readlines":
            return _Producer("file", "`readlines()`", self._sources(call, scope), sized=True)
        if method in _FS_METHODS:
            return _Producer("fs", f"`.{method}()`", self._sources(call, scope), "members", filesystem=True)
        if method == "finditer":
            return _Producer("re", "`.finditer()`")
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"):
            if self._is_generator_method(method, scope):
                return _Producer(
                    "generator",
                    f"the generator `{receiver.value}.{method}()`",
                    self._sources(call, scope),
                    "members",
                    reads_globals=True,
                )
        return None

    def _comprehension_producer(self, node: cst.BaseComp, scope: Scope, label: str) -> _Producer | None:
        fors = list(_comp_fors(node.for_in))
        if any(f.asynchronous is not None for f in fors) or _contains(node, (cst.Await, cst.Yield)):
            return None
        length = _const_len(node, self._literal_lookup(scope))
        small = length is not None and length < self._threshold()
        return _Producer(
            "listcomp" if isinstance(node, cst.ListComp) else "genexp",
            label,
            self._sources(node, scope),
            "members" if _yields_members(node) else "none",
            small=small,
            binds_namespace=_contains_namespace(node, self.names, scope),
        )

    def _lazy_name(self, name: cst.Name, scope: Scope) -> _Producer | None:
        """A local bound once, to a lazy producer or by ``with open(...) as name``."""
        found = self.names.lookup(name.value, scope)
        if found is None or found[0] is not scope.function() or len(found[1]) != 1:
            return None
        binding = found[1][0]
        if binding.value is None or binding.kind not in (ASSIGN, WITH):
            return None
        if binding.kind == WITH:
            opened = binding.value
            if not (
                isinstance(opened, cst.Call)
                and self.names.qualified_name(opened.func, scope) in ("builtins.open", "io.open")
            ):
                return None
            return _Producer("file", f"the file `{name.value}`", frozenset({(name.value,)}))
        inner = self._producer(binding.value, scope)
        if inner is None:
            return None
        return replace(
            inner,
            kind="name",
            label=f"the iterator `{name.value}`",
            sources=inner.sources | {(name.value,)},
            sized=False,
            local_args=False,
        )

    def _is_generator_function(self, name: str, scope: Scope) -> bool:
        found = self.names.lookup(name, scope)
        return (
            found is not None
            and len(found[1]) == 1
            and _is_plain_generator(found[1][0].node, found[1][0].scope)
        )

    def _is_generator_method(self, method: str, scope: Scope) -> bool:
        function = scope.function()
        cls = function.parent if function is not None else None
        if cls is None or cls.kind != "class":
            return False
        bindings = cls.bindings.get(method, [])
        return (
            len(bindings) == 1
            and bindings[0].kind == DEF
            and _is_plain_generator(bindings[0].node, bindings[0].scope)
        )

    def _literal_lookup(self, scope: Scope) -> Lookup:
        """Literals bound once to a name (``commands = ['a', 'b']``, ``N = 10``): sizes are known."""

        def lookup(name: cst.Name) -> cst.BaseExpression | None:
            found = self.names.lookup(name.value, scope)
            if found is None or len(found[1]) != 1 or found[1][0].kind != ASSIGN:
                return None
            value = found[1][0].value
            if isinstance(value, (cst.Tuple, cst.List, cst.Set, cst.Dict)) and value.elements:
                return value
            literal = (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.UnaryOperation)
            return value if isinstance(value, literal) else None

        return lookup

    @property
    def _threaded(self) -> bool:
        return not self.names.imported_packages.isdisjoint(_THREADING_PACKAGES)

    def _threshold(self) -> int:
        return int(self.option("min-known-length"))

    def _all_small(self, iterables: Sequence[cst.BaseExpression], scope: Scope) -> bool:
        lookup = self._literal_lookup(scope)
        lengths = [_const_len(v, lookup) for v in iterables]
        return bool(lengths) and all(n is not None for n in lengths) and sum(lengths) < self._threshold()  # type: ignore[arg-type]

    # -- sources: what the iterable reads while it is consumed -------------------------------
    def _chains(self, node: cst.CSTNode, scope: Scope) -> set[Chain]:
        found: list[tuple[Chain, bool]] = []
        _collect_chains(node, frozenset(), found)
        return {chain for chain, callee in found if self._is_data_chain(chain, callee, scope)}

    def _sources(self, node: cst.CSTNode, scope: Scope) -> frozenset[Chain]:
        return frozenset(self._chains(node, scope))

    def _is_data_chain(self, chain: Chain, callee_receiver: bool, scope: Scope) -> bool:
        """Drop builtins, modules called through, and functions or classes named on their own."""
        found = self.names.lookup(chain[0], scope)
        if found is None:
            return chain[0] not in _BUILTIN_NAMES  # unbound here: a global defined elsewhere
        kinds = {b.kind for b in found[1]}
        if callee_receiver and kinds == {IMPORT} and (len(chain) == 1 or chain == ("os", "path")):
            return False  # a module function (`re.finditer`), not a method of a container
        return not (len(chain) == 1 and kinds <= {DEF, CLASS, IMPORT})

    # -- the consuming loop or comprehension -------------------------------------------------
    def _scan(self, site: _Site, producer: _Producer) -> _Verdict:
        facts = _BodyFacts()
        target: cst.BaseExpression
        if isinstance(site.consumer, cst.For):
            target = site.consumer.target
            site.consumer.body.visit(facts)
        else:
            assert site.comp_for is not None
            target = site.comp_for.target
            for part in _comprehension_body(site.consumer, site.comp_for):
                part.visit(facts)
        elements = self._elements(target, producer, site.via)
        return self._judge(facts, producer, elements, site.scope)

    def _elements(self, target: cst.BaseExpression, producer: _Producer, via: cst.Call | None) -> set[str]:
        role = producer.elements
        if role == "none":
            return set()
        if via is not None and _func_name(via) == "enumerate":
            role = "second"
        if role == "second" and isinstance(target, (cst.Tuple, cst.List)) and len(target.elements) == 2:
            return set(_names_in(target.elements[1].value))
        return set(_names_in(target))

    def _judge(self, facts: _BodyFacts, producer: _Producer, elements: set[str], scope: Scope) -> _Verdict:
        sources = producer.sources
        roots = {chain[0] for chain in sources}
        elements = _propagate(elements, facts.flows)
        if facts.suspends and (sources or producer.filesystem or producer.reads_globals):
            return _Verdict(conflict=True)
        for store in facts.stores:
            if self._store_conflicts(store, sources, roots, elements):
                return _Verdict(conflict=True)
        free = producer.reads_globals or any(not self._is_private(root, scope) for root in roots)
        if self._threaded and any(
            len(chain) > 1 or not self._is_private(chain[0], scope) for chain in sources
        ):
            return _Verdict(conflict=True)  # list() may be an atomic snapshot of state other threads mutate
        verdict = _Verdict()
        for call in facts.calls:
            outcome = self._call_outcome(call, producer, elements, scope, free)
            if outcome == "conflict":
                return _Verdict(conflict=True)
            if outcome == "opaque":
                verdict.opaque = True
        return verdict

    def _store_conflicts(
        self, store: cst.BaseExpression, sources: frozenset[Chain], roots: set[str], elements: set[str]
    ) -> bool:
        for leaf in _target_leaves(store):
            if isinstance(leaf, cst.Name):
                if leaf.value in roots:
                    return True
                continue
            chain = _ref_chain(leaf)
            if chain is None:
                continue
            if any(_related(chain, s) for s in sources) or chain[0] in elements:
                return True
        return False

    def _call_outcome(
        self, call: cst.Call, producer: _Producer, elements: set[str], scope: Scope, free: bool
    ) -> str:
        """ "pure", "opaque" (unknown code, cannot reach the source) or "conflict"."""
        func = call.func
        qualified = self.names.qualified_name(func, scope)
        last = _last_name(func)
        if producer.filesystem and (last in _FS_MUTATORS or (last == "open" and _may_write(call))):
            return "conflict"
        if qualified is not None and (qualified in _PURE_CALLS or qualified.startswith(_PURE_MODULES)):
            return "pure"
        if isinstance(func, cst.Attribute):
            outcome = self._method_outcome(func, producer, elements, scope)
            if outcome is not None:
                return outcome
        arguments = set()
        for arg in call.args:
            arguments |= self._chains(arg.value, scope) | _element_refs(arg.value, elements)
        if any(_related(c, s) for c in arguments for s in producer.sources):
            return "conflict"
        if elements and any(c[0] in elements for c in arguments):
            return "conflict"
        return "conflict" if free else "opaque"

    def _method_outcome(
        self, func: cst.Attribute, producer: _Producer, elements: set[str], scope: Scope
    ) -> str | None:
        receiver, method = func.value, func.attr.value
        if isinstance(receiver, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return "pure"
        chain = _ref_chain(receiver)
        if chain is None:
            return None
        if any(_related(chain, s) for s in producer.sources):
            if chain in producer.sources and method in _READ_ONLY_CONTAINER_METHODS:
                return "pure"
            return "conflict"  # the container itself, its owner, or something inside it
        if chain[0] in elements:
            return "pure" if method in _READ_ONLY_ELEMENT_METHODS else "conflict"
        if len(chain) == 1 and self._is_fresh_local(chain[0], scope):
            return "pure"
        return None

    def _is_private(self, name: str, scope: Scope) -> bool:
        """A parameter or local variable of the enclosing function, not a module it imported:
        code the body calls cannot reach it unless it is handed over."""
        if not self.names.is_local(name, scope):
            return False
        found = self.names.lookup(name, scope)
        return found is not None and all(b.kind != IMPORT for b in found[1])

    def _is_fresh_local(self, name: str, scope: Scope) -> bool:
        """A local only ever bound to a new container (``out = []``): nothing else can reach it."""
        found = self.names.lookup(name, scope)
        if found is None or found[0] is not scope.function():
            return False
        return all(
            b.kind == ASSIGN and b.value is not None and self._is_fresh_value(b.value, scope)
            for b in found[1]
        )

    def _is_fresh_value(self, value: cst.BaseExpression, scope: Scope) -> bool:
        if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp)):
            return True
        return (
            isinstance(value, cst.Call) and self.names.qualified_name(value.func, scope) in _FRESH_FACTORIES
        )

    # -- reporting ---------------------------------------------------------------------------
    def _report(self, site: _Site, producer: _Producer, verdict: _Verdict) -> None:
        consumer = _consumer_label(site)
        counting = (
            isinstance(site.consumer, cst.Call) and _func_name(site.consumer) == "len" and site.via is None
        )
        if isinstance(site.expr, cst.ListComp):
            if counting:
                message = (
                    "`len([...])` builds a list only to count its items; count with `sum(1 for ...)` "
                    "to keep peak memory flat for large inputs"
                )
                fix = self._count_fix(site)
            else:
                message = (
                    f"list comprehension consumed once by {consumer} holds every item in memory at once; "
                    "a generator expression keeps peak memory flat for large inputs"
                )
                fix = self._genexp_fix(site, producer, verdict)
        elif counting:
            if producer.sized:
                message = (
                    f"`len(list(...))` copies every item of {producer.label} only to count them; "
                    "`len()` works on it directly"
                )
                fix = self._unwrap_fix(site, producer, verdict)
            else:
                message = (
                    f"`len(list(...))` materializes every item of {producer.label} only to count them; "
                    "count with `sum(1 for _ in ...)` to keep peak memory flat for large inputs"
                )
                fix = self._count_fix(site)
        else:
            action = "pass it directly" if isinstance(site.consumer, cst.Call) else "iterate over it directly"
            message = (
                f"`list()` materializes {producer.label} only for {consumer} to consume it once; "
                f"{action} to keep peak memory flat for large inputs"
            )
            fix = self._unwrap_fix(site, producer, verdict)
        self.report(site.expr, message, fix)

    def _applicability(self, site: _Site, producer: _Producer, verdict: _Verdict) -> Applicability:
        if site.via is not None and _func_name(site.via) == "zip":
            return Applicability.UNSAFE  # zip may stop before the producer is exhausted
        if isinstance(site.consumer, cst.Call):
            return Applicability.SAFE if _func_name(site.consumer) in _ALL_AT_ONCE else Applicability.UNSAFE
        if isinstance(site.expr, cst.ListComp):
            return Applicability.UNSAFE
        if producer.kind == "range":
            return Applicability.SAFE
        if isinstance(site.consumer, cst.GeneratorExp):
            return Applicability.UNSAFE
        if producer.kind in ("zip", "enumerate", "reversed") and producer.local_args and not verdict.opaque:
            return Applicability.SAFE
        return Applicability.UNSAFE

    def _unwrap_fix(self, site: _Site, producer: _Producer, verdict: _Verdict) -> FixProposal | None:
        """``list(x)`` -> ``x``, unless a comment inside ``list(`` ... ``)`` would be lost."""
        assert isinstance(site.expr, cst.Call)
        inner = site.expr.args[0].value
        if _comments(site.expr) != _comments(inner):
            return None
        text = _fit(self._render(inner, site), self._sole_argument(site))
        if text is None:
            return None
        return FixProposal(
            self._applicability(site, producer, verdict),
            "Remove the `list()` call",
            (Replace(site.expr, _pad(site, text)),),
        )

    def _genexp_fix(self, site: _Site, producer: _Producer, verdict: _Verdict) -> FixProposal | None:
        """``[...]`` -> ``(...)``, or no brackets at all as a call's only argument: only the
        brackets change, so comments and line breaks inside stay where they are."""
        comp = site.expr
        assert isinstance(comp, cst.ListComp)
        if comp.lpar:
            return None
        code = self._render(comp, site)
        if not (code.startswith("[") and code.endswith("]")):
            return None
        text = _fit(code[1:-1], self._sole_argument(site))
        if text is None:
            return None
        return FixProposal(
            self._applicability(site, producer, verdict),
            "Use a generator expression",
            (Replace(comp, _pad(site, text)),),
        )

    def _count_fix(self, site: _Site) -> FixProposal | None:
        """``len(list(x))`` / ``len([e for ...])`` -> ``sum(1 for ...)``."""
        call = site.consumer
        assert isinstance(call, cst.Call)
        if not self.names.is_builtin("sum", site.scope):
            return None
        counted: cst.BaseExpression
        if isinstance(site.expr, cst.ListComp):
            counted = cst.GeneratorExp(elt=site.expr.elt, for_in=site.expr.for_in, lpar=[], rpar=[])
        else:
            counted = site.expr.args[0].value
        if isinstance(counted, cst.GeneratorExp) and isinstance(
            counted.elt, (cst.Name, cst.Integer, cst.Float, cst.SimpleString)
        ):
            generator = counted.with_changes(elt=cst.Integer("1"), lpar=[], rpar=[])
        else:
            if isinstance(counted, cst.GeneratorExp) and not counted.lpar:
                counted = counted.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            generator = cst.GeneratorExp(
                elt=cst.Integer("1"), for_in=cst.CompFor(target=cst.Name("_"), iter=counted), lpar=[], rpar=[]
            )
        replacement = cst.Call(func=cst.Name("sum"), args=[cst.Arg(generator)])
        if _comments(call) != _comments(replacement):
            return None
        text = _fit(self._render(replacement, site))
        if text is None:
            return None
        return FixProposal(Applicability.SAFE, "Count with `sum(1 for _ in ...)`", (Replace(call, text),))

    def _render(self, node: cst.CSTNode, site: _Site) -> str:
        """The code of ``node`` as it reads at the site: continuation lines keep the indentation of
        the blocks around it (``Module.code_for_node`` would render them as if at top level)."""
        module = self.context.module

        def nested(inner: cst.BaseExpression) -> str:
            body: list[cst.BaseStatement] = [cst.SimpleStatementLine([cst.Expr(inner)])]
            for indent in reversed(site.indents):
                body = [cst.If(test=cst.Name("x"), body=cst.IndentedBlock(body=body, indent=indent))]
            return module.with_changes(body=body, header=[], footer=[]).code

        marker = nested(cst.Name(_RENDER_MARKER))
        at = marker.index(_RENDER_MARKER)
        before, after = marker[:at], marker[at + len(_RENDER_MARKER) :]
        text = nested(node)  # type: ignore[arg-type]
        return text[len(before) : len(text) - len(after)]

    def _sole_argument(self, site: _Site) -> bool:
        """The list is the only argument of a call: a bare generator expression may replace it."""
        call = site.via or (site.consumer if isinstance(site.consumer, cst.Call) else None)
        if call is None or len(call.args) != 1:
            return False
        arg = call.args[0]
        return arg.value is site.expr and not isinstance(arg.comma, cst.Comma)


# -- helpers -------------------------------------------------------------------------------------
class _BodyFacts(cst.CSTVisitor):
    """What a loop body (or the rest of a comprehension) does: calls, stores, suspensions."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []
        self.stores: list[cst.BaseExpression] = []
        self.flows: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
        self.suspends = False

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self.stores.append(target.target)
            self.flows.append((target.target, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.stores.append(node.target)
            self.flows.append((node.target, node.value))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.stores.append(node.target)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.stores.append(node.target)
        self.flows.append((node.target, node.value))

    def visit_For(self, node: cst.For) -> None:
        self.stores.append(node.target)
        self.flows.append((node.target, node.iter))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.flows.append((node.target, node.iter))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.stores.append(node.asname.name)
            self.flows.append((node.asname.name, node.item))

    def visit_Del(self, node: cst.Del) -> None:
        self.stores.append(node.target)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.suspends = True

    def visit_Await(self, node: cst.Await) -> None:
        self.suspends = True


class _CommentCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def _comments(node: cst.CSTNode) -> list[str]:
    collector = _CommentCollector()
    node.visit(collector)
    return sorted(collector.found)


def _candidate(expr: cst.BaseExpression) -> bool:
    """``list(x)`` with one plain positional argument, or a list comprehension."""
    if isinstance(expr, cst.ListComp):
        return True
    if not isinstance(expr, cst.Call) or len(expr.args) != 1:
        return False
    arg = expr.args[0]
    if arg.keyword is not None or arg.star:
        return False
    func = expr.func
    if isinstance(func, cst.Name):
        return func.value == "list"
    return isinstance(func, cst.Attribute) and func.attr.value == "list" and isinstance(func.value, cst.Name)


def _ast_candidate(expr: ast.expr) -> bool:
    """``_candidate`` on Python's ast."""
    if isinstance(expr, ast.ListComp):
        return True
    if not isinstance(expr, ast.Call) or len(expr.args) != 1 or expr.keywords:
        return False
    if isinstance(expr.args[0], ast.Starred):
        return False
    func = expr.func
    if isinstance(func, ast.Name):
        return func.id == "list"
    return isinstance(func, ast.Attribute) and func.attr == "list" and isinstance(func.value, ast.Name)


def _ast_consumed(expr: ast.expr) -> bool:
    """A candidate, or one passed through ``enumerate``/``zip`` (``_consumed`` on the ast)."""
    if _ast_candidate(expr):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in _WRAPPERS:
        args = [a for a in expr.args if not isinstance(a, ast.Starred)]
        if expr.func.id == "enumerate":
            args = args[:1]
        return any(_ast_candidate(a) for a in args)
    return False


def _consumed_arg(name: str, args: Sequence[cst.Arg]) -> cst.Arg | None:
    if any(a.star for a in args):
        return None
    positional = [a for a in args if a.keyword is None]
    if name == "sum":
        return positional[0] if 1 <= len(positional) <= 2 else None
    return positional[0] if len(positional) == 1 else None


def _last_name(func: cst.BaseExpression) -> str:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _func_name(call: cst.Call) -> str:
    return call.func.value if isinstance(call.func, cst.Name) else ""


def _comp_fors(comp_for: cst.CompFor | None) -> Iterator[cst.CompFor]:
    while comp_for is not None:
        yield comp_for
        comp_for = comp_for.inner_for_in


def _comprehension_body(comp: cst.CSTNode, comp_for: cst.CompFor) -> Iterator[cst.CSTNode]:
    """The parts of a comprehension evaluated while ``comp_for``'s iterable is consumed."""
    yield from comp_for.ifs
    if comp_for.inner_for_in is not None:
        yield comp_for.inner_for_in
    if isinstance(comp, cst.DictComp):
        yield comp.key
        yield comp.value
    elif isinstance(comp, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        yield comp.elt


def _yields_members(comp: cst.BaseComp) -> bool:
    """The comprehension yields items of what it iterates (``c``, ``c.widget``, ``(k, c)``), not
    values it computes (``len(c)``, ``c.render()``, ``f"{c}"``)."""
    targets = {n for f in _comp_fors(comp.for_in) for n in _names_in(f.target)}
    element = comp.value if isinstance(comp, cst.DictComp) else comp.elt  # type: ignore[attr-defined]

    def member(node: cst.BaseExpression) -> bool:
        if isinstance(node, (cst.Tuple, cst.List)):
            return any(member(e.value) for e in node.elements)
        chain = _ref_chain(node)
        return chain is not None and chain[0] in targets

    return member(element)


def _contains(node: cst.CSTNode, types: tuple[type[cst.CSTNode], ...]) -> bool:
    if isinstance(node, types):
        return True
    return any(_contains(child, types) for child in node.children)


def _contains_namespace(node: cst.CSTNode, names: NameTracker, scope: Scope) -> bool:
    """``globals()``, ``vars()``, ``locals()`` or a ``__dict__``: loop targets may land in it."""
    if isinstance(node, cst.Attribute) and node.attr.value == "__dict__":
        return True
    if isinstance(node, cst.Call) and names.qualified_name(node.func, scope) in _NAMESPACE_CALLS:
        return True
    return any(_contains_namespace(child, names, scope) for child in node.children)


def _chain(node: cst.CSTNode) -> Chain | None:
    if isinstance(node, cst.Name):
        return (node.value,)
    if isinstance(node, cst.Attribute):
        base = _chain(node.value)
        return (*base, node.attr.value) if base is not None else None
    return None


def _ref_chain(node: cst.CSTNode) -> Chain | None:
    """Like ``_chain`` but through subscripts: ``self.data[k].x`` -> ``("self", "data", "[]", "x")``."""
    if isinstance(node, cst.Name):
        return (node.value,)
    if isinstance(node, cst.Attribute):
        base = _ref_chain(node.value)
        return (*base, node.attr.value) if base is not None else None
    if isinstance(node, cst.Subscript):
        base = _ref_chain(node.value)
        return (*base, "[]") if base is not None else None
    return None


def _related(a: Chain, b: Chain) -> bool:
    """One reference is a prefix of the other: the same object, its owner, or a part of it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _collect_chains(node: cst.CSTNode, bound: frozenset[str], out: list[tuple[Chain, bool]]) -> None:
    """Every name/attribute chain read in ``node``, flagged when it is the receiver of a call."""
    if isinstance(node, (cst.Name, cst.Attribute)):
        chain = _chain(node)
        if chain is not None:
            if chain[0] not in bound:
                out.append((chain, False))
        elif isinstance(node, cst.Attribute):
            _collect_chains(node.value, bound, out)
        return
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = _chain(func.value)
            if receiver is None:
                _collect_chains(func.value, bound, out)
            elif receiver[0] not in bound:
                out.append((receiver, True))
        elif not isinstance(func, cst.Name):
            _collect_chains(func, bound, out)
        for arg in node.args:
            _collect_chains(arg.value, bound, out)
        return
    if isinstance(node, cst.Lambda):
        params = frozenset(p.name.value for p in _lambda_params(node.params))
        _collect_chains(node.body, bound | params, out)
        return
    if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp, cst.DictComp)):
        bound = bound | frozenset(n for f in _comp_fors(node.for_in) for n in _names_in(f.target))
    for child in node.children:
        _collect_chains(child, bound, out)


def _lambda_params(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from params.posonly_params
    yield from params.params
    yield from params.kwonly_params
    if isinstance(params.star_arg, cst.Param):
        yield params.star_arg
    if params.star_kwarg is not None:
        yield params.star_kwarg


def _names_in(target: cst.CSTNode) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_in(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names_in(target.value)


def _target_leaves(target: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_leaves(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_leaves(target.value)
    elif isinstance(target, cst.BaseExpression):
        yield target


def _element_refs(node: cst.CSTNode, elements: set[str]) -> set[Chain]:
    if not elements:
        return set()
    found: list[tuple[Chain, bool]] = []
    _collect_chains(node, frozenset(), found)
    return {chain for chain, _ in found if chain[0] in elements}


def _propagate(elements: set[str], flows: list[tuple[cst.BaseExpression, cst.BaseExpression]]) -> set[str]:
    """Names bound from an element (``for g in c.kids``, ``w = c.widget``) are elements too."""
    if not elements:
        return elements
    result = set(elements)
    for _ in range(3):
        grown = False
        for target, value in flows:
            if _element_refs(value, result):
                new = set(_names_in(target)) - result
                if new:
                    result |= new
                    grown = True
        if not grown:
            break
    return result


def _may_write(call: cst.Call) -> bool:
    """``open(path, mode)`` that can create or change a file (no mode, or a literal read mode: no)."""
    mode: cst.BaseExpression | None = None
    positional = [a for a in call.args if a.keyword is None]
    is_method = isinstance(call.func, cst.Attribute)
    index = 0 if is_method else 1
    if len(positional) > index:
        mode = positional[index].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "mode":
            mode = arg.value
    if mode is None:
        return False
    value = mode.evaluated_value if isinstance(mode, cst.SimpleString) else None
    return not isinstance(value, str) or any(flag in value for flag in "wax+")


def _is_constant(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        return _is_constant(node.expression)
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString))


def _const_int(node: cst.BaseExpression, lookup: Lookup | None = None) -> int | None:
    if isinstance(node, cst.Name) and lookup is not None:
        bound = lookup(node)
        return _const_int(bound) if bound is not None else None
    if isinstance(node, cst.Integer):
        return int(node.evaluated_value)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = _const_int(node.expression)
        return -inner if inner is not None else None
    return None


def _const_len(node: cst.BaseExpression, lookup: Lookup | None = None) -> int | None:
    """A static bound on the length of a literal (also one bound to a local name), a ``range`` of
    constants, or a comprehension over them. None: unknown."""
    if isinstance(node, cst.Name) and lookup is not None:
        literal = lookup(node)
        return _const_len(literal) if literal is not None else None
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        if any(isinstance(e, cst.StarredElement) for e in node.elements):
            return None
        return len(node.elements)
    if isinstance(node, cst.Dict):
        return (
            None if any(isinstance(e, cst.StarredDictElement) for e in node.elements) else len(node.elements)
        )
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return len(value) if isinstance(value, (str, bytes)) else None
    if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
        lengths = [_const_len(f.iter, lookup) for f in _comp_fors(node.for_in)]
        return None if any(n is None for n in lengths) else _product(lengths)  # type: ignore[arg-type]
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "range":
        if not node.args or len(node.args) > 3 or any(a.keyword is not None or a.star for a in node.args):
            return None
        bounds = [_const_int(a.value, lookup) for a in node.args]
        if any(b is None or abs(b) > 10**12 for b in bounds) or (len(bounds) == 3 and bounds[2] == 0):
            return None
        return len(range(*bounds))  # type: ignore[arg-type]
    return None


def _product(values: Sequence[int]) -> int:
    result = 1
    for value in values:
        result *= value
    return result


def _is_plain_generator(node: cst.CSTNode | None, scope: Scope | None) -> bool:
    """A synchronous ``def`` containing ``yield``, undecorated (or static/class method)."""
    if not isinstance(node, cst.FunctionDef) or scope is None or not scope.is_generator:
        return False
    if node.asynchronous is not None:
        return False
    return all(
        isinstance(d.decorator, cst.Name) and d.decorator.value in ("staticmethod", "classmethod")
        for d in node.decorators
    )


def _parses(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _fit(text: str, sole_argument: bool = False) -> str | None:
    """``text`` as it can stand where the replaced expression stood: bare as a call's only
    argument (a generator expression needs no parentheses of its own there), else as is when it
    is a complete expression, else parenthesized; None when nothing parses."""
    if sole_argument and _parses(f"_({text})"):
        return text
    if _parses(text):
        return text
    return f"({text})" if _parses(f"({text})") else None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _is_empty(whitespace: cst.CSTNode) -> bool:
    return isinstance(whitespace, cst.SimpleWhitespace) and whitespace.value == ""


def _pad(site: _Site, text: str) -> str:
    """Keep tokens apart: ``for i in(list)(x)`` becomes ``for i in x``, not ``for i inx``."""
    before: cst.CSTNode | None = None
    after: cst.CSTNode | None = None
    if site.via is None and isinstance(site.consumer, cst.For):
        before = site.consumer.whitespace_after_in
    elif site.via is None and site.comp_for is not None:
        before = site.comp_for.whitespace_after_in
        if site.comp_for.ifs:
            after = site.comp_for.ifs[0].whitespace_before
        elif site.comp_for.inner_for_in is not None:
            after = site.comp_for.inner_for_in.whitespace_before
    if before is not None and _is_empty(before) and _is_word_char(text[0]):
        text = " " + text
    if after is not None and _is_empty(after) and _is_word_char(text[-1]):
        text = text + " "
    return text


def _consumer_label(site: _Site) -> str:
    if isinstance(site.consumer, cst.For):
        outer = "a `for` loop"
    elif isinstance(site.consumer, cst.Call):
        outer = f"`{_func_name(site.consumer)}()`"
    else:
        outer = "a comprehension"
    if site.via is not None:
        return f"`{_func_name(site.via)}()` in {outer}"
    return outer
