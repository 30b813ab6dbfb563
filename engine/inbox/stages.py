"""Moving a conversation, or an order or booking about it, along its pipeline.

Only by the moves the workspace allows: the reducer checks them, for people and
rules alike; this adds what only a person needs, that the thing is still where
they saw it (`expected_stage`), so two people moving at once do not both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth.policy import Action, may
from engine.auth.principal import Principal
from engine.automation.staff import Desk
from engine.automation.state import db_key, line_items_of
from engine.core.config import CustomField, Pipeline
from engine.core.rules import effects as fx
from engine.core.rules.effects import LineItem
from engine.inbox.audit import actor_of
from engine.inbox.details import DetailField, details_of
from engine.inbox.errors import Conflict, InvalidInput, NotFound
from engine.inbox.lookup import conversation_for
from engine.models import BusinessObject, BusinessObjectLink, Conversation


@dataclass(frozen=True)
class StageChoice:
    name: str
    label: str


def conversation_pipeline(
    pipelines: tuple[Pipeline, ...], conversation: Conversation
) -> Pipeline | None:
    """The conversation's pipeline, or the workspace's first conversation pipeline."""
    for pipeline in pipelines:
        if pipeline.name == conversation.pipeline:
            return pipeline
    if conversation.pipeline is None:
        return next((p for p in pipelines if p.subject == "conversation"), None)
    return None


def object_pipeline(pipelines: tuple[Pipeline, ...], item: BusinessObject) -> Pipeline | None:
    """The object's pipeline, or the first pipeline for its kind."""
    named = next((p for p in pipelines if p.name == item.pipeline), None)
    return named or next((p for p in pipelines if p.subject == item.kind), None)


def choices(pipeline: Pipeline | None, current: str | None) -> list[StageChoice]:
    """Where something may move next: the allowed moves from its stage, or any stage when
    it has none yet."""
    if pipeline is None:
        return []
    if current is None:
        targets = {stage.name for stage in pipeline.stages}
    else:
        targets = {move.target for move in pipeline.moves if move.source == current}
    return [StageChoice(s.name, s.label) for s in pipeline.stages if s.name in targets]


@dataclass(frozen=True)
class ObjectCard:
    """A linked order, booking or case as the conversation page shows it: where it stands in
    its pipeline, where it may go next, and its details to fill in."""

    item: BusinessObject
    pipeline: str | None
    stage_label: str | None
    choices: list[StageChoice]
    details: list[DetailField]
    lines: tuple[LineItem, ...] = ()  # what it contains; the amount is their sum
    linked: tuple[BusinessObject, ...] = ()  # other objects it is linked to


def object_cards(
    pipelines: tuple[Pipeline, ...],
    fields: tuple[CustomField, ...],
    items: list[BusinessObject],
    linked: Mapping[int, list[BusinessObject]] | None = None,
) -> list[ObjectCard]:
    cards = []
    for item in items:
        pipeline = object_pipeline(pipelines, item)
        stage = (
            next((s for s in pipeline.stages if s.name == item.stage), None) if pipeline else None
        )
        cards.append(
            ObjectCard(
                item,
                (pipeline.label or pipeline.name) if pipeline else None,
                stage.label if stage else item.stage,
                choices(pipeline, item.stage),
                details_of(fields, item.kind, item.fields),
                line_items_of(item.line_items),
                tuple((linked or {}).get(item.id, ())),
            )
        )
    return cards


def stage_choices(pipelines: tuple[Pipeline, ...], conversation: Conversation) -> list[StageChoice]:
    return choices(conversation_pipeline(pipelines, conversation), conversation.stage)


def move_stage(
    desk: Desk,
    principal: Principal,
    conversation_id: int,
    *,
    stage: str,
    expected_stage: str | None,
    now: datetime,
    object_id: int | None = None,
) -> None:
    """Move the conversation (or, with `object_id`, a business object linked to it) to
    `stage`, if the pipeline allows it from where it is and it is still where the person
    saw it (`expected_stage`); recorded in the stage history."""
    session = desk.session
    pipelines = desk.rules.config.pipelines
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    if object_id is None:
        current = conversation.stage
        pipeline = conversation_pipeline(pipelines, conversation)
        if pipeline is None:
            raise InvalidInput("this workspace has no pipeline for conversations (pipelines.yaml)")
        subject = None
    else:
        item = _linked_object(desk, conversation.id, object_id)
        current = item.stage
        pipeline = object_pipeline(pipelines, item)
        if pipeline is None:
            raise InvalidInput(f"this workspace has no pipeline for {item.kind} (pipelines.yaml)")
        subject = db_key(item.id)
    if current != expected_stage:
        raise Conflict(f"the stage changed to {current or 'none'} meanwhile; reload to see it")
    effect = fx.MoveStage(
        "",
        pipeline=pipeline.name,
        stage=stage,
        subject=subject,
        check_from=True,  # checked again under the conversation's lock, by the reducer
        from_stage=expected_stage,
    )
    desk.change(conversation.id, actor_of(principal), [effect], now)


def _linked_object(desk: Desk, conversation_id: int, object_id: int) -> BusinessObject:
    item = desk.session.scalars(
        select(BusinessObject)
        .join(BusinessObjectLink, BusinessObjectLink.business_object_id == BusinessObject.id)
        .where(
            BusinessObject.id == object_id, BusinessObjectLink.conversation_id == conversation_id
        )
    ).first()
    if item is None:
        raise NotFound(f"no business object {object_id} on this conversation")
    return item


@dataclass(frozen=True)
class ContactObject:
    """A contact's order (booking, case) on the customer page: its card, and the
    conversation whose desk edits it (the newest about it); None when none is linked."""

    card: ObjectCard
    conversation_id: int | None
    may_work: bool


def contact_object_cards(
    session: Session,
    principal: Principal,
    pipelines: tuple[Pipeline, ...],
    fields: tuple[CustomField, ...],
    contact_id: int,
    linked: Mapping[int, list[BusinessObject]],
    items: list[BusinessObject],
) -> list[ContactObject]:
    """Cards for a contact's objects, each editable through its newest conversation."""
    newest: dict[int, Conversation] = {}
    if items:
        for object_id, conversation in session.execute(
            select(BusinessObjectLink.business_object_id, Conversation)
            .join(Conversation, Conversation.id == BusinessObjectLink.conversation_id)
            .where(BusinessObjectLink.business_object_id.in_([i.id for i in items]))
            .order_by(Conversation.opened_at, Conversation.id)
        ).tuples():
            newest[object_id] = conversation
    cards = object_cards(pipelines, fields, items, linked)
    return [
        ContactObject(
            card,
            newest[card.item.id].id if card.item.id in newest else None,
            card.item.id in newest
            and may(principal, Action.WORK_CONVERSATION, newest[card.item.id]),
        )
        for card in cards
    ]
