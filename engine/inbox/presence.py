"""Who else has this conversation open, and who is typing a reply.

The page reports a heartbeat while it is open and a keystroke signal while its
reply box is being typed in; what counts as present is decided from those two
timestamps and the clock, so stale rows need no cleanup and every server process
reads the same answer from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.inbox.errors import InvalidInput
from engine.inbox.lookup import conversation_for
from engine.models import Presence, Teammate

# The page beats every 15 s; three missed beats and the teammate has gone.
VIEWING_LASTS = timedelta(seconds=45)
# Keystrokes are reported at most every 2 s; a pause this long means they stopped.
TYPING_LASTS = timedelta(seconds=6)


class Activity(StrEnum):
    VIEWING = "viewing"
    TYPING = "typing"
    LEFT = "left"


@dataclass(frozen=True)
class Present:
    teammate_id: int
    name: str
    typing: bool


@dataclass(frozen=True)
class PresenceView:
    people: tuple[Present, ...]
    # When the answer changes by the clock alone (someone's beat or typing lapses).
    changes_at: datetime | None

    def describe(self) -> str:
        typing = [p.name for p in self.people if p.typing]
        viewing = [p.name for p in self.people if not p.typing]
        parts = []
        if typing:
            parts.append(f"{_names(typing)} {'is' if len(typing) == 1 else 'are'} typing a reply")
        if viewing:
            parts.append(f"{_names(viewing)} {'has' if len(viewing) == 1 else 'have'} it open")
        return "; ".join(parts)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def presence_from(
    rows: list[tuple[int, str, datetime, datetime | None]], now: datetime
) -> PresenceView:
    """Decide from (teammate id, name, last beat, last keystroke) who is present now."""
    people: list[Present] = []
    lapses: list[datetime] = []
    for teammate_id, name, seen_at, typed_at in rows:
        if seen_at + VIEWING_LASTS <= now:
            continue
        typing = typed_at is not None and typed_at + TYPING_LASTS > now
        people.append(Present(teammate_id=teammate_id, name=name, typing=typing))
        lapses.append(seen_at + VIEWING_LASTS)
        if typing and typed_at is not None:
            lapses.append(typed_at + TYPING_LASTS)
    people.sort(key=lambda p: (not p.typing, p.name, p.teammate_id))
    return PresenceView(people=tuple(people), changes_at=min(lapses, default=None))


def report_presence(
    session: Session,
    principal: Principal,
    conversation_id: int,
    activity: Activity,
    now: datetime,
) -> None:
    """Record that this teammate has the conversation open, is typing, or has left."""
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    if principal.teammate_id is None:
        raise InvalidInput("presence is shown for teammates, not API tokens")
    if activity is Activity.LEFT:
        session.execute(
            delete(Presence).where(
                Presence.conversation_id == conversation.id,
                Presence.teammate_id == principal.teammate_id,
            )
        )
        return
    typed_at = now if activity is Activity.TYPING else None
    upsert = (postgresql if _dialect(session) == "postgresql" else sqlite).insert
    statement = upsert(Presence).values(
        workspace_id=principal.workspace_id,
        conversation_id=conversation.id,
        teammate_id=principal.teammate_id,
        seen_at=now,
        typed_at=typed_at,
    )
    # Two tabs of one teammate beat independently; the row is theirs either way.
    changes: dict[str, object] = {"seen_at": statement.excluded.seen_at}
    if typed_at is not None:
        changes["typed_at"] = statement.excluded.typed_at
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["conversation_id", "teammate_id"], set_=changes
        )
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def presence_in(
    session: Session, principal: Principal, conversation_id: int, now: datetime
) -> PresenceView:
    """Everyone present in the conversation except the one asking."""
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    rows = session.execute(
        select(Presence.teammate_id, Teammate.name, Presence.seen_at, Presence.typed_at)
        .join(Teammate, Teammate.id == Presence.teammate_id)
        .where(
            Presence.conversation_id == conversation.id,
            Presence.seen_at > now - VIEWING_LASTS,
        )
    ).all()
    others = [
        (teammate_id, name, seen_at, typed_at)
        for teammate_id, name, seen_at, typed_at in rows
        if teammate_id != principal.teammate_id
    ]
    return presence_from(others, now)
