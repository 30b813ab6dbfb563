"""A small WorkspaceConfig built in code, so rule tests do not depend on the YAML loader."""

from __future__ import annotations

from datetime import time
from itertools import pairwise

from dsl.diagnostics import Span
from engine.core.config import (
    CustomField,
    Expression,
    FieldType,
    Integration,
    Move,
    OpeningHours,
    Pipeline,
    RoutingRule,
    SlaPolicy,
    Stage,
    Team,
    Teammate,
    Template,
    TemplateVariable,
    WorkspaceConfig,
)

Y = Span("workspace.yaml", 1, 1)


def _chain(names: list[str]) -> tuple[Move, ...]:
    return tuple(Move(a, b) for a, b in pairwise(names))


def shop_config() -> WorkspaceConfig:
    """A Nairobi shop: one sales pipeline, a support pipeline, M-Pesa and an ERP."""
    sales = ["inquiry", "quote", "payment", "fulfilment", "delivery"]
    return WorkspaceConfig(
        slug="shop",
        name="Duka",
        timezone="Africa/Nairobi",
        opening_hours=tuple(OpeningHours(d, time(8), time(18)) for d in range(6)),
        holidays=(),
        numbers=(),
        teammates=(
            Teammate("wanjiku", "Wanjiku", "w@duka.test", "manager", ("sales",)),
            Teammate("otieno", "Otieno", "o@duka.test", "agent", ("sales", "support")),
        ),
        teams=(Team("sales", ("wanjiku", "otieno")), Team("support", ("otieno",))),
        fields=(
            CustomField("contact", "vip", FieldType.BOOL),
            CustomField("contact", "county", FieldType.TEXT),
            CustomField("order", "items", FieldType.NUMBER),
        ),
        pipelines=(
            Pipeline(
                "sales",
                "conversation",
                tuple(Stage(s, s.title()) for s in sales),
                (*_chain(sales), Move("quote", "inquiry")),
                "inquiry",
            ),
            Pipeline(
                "support",
                "conversation",
                (Stage("new", "New"), Stage("solved", "Solved", terminal=True)),
                (Move("new", "solved"),),
                "new",
            ),
        ),
        routing=(
            RoutingRule(
                "vip",
                Expression("contact.vip", Span("routing.yaml", 3, 11)),
                "sales",
                None,
                "round_robin",
            ),
        ),
        sla_policies=(
            SlaPolicy(
                "standard",
                Expression('conversation.priority is "high"', Span("sla.yaml", 2, 18)),
                15,
                60,
                None,
                5,
                True,
            ),
        ),
        templates=(
            Template(
                "quote_sent",
                "en",
                "utility",
                "Hi {{1}}, your quote is KES {{2}}.",
                variables=(
                    TemplateVariable(
                        1, "body", Expression("contact.first_name", Span("templates.yaml", 5, 12))
                    ),
                    TemplateVariable(
                        2, "body", Expression("order.amount", Span("templates.yaml", 6, 12))
                    ),
                ),
                span=Span("templates.yaml", 1, 3),
            ),
            Template(
                "quote_reminder",
                "en",
                "utility",
                "Your quote is still open.",
                span=Span("templates.yaml", 9, 3),
            ),
            Template(
                "receipt",
                "en",
                "utility",
                "Received M-Pesa {{1}}.",
                variables=(
                    TemplateVariable(
                        1, "body", Expression("payment.receipt", Span("templates.yaml", 15, 12))
                    ),
                ),
                span=Span("templates.yaml", 14, 3),
            ),
            Template(
                "after_hours", "sw", "utility", "Tumefunga.", span=Span("templates.yaml", 12, 3)
            ),
        ),
        integrations=(Integration("mpesa", "mpesa"), Integration("erp", "webhook")),
        root=".",
    )
