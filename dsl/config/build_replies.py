"""replies.yaml → quick replies, with every {{variable}} checked against what Kazi fills."""

from __future__ import annotations

import re
from typing import Any

from dsl.config import codes
from dsl.config.report import Report, locate_in_scalar
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import YamlDocument
from engine.core.config import QUICK_REPLY_VARIABLES, QuickReply

# Any {{...}}: an unknown or misspelt name must be an error, never text the customer sees.
VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def build_replies(document: YamlDocument) -> tuple[tuple[QuickReply, ...], Report]:
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    replies: list[QuickReply] = []
    first_at: dict[tuple[str, str | None], int] = {}
    for index, item in enumerate(data["replies"]):
        path = ("replies", index)
        key = (item["shortcut"], item.get("language"))
        shortcut_span = document.value_span((*path, "shortcut"))
        if key in first_at:
            language = f" in language '{key[1]}'" if key[1] else ""
            report.error(
                codes.DUPLICATE_NAME,
                f"quick reply '{key[0]}'{language} is declared twice (first at line "
                f"{document.value_span(('replies', first_at[key], 'shortcut')).line})",
                shortcut_span,
                "give one another shortcut or language",
            )
            continue
        first_at[key] = index
        if _variables_known(document, (*path, "text"), item["text"], report):
            replies.append(
                QuickReply(
                    shortcut=item["shortcut"],
                    title=item["title"],
                    text=item["text"],
                    language=item.get("language"),
                    span=shortcut_span,
                )
            )
    return tuple(replies), report


def _variables_known(
    document: YamlDocument, text_path: tuple[str | int, ...], text: str, report: Report
) -> bool:
    known = True
    seen: dict[str, int] = {}
    for match in VARIABLE.finditer(text):
        token = match.group(0)
        nth = seen.get(token, 0)
        seen[token] = nth + 1
        name = match.group(1)
        if name in QUICK_REPLY_VARIABLES:
            continue
        known = False
        if nth == 0:
            report.error(
                codes.UNKNOWN_REPLY_VARIABLE,
                f"quick reply variable {token} is not one Kazi fills",
                locate_in_scalar(document, text_path, token),
                did_you_mean(name, QUICK_REPLY_VARIABLES)
                or f"the variables are: {known_list(QUICK_REPLY_VARIABLES)}",
            )
    return known
