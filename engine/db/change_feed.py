"""Announcing committed changes to the inbox's live pages (PostgreSQL NOTIFY).

Every flush that touches something a live page shows sends `pg_notify` inside its
own transaction, so PostgreSQL delivers it only if the transaction commits, to
every server process listening (engine.db.change_listener), and drops it on
rollback. The payload names the workspace and, where known, the conversation:
`"<workspace>:<conversation or empty>:<c|p>"`, where `p` means only presence
changed (a conversation page shows it; queue pages need not wake for it).

SQLite has no NOTIFY; its pages poll, and so does any page whose server lost its
listening connection. The notification only wakes a page early: what the page
shows is still read from the database, so a lost notification costs latency,
never correctness.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.expression import ClauseElement

from engine.models.scoping import session_workspace

CHANNEL = "kazi_live"
PRESENCE_ONLY = "p"
CONTENT = "c"

# Tables whose rows appear on the inbox's pages; anything else stays silent.
_SHOWN = {
    "conversations",
    "conversation_tags",
    "messages",
    "message_status_events",
    "notes",
    "tasks",
    "stage_history",
    "audit_log",
    "sla_clocks",
    "scheduled_actions",
    "business_object_links",
    "presence",
}


def payload(workspace_id: int, conversation_id: int | None, kind: str) -> str:
    return f"{workspace_id}:{conversation_id or ''}:{kind}"


def parse_payload(text: str) -> tuple[int, int | None, str] | None:
    """(workspace, conversation or None, kind), or None for a payload not ours."""
    try:
        workspace, conversation, kind = text.split(":")
        return int(workspace), int(conversation) if conversation else None, kind
    except ValueError:
        return None


def _conversation_of(table: str, row: Any) -> int | None:
    if table == "conversations":
        return row.id
    if table == "audit_log":
        return row.subject_id if row.subject_kind == "conversation" else None
    return getattr(row, "conversation_id", None)


def _changed_rows(session: Session) -> list[str]:
    if session.get_bind().dialect.name != "postgresql":
        return []
    found: set[str] = set()
    for row in (*session.new, *session.dirty, *session.deleted):
        table = getattr(row, "__tablename__", None)
        if table not in _SHOWN or (row in session.dirty and not session.is_modified(row)):
            continue
        workspace = getattr(row, "workspace_id", None)
        if workspace is None:
            continue
        kind = PRESENCE_ONLY if table == "presence" else CONTENT
        found.add(payload(workspace, _conversation_of(table, row), kind))
    return sorted(found)


NOTIFY_AT_COMMIT = "kazi.notify_at_commit"
"""A set in `session.info`: the session's notifications are sent once, at commit, not at
every flush (a worker's batch flushes many times)."""


def _notify(session: Session, payloads: list[str]) -> None:
    if not payloads or session.get_bind().dialect.name != "postgresql":
        return
    later = session.info.get(NOTIFY_AT_COMMIT)
    if isinstance(later, set):
        # A payload of a savepoint rolled back later is sent anyway: it only wakes a page.
        later.update(payloads)
        return
    _send(session, payloads)


def _send(session: Session, payloads: list[str]) -> None:
    session.connection().exec_driver_sql(
        "SELECT pg_notify(%(channel)s, p) FROM unnest(%(payloads)s::text[]) AS p",
        {"channel": CHANNEL, "payloads": payloads},
    )


@event.listens_for(Session, "after_flush")
def _announce_flush(session: Session, flush_context: UOWTransaction) -> None:
    _notify(session, _changed_rows(session))


@event.listens_for(Session, "do_orm_execute")
def _announce_bulk_change(state: ORMExecuteState) -> None:
    """UPDATE/DELETE/INSERT statements bypass the flush; name their workspace."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    tables = {mapper.class_.__tablename__ for mapper in state.all_mappers}
    if not tables & _SHOWN:
        return
    workspace = session_workspace(state.session)
    if workspace is None or state.session.get_bind().dialect.name != "postgresql":
        return
    kind = PRESENCE_ONLY if tables == {"presence"} else CONTENT
    conversation = _bound_conversation(state)
    _notify(state.session, [payload(workspace, conversation, kind)])


def _bound_conversation(state: ORMExecuteState) -> int | None:
    """The conversation a presence upsert or delete is about, when it says so plainly."""
    statement = state.statement
    if not isinstance(statement, ClauseElement):
        return None
    parameters = statement.compile(dialect=state.session.get_bind().dialect).params
    value = parameters.get("conversation_id") or parameters.get("conversation_id_1")
    return value if isinstance(value, int) else None


@event.listens_for(Session, "before_commit")
def _announce_at_commit(session: Session) -> None:
    later = session.info.get(NOTIFY_AT_COMMIT)
    if not later or session.in_nested_transaction():
        return
    session.flush()  # the commit's own flush comes after this hook: its rows count too
    payloads = sorted(later)
    later.clear()
    _send(session, payloads)
