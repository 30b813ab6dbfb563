"""Words of a message as the offline provider reads them: lower case, accents folded,
punctuation dropped, plus the few function words of English and Swahili that say nothing."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


STOPWORDS = _words(
    # English
    "a an the is are am was be to of for in on at and or i you we it my me your our this that",
    "do does can could would will please hi hello there with have has what how much many",
    # Swahili
    "na ya wa za la ni kwa je hii hiyo huo ile mimi wewe sisi nina una tuna habari sasa",
    "tafadhali naomba jambo mambo",
)

# Words that only Swahili uses, for telling which language a customer writes in.
SWAHILI_MARKERS = _words(
    "habari nataka ninataka naomba bei ngapi kiasi gani leo kesho jana asante sana tafadhali",
    "ni iko kuna yangu wangu lini wapi saa karibu ndio hapana mzigo pesa lipa kulipa tuma",
    "nimelipa bado imeharibika haifanyi kazi rudisha badilisha jumatatu jumanne jumatano",
    "alhamisi ijumaa jumamosi jumapili mbili tatu nne tano sita saba nane tisa kumi",
)


def fold(text: str) -> str:
    """Lower case without accents: "Café" and "cafe" read the same."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(fold(text)))


def content_tokens(text: str) -> tuple[str, ...]:
    return tuple(t for t in tokens(text) if t not in STOPWORDS)


def sentences(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _SENTENCE.split(text) if s.strip())


def language_of(words: tuple[str, ...]) -> str | None:
    """ "sw" when Swahili words outnumber plain English ones, "en" when there are words
    at all, None for an empty message."""
    if not words:
        return None
    swahili = sum(1 for w in words if w in SWAHILI_MARKERS)
    return "sw" if swahili * 3 >= len(words) or swahili >= 2 else "en"


def find_phrase(words: tuple[str, ...], phrase: tuple[str, ...], *, prefix: bool) -> int:
    """Where `phrase` starts in `words`, or -1. With `prefix`, a one-word phrase of four
    letters or more also matches the start of a longer word ("deliver" in "delivery";
    Swahili's "lipa" in "nimelipa" does not, that is a suffix)."""
    if not phrase or len(phrase) > len(words):
        return -1
    size = len(phrase)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        if window == phrase:
            return start
        if prefix and size == 1 and len(phrase[0]) >= 4 and window[0].startswith(phrase[0]):
            return start
    return -1
