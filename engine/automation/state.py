"""Loading what `step` reads, for many conversations at once, in a fixed number of queries.

Each query takes the whole list of conversation ids, so a batch of events costs
the same few round trips as one. Names are what the state holds (a teammate's
handle, a team's handle); the id maps come back beside it for writing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from connectors.whatsapp.numbers import is_bsuid
from engine.core.config import WorkspaceConfig
from engine.core.rules.effects import LineItem
from engine.core.states import ConversationStatus
from engine.core.step import (
    Clock,
    ContactState,
    ConversationState,
    Member,
    ObjectState,
    PendingDelay,
    Roster,
    State,
    shifts_of,
)
from engine.db import batch_cache
from engine.models import (
    AuthorKind,
    BusinessObject,
    BusinessObjectLink,
    Channel,
    Company,
    Contact,
    Conversation,
    ConversationTag,
    DelayState,
    Direction,
    Identity,
    Message,
    RuleFiring,
    ScheduledAction,
    SlaClock,
    Team,
    Teammate,
    TeamMembership,
)


@dataclass(frozen=True)
class Directory:
    """Handles and team names as the state holds them, to and from database ids."""

    teammates: Mapping[str, int]
    teams: Mapping[str, int]

    def teammate_handle(self, teammate_id: int | None) -> str | None:
        return next((h for h, i in self.teammates.items() if i == teammate_id), None)

    def team_handle(self, team_id: int | None) -> str | None:
        return next((h for h, i in self.teams.items() if i == team_id), None)


def db_key(row_id: int) -> str:
    return f"db:{row_id}"


def key_id(key: str | None) -> int | None:
    """The database id behind a `db:<id>` key; None for what a step just made."""
    if key is not None and key.startswith("db:") and key[3:].isdigit():
        return int(key[3:])
    return None


def load_directory(session: Session) -> Directory:
    cache = batch_cache(session)
    if cache is not None:
        if "directory" not in cache:
            cache["directory"] = _load_directory(session)
        return cast(Directory, cache["directory"])
    return _load_directory(session)


def _load_directory(session: Session) -> Directory:
    teammates = dict(session.execute(select(Teammate.handle, Teammate.id)).tuples().all())
    teams = dict(session.execute(select(Team.handle, Team.id)).tuples().all())
    return Directory(teammates, teams)


def load_states(
    session: Session,
    conversation_ids: Iterable[int],
    config: WorkspaceConfig,
    now: datetime,
    directory: Directory,
    routing: bool = False,
) -> dict[int, State]:
    """The state of each conversation that exists; `routing` also loads who carries what
    load and had which customer last, which only choosing an owner needs."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    rows = list(
        session.scalars(
            select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.id)
        )
    )
    if not rows:
        return {}
    contact_ids = sorted({c.contact_id for c in rows})
    tags = _tags(session, ids)
    times = _message_times(session, ids)
    contacts = _contacts(session, contact_ids)
    objects = _objects(session, ids)
    pending = _pending(session, ids)
    clocks = _clocks(session, ids)
    recent = _recent_firings(session, ids, now)
    members = _members(session, config, directory)
    previous: dict[int, str | None] = {}
    if routing:
        members = _with_load(session, members, directory)
        previous = _previous_owners(session, rows, directory)
    numbers = {n.phone: n.name for n in config.numbers}
    states: dict[int, State] = {}
    for row in rows:
        last_outbound, messages, first_reply, last_reply = times.get(row.id, (None, 0, None, None))
        conversation = ConversationState(
            id=row.id,
            number=numbers.get(row.business_number, row.business_number),
            phone_number=row.business_number,
            status=row.status,
            waiting_on=row.waiting_on,
            owner=directory.teammate_handle(row.owner_id),
            team=directory.team_handle(row.team_id),
            priority=row.priority,
            pipeline=row.pipeline,
            stage=row.stage,
            tags=tuple(tags.get(row.id, ())),
            fields=dict(row.fields or {}),
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            snoozed_until=row.snoozed_until,
            last_inbound_at=row.last_customer_message_at,
            last_outbound_at=last_outbound,
            first_reply_at=first_reply,
            last_reply_at=last_reply,
            messages=messages,
        )
        states[row.id] = State(
            conversation=conversation,
            contact=contacts.get(row.contact_id, ContactState(id=row.contact_id)),
            objects=tuple(objects.get(row.id, ())),
            pending=tuple(pending.get(row.id, ())),
            clocks=tuple(clocks.get(row.id, ())),
            roster=Roster(members, previous.get(row.id)),
            recent_firings=recent.get(row.id, {}),
        )
    return states


def _tags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for conversation_id, name in session.execute(
        select(ConversationTag.conversation_id, ConversationTag.name)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(ConversationTag.conversation_id, ConversationTag.name)
    ):
        found[conversation_id].append(name)
    return found


def _message_times(
    session: Session, ids: list[int]
) -> dict[int, tuple[datetime | None, int, datetime | None, datetime | None]]:
    """Per conversation: the last outbound message, the count, a teammate's first and last
    reply (an automatic message is not an answer for the SLA clocks)."""
    outbound = Message.direction == Direction.OUTBOUND
    by_teammate = outbound & (Message.author_kind == AuthorKind.TEAMMATE)
    rows = session.execute(
        select(
            Message.conversation_id,
            func.max(Message.provider_timestamp).filter(outbound),
            func.count(),
            func.min(Message.provider_timestamp).filter(by_teammate),
            func.max(Message.provider_timestamp).filter(by_teammate),
        )
        .where(Message.conversation_id.in_(ids))
        .group_by(Message.conversation_id)
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _contacts(session: Session, contact_ids: list[int]) -> dict[int, ContactState]:
    addresses: dict[int, dict[str, str]] = defaultdict(dict)
    for contact_id, channel, address in session.execute(
        select(Identity.contact_id, Identity.channel, Identity.address)
        .where(Identity.contact_id.in_(contact_ids), Identity.is_current.is_(True))
        .order_by(Identity.valid_from)
    ):
        if channel == Channel.WHATSAPP and is_bsuid(address):
            continue  # a username's id (BSUID) is not the customer's phone
        addresses[contact_id][channel] = address
    # How many conversations each contact has, in the same statement as the contact.
    conversations = (
        select(func.count(Conversation.id))
        .where(Conversation.contact_id == Contact.id)
        .correlate(Contact)
        .scalar_subquery()
    )
    found: dict[int, ContactState] = {}
    for contact, company, count in session.execute(
        select(Contact, Company.name, conversations)
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.id.in_(contact_ids))
    ).tuples():
        known = addresses.get(contact.id, {})
        found[contact.id] = ContactState(
            id=contact.id,
            name=contact.name,
            profile_name=contact.profile_name,
            phone=known.get("whatsapp") or known.get("phone"),
            email=known.get("email"),
            language=contact.language,
            company=company,
            created_at=contact.created_at,
            conversations=int(count or 0),
            fields=dict(contact.fields or {}),
        )
    return found


def _objects(session: Session, ids: list[int]) -> dict[int, list[ObjectState]]:
    found: dict[int, list[ObjectState]] = defaultdict(list)
    for conversation_id, item in session.execute(
        select(BusinessObjectLink.conversation_id, BusinessObject)
        .join(BusinessObject, BusinessObject.id == BusinessObjectLink.business_object_id)
        .where(BusinessObjectLink.conversation_id.in_(ids))
        .order_by(BusinessObjectLink.conversation_id, BusinessObject.id)
    ).tuples():
        found[conversation_id].append(object_state(item))
    return found


def object_state(item: BusinessObject) -> ObjectState:
    return ObjectState(
        key=db_key(item.id),
        kind=item.kind,
        id=item.id,
        reference=item.external_ref,
        status=item.status,
        amount=Decimal(item.amount) if item.amount is not None else None,
        currency=item.currency,
        pipeline=item.pipeline,
        stage=item.stage,
        fields=dict(item.fields or {}),
        created_at=item.created_at,
        items=line_items_of(item.line_items),
    )


def line_items_of(stored: list[dict[str, str]] | None) -> tuple[LineItem, ...]:
    """The lines as stored (exact decimal strings) back as `LineItem`s."""
    return tuple(
        LineItem(
            str(line.get("description", "")),
            Decimal(str(line.get("quantity", "0"))),
            Decimal(str(line.get("unit_price", "0"))),
        )
        for line in stored or ()
    )


def line_items_json(items: tuple[LineItem, ...]) -> list[dict[str, str]]:
    return [
        {
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
        }
        for line in items
    ]


def _pending(session: Session, ids: list[int]) -> dict[int, list[PendingDelay]]:
    """Delays still to run, including one a worker has claimed and is about to step (the
    reducer runs a delay only while it is pending, so a cancelled one never runs)."""
    found: dict[int, list[PendingDelay]] = defaultdict(list)
    for action in session.scalars(
        select(ScheduledAction)
        .where(
            ScheduledAction.conversation_id.in_(ids),
            ScheduledAction.state.in_((DelayState.PENDING, DelayState.RUNNING)),
        )
        .order_by(ScheduledAction.id)
    ):
        found[action.conversation_id].append(delay_of(action))
    return found


def delay_of(action: ScheduledAction) -> PendingDelay:
    return PendingDelay(
        key=db_key(action.id),
        rule=action.rule_name,
        block=action.block,
        due_at=action.due_at,
        scheduled_at=action.scheduled_at,
        event_id=action.trigger_event_id,
        stage=action.stage_at_schedule,
        status=action.status_at_schedule,
        guard=action.guard_text,
        subject=db_key(action.business_object_id)
        if action.business_object_id is not None
        else None,
    )


def _clocks(session: Session, ids: list[int]) -> dict[int, list[Clock]]:
    found: dict[int, list[Clock]] = defaultdict(list)
    for clock in session.scalars(
        select(SlaClock)
        .where(SlaClock.conversation_id.in_(ids), SlaClock.stopped_at.is_(None))
        .order_by(SlaClock.id)
    ):
        found[clock.conversation_id].append(
            Clock(
                kind=clock.kind,
                policy=clock.policy,
                started_at=clock.started_at,
                due_at=clock.due_at,
                warn_at=clock.warn_at,
                warned_at=clock.warned_at,
                breached_at=clock.breached_at,
                key=db_key(clock.id),
                paused_seconds=clock.paused_seconds or 0.0,
                paused_at=clock.paused_at,
                paused_until=clock.paused_until,
            )
        )
    return found


def _recent_firings(session: Session, ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for conversation_id, rule, count in session.execute(
        select(RuleFiring.conversation_id, RuleFiring.rule_name, func.count())
        .where(
            RuleFiring.conversation_id.in_(ids),
            RuleFiring.fired_at > now - timedelta(hours=1),
            RuleFiring.outcome == "fired",
        )
        .group_by(RuleFiring.conversation_id, RuleFiring.rule_name)
    ):
        if conversation_id is not None:
            found[conversation_id][rule] = count
    return found


def _members(session: Session, config: WorkspaceConfig, directory: Directory) -> tuple[Member, ...]:
    """Every teammate in the database (once per batch when batched)."""
    cache = batch_cache(session)
    if cache is None:
        return _load_members(session, config)
    key = f"members:{id(config)}"
    if key not in cache:
        cache[key] = (config, _load_members(session, config))  # the config kept alive
    return cast(tuple[Member, ...], cache[key][1])


def _load_members(session: Session, config: WorkspaceConfig) -> tuple[Member, ...]:
    """Every teammate in the database, with their teams and whether they set themselves
    away; languages and shifts come from the config."""
    teams: dict[int, list[str]] = defaultdict(list)
    for teammate_id, team in session.execute(
        select(TeamMembership.teammate_id, Team.handle)
        .join(Team, Team.id == TeamMembership.team_id)
        .order_by(Team.handle)
    ):
        teams[teammate_id].append(team)
    declared = {t.handle: t for t in config.teammates}
    return tuple(
        Member(
            handle=person.handle,
            active=person.active,
            teams=tuple(teams.get(person.id, ())),
            capacity=person.capacity,
            languages=declared[person.handle].languages if person.handle in declared else (),
            away=person.away,
            shifts=shifts_of(declared.get(person.handle)),
        )
        for person in session.scalars(select(Teammate).order_by(Teammate.id))
    )


def _with_load(
    session: Session, members: tuple[Member, ...], directory: Directory
) -> tuple[Member, ...]:
    """Open conversations each teammate owns, and when each last got a new one."""
    load = dict(
        session.execute(
            select(Conversation.owner_id, func.count())
            .where(
                Conversation.owner_id.is_not(None),
                Conversation.status != ConversationStatus.RESOLVED,
            )
            .group_by(Conversation.owner_id)
        )
        .tuples()
        .all()
    )
    latest = dict(
        session.execute(
            select(Conversation.owner_id, func.max(Conversation.opened_at))
            .where(Conversation.owner_id.is_not(None))
            .group_by(Conversation.owner_id)
        )
        .tuples()
        .all()
    )
    out = []
    for member in members:
        teammate_id = directory.teammates.get(member.handle)
        out.append(
            Member(
                handle=member.handle,
                active=member.active,
                teams=member.teams,
                capacity=member.capacity,
                languages=member.languages,
                open_load=load.get(teammate_id, 0),
                last_assigned_at=latest.get(teammate_id),
                away=member.away,
                shifts=member.shifts,
            )
        )
    return tuple(out)


def _previous_owners(
    session: Session, rows: list[Conversation], directory: Directory
) -> dict[int, str | None]:
    """Who owned each customer's latest other conversation (`sticky` routing)."""
    other = aliased(Conversation)
    found: dict[int, str | None] = {}
    for row in rows:
        owner = session.scalar(
            select(other.owner_id)
            .where(
                other.contact_id == row.contact_id,
                other.id != row.id,
                other.owner_id.is_not(None),
            )
            .order_by(other.opened_at.desc())
            .limit(1)
        )
        found[row.id] = directory.teammate_handle(owner)
    return found
