"""The inbox's queues: which conversations each one holds, how many, in which order.

One definition per queue (`queue_condition`) serves the list and its count, so a
count can never disagree with what the list shows. Lists are sorted by who has
waited longest (the customer's oldest unanswered message first); the resolved
queue shows the most recently resolved first.

Speed at 300,000 conversations rests on two facts the partial indexes serve: the
live queues only ever hold conversations that are not resolved
(uq_conversations_one_open), and the resolved queue is read newest first off its
own (ix_conversations_resolved_recent, migration 0010). Search
finds message text with PostgreSQL full-text search (SQLite: LIKE) and names and
numbers by any part (trigram indexes on PostgreSQL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Session, aliased

from engine.auth.policy import Action, require
from engine.auth.principal import Principal
from engine.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Identity,
    Message,
    Team,
    Teammate,
    UTCDateTime,
    WaitingOn,
)

PAGE_SIZE = 50


class Queue(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    ALL = "all"
    WAITING_ON_US = "waiting_on_us"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return QUEUE_LABELS[self]


QUEUE_LABELS = {
    Queue.MINE: "Mine",
    Queue.UNASSIGNED: "Unassigned",
    Queue.TEAM: "My teams",
    Queue.ALL: "All open",
    Queue.WAITING_ON_US: "Waiting on us",
    Queue.WAITING_ON_CUSTOMER: "Waiting on customer",
    Queue.SNOOZED: "Snoozed",
    Queue.RESOLVED: "Resolved",
}


def parse_queue(name: str | None) -> Queue:
    try:
        return Queue(name or Queue.MINE)
    except ValueError:
        return Queue.MINE


# Written as SQL literals, not bound parameters, so PostgreSQL can see that a
# query's condition implies the partial indexes' `status <> 'resolved'` even when
# it reuses a generic plan of a prepared statement.
NOT_RESOLVED = Conversation.status.op("<>", is_comparison=True)(literal_column("'resolved'"))
RESOLVED = Conversation.status.op("=", is_comparison=True)(literal_column("'resolved'"))


# Who is asking and when, either as values (a listing) or as bind parameters (the
# counting statement, built once and reused with each principal's values).
Me = int | BindParameter[int] | None
Teams = list[int] | BindParameter[list[int]] | None
Now = datetime | BindParameter[datetime]


def _snoozed(now: Now) -> ColumnElement[bool]:
    """Snoozed and not yet due: a snooze whose time has passed is back in the queues."""
    return and_(
        Conversation.status == ConversationStatus.SNOOZED,
        or_(Conversation.snoozed_until.is_(None), Conversation.snoozed_until > now),
    )


def _condition(queue: Queue, me: Me, teams: Teams, now: Now) -> ColumnElement[bool]:
    live = and_(NOT_RESOLVED, not_(_snoozed(now)))
    match queue:
        case Queue.MINE:
            return false() if me is None else and_(live, Conversation.owner_id == me)
        case Queue.UNASSIGNED:
            return and_(live, Conversation.owner_id.is_(None))
        case Queue.TEAM:
            return false() if teams is None else and_(live, Conversation.team_id.in_(teams))
        case Queue.ALL:
            return live
        case Queue.WAITING_ON_US:
            return and_(live, Conversation.waiting_on == WaitingOn.US)
        case Queue.WAITING_ON_CUSTOMER:
            return and_(live, Conversation.waiting_on == WaitingOn.CUSTOMER)
        case Queue.SNOOZED:
            return _snoozed(now)
        case Queue.RESOLVED:
            return RESOLVED


def queue_condition(queue: Queue, principal: Principal, now: datetime) -> ColumnElement[bool]:
    teams = sorted(principal.team_ids) or None
    return _condition(queue, principal.teammate_id, teams, now)


LIVE_QUEUES: tuple[Queue, ...] = tuple(queue for queue in Queue if queue != Queue.RESOLVED)


@lru_cache(maxsize=4)
def _live_counts(has_me: bool, has_teams: bool) -> Select[tuple[int, ...]]:
    """The live queues' counting statement, built once: every page and every live
    update counts, and building the expression cost more than running it."""
    me: Me = bindparam("me", type_=Integer) if has_me else None
    teams: Teams = bindparam("teams", expanding=True) if has_teams else None
    now: Now = bindparam("now", type_=UTCDateTime())
    columns = [
        func.coalesce(func.sum(case((_condition(q, me, teams, now), 1), else_=0)), 0)
        for q in LIVE_QUEUES
    ]
    return select(*columns).select_from(Conversation).where(NOT_RESOLVED)


# Resolved conversations pile up forever (297,000 of 300,000 in the benchmark), and
# counting them all costs more than the page may take; past this many the count
# stops and the page shows the cap (with a "+", see count_label).
RESOLVED_COUNT_CAP = 10_000


def queue_counts(session: Session, principal: Principal, now: datetime) -> dict[Queue, int]:
    """Every queue's size: the live queues exactly, in one pass over the open
    conversations; the resolved queue exactly up to RESOLVED_COUNT_CAP, then the cap.

    The resolved queue has its own capped count because folding it into the same
    pass would read the whole table for the others."""
    require(principal, Action.VIEW_CONVERSATION)
    teams = sorted(principal.team_ids)
    statement = _live_counts(principal.teammate_id is not None, bool(teams))
    parameters = {"me": principal.teammate_id, "teams": teams, "now": now}
    row = session.execute(statement, parameters).one()
    counts: dict[Queue, int] = {q: int(v) for q, v in zip(LIVE_QUEUES, row, strict=True)}
    first_resolved = select(Conversation.id).where(RESOLVED).limit(RESOLVED_COUNT_CAP).subquery()
    resolved = session.scalar(select(func.count()).select_from(first_resolved))
    counts[Queue.RESOLVED] = int(resolved or 0)
    return {queue: counts[queue] for queue in Queue}


def count_label(queue: Queue, count: int) -> str:
    """How a queue's count reads: "10,000+" once the resolved count reached its cap."""
    if queue == Queue.RESOLVED and count >= RESOLVED_COUNT_CAP:
        return f"{RESOLVED_COUNT_CAP:,}+"
    return str(count)


@dataclass(frozen=True)
class QueueFilters:
    stage: str | None = None
    tag: str | None = None
    owner_id: int | None = None
    unowned_only: bool = False
    search: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.stage or self.tag or self.owner_id or self.unowned_only or self.search)


@dataclass(frozen=True)
class QueueRow:
    conversation_id: int
    contact_id: int
    contact_name: str
    address: str | None
    status: str
    waiting_on: str | None
    waiting_since: datetime
    owner_id: int | None
    owner_name: str | None
    team_name: str | None
    stage: str | None
    priority: str
    tags: tuple[str, ...] = ()
    last_message: str | None = None
    last_message_direction: str | None = None


@dataclass(frozen=True)
class QueuePage:
    queue: Queue
    rows: list[QueueRow]
    page: int
    has_more: bool
    filters: QueueFilters = field(default_factory=QueueFilters)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _literal(value: str) -> ColumnElement[str]:
    """`value` rendered into the statement by SQLAlchemy's own string quoting."""
    return literal(value, String(), literal_execute=True)


SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 8
# Letters and digits only: whatever else a person types (quotes, `&|!:*()`,
# backslashes) separates words and never reaches the tsquery as an operator.
_WORD = re.compile(r"[^\W_]+")
# The expression ix_messages_body_words indexes; keep the two identical.
MESSAGE_WORDS = func.to_tsvector(literal_column("'simple'"), Message.body)


def search_words(text: str) -> str | None:
    """A tsquery (in to_tsquery's syntax) that finds every word of `text`, the last
    one also as a prefix (people search while typing); None when `text` has no word.

    Built only from letters and digits, each word quoted as one lexeme, so nothing a
    person types is read as a tsquery operator."""
    words = _WORD.findall(text[:SEARCH_MAX_CHARS].lower())[:SEARCH_MAX_WORDS]
    if not words:
        return None
    terms = [f"'{word[:100]}'" for word in words]
    terms[-1] += ":*"
    return " & ".join(terms)


def search_condition(text: str, dialect: str = "sqlite") -> ColumnElement[bool]:
    """Name or number contains `text`, or the messages say it.

    Names match any part, case-insensitively. Numbers match the digits typed as
    one run (three at least), spaces and signs ignored: "722 111" and "+254-722111"
    both find +254722111333. Message text: one message must hold every word. On
    PostgreSQL that is full-text word matching, the last word also as a prefix
    ("samsung a1" finds "Je, mna Samsung A15?"); SQLite finds each word typed
    anywhere in the text.
    """
    # Control characters match nothing anyone typed, and PostgreSQL refuses NUL.
    text = "".join(ch for ch in text[: SEARCH_MAX_CHARS * 2] if ch.isprintable()).strip()
    text = text[:SEARCH_MAX_CHARS]
    if not text:
        return false()
    # The typed text goes into the SQL as a quoted literal, not a parameter: psycopg
    # prepares a statement it sees five times, and PostgreSQL's generic plan for
    # `LIKE $1` cannot know the pattern is rare, so it walked the whole queue.
    pattern = _literal(_like(text))
    # The conversations that match, found once through the indexes (trigram, full
    # text), so the database can start from the few matches and sort them, instead
    # of walking a 300,000-row queue testing each one; for a very common word it may
    # still walk the queue, since matches then come early.
    people = [
        select(Contact.id).where(
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.profile_name.ilike(pattern, escape="\\"),
            )
        )
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        people.append(
            select(Identity.contact_id).where(
                Identity.address.like(_literal(_like(digits)), escape="\\")
            )
        )
    theirs = aliased(Conversation)
    found = [select(theirs.id).where(theirs.contact_id.in_(union(*people)))]
    if dialect == "postgresql":
        query = search_words(text)
        if query is not None:
            said = MESSAGE_WORDS.bool_op("@@")(
                func.to_tsquery(literal_column("'simple'"), _literal(query))
            )
            found.append(select(Message.conversation_id).where(said))
    else:
        terms = text.split()[:SEARCH_MAX_WORDS]
        said_all = [Message.body.ilike(_literal(_like(term)), escape="\\") for term in terms]
        found.append(select(Message.conversation_id).where(*said_all))
    return Conversation.id.in_(union(*found))


def list_queue(
    session: Session,
    principal: Principal,
    queue: Queue,
    now: datetime,
    filters: QueueFilters | None = None,
    page: int = 1,
) -> QueuePage:
    require(principal, Action.VIEW_CONVERSATION)
    filters = filters or QueueFilters()
    page = max(1, page)
    owner = aliased(Teammate)
    waiting_since = func.coalesce(Conversation.last_customer_message_at, Conversation.opened_at)
    statement = (
        select(Conversation, Contact, owner.name, Team.name, waiting_since)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(owner, owner.id == Conversation.owner_id)
        .outerjoin(Team, Team.id == Conversation.team_id)
        .where(queue_condition(queue, principal, now))
    )
    if filters.stage:
        statement = statement.where(Conversation.stage == filters.stage)
    if filters.tag:
        statement = statement.where(
            exists().where(
                ConversationTag.conversation_id == Conversation.id,
                ConversationTag.name == filters.tag.strip().lower(),
            )
        )
    if filters.owner_id is not None:
        statement = statement.where(Conversation.owner_id == filters.owner_id)
    elif filters.unowned_only:
        statement = statement.where(Conversation.owner_id.is_(None))
    if filters.search and filters.search.strip():
        dialect = session.get_bind().dialect.name
        statement = statement.where(search_condition(filters.search, dialect))
    if queue == Queue.RESOLVED:
        statement = statement.order_by(Conversation.resolved_at.desc(), Conversation.id.desc())
    else:
        statement = statement.order_by(waiting_since.asc(), Conversation.id.asc())
    found = session.execute(statement.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    has_more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    ids = [row[0].id for row in found]
    tags = _tags(session, ids)
    last = _last_messages(session, ids)
    addresses = _addresses(session, [row[1].id for row in found])
    rows = [
        QueueRow(
            conversation_id=conversation.id,
            contact_id=contact.id,
            contact_name=display_name(contact),
            address=addresses.get(contact.id),
            status=conversation.status,
            waiting_on=conversation.waiting_on,
            waiting_since=since,
            owner_id=conversation.owner_id,
            owner_name=owner_name,
            team_name=team_name,
            stage=conversation.stage,
            priority=conversation.priority,
            tags=tuple(tags.get(conversation.id, ())),
            last_message=last.get(conversation.id, (None, None))[0],
            last_message_direction=last.get(conversation.id, (None, None))[1],
        )
        for conversation, contact, owner_name, team_name, since in found
    ]
    return QueuePage(queue=queue, rows=rows, page=page, has_more=has_more, filters=filters)


def display_name(contact: Contact) -> str:
    if contact.erased_at is not None:
        # Said plainly, so nobody takes an empty record for a new customer.
        return f"Erased contact {contact.id}"
    return contact.name or contact.profile_name or f"Contact {contact.id}"


def _tags(session: Session, conversation_ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    if conversation_ids:
        for conversation_id, name in session.execute(
            select(ConversationTag.conversation_id, ConversationTag.name)
            .where(ConversationTag.conversation_id.in_(conversation_ids))
            .order_by(ConversationTag.name)
        ):
            tags.setdefault(conversation_id, []).append(name)
    return tags


def _last_messages(
    session: Session, conversation_ids: list[int]
) -> dict[int, tuple[str | None, str]]:
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    return {
        # A message its sender deleted in WhatsApp is kept for the audit, never previewed.
        conversation_id: (
            "(deleted)" if deleted_at is not None else ((body or "")[:140] or None),
            direction,
        )
        for conversation_id, body, direction, deleted_at in session.execute(
            select(
                Message.conversation_id, Message.body, Message.direction, Message.deleted_at
            ).where(Message.id.in_(newest))
        )
    }


def _addresses(session: Session, contact_ids: list[int]) -> dict[int, str]:
    if not contact_ids:
        return {}
    return {
        contact_id: address
        for contact_id, address in session.execute(
            select(Identity.contact_id, Identity.address).where(
                Identity.contact_id.in_(contact_ids),
                Identity.is_current.is_(True),
                Identity.channel == Channel.WHATSAPP,
            )
        )
    }


def tags_in_use(session: Session) -> list[str]:
    """Every tag name on the workspace's conversations, for the tag filter.

    A loose index scan (one probe of the (workspace, name) index per distinct
    name, as a recursive query) instead of DISTINCT, which reads every tag row:
    a workspace has a few dozen tag names over hundreds of thousands of rows."""
    names = select(func.min(ConversationTag.name).label("name")).cte("tag_names", recursive=True)
    following = (
        select(func.min(ConversationTag.name))
        .where(ConversationTag.name > names.c.name)
        .scalar_subquery()
    )
    names = names.union_all(select(following).where(names.c.name.is_not(None)))
    return [n for n in session.scalars(select(names.c.name)) if n is not None]
