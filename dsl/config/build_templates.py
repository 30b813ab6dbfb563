"""templates.yaml → approved WhatsApp templates, with placeholders matched to variables."""

from __future__ import annotations

import re
from typing import Any

from dsl.config import codes
from dsl.config.report import Report, locate_in_scalar
from dsl.config.yaml_source import YamlDocument
from engine.core.config import Expression, Template, TemplateVariable

PLACEHOLDER = re.compile(r"\{\{\s*([0-9]+)\s*\}\}")
COMPONENTS = ("header", "body")


def build_templates(document: YamlDocument) -> tuple[tuple[Template, ...], Report]:
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    templates: list[Template] = []
    first_at: dict[tuple[str, str], int] = {}
    for index, item in enumerate(data["templates"]):
        path = ("templates", index)
        key = (item["name"], item["language"])
        name_span = document.value_span((*path, "name"))
        if key in first_at:
            report.error(
                codes.DUPLICATE_NAME,
                f"template '{key[0]}' in language '{key[1]}' is declared twice (first at line "
                f"{document.value_span(('templates', first_at[key], 'name')).line})",
                name_span,
                "give one another name or language",
            )
            continue
        first_at[key] = index
        variables: list[TemplateVariable] = []
        for component in COMPONENTS:
            variables.extend(_component(document, path, item, component, report))
        footer = item.get("footer")
        if footer is not None:
            found = PLACEHOLDER.search(footer)
            if found is not None:
                report.error(
                    codes.FOOTER_PLACEHOLDER,
                    f"template '{key[0]}': a footer cannot have placeholders",
                    locate_in_scalar(document, (*path, "footer"), found.group(0)),
                    "move the variable text into the body",
                )
        for component in item.get("variables", {}):
            if component not in item:
                # Variables for a component the template does not have at all.
                for number in item["variables"][component]:
                    report.error(
                        codes.VARIABLE_WITHOUT_PLACEHOLDER,
                        f"template '{key[0]}': variable {component} {{{{{number}}}}} but the "
                        f"template has no {component}",
                        document.key_span((*path, "variables", component, number)),
                    )
        templates.append(
            Template(
                name=item["name"],
                language=item["language"],
                category=item["category"],
                body=item["body"],
                header=item.get("header"),
                footer=footer,
                quick_replies=tuple(item.get("quick_replies", [])),
                variables=tuple(variables),
                span=name_span,
            )
        )
    return tuple(templates), report


def _component(
    document: YamlDocument,
    path: tuple[str | int, ...],
    item: dict[str, Any],
    component: str,
    report: Report,
) -> list[TemplateVariable]:
    text: str | None = item.get(component)
    if text is None:
        return []
    name = item["name"]
    values: dict[str, str] = item.get("variables", {}).get(component, {})
    text_path = (*path, component)
    found = list(PLACEHOLDER.finditer(text))
    numbers = [int(m.group(1)) for m in found]
    distinct = sorted(set(numbers))
    if distinct and distinct != list(range(1, len(distinct) + 1)):
        report.error(
            codes.PLACEHOLDERS_NOT_SEQUENTIAL,
            f"template '{name}': {component} placeholders are "
            f"{', '.join(f'{{{{{n}}}}}' for n in distinct)}; WhatsApp needs {{{{1}}}}, "
            "{{2}}, ... without gaps",
            document.value_span(text_path),
            "renumber the placeholders from 1",
        )
    if component == "header" and len(distinct) > 1:
        report.error(
            codes.HEADER_PLACEHOLDERS,
            f"template '{name}': a text header may have one placeholder, this one has "
            f"{len(distinct)}",
            document.value_span(text_path),
        )
    occurrences: dict[str, int] = {}
    for match in found:
        number = str(int(match.group(1)))
        token = match.group(0)
        nth = occurrences.get(token, 0)
        occurrences[token] = nth + 1
        if number not in values and nth == 0:
            report.error(
                codes.PLACEHOLDER_WITHOUT_VARIABLE,
                f"template '{name}': {component} placeholder {token} has no variable",
                locate_in_scalar(document, text_path, token, nth),
                f"add it under variables: {component}: {number}: <expression>",
            )
    variables: list[TemplateVariable] = []
    present = {str(n) for n in numbers}
    for number, expression in values.items():
        value_path = (*path, "variables", component, number)
        if number not in present:
            report.error(
                codes.VARIABLE_WITHOUT_PLACEHOLDER,
                f"template '{name}': variable {number} of the {component} has no "
                f"placeholder {{{{{number}}}}} in the text",
                document.key_span(value_path),
                "remove it, or add the placeholder to the approved text",
            )
            continue
        variables.append(
            TemplateVariable(
                position=int(number),
                component=component,
                value=Expression(expression, document.where(value_path).content),
            )
        )
    return sorted(variables, key=lambda v: v.position)
