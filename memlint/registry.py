"""Rule selection: codes and prefixes, preview, redirects.

The catalogue itself is the explicit tuple ``memlint.rules.ALL_RULES`` (no import scanning).
Codes never change meaning; a renamed code stays here as a redirect with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from memlint.rule import Rule

#: Families that are never enabled by the default selection (opt-in, e.g. data libraries).
OPT_IN_PREFIXES: tuple[str, ...] = ("MEM0", "MEM6")
#: Old code -> new code.
REDIRECTS: dict[str, str] = {}

CODE_PATTERN = re.compile(r"^MEM[0-9]{0,3}$")


class SelectionError(ValueError):
    pass


def all_rules() -> tuple[type[Rule], ...]:
    from memlint.rules import ALL_RULES

    return ALL_RULES


def rule_by_code(code: str) -> type[Rule] | None:
    code = REDIRECTS.get(code.upper(), code.upper())
    return next((r for r in all_rules() if r.CODE == code), None)


def rule_by_name_or_code(key: str) -> type[Rule] | None:
    return rule_by_code(key) or next((r for r in all_rules() if r.NAME == key), None)


@dataclass
class Selection:
    rules: tuple[type[Rule], ...]
    warnings: list[str] = field(default_factory=list)


def validate_code(code: str) -> str:
    """Normalise a selector (``MEM``, ``MEM1``, ``MEM101``, ``ALL``); raise on unknown ones."""
    upper = code.strip().upper()
    if upper == "ALL":
        return "MEM"
    if upper in REDIRECTS:
        return upper
    if not CODE_PATTERN.match(upper):
        raise SelectionError(f"unknown rule code or prefix {code!r} (expected e.g. MEM, MEM1, MEM101)")
    if not any(r.CODE.startswith(upper) for r in all_rules()):
        raise SelectionError(f"unknown rule code or prefix {code!r}: no rule starts with it")
    return upper


def select_rules(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    preview: bool = False,
) -> Selection:
    warnings: list[str] = []

    def normalise(codes: Iterable[str]) -> list[str]:
        out = []
        for code in codes:
            norm = validate_code(code)
            if norm in REDIRECTS:
                warnings.append(f"{norm} has been renamed to {REDIRECTS[norm]}")
                norm = REDIRECTS[norm]
            out.append(norm)
        return out

    selectors = normalise(select if select is not None else ["MEM"]) + normalise(extend_select)
    ignores = normalise(ignore)
    chosen = []
    for rule in all_rules():
        match = _best(rule.CODE, selectors)
        if match is None:
            continue
        ignored = _best(rule.CODE, ignores)
        if ignored is not None and len(ignored) >= len(match):
            continue
        exact = match == rule.CODE
        if rule.CODE.startswith(OPT_IN_PREFIXES) and len(match) < len("MEM0"):
            continue  # opt-in families need their own prefix (MEM6) or code, not MEM/ALL
        if rule.PREVIEW and not preview:
            if exact:
                warnings.append(f"{rule.CODE} is a preview rule: enable preview to use it")
            continue
        chosen.append(rule)
    return Selection(tuple(chosen), warnings)


def _best(code: str, selectors: list[str]) -> str | None:
    """The most specific selector matching ``code`` (ruff's rule: longer prefixes win)."""
    matches = [s for s in selectors if code.startswith(s)]
    return max(matches, key=len) if matches else None
