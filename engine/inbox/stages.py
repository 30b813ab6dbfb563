"""Moving a conversation along its pipeline, only by the moves the workspace allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.auth.policy import Action
from engine.auth.principal import Principal
from engine.conversations.threads import lock_conversation
from engine.core.config import Pipeline
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.lookup import conversation_for
from engine.models import ActorKind, Conversation, StageHistory, SubjectKind


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


def stage_choices(pipelines: tuple[Pipeline, ...], conversation: Conversation) -> list[StageChoice]:
    """Where the conversation may move next: the allowed moves from its stage, or any
    stage when it has none yet."""
    pipeline = conversation_pipeline(pipelines, conversation)
    if pipeline is None:
        return []
    if conversation.stage is None:
        targets = {stage.name for stage in pipeline.stages}
    else:
        targets = {move.target for move in pipeline.moves if move.source == conversation.stage}
    return [StageChoice(s.name, s.label) for s in pipeline.stages if s.name in targets]


def move_stage(
    session: Session,
    principal: Principal,
    conversation_id: int,
    *,
    pipelines: tuple[Pipeline, ...],
    stage: str,
    expected_stage: str | None,
    now: datetime,
) -> None:
    """Move to `stage` if the pipeline allows it from where the conversation is, and it is
    still where the person saw it (`expected_stage`); recorded in the stage history."""
    conversation = conversation_for(session, principal, conversation_id, Action.WORK_CONVERSATION)
    lock_conversation(session, conversation)
    if conversation.stage != expected_stage:
        raise Conflict(
            f"the stage changed to {conversation.stage or 'none'} meanwhile; reload to see it"
        )
    pipeline = conversation_pipeline(pipelines, conversation)
    if pipeline is None:
        raise InvalidInput("this workspace has no pipeline for conversations (pipelines.yaml)")
    allowed = {choice.name for choice in stage_choices(pipelines, conversation)}
    if stage not in allowed:
        raise InvalidInput(
            f"{pipeline.name} does not allow moving from {conversation.stage or 'no stage'} "
            f"to {stage!r}; allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
    target = next(s for s in pipeline.stages if s.name == stage)
    session.add(
        StageHistory(
            subject_kind=SubjectKind.CONVERSATION,
            subject_id=conversation.id,
            pipeline=pipeline.name,
            from_stage=conversation.stage,
            to_stage=stage,
            actor_kind=ActorKind.TEAMMATE if principal.is_teammate else ActorKind.SYSTEM,
            actor_teammate_id=principal.teammate_id,
            at=now,
        )
    )
    conversation.pipeline, conversation.stage = pipeline.name, stage
    if target.waiting_on:
        conversation.waiting_on = target.waiting_on
    session.flush()
