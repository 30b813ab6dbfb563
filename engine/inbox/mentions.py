"""@mentions in internal notes: who a note names, and the note's text split for display.

A mention is `@handle` where the handle is a teammate's handle from workspace.yaml
(lower-case letters, digits, underscores). It must start a word: the `@` in an email
address such as `asha@shop.co.ke` is not a mention. A handle nobody has is left as
plain text. Both functions are pure; engine.inbox.work does the notifying.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# Not after a letter, digit, underscore, dot, @ or hyphen: that is the middle of a word,
# an email address or a URL, not someone being called. Not followed by a handle
# character either, so "@asha_x" never mentions "asha".
MENTION = re.compile(r"(?<![\w.@-])@([a-z][a-z0-9_]{0,63})(?![\w@])", re.IGNORECASE)


@dataclass(frozen=True)
class Piece:
    """A run of a note's text; `handle` is set when the run is a mention of a teammate."""

    text: str
    handle: str | None = None


def mentioned_handles(text: str, handles: Collection[str], author: str | None = None) -> list[str]:
    """The known handles `text` mentions, each once, in order of first mention.

    `handles` are the workspace's teammates' handles; `author` (the writer's handle) is
    left out, since nobody needs telling about their own note.
    """
    known = {h.lower() for h in handles}
    found: dict[str, None] = {}
    for match in MENTION.finditer(text):
        handle = match.group(1).lower()
        if handle in known and handle != (author or "").lower():
            found.setdefault(handle)
    return list(found)


def split_mentions(text: str, handles: Collection[str]) -> tuple[Piece, ...]:
    """`text` cut into plain runs and mentions of known handles, for highlighting.

    The pieces are text, not markup: the template escapes each one, so a note can never
    inject HTML however it is written.
    """
    known = {h.lower() for h in handles}
    pieces: list[Piece] = []
    start = 0
    for match in MENTION.finditer(text):
        handle = match.group(1).lower()
        if handle not in known:
            continue
        if match.start() > start:
            pieces.append(Piece(text[start : match.start()]))
        pieces.append(Piece(match.group(0), handle))
        start = match.end()
    if start < len(text) or not pieces:
        pieces.append(Piece(text[start:]))
    return tuple(pieces)
