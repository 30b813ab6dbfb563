"""Broadcasts as managers make them: pick a segment (saved on the Contacts page, or named
in broadcasts.yaml), an approved template and its variables, see the preview and the
recipient count, send now or at a time. Nothing is sent in the request: the broadcast is
a row a job queues in chunks (engine.broadcasts.dispatch). Every step is audited."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.broadcasts.audience import judge, segment_of_config
from engine.broadcasts.variables import check_sources, render
from engine.contacts.segments import CHUNK, Segment, saved_segment, saved_segments, segment_query
from engine.core.config import Template, WorkspaceConfig
from engine.inbox.audit import record
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.models import Broadcast, BroadcastState
from engine.whatsapp.account import template_refusal

SAMPLES = 3
_GRACE = timedelta(minutes=5)  # a time typed a moment ago is "now"


@dataclass(frozen=True)
class Draft:
    name: str
    template: str
    language: str
    variables: tuple[str, ...]
    segment: str  # "saved:<id>" or "config:<name>"
    send_at: datetime | None = None  # None: now
    business_number: str | None = None


@dataclass(frozen=True)
class SegmentChoice:
    key: str  # what Draft.segment says
    label: str
    description: str


@dataclass(frozen=True)
class Preview:
    segment_label: str
    in_segment: int
    recipients: int
    skipped: dict[str, int]
    samples: list[str] = field(default_factory=list)


def segment_choices(session: Session, config: WorkspaceConfig | None) -> list[SegmentChoice]:
    choices = [
        SegmentChoice(f"config:{s.name}", f"{s.name} (broadcasts.yaml)", s.description or "")
        for s in (config.broadcasts.segments if config else ())
    ]
    for saved in saved_segments(session):
        definition = Segment.from_json(dict(saved.definition or {}))
        choices.append(
            SegmentChoice(f"saved:{saved.id}", f"{saved.name} (saved)", definition.describe())
        )
    return choices


def resolve_segment(
    session: Session, config: WorkspaceConfig | None, key: str
) -> tuple[str, Segment]:
    """(label, segment) of a segment key; InvalidInput when there is no such segment."""
    kind, _, name = key.partition(":")
    if kind == "config" and config is not None:
        found = config.broadcasts.segment(name)
        if found is not None:
            return f"{found.name} (broadcasts.yaml)", segment_of_config(found)
    if kind == "saved" and name.isdigit():
        try:
            label, segment = saved_segment(session, int(name))
        except NotFound:
            pass
        else:
            return label, segment
    raise InvalidInput(f"segment: no segment {key!r}; pick a saved one or one in broadcasts.yaml")


def checked_template(
    session: Session, config: WorkspaceConfig, name: str, language: str, sources: tuple[str, ...]
) -> Template:
    """The template, if it exists, Meta has not refused it and the sources fill it."""
    template = next(
        (t for t in config.templates if t.name == name and t.language == language), None
    )
    if template is None:
        raise InvalidInput(f"template: no template {name!r} in language {language!r}")
    refusal = template_refusal(session, name, language)
    if refusal is not None:
        raise InvalidInput(f"template: {refusal[1]}")
    fields = [f.name for f in config.fields_of("contact")]
    problem = check_sources(template, sources, fields)
    if problem is not None:
        raise InvalidInput(f"variables: {problem}")
    return template


def preview(
    session: Session,
    principal: Principal,
    config: WorkspaceConfig,
    draft: Draft,
    now: datetime,
) -> Preview:
    """Who would receive it and who would be skipped, and why; the first messages."""
    require(principal, Action.SEND_BROADCASTS)
    template = checked_template(session, config, draft.template, draft.language, draft.variables)
    label, segment = resolve_segment(session, config, draft.segment)
    ids = list(session.scalars(segment_query(segment, now)))
    skipped: Counter[str] = Counter()
    samples: list[str] = []
    recipients = 0
    for start in range(0, len(ids), CHUNK):
        for verdict in judge(session, ids[start : start + CHUNK], template, draft.variables):
            if verdict.reason is not None:
                skipped[verdict.reason] += 1
                continue
            recipients += 1
            if len(samples) < SAMPLES:
                samples.append(render(template, verdict.values))
    return Preview(label, len(ids), recipients, dict(skipped.most_common()), samples)


def create_broadcast(
    session: Session,
    principal: Principal,
    config: WorkspaceConfig,
    draft: Draft,
    now: datetime,
) -> Broadcast:
    """The broadcast, to be queued at `send_at` (now when not given). The caller commits."""
    require(principal, Action.SEND_BROADCASTS)
    name = draft.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name: 1 to 100 characters")
    checked_template(session, config, draft.template, draft.language, draft.variables)
    label, segment = resolve_segment(session, config, draft.segment)
    if not config.numbers:
        raise InvalidInput("this workspace has no WhatsApp number (numbers in workspace.yaml)")
    number = config.numbers[0].phone
    if draft.business_number:
        if draft.business_number not in [n.phone for n in config.numbers]:
            raise InvalidInput(f"{draft.business_number} is not one of this workspace's numbers")
        number = draft.business_number
    send_at = draft.send_at or now
    if send_at < now - _GRACE:
        raise InvalidInput("send at: that time has passed; leave it empty to send now")
    broadcast = Broadcast(
        name=name,
        template=draft.template,
        language=draft.language,
        variables=list(draft.variables),
        segment=segment.as_json(),
        segment_label=label[:200],
        business_number=number,
        send_at=max(send_at, now),
        state=BroadcastState.SCHEDULED,
        created_by_id=principal.teammate_id,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()
    record(
        session,
        principal,
        "broadcast_created",
        subject_kind="broadcast",
        subject_id=broadcast.id,
        now=now,
        name=name,
        template=f"{draft.template} ({draft.language})",
        segment=label,
        send_at=broadcast.send_at.isoformat(),
    )
    return broadcast


def cancel_broadcast(
    session: Session, principal: Principal, broadcast_id: int, now: datetime
) -> Broadcast:
    """Stop queueing more of it; messages already in the outbox still go."""
    require(principal, Action.SEND_BROADCASTS)
    broadcast = get_broadcast(session, broadcast_id)
    if broadcast.state in (BroadcastState.QUEUED, BroadcastState.CANCELLED):
        raise Conflict(f"this broadcast is already {broadcast.state}")
    broadcast.state = BroadcastState.CANCELLED
    broadcast.cancelled_at = now
    broadcast.lease_expires_at = None
    record(
        session,
        principal,
        "broadcast_cancelled",
        subject_kind="broadcast",
        subject_id=broadcast.id,
        now=now,
        name=broadcast.name,
    )
    session.flush()
    return broadcast


def get_broadcast(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(f"no broadcast {broadcast_id}")
    return broadcast


def list_broadcasts(session: Session, principal: Principal, limit: int = 200) -> list[Broadcast]:
    require(principal, Action.SEND_BROADCASTS)
    return list(
        session.scalars(
            select(Broadcast)
            .order_by(Broadcast.created_at.desc(), Broadcast.id.desc())
            .limit(limit)
        )
    )
