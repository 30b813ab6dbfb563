"""What operators watch: Prometheus metrics and the ids that travel with log lines."""

from engine.observability.log_context import LogContextFilter, add_log_ids, log_context
from engine.observability.metrics import (
    EVENTS,
    OUTBOX_SENDS,
    RULE_EVALUATIONS,
    WEBHOOKS_ACKNOWLEDGED,
    WEBHOOKS_RECEIVED,
    enable_multiprocess,
    observed_job,
    observed_rule_evaluation,
    observed_webhook,
    render_metrics,
)

__all__ = [
    "EVENTS",
    "OUTBOX_SENDS",
    "RULE_EVALUATIONS",
    "WEBHOOKS_ACKNOWLEDGED",
    "WEBHOOKS_RECEIVED",
    "LogContextFilter",
    "add_log_ids",
    "enable_multiprocess",
    "log_context",
    "observed_job",
    "observed_rule_evaluation",
    "observed_webhook",
    "render_metrics",
]
