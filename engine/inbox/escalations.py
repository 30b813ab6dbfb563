"""Escalations with a named decision-maker: someone asks one teammate to decide about a
conversation, with the reason; that teammate (or a manager) approves or declines with a
note. Both go through the desk, so the rules, the audit and the notifications see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from engine.auth.policy import Action, may, require
from engine.auth.principal import Principal, Role
from engine.automation.staff import Desk
from engine.core.rules import effects as fx
from engine.inbox.audit import actor_of
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for, teammate_named
from engine.models import Escalation

DECISIONS = {"approve": "approved", "approved": "approved", "decline": "declined",
             "declined": "declined"}  # fmt: skip
MAX_REASON = 500
# The page reads who decides, asked and decided after its session ends.
_PEOPLE = (
    selectinload(Escalation.decider),
    selectinload(Escalation.asked_by),
    selectinload(Escalation.decided_by),
)


@dataclass(frozen=True)
class EscalationLine:
    """An escalation as the conversation page shows it, and whether this person decides."""

    escalation: Escalation
    may_decide: bool


@dataclass(frozen=True)
class _Decider:
    """An escalation as the policy sees it: its `owner` is who must decide."""

    owner_id: int | None


def escalate(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    decider_id: int,
    reason: str,
    now: datetime,
) -> Escalation:
    """Ask `decider_id` to decide about the conversation: urgent, tagged, a task and a
    notification for them with the reason."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    decider = teammate_named(session, decider_id)
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("say why: the decision-maker reads the reason first")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"a reason may have at most {MAX_REASON} characters")
    effect = fx.Escalate("", recipient=fx.Recipient("teammate", decider.handle), reason=text)
    desk.change(conversation.id, actor_of(principal), [effect], now)
    made = session.scalars(
        select(Escalation)
        .where(Escalation.conversation_id == conversation.id)
        .order_by(Escalation.id.desc())
    ).first()
    if made is None:
        raise InvalidInput("the escalation was not recorded")
    return made


def decide(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    escalation_id: int,
    decision: str,
    note: str,
    now: datetime,
) -> Escalation:
    """Record the decision on the conversation (a note, the audit, the escalation row); the
    teammate who escalated is told."""
    session = desk.session
    conversation = conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.conversation_id != conversation.id:
        raise NotFound(f"no escalation {escalation_id} on this conversation")
    require(principal, Action.DECIDE_ESCALATION, _Decider(escalation.decider_id))
    if escalation.decided_at is not None:
        raise Conflict(f"already {escalation.decision}; reload to see it")
    verdict = DECISIONS.get(decision.strip().lower())
    if verdict is None:
        raise InvalidInput("decide with approve or decline")
    asked_by = escalation.asked_by.handle if escalation.asked_by is not None else None
    effect = fx.DecideEscalation(
        "", escalation=escalation.id, decision=verdict, note=note, asked_by=asked_by
    )
    desk.change(conversation.id, actor_of(principal), [effect], now)
    session.refresh(escalation)
    return escalation


def of_conversation(
    session: Session, principal: Principal, conversation_id: int
) -> list[Escalation]:
    """Every escalation of the conversation, newest first."""
    conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
    return list(
        session.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conversation_id)
            .options(*_PEOPLE)
            .order_by(Escalation.id.desc())
        )
    )


def may_decide(principal: Principal, escalation: Escalation) -> bool:
    return escalation.decided_at is None and may(
        principal, Action.DECIDE_ESCALATION, _Decider(escalation.decider_id)
    )


def waiting(session: Session, principal: Principal) -> list[Escalation]:
    """Escalations still to decide, longest waiting first: every one for a manager, the
    principal's own otherwise."""
    statement = (
        select(Escalation)
        .where(Escalation.decided_at.is_(None))
        .options(*_PEOPLE)
        .order_by(Escalation.asked_at, Escalation.id)
    )
    if not principal.at_least(Role.MANAGER):
        statement = statement.where(Escalation.decider_id == principal.teammate_id)
    return list(session.scalars(statement.limit(500)))


def lines_of(session: Session, principal: Principal, conversation_id: int) -> list[EscalationLine]:
    return [
        EscalationLine(e, may_decide(principal, e))
        for e in of_conversation(session, principal, conversation_id)
    ]
