"""consent.yaml → the opt-out and opt-in keywords, each word meaning one thing only."""

from __future__ import annotations

from typing import Any

from dsl.config import codes
from dsl.config.report import Report
from dsl.config.yaml_source import YamlDocument
from engine.core.config import ConsentAction, ConsentKeyword


def build_consent(document: YamlDocument) -> tuple[tuple[ConsentKeyword, ...], Report]:
    data: dict[str, Any] = document.data or {}  # type: ignore[assignment]
    report = Report()
    keywords: list[ConsentKeyword] = []
    meaning: dict[str, tuple[ConsentAction, str]] = {}
    for action in ConsentAction:
        section = data.get(action.value)
        if not section:
            continue
        replies: dict[str, str] = section.get("reply") or {}
        for language, words in section["keywords"].items():
            kept: list[str] = []
            for index, word in enumerate(words):
                folded = word.strip().casefold()
                earlier = meaning.get(folded)
                if earlier is not None:
                    report.error(
                        codes.DUPLICATE_NAME,
                        f"keyword '{word}' is already an {earlier[0].value} keyword "
                        f"({earlier[1]}); a word must mean one thing",
                        document.value_span((action.value, "keywords", language, index)),
                        "remove one of them",
                    )
                    continue
                meaning[folded] = (action, language)
                kept.append(word.strip())
            keywords.append(
                ConsentKeyword(
                    action=action,
                    language=language,
                    words=tuple(kept),
                    reply=replies.get(language),
                    span=document.value_span((action.value, "keywords", language)),
                )
            )
    return tuple(keywords), report
