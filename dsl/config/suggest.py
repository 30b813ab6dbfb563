"""'Did you mean' suggestions for misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word`, if one is close enough to be a likely typo."""
    options = sorted(set(candidates))
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    if matches:
        return matches[0]
    lowered = {option.lower(): option for option in options}
    return lowered.get(word.lower())


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A suggestion sentence, or None when nothing is close."""
    match = closest(word, candidates)
    return f"did you mean '{match}'?" if match is not None else None


def known_list(candidates: Iterable[str], limit: int = 8) -> str:
    """A short, sorted list of names for messages: 'a, b, c'."""
    names = sorted(set(candidates))
    if not names:
        return "none declared"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
