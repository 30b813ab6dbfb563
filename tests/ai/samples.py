"""A small workspace config for the AI tests, built in code so each test reads it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from engine.core.config import (
    AiConfig,
    DeliveryArea,
    Intent,
    Knowledge,
    Policy,
    Product,
    QuickReply,
    WorkspaceConfig,
)

INTENTS = (
    Intent(
        "price",
        "Price inquiry",
        keywords=("price", "how much", "cost", "bei", "ngapi"),
        examples=("how much is the samsung tv", "bei ya friji ni ngapi"),
        stage="quote",
        reply="/price",
    ),
    Intent(
        "delivery",
        "Delivery question",
        keywords=("deliver", "delivery", "rider", "kuleta", "tuma"),
        examples=("do you deliver to westlands",),
    ),
    Intent("hours", "Opening hours", keywords=("open", "hours", "mnafungua"), facts=("hours",)),
    Intent(
        "warranty",
        "Warranty claim",
        keywords=("warranty", "broken", "imeharibika"),
        facts=("policy:warranty",),
    ),
)

KNOWLEDGE = Knowledge(
    currency="KES",
    products=(
        Product("Samsung Galaxy A15", Decimal(18500), "each", ("galaxy a15", "a15")),
        Product("Hisense 43 inch TV", Decimal(32000), None, ("hisense tv",)),
    ),
    delivery=(
        DeliveryArea("Westlands", Decimal(300), "same day"),
        DeliveryArea("Thika", Decimal(600), "next morning"),
    ),
    hours="Monday to Friday 8:30 to 18:30",
    policies=(Policy("warranty", "Phones carry a 12-month warranty with the receipt."),),
)


def sample_config() -> WorkspaceConfig:
    return replace(
        WorkspaceConfig.empty("retail"),
        currency="KES",
        ai=AiConfig(intents=INTENTS),
        knowledge=KNOWLEDGE,
        quick_replies=(
            QuickReply("/price", "Price", "Hi {{contact.first_name}}, let me check stock.", "en"),
            QuickReply("/price", "Bei", "Habari {{contact.first_name}}, nacheki stoki.", "sw"),
        ),
    )
