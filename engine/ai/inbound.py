"""Classifying inquiries no rule answered, so `when inquiry classified as "X"` rules can run.

After inbound processing has run the rules on a customer's text message and none of
them acted on it (it matched no keyword rule, no button, no menu), an `ai.classify`
outbox row is written in the same transaction. Its executor runs outside any lock:
it asks the assistant (the model, or the offline provider when the model is down, slow
or over budget) for the message's intent and details, keeps both for the conversation
page, and feeds `inquiry classified` through the rules. It writes no message and sends
nothing: the rules may route, tag or create tasks, and staff answer (DESIGN rule 10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.ai.assistant import AiScope, Assistant
from engine.ai.threads import local_today
from engine.automation.runner import Applied, RulesInForce, no_rules, rules_in_force, run_events
from engine.conversations.events import ConversationEvent
from engine.conversations.messages import message_view
from engine.core.ai import Classification, ClassifyRequest, Extraction, ExtractRequest, Job
from engine.core.config import WorkspaceConfig
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import workspace_session
from engine.models import AiResult, Message, OutboxRow, Workspace
from engine.outbox.dispatch import ExecutionFailed, OutboxWork
from engine.workspaces.directory import ConfigDirectory

CLASSIFY_KIND = "ai.classify"

Automations = Callable[[Session, int, Sequence[ConversationEvent], datetime], None]


def classifying_automations(configs: ConfigDirectory) -> Automations:
    """The automations of inbound processing, plus classification of what they left
    unanswered."""

    def run(
        session: Session, workspace_id: int, events: Sequence[ConversationEvent], now: datetime
    ) -> None:
        rules = rules_in_force(session, configs, workspace_id) or no_rules()
        applied = run_events(session, rules, events, now)
        queue_unanswered(session, rules, events, applied, now)

    return run


def unanswered_messages(
    events: Sequence[ConversationEvent], applied: Sequence[Applied | None]
) -> list[tuple[int, int]]:
    """(conversation id, message id) of each customer text no rule acted on."""
    found = []
    for item, result in zip(events, applied, strict=True):
        event = item.event
        if event.kind != TriggerKind.MESSAGE_RECEIVED or result is None:
            continue
        message = event.data.get("message") or {}
        if message.get("type") != "text" or not str(message.get("text") or "").strip():
            continue  # buttons and list picks are menu answers; media has no words
        fired = any(f.event.id == event.id and f.outcome == "fired" for f in result.outcome.firings)
        if not fired and isinstance(message.get("id"), int):
            found.append((item.conversation_id, int(message["id"])))
    return found


def queue_unanswered(
    session: Session,
    rules: RulesInForce,
    events: Sequence[ConversationEvent],
    applied: Sequence[Applied | None],
    now: datetime,
) -> None:
    ai = rules.config.ai
    if not ai.classify_unmatched or not ai.intents:
        return
    for conversation_id, message_id in unanswered_messages(events, applied):
        session.add(
            OutboxRow(
                kind=CLASSIFY_KIND,
                payload={"conversation_id": conversation_id, "message_id": message_id},
                idempotency_key=f"ai.classify:{message_id}",
                conversation_id=conversation_id,
                next_attempt_at=now,
            )
        )
    session.flush()


def make_classify_executor(configs: ConfigDirectory) -> Callable[[OutboxWork], None]:
    def classify(work: OutboxWork) -> None:
        message_id = int(work.payload["message_id"])
        conversation_id = int(work.payload["conversation_id"])
        with workspace_session(work.db, work.workspace_id) as session:
            slug = session.scalar(select(Workspace.slug))
            config = configs.config(slug) if slug else None
            if config is None:
                raise ExecutionFailed("no valid config is in force", retryable=True)
            done = session.scalar(
                select(AiResult.id).where(
                    AiResult.message_id == message_id, AiResult.job == Job.CLASSIFY.value
                )
            )
            text = session.scalar(select(Message.body).where(Message.id == message_id))
        if done is not None or text is None:
            return
        # The model is asked with no transaction open: a slow model holds no lock.
        assistant = Assistant(
            config, AiScope(work.db, work.workspace_id, work.now, conversation_id)
        )
        classification = assistant.classify(ClassifyRequest(text))
        extraction = assistant.extract(ExtractRequest(text, local_today(config, work.now)))
        record_classification(
            work.db,
            configs,
            work.workspace_id,
            conversation_id,
            message_id,
            (classification, extraction),
            work.now,
        )

    return classify


def record_classification(
    db: Engine,
    configs: ConfigDirectory,
    workspace_id: int,
    conversation_id: int,
    message_id: int,
    answers: tuple[Classification, Extraction],
    now: datetime,
) -> None:
    """Keep the answers for the page and run `inquiry classified` through the rules."""
    classification, extraction = answers
    with workspace_session(db, workspace_id) as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        session.add_all(
            [
                AiResult(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    job=Job.CLASSIFY.value,
                    result=plain_json(asdict(classification)),
                    source=classification.source.label()[:300],
                    confidence=classification.confidence,
                    at=now,
                ),
                AiResult(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    job=Job.EXTRACT.value,
                    result=plain_json(asdict(extraction)),
                    source=extraction.source.label()[:300],
                    confidence=extraction.confidence,
                    at=now,
                ),
            ]
        )
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # another run recorded it first
            return
        if classification.intent is not None:
            rules = rules_in_force(session, configs, workspace_id) or no_rules()
            event = classified_event(rules.config, classification, message, now)
            run_events(session, rules, [ConversationEvent(conversation_id, event)], now)
        session.commit()


def classified_event(
    config: WorkspaceConfig, classification: Classification, message: Message, now: datetime
) -> DomainEvent:
    intent = config.ai.intent(classification.intent or "")
    return DomainEvent(
        TriggerKind.INQUIRY_CLASSIFIED.value,
        f"inquiry:{message.id}",
        now,
        key=classification.intent,
        data={
            "inquiry": {
                "intent": classification.intent,
                "label": intent.label if intent else classification.intent,
                "confidence": classification.confidence,
                "source": classification.source.label(),
                "text": message.body or "",
            },
            "message": message_view(message),
        },
    )


def plain_json(value: Any) -> Any:
    """Dataclass dicts as JSON: enums by value, the rest as they are."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str | bool):
        return value.value
    return value
