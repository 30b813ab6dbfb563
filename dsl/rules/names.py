"""Looking names up with a "did you mean" for the near misses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(name: str, known: Iterable[str]) -> str | None:
    """`did you mean 'quote'?` for the closest known name, or None when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
