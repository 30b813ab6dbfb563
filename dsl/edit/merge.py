"""Keep every line an edit did not touch exactly as the author wrote it.

ruamel.yaml's round trip keeps comments, key order and quoting, but it re-lays out
a few things on its own (the spaces inside a flow mapping, an odd indent, a blank
line before a dedent). So a save never writes ruamel's dump as is: it dumps the
document twice, before the edit (`baseline`) and after it (`edited`), takes the
lines that changed between those two dumps, and applies just that change to the
original text. Lines the edit did not reach are copied from the original, byte
for byte; where ruamel's re-layout overlaps the edited lines, the edited dump wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher


def _positions(
    opcodes: Sequence[tuple[str, int, int, int, int]], size: int
) -> tuple[list[int], list[int]]:
    """For every boundary k in the first sequence (0..size), the lowest and highest
    boundary it may stand for in the second sequence."""
    low = [0] * (size + 1)
    high = [0] * (size + 1)
    seen = [False] * (size + 1)

    def note(k: int, j: int) -> None:
        if not seen[k]:
            low[k], high[k], seen[k] = j, j, True
        else:
            low[k], high[k] = min(low[k], j), max(high[k], j)

    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for offset in range(i2 - i1 + 1):
                note(i1 + offset, j1 + offset)
        else:
            note(i1, j1)
            note(i2, j2)
            for k in range(i1 + 1, i2):
                note(k, j1)
    return low, high


def apply_change(original: str, baseline: str, edited: str) -> str:
    """`original` with the line changes that turn `baseline` into `edited`.

    `baseline` is a re-rendering of `original` (equal to it, or nearly). With no
    change (`baseline == edited`) the result is `original`, whatever the rendering did.
    """
    if baseline == edited:
        return original
    source = original.splitlines(keepends=True)
    base = baseline.splitlines(keepends=True)
    new = edited.splitlines(keepends=True)
    layout = SequenceMatcher(None, base, source, autojunk=False).get_opcodes()
    change = SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
    to_source_low, to_source_high = _positions(layout, len(base))
    to_new_low, to_new_high = _positions(change, len(base))

    # Where the rendering re-laid out lines (a non-empty stretch of `base`), an edit
    # that reaches into it takes the whole stretch, so no half-kept line survives.
    # A stretch re-laid line for line (same count) is taken one line at a time.
    relaid: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in layout:
        if tag == "equal" or i2 == i1:
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            relaid.extend((k, k + 1) for k in range(i1, i2))
        else:
            relaid.append((i1, i2))
    edits: list[list[int]] = []
    for tag, i1, i2, _, _ in change:
        if tag == "equal":
            continue
        start, end = i1, i2
        grown = True
        while grown:
            grown = False
            for r1, r2 in relaid:
                overlaps = r1 < end and start < r2 if end > start else r1 < start < r2
                if overlaps and (r1 < start or r2 > end):
                    start, end, grown = min(start, r1), max(end, r2), True
        while edits and start <= edits[-1][1]:
            earlier = edits.pop()
            start, end = min(start, earlier[0]), max(end, earlier[1])
        edits.append([start, end])

    out: list[str] = []
    cursor = 0  # how far into `source` has been written
    for start, end in edits:
        stop = to_source_high[start]
        out.extend(source[cursor:stop])
        cursor = max(stop, cursor)
        out.extend(new[to_new_low[start] : to_new_high[end]])
        cursor = max(cursor, to_source_low[end])
    out.extend(source[cursor:])
    return "".join(out)
