"""The offline next-action suggestion: from the pipeline's allowed moves, ai.yaml's intent →
stage hints and what the last message named. Never acted on: staff click it, or not."""

from __future__ import annotations

from engine.core.ai.types import (
    OFFLINE,
    ActionKind,
    FieldKind,
    Suggestion,
    SuggestRequest,
)
from engine.core.config import AiConfig


def suggest_offline(config: AiConfig, request: SuggestRequest) -> Suggestion:
    classification = request.classification
    intent = (
        config.intent(classification.intent)
        if classification is not None and classification.intent
        else None
    )
    if (
        intent is not None
        and classification is not None
        and intent.stage
        and intent.stage != request.stage
        and intent.stage in request.moves
    ):
        label = request.stage_labels.get(intent.stage, intent.stage)
        return Suggestion(
            ActionKind.MOVE_STAGE,
            f"Move to {label}",
            f"the customer's last message reads as {intent.label.lower()}, "
            f"and {label} is where that leads",
            classification.confidence,
            OFFLINE,
            intent.stage,
        )
    extraction = request.extraction
    products = extraction.of(FieldKind.PRODUCT) if extraction is not None else ()
    if products and "order" in request.order_kinds:
        names = ", ".join(p.value for p in products)
        return Suggestion(
            ActionKind.PREPARE_ORDER,
            "Prepare the order",
            f"the customer's message names {names}",
            max(p.confidence for p in products) * 0.9,
            OFFLINE,
        )
    if request.waiting_on == "us":
        return Suggestion(
            ActionKind.REPLY, "Draft a reply", "the customer is waiting on us", 0.5, OFFLINE
        )
    return Suggestion(ActionKind.NONE, "Nothing to do now", "nobody is waiting on us", 0.5, OFFLINE)
