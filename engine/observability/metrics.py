"""Kazi's Prometheus metrics, counted in every server and worker process.

`kazi serve` and `kazi worker` call `enable_multiprocess` before anything is counted:
each process then keeps its counts in files of its own in one folder, and `/metrics`
(on any server process) adds up the files of every process on the machine, so the
numbers do not depend on which process answered the scrape. Counts of processes that
exited stay in the folder, so counters never go backwards. Without it (tests, `kazi
test`) the counts live in this process's memory.

Every metric has labels: prometheus-client chooses where a value lives when the
labelled child is first made, which is after `enable_multiprocess` has run.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from engine.observability.log_context import log_context

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Litestar adds the charset to text/* itself.
CONTENT_TYPE = CONTENT_TYPE_LATEST.replace("; charset=utf-8", "")

REGISTRY = CollectorRegistry(auto_describe=True)
"""Kazi's own metrics, kept apart from prometheus-client's global registry."""

# Acknowledging a webhook is a commit; Meta asks for a median under 250 ms.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WORK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

WEBHOOKS_RECEIVED = Counter(
    "kazi_webhooks_received",
    "Webhook requests received, before any check.",
    ["source"],
    registry=REGISTRY,
)
WEBHOOKS_ACKNOWLEDGED = Counter(
    "kazi_webhooks_acknowledged",
    "Webhook requests answered, by HTTP status (200: the body is committed).",
    ["source", "status"],
    registry=REGISTRY,
)
WEBHOOK_ACK_SECONDS = Histogram(
    "kazi_webhook_ack_seconds",
    "Time from receiving a webhook request to its answer.",
    ["source"],
    buckets=ACK_BUCKETS,
    registry=REGISTRY,
)
EVENTS = Counter(
    "kazi_inbound_events",
    "Stored inbound events a worker took up, by provider and outcome "
    "(processed, retry: back to the queue after a failure, failed: shown to staff).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
RULE_EVALUATIONS = Counter(
    "kazi_rule_evaluations",
    "Conversation steps (lock, load, evaluate the rules, persist), by input and outcome.",
    ["input", "outcome"],
    registry=REGISTRY,
)
RULE_EVALUATION_SECONDS = Histogram(
    "kazi_rule_evaluation_seconds",
    "Time of one conversation step, lock to persisted.",
    ["input"],
    buckets=WORK_BUCKETS,
    registry=REGISTRY,
)
OUTBOX_SENDS = Counter(
    "kazi_outbox_sends",
    "Outbox rows carried out, by kind and outcome "
    "(done, retry, failed, deferred: waiting for the rate limit).",
    ["kind", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "kazi_job_seconds",
    "Time a worker spent on one job (processing an inbound event, carrying out an "
    "outbox row...), by job name.",
    ["job"],
    buckets=WORK_BUCKETS,
    registry=REGISTRY,
)


def enable_multiprocess(directory: Path) -> None:
    """Keep this process's counts (and its children's) in files under `directory`.

    Call it in `kazi serve` and `kazi worker` before anything is counted. Children
    inherit the setting through the environment."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_DIR_ENV] = str(directory)
    # prometheus-client reads the variable when it is imported, which in this process
    # was earlier; values made from now on must go to the files too.
    values.ValueClass = values.get_value_class()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


def render_metrics(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of Kazi's metrics, added up over every process sharing the
    folder (or this process's own), followed by the `extra` collectors'."""
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir()
    if folder is not None:
        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Forward(Collector):
    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


@contextmanager
def observed_job(job: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        JOB_SECONDS.labels(job).observe(time.perf_counter() - started)


@contextmanager
def observed_webhook(source: str) -> Iterator[Callable[[int], None]]:
    """Counts a webhook request in, and out with the status given to the callback."""
    WEBHOOKS_RECEIVED.labels(source).inc()
    started = time.perf_counter()
    answered: list[int] = []
    try:
        yield answered.append
    finally:
        status = str(answered[-1]) if answered else "500"
        WEBHOOKS_ACKNOWLEDGED.labels(source, status).inc()
        WEBHOOK_ACK_SECONDS.labels(source).observe(time.perf_counter() - started)


P = ParamSpec("P")
R = TypeVar("R")


def observed_rule_evaluation(step: Callable[P, R]) -> Callable[P, R]:
    """Wraps a conversation step whose parameters include `conversation_id` and `input`:
    counts it by input kind and outcome, times it, and puts the conversation's id on
    the log lines written inside it.

    The outcome is "applied", "refused" (the result's `refused` is set), "missing"
    (None: no such conversation) or the name of the exception it raised."""
    signature = inspect.signature(step)

    @wraps(step)
    def observed(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = signature.bind(*args, **kwargs).arguments
        kind = input_label(bound.get("input"))
        started = time.perf_counter()
        outcome = "applied"
        try:
            with log_context(conversation_id=bound.get("conversation_id")):
                result = step(*args, **kwargs)
        except Exception as error:
            outcome = type(error).__name__
            raise
        else:
            if result is None:
                outcome = "missing"
            elif getattr(result, "refused", None) is not None:
                outcome = "refused"
            return result
        finally:
            RULE_EVALUATIONS.labels(kind, outcome).inc()
            RULE_EVALUATION_SECONDS.labels(kind).observe(time.perf_counter() - started)

    return observed


def input_label(input: object) -> str:
    """A short, bounded label for a step input: a domain event's trigger kind, else the
    input's type (a staff command, a delay falling due...)."""
    kind = getattr(input, "kind", None)
    value = getattr(kind, "value", kind)
    if isinstance(value, str):
        return value
    return type(input).__name__
