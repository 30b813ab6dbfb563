"""The reports page's numbers, read from the report tallies (engine.conversations.tallies).

Every section is a `Table`: the chart is drawn from it and the CSV export is it, so a
chart never shows a number the export does not have. Durations are business hours on
the SLA calendar in force when they were counted; medians and p90 are read from
histograms with 8 bins per doubling (within about 4.5%).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from engine.core.config import WorkspaceConfig
from engine.core.payments import OPEN_STATES, PaymentState
from engine.core.tallies import (
    FIRST_RESPONSE,
    MESSAGES_IN,
    MESSAGES_OUT,
    OPENED,
    RESOLVED,
    SLA_BREACHED,
    SLA_MET,
    SLA_MISSED,
    STAGE_ENTERED,
    STAGE_LEFT,
    quantile,
)
from engine.models import (
    BusinessObject,
    Conversation,
    Message,
    Payment,
    ReportTally,
    Team,
    Teammate,
)
from engine.models.states import AuthorKind, ConversationStatus, Direction

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SECTIONS = ("durations", "sla", "funnel", "heatmap", "teammates", "automations", "payments")
REPLY_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    team_id: int | None = None
    teammate_id: int | None = None
    pipeline: str | None = None
    number: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return Filters(
            self.start - timedelta(days=self.days),
            self.start - timedelta(days=1),
            self.team_id,
            self.teammate_id,
            self.pipeline,
            self.number,
        )


@dataclass
class Table:
    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Report:
    filters: Filters
    durations: Table
    sla: Table
    funnel: Table
    heatmap: Table
    teammates: Table
    automations: Table
    payments: Table
    numbers: list[str]
    pipelines: list[str]

    def table(self, name: str) -> Table:
        if name not in SECTIONS:
            raise KeyError(name)
        table: Table = getattr(self, name)
        return table


def _where(
    filters: Filters, *, teammate: bool = True, team: bool = True, number: bool = True
) -> list[Any]:
    """The period and the filters a measure is kept by (stage moves have no team or
    number; inbound messages have no teammate)."""
    found: list[ColumnElement[bool]] = [
        ReportTally.day >= filters.start,
        ReportTally.day <= filters.end,
    ]
    if teammate and filters.teammate_id is not None:
        found.append(ReportTally.teammate_id == filters.teammate_id)
    if team and filters.team_id is not None:
        found.append(ReportTally.team_id == filters.team_id)
    if number and filters.number:
        found.append(ReportTally.number == filters.number)
    if filters.pipeline:
        found.append(ReportTally.pipeline == filters.pipeline)
    return found


def _histograms(
    session: Session, filters: Filters, measures: Sequence[str], by: Any, **where: bool
) -> dict[tuple[Any, str], dict[int, int]]:
    """(group, measure) -> {bin: count}, summed over the period."""
    rows = session.execute(
        select(by, ReportTally.measure, ReportTally.slot, func.sum(ReportTally.count))
        .where(ReportTally.measure.in_(measures), *_where(filters, **where))
        .group_by(by, ReportTally.measure, ReportTally.slot)
    )
    found: dict[tuple[Any, str], dict[int, int]] = defaultdict(dict)
    for group, measure, slot, count in rows:
        if count:
            found[(group, measure)][slot] = int(count)
    return found


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return ""
    return f"{(now - before) / before:+.0%}"


def durations(session: Session, filters: Filters) -> Table:
    table = Table(
        "durations",
        "First response and resolution (business hours)",
        (
            "measure",
            "count",
            "median_h",
            "p90_h",
            "previous_median_h",
            "previous_p90_h",
            "median_change",
        ),
    )
    labels = {FIRST_RESPONSE: "first response", RESOLVED: "resolution"}
    measures = (FIRST_RESPONSE, RESOLVED)
    now = _histograms(session, filters, measures, ReportTally.measure)
    before = _histograms(session, filters.previous(), measures, ReportTally.measure)
    for measure in measures:
        current = now.get((measure, measure), {})
        previous = before.get((measure, measure), {})
        median = _hours(quantile(current, 0.5))
        previous_median = _hours(quantile(previous, 0.5))
        table.rows.append(
            (
                labels[measure],
                sum(current.values()),
                median,
                _hours(quantile(current, 0.9)),
                previous_median,
                _hours(quantile(previous, 0.9)),
                _change(median, previous_median),
            )
        )
    return table


def sla(session: Session, filters: Filters) -> Table:
    table = Table(
        "sla",
        "SLA compliance per policy",
        ("policy", "clock", "met", "missed", "breached", "compliance_pct"),
    )
    rows = session.execute(
        select(
            ReportTally.policy,
            ReportTally.clock,
            ReportTally.measure,
            func.sum(ReportTally.count),
        )
        .where(
            ReportTally.measure.in_((SLA_MET, SLA_MISSED, SLA_BREACHED)),
            *_where(filters),
        )
        .group_by(ReportTally.policy, ReportTally.clock, ReportTally.measure)
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for policy, clock, measure, count in rows:
        counts[(policy, clock)][measure] += int(count or 0)
    for (policy, clock), seen in sorted(counts.items()):
        met, missed = seen[SLA_MET], seen[SLA_MISSED]
        compliance = round(100 * met / (met + missed), 1) if met + missed else None
        table.rows.append((policy, clock, met, missed, seen[SLA_BREACHED], compliance))
    return table


def funnel(session: Session, filters: Filters, config: WorkspaceConfig | None) -> Table:
    table = Table(
        "funnel",
        "Pipeline funnel",
        (
            "pipeline",
            "stage",
            "entered",
            "to_next_pct",
            "time_in_stage_median_h",
            "time_in_stage_p90_h",
            "objects_now",
            "value_now",
            "outcome",
        ),
    )
    by = ReportTally.pipeline + ":" + ReportTally.stage
    grouped = _histograms(
        session, filters, (STAGE_ENTERED, STAGE_LEFT), by, team=False, number=False
    )
    values: dict[tuple[str, str], tuple[int, Decimal]] = {}
    value_rows = session.execute(
        select(
            BusinessObject.pipeline,
            BusinessObject.stage,
            func.count(),
            func.coalesce(func.sum(BusinessObject.amount), 0),
        )
        .where(BusinessObject.pipeline.is_not(None))
        .group_by(BusinessObject.pipeline, BusinessObject.stage)
    )
    for pipeline, stage, count, amount in value_rows:
        values[(pipeline, stage)] = (int(count), Decimal(amount))
    order: list[tuple[str, list[tuple[str, bool]]]] = []
    if config is not None:
        for pipeline in config.pipelines:
            order.append((pipeline.name, [(s.name, s.terminal) for s in pipeline.stages]))
    known = {(p, s) for p, stages in order for s, _ in stages}
    extra: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for group, _ in grouped:
        pipeline, _, stage = str(group).partition(":")
        if (pipeline, stage) not in known:
            known.add((pipeline, stage))
            extra[pipeline].append((stage, False))
    order += sorted(extra.items())
    for pipeline, stages in order:
        if filters.pipeline and pipeline != filters.pipeline:
            continue
        entered = {
            s: sum(grouped.get((f"{pipeline}:{s}", STAGE_ENTERED), {}).values()) for s, _ in stages
        }
        live = [s for s, terminal in stages if not terminal]
        for stage, terminal in stages:
            spent = grouped.get((f"{pipeline}:{stage}", STAGE_LEFT), {})
            to_next = None
            if stage in live and live.index(stage) + 1 < len(live) and entered[stage]:
                following = live[live.index(stage) + 1]
                to_next = round(100 * entered[following] / entered[stage], 1)
            count, amount = values.get((pipeline, stage), (0, Decimal(0)))
            outcome = ""
            if terminal:
                outcome = "lost" if stage in {"lost", "cancelled", "canceled", "failed"} else "won"
            table.rows.append(
                (
                    pipeline,
                    stage,
                    entered[stage],
                    to_next,
                    _hours(quantile(spent, 0.5)),
                    _hours(quantile(spent, 0.9)),
                    count,
                    str(amount),
                    outcome,
                )
            )
    return table


def heatmap(session: Session, filters: Filters) -> Table:
    table = Table("heatmap", "Messages by hour and weekday", ("weekday", *map(str, range(24))))
    rows = session.execute(
        select(ReportTally.slot, func.sum(ReportTally.count))
        .where(
            ReportTally.measure.in_((MESSAGES_IN, MESSAGES_OUT)),
            *_where(filters, teammate=False),
        )
        .group_by(ReportTally.slot)
    )
    grid = [[0] * 24 for _ in range(7)]
    for slot, count in rows:
        if 0 <= slot < 168:
            grid[slot // 24][slot % 24] += int(count or 0)
    for day, counts in zip(WEEKDAYS, grid, strict=True):
        table.rows.append((day, *counts))
    return table


def teammates(session: Session, filters: Filters) -> Table:
    table = Table(
        "teammates",
        "Per teammate",
        (
            "teammate",
            "handled",
            "first_response_median_h",
            "resolution_median_h",
            "breaches",
            "open_load",
        ),
    )
    grouped = _histograms(session, filters, (FIRST_RESPONSE, RESOLVED), ReportTally.teammate_id)
    breaches = {
        who: int(count or 0)
        for who, count in session.execute(
            select(ReportTally.teammate_id, func.sum(ReportTally.count))
            .where(ReportTally.measure == SLA_BREACHED, *_where(filters))
            .group_by(ReportTally.teammate_id)
        )
    }
    load_query = select(Conversation.owner_id, func.count()).where(
        Conversation.status != ConversationStatus.RESOLVED, Conversation.owner_id.is_not(None)
    )
    if filters.team_id is not None:
        load_query = load_query.where(Conversation.team_id == filters.team_id)
    if filters.number:
        load_query = load_query.where(Conversation.business_number == filters.number)
    load = {
        who: int(count)
        for who, count in session.execute(load_query.group_by(Conversation.owner_id))
    }
    people = session.scalars(select(Teammate).order_by(Teammate.name))
    for person in people:
        if filters.teammate_id is not None and person.id != filters.teammate_id:
            continue
        resolved = grouped.get((person.id, RESOLVED), {})
        first = grouped.get((person.id, FIRST_RESPONSE), {})
        handled = sum(resolved.values())
        row = (
            person.name,
            handled,
            _hours(quantile(first, 0.5)),
            _hours(quantile(resolved, 0.5)),
            int(breaches.get(person.id) or 0),
            int(load.get(person.id) or 0),
        )
        if any(row[1:]) or person.active:
            table.rows.append(row)
    return table


def _local_bounds(filters: Filters, zone: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(filters.start, time(), zone)
    return start, datetime.combine(filters.end + timedelta(days=1), time(), zone)


def automations(session: Session, filters: Filters, zone: tzinfo = UTC) -> Table:
    """Did the automations bring anyone back? Each rule's messages sent in the period
    (reminders, follow-ups, confirmations), and how many the customer answered within
    24 hours: a message from them in the same conversation after the send."""
    hours = int(REPLY_WITHIN.total_seconds() // 3600)
    table = Table(
        "automations",
        f"Automated messages → customer replied within {hours} h",
        ("rule", "sent", "replied", "replied_pct", "median_reply_h"),
    )
    start, end = _local_bounds(filters, zone)
    # Each send with the customer's first message after it: one index seek per send on
    # (conversation_id, provider_timestamp), not a read of every later message.
    answer = aliased(Message)
    first_answer = (
        select(func.min(answer.provider_timestamp))
        .where(
            answer.conversation_id == Message.conversation_id,
            answer.direction == Direction.INBOUND,
            answer.provider_timestamp > Message.provider_timestamp,
        )
        .correlate(Message)
        .scalar_subquery()
    )
    sent_query = select(Message.author_rule, Message.provider_timestamp, first_answer).where(
        # A literal, as in the partial index ix_messages_rule_sends, so PostgreSQL uses it.
        Message.author_kind == literal_column(f"'{AuthorKind.RULE.value}'"),
        Message.direction == Direction.OUTBOUND,
        Message.provider_timestamp >= start,
        Message.provider_timestamp < end,
    )
    if filters.teammate_id is not None or filters.team_id is not None or filters.number:
        sent_query = sent_query.join(Conversation, Conversation.id == Message.conversation_id)
        if filters.teammate_id is not None:
            sent_query = sent_query.where(Conversation.owner_id == filters.teammate_id)
        if filters.team_id is not None:
            sent_query = sent_query.where(Conversation.team_id == filters.team_id)
        if filters.number:
            sent_query = sent_query.where(Conversation.business_number == filters.number)
    by_rule: dict[str, list[float | None]] = defaultdict(list)
    for rule, at, after in session.execute(sent_query):
        waited = None
        if after is not None:
            gap = _aware(after) - _aware(at)
            waited = gap.total_seconds() if gap <= REPLY_WITHIN else None
        by_rule[rule or ""].append(waited)
    for rule in sorted(by_rule):
        waits = by_rule[rule]
        replied = sorted(w for w in waits if w is not None)
        median = replied[(len(replied) - 1) // 2] if replied else None
        table.rows.append(
            (
                rule,
                len(waits),
                len(replied),
                round(100 * len(replied) / len(waits), 1),
                _hours(median),
            )
        )
    return table


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


PAYMENT_SOURCES = (
    ("stk", "Payment requests (STK push)"),
    ("c2b", "Paid to the till unasked (C2B)"),
)


def payments(session: Session, filters: Filters, zone: tzinfo = UTC) -> Table:
    """Payments requested -> confirmed: read from the payments themselves (M-Pesa is the
    truth, and a workspace has far fewer payments than messages), by the local day they
    were requested. Team, teammate and number are the conversation's; pipeline is the
    order's. Amounts are in the payments' currency (one per till)."""
    table = Table(
        "payments",
        "Payments requested → confirmed",
        (
            "source",
            "requested",
            "confirmed",
            "confirmed_pct",
            "failed",
            "still_open",
            "amount_requested",
            "amount_confirmed",
        ),
    )
    start, end = _local_bounds(filters, zone)
    query = select(
        Payment.source,
        Payment.state,
        func.count(),
        func.sum(Payment.amount),
        func.sum(Payment.paid_amount),
    ).where(Payment.requested_at >= start, Payment.requested_at < end)
    if filters.teammate_id is not None or filters.team_id is not None or filters.number:
        query = query.join(Conversation, Conversation.id == Payment.conversation_id)
        if filters.teammate_id is not None:
            query = query.where(Conversation.owner_id == filters.teammate_id)
        if filters.team_id is not None:
            query = query.where(Conversation.team_id == filters.team_id)
        if filters.number:
            query = query.where(Conversation.business_number == filters.number)
    if filters.pipeline:
        query = query.join(BusinessObject, BusinessObject.id == Payment.business_object_id).where(
            BusinessObject.pipeline == filters.pipeline
        )
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "requested": 0,
            "paid": 0,
            "failed": 0,
            "open": 0,
            "asked": Decimal(0),
            "got": Decimal(0),
        }
    )
    for source, state, count, asked, got in session.execute(
        query.group_by(Payment.source, Payment.state)
    ):
        row = found[source]
        row["requested"] += int(count)
        row["asked"] += Decimal(asked or 0)
        if state == PaymentState.PAID:
            row["paid"] += int(count)
            row["got"] += Decimal(got or 0)
        elif state in OPEN_STATES:
            row["open"] += int(count)
        else:  # failed, cancelled, timed out: no money came
            row["failed"] += int(count)
    for source, label in PAYMENT_SOURCES:
        if source not in found:
            continue
        row = found[source]
        table.rows.append(
            (
                label,
                row["requested"],
                row["paid"],
                round(100 * row["paid"] / row["requested"], 1) if row["requested"] else None,
                row["failed"],
                row["open"],
                _money(row["asked"]),
                _money(row["got"]),
            )
        )
    return table


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def report(
    session: Session, filters: Filters, config: WorkspaceConfig | None, zone: tzinfo = UTC
) -> Report:
    """Every section of the reports page for `filters`, in the session's workspace (whose
    time zone is `zone`: the day a payment was requested is a local day)."""
    numbers = sorted(
        n
        for n in session.scalars(
            select(ReportTally.number)
            .where(
                ReportTally.measure == OPENED,
                ReportTally.day >= filters.start,
                ReportTally.day <= filters.end,
            )
            .distinct()
        )
        if n
    )
    pipelines = [p.name for p in config.pipelines] if config else []
    return Report(
        filters=filters,
        durations=durations(session, filters),
        sla=sla(session, filters),
        funnel=funnel(session, filters, config),
        heatmap=heatmap(session, filters),
        teammates=teammates(session, filters),
        automations=automations(session, filters, zone),
        payments=payments(session, filters, zone),
        numbers=numbers,
        pipelines=pipelines,
    )


def team_names(session: Session) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in session.scalars(select(Team).order_by(Team.name))]
