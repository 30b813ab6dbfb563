"""ai.yaml and knowledge.yaml → the AI settings and the approved business information.

knowledge.yaml is built first: ai.yaml's intents name its facts (hours, policy:<name>),
replies.yaml's quick replies and pipelines.yaml's stages, and each name is checked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsl.config import codes
from dsl.config.build_integrations import SECRET_PREFIX
from dsl.config.report import Report
from dsl.config.suggest import did_you_mean, known_list
from dsl.config.yaml_source import YamlDocument
from engine.core.config import (
    AiConfig,
    AiEndpoint,
    AiMasking,
    DeliveryArea,
    Intent,
    Knowledge,
    Pipeline,
    Policy,
    Product,
    QuickReply,
)


def build_knowledge(document: YamlDocument) -> tuple[Knowledge, Report]:
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    names: dict[str, tuple[str, int]] = {}  # folded name or alias -> (section, index)

    def unique(section: str, index: int, key: str, words: list[str]) -> bool:
        for offset, word in enumerate(words):
            folded = word.casefold()
            path = (section, index, key) if offset == 0 else (section, index, "aliases", offset - 1)
            if folded in names and names[folded][0] == section:
                first = names[folded][1]
                report.error(
                    codes.DUPLICATE_NAME,
                    f"'{word}' names two {section} entries (first at line "
                    f"{document.value_span((section, first)).line})",
                    document.value_span(path),
                    "give each entry its own name and aliases",
                )
                return False
            names[folded] = (section, index)
        return True

    products: list[Product] = []
    for index, item in enumerate(data.get("products", [])):
        aliases = list(item.get("aliases", []))
        if unique("products", index, "name", [item["name"], *aliases]):
            products.append(
                Product(
                    item["name"],
                    Decimal(str(item["price"])),
                    item.get("unit"),
                    tuple(aliases),
                    document.value_span(("products", index, "name")),
                )
            )
    areas: list[DeliveryArea] = []
    for index, item in enumerate(data.get("delivery", [])):
        aliases = list(item.get("aliases", []))
        if unique("delivery", index, "area", [item["area"], *aliases]):
            areas.append(
                DeliveryArea(
                    item["area"],
                    Decimal(str(item["fee"])),
                    item.get("when"),
                    tuple(aliases),
                    document.value_span(("delivery", index, "area")),
                )
            )
    policies: list[Policy] = []
    for index, item in enumerate(data.get("policies", [])):
        if unique("policies", index, "name", [item["name"]]):
            policies.append(
                Policy(item["name"], item["text"], document.value_span(("policies", index, "name")))
            )
    knowledge = Knowledge(
        currency=data.get("currency"),
        products=tuple(products),
        delivery=tuple(areas),
        hours=data.get("hours"),
        policies=tuple(policies),
        span=document.value_span(()),
    )
    return knowledge, report


def build_ai(
    document: YamlDocument,
    *,
    knowledge: Knowledge | None,
    pipelines: tuple[Pipeline, ...] | None,
    quick_replies: tuple[QuickReply, ...] | None,
) -> tuple[AiConfig, Report]:
    """Build ai.yaml; a cross-file check is skipped when its file did not load (None)."""
    data: dict[str, Any] = document.data  # type: ignore[assignment]
    report = Report()
    provider = data.get("provider", "offline")
    endpoint = _endpoint(document, data.get("model"))
    if provider == "openai_compat" and endpoint is None:
        report.error(
            codes.AI_MODEL_MISSING,
            "provider openai_compat needs a model: its base_url and name",
            document.value_span(("provider",)),
            "add model: {base_url: http://127.0.0.1:11434/v1, name: llama3.1:8b}, "
            "or set provider: offline",
        )
    if provider == "offline" and endpoint is not None:
        report.warning(
            codes.AI_MODEL_UNUSED,
            "a model is configured but provider is offline, so it is never asked",
            document.key_span(("model",)),
            "set provider: openai_compat to use it",
        )
    intents = _intents(
        document, data.get("intents", []), knowledge, pipelines, quick_replies, report
    )
    classify = data.get("classify", {})
    masking = data.get("masking", {})
    budget = data.get("budget")
    config = AiConfig(
        provider=provider,
        endpoint=endpoint,
        intents=intents,
        min_confidence=float(classify.get("min_confidence", AiConfig.min_confidence)),
        classify_unmatched=bool(classify.get("unmatched_messages", True)),
        summary_after_messages=int(
            data.get("summary", {}).get("after_messages", AiConfig.summary_after_messages)
        ),
        masking=AiMasking(
            numbers=bool(masking.get("numbers", True)), names=bool(masking.get("names", True))
        ),
        monthly_budget=Decimal(str(budget["monthly"])) if budget else None,
        budget_currency=(budget or {}).get("currency", AiConfig.budget_currency),
        span=document.value_span(()),
    )
    return config, report


def _endpoint(document: YamlDocument, model: dict[str, Any] | None) -> AiEndpoint | None:
    if model is None:
        return None
    breaker = model.get("breaker", {})
    costs = model.get("cost_per_1k_tokens", {})
    key = model.get("api_key")
    return AiEndpoint(
        base_url=str(model["base_url"]).rstrip("/"),
        model=model["name"],
        key_variable=key[len(SECRET_PREFIX) :] if key else None,
        timeout_seconds=float(model.get("timeout_seconds", AiEndpoint.timeout_seconds)),
        retries=int(model.get("retries", AiEndpoint.retries)),
        breaker_failures=int(breaker.get("failures", AiEndpoint.breaker_failures)),
        breaker_cooldown_seconds=int(
            breaker.get("cooldown_seconds", AiEndpoint.breaker_cooldown_seconds)
        ),
        input_cost_per_1k=Decimal(str(costs.get("input", 0))),
        output_cost_per_1k=Decimal(str(costs.get("output", 0))),
        span=document.where(("model", "api_key")).content
        if key
        else document.value_span(("model",)),
    )


def _intents(
    document: YamlDocument,
    items: list[dict[str, Any]],
    knowledge: Knowledge | None,
    pipelines: tuple[Pipeline, ...] | None,
    quick_replies: tuple[QuickReply, ...] | None,
    report: Report,
) -> tuple[Intent, ...]:
    intents: list[Intent] = []
    first_at: dict[str, int] = {}
    keyword_owner: dict[str, str] = {}
    stages = (
        sorted({s.name for p in pipelines if p.subject == "conversation" for s in p.stages})
        if pipelines is not None
        else None
    )
    shortcuts = sorted({r.shortcut for r in quick_replies}) if quick_replies is not None else None
    for index, item in enumerate(items):
        path = ("intents", index)
        name = item["name"]
        name_span = document.value_span((*path, "name"))
        if name in first_at:
            report.error(
                codes.DUPLICATE_NAME,
                f"intent '{name}' is declared twice (first at line "
                f"{document.value_span(('intents', first_at[name], 'name')).line})",
                name_span,
                "merge their keywords and examples into one intent",
            )
            continue
        first_at[name] = index
        keywords = tuple(item.get("keywords", []))
        examples = tuple(item.get("examples", []))
        if not keywords and not examples:
            report.error(
                codes.AI_INTENT_WITHOUT_WORDS,
                f"intent '{name}' has neither keywords nor examples, so no message can match it",
                name_span,
                "add keywords: [...] or examples: [...] in the words customers use",
            )
        for k_index, keyword in enumerate(keywords):
            folded = keyword.casefold().strip()
            owner = keyword_owner.setdefault(folded, name)
            if owner != name:
                report.warning(
                    codes.AI_KEYWORD_TWICE,
                    f"keyword '{keyword}' is in intents '{owner}' and '{name}', so it tells "
                    "neither apart",
                    document.value_span((*path, "keywords", k_index)),
                    "keep it in one of them, or use a longer phrase",
                )
        stage = item.get("stage")
        if stage is not None and stages is not None and stage not in stages:
            report.error(
                codes.AI_UNKNOWN_STAGE,
                f"intent '{name}' leads to stage '{stage}', which no conversation pipeline has",
                document.value_span((*path, "stage")),
                did_you_mean(stage, stages) or f"the stages are: {known_list(stages)}",
            )
        reply = item.get("reply")
        if reply is not None and shortcuts is not None and reply not in shortcuts:
            report.error(
                codes.AI_UNKNOWN_REPLY,
                f"intent '{name}' drafts from quick reply '{reply}', which replies.yaml does "
                "not declare",
                document.value_span((*path, "reply")),
                did_you_mean(reply, shortcuts) or f"the quick replies are: {known_list(shortcuts)}",
            )
        facts = tuple(item.get("facts", []))
        if knowledge is not None:
            for f_index, fact in enumerate(facts):
                problem = _missing_fact(fact, knowledge)
                if problem is not None:
                    report.error(
                        codes.AI_UNKNOWN_FACT,
                        f"intent '{name}' quotes {fact}, but {problem[0]}",
                        document.value_span((*path, "facts", f_index)),
                        problem[1],
                    )
        intents.append(
            Intent(
                name=name,
                label=item["label"],
                keywords=keywords,
                examples=examples,
                stage=stage,
                reply=reply,
                facts=facts,
                span=name_span,
            )
        )
    return tuple(intents)


def _missing_fact(fact: str, knowledge: Knowledge) -> tuple[str, str] | None:
    if fact == "hours":
        if knowledge.hours:
            return None
        return "knowledge.yaml says no hours", 'add hours: "..." to knowledge.yaml'
    name = fact.removeprefix("policy:")
    policies = [p.name for p in knowledge.policies]
    if name in policies:
        return None
    suggestion = did_you_mean(name, policies)
    return (
        f"knowledge.yaml has no policy '{name}'",
        suggestion
        or f"add it under policies: in knowledge.yaml (policies: {known_list(policies)})",
    )
