"""MEM001: a ``# noqa`` code that suppresses nothing."""

from __future__ import annotations

from memlint.diagnostics import Applicability, Diagnostic, Edit, Fix, FixAvailability, Location
from memlint.noqa import NoqaComment, NoqaMap
from memlint.rule import Rule
from memlint.sources import LineIndex


class UnusedNoqa(Rule):
    """
    ## What it does
    Checks for `# noqa: MEM...` codes that suppress no finding: the finding they were written for
    is gone, or the code never matched. Only memlint's own (`MEM`) codes are checked, and only
    codes of rules that ran: a code for a rule that is not selected may well be needed when it
    is. Blanket `# noqa` comments are left alone (they may serve other tools). This rule is
    opt-in: enable it with `extend-select = ["MEM001"]`.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line: when the code changes and a
    new leak appears there, nobody is told.

    ## Example
    ```python
    import gc

    gc.collect()  # noqa: MEM401
    ```

    ## Use instead
    ```python
    import gc

    gc.collect()
    ```

    ## Fix safety
    The fix is safe: it removes the unused codes from the comment, or the whole `# noqa: ...`
    part when none of its codes is used. Any other text in the comment is kept.
    """

    CODE = "MEM001"
    NAME = "unused-noqa"
    SUMMARY = "`# noqa` code that suppresses nothing"
    FIX = FixAvailability.ALWAYS
    CHECKS_NOQA = True

    @classmethod
    def check_noqa(
        cls, noqa_map: NoqaMap, enabled: tuple[str, ...], source: str, path: str
    ) -> list[Diagnostic]:
        index: LineIndex | None = None
        out = []
        for comments in noqa_map.comments.values():
            for comment in comments:
                unused = _unused_codes(comment, enabled)
                if not unused:
                    continue
                index = index or LineIndex(source)
                out.append(_diagnostic(cls, comment, unused, index, path))
        return out


def _unused_codes(comment: NoqaComment, enabled: tuple[str, ...]) -> list[str]:
    if comment.codes is None:
        return []
    unused = []
    for code in comment.codes:
        if not code.startswith("MEM") or code == UnusedNoqa.CODE:
            continue
        if not any(rule.startswith(code) for rule in enabled):
            continue  # the rule did not run here: its suppression cannot be judged
        if not any(used.startswith(code) for used in comment.used):
            unused.append(code)
    return unused


def _diagnostic(
    rule: type[UnusedNoqa], comment: NoqaComment, unused: list[str], index: LineIndex, path: str
) -> Diagnostic:
    line_start = index.line_start(comment.row)
    begin, end = comment.match_span
    start = line_start + comment.column + begin
    stop = line_start + comment.column + end
    assert comment.codes is not None
    kept = [c for c in comment.codes if c not in unused]
    if kept:
        content = "# noqa: " + ", ".join(kept)
    elif comment.text[end:].strip():
        content = "#"  # an explanation follows: it stays a comment
    else:
        content = ""
        before = index.line_text(comment.row)[: comment.column + begin]
        # Drop the spaces before the noqa too, unless the comment is alone on its line.
        start = line_start + (len(before.rstrip(" \t")) if before.strip() else len(before))
    edit = Edit(start, stop, content, index.location(start), index.location(stop))
    listed = ", ".join(f"`{c}`" for c in unused)
    return Diagnostic(
        path=path,
        code=rule.CODE,
        message=f"Unused `noqa` directive (unused: {listed})",
        location=Location(comment.row, comment.column + begin + 1),
        end_location=Location(comment.row, comment.column + end + 1),
        fix=Fix(Applicability.SAFE, "Remove the unused codes", (edit,)),
        rule_name=rule.NAME,
    )
