"""Classifying inquiries no rule answered, so `when inquiry classified as "X"` rules can run.

After inbound processing has run the rules on a customer's text message and none of
them acted on it (it matched no keyword rule, no button, no menu), the message is
classified and its details extracted:

- with the offline provider (pure, no I/O, microseconds), right there, in the same
  transaction: no job, nothing to pile up;
- with a model, through an `ai.classify` outbox row, whose executor asks the assistant
  outside any lock (the offline provider answers when the model is down, slow or over
  budget).

Either way the answers are kept for the conversation page and `inquiry classified` runs
through the rules. Nothing here writes a message or sends anything: the rules may route,
tag or create tasks, and staff answer (DESIGN rule 10).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.ai.answers import classification_from_json, extraction_from_json, plain_json
from engine.ai.assistant import AiScope, Assistant
from engine.ai.threads import local_today
from engine.automation.runner import Applied, RulesInForce, no_rules, rules_in_force, run_events
from engine.conversations.events import ConversationEvent
from engine.conversations.messages import message_view, stored_by_this_transaction
from engine.core.ai import (
    Classification,
    ClassifyRequest,
    Extraction,
    ExtractRequest,
    Job,
    OfflineProvider,
)
from engine.core.config import WorkspaceConfig
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.db import TRANSACTION_BOUND, batch_cache, workspace_session
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
    config = rules.config
    ai = config.ai
    if not ai.classify_unmatched or not ai.intents:
        return
    offline = OfflineProvider(config) if ai.provider == "offline" else None
    for conversation_id, message_id in unanswered_messages(events, applied):
        if offline is None:
            session.add(
                OutboxRow(
                    kind=CLASSIFY_KIND,
                    payload={"conversation_id": conversation_id, "message_id": message_id},
                    idempotency_key=f"ai.classify:{message_id}",
                    conversation_id=conversation_id,
                    next_attempt_at=now,
                )
            )
            continue
        message = session.get(Message, message_id)
        if message is None or not message.body:
            continue
        answers = (
            offline.classify(ClassifyRequest(message.body)),
            offline.extract(ExtractRequest(message.body, local_today(config, now))),
        )
        keep_and_feed(session, rules, conversation_id, message, answers, now)
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
            kept = {
                r.job: dict(r.result)
                for r in session.scalars(select(AiResult).where(AiResult.message_id == message_id))
            }
            text = session.scalar(select(Message.body).where(Message.id == message_id))
        if text is None:
            return
        if Job.CLASSIFY.value in kept and Job.EXTRACT.value in kept:
            # The page asked first: its answers stand, and the rules still hear of them.
            classification = classification_from_json(kept[Job.CLASSIFY.value])
            extraction = extraction_from_json(kept[Job.EXTRACT.value])
        else:
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
    """In a transaction of its own (the executor's): keep the answers, feed the rules."""
    with workspace_session(db, workspace_id) as session:
        message = session.get(Message, message_id)
        if message is None:
            return
        rules = rules_in_force(session, configs, workspace_id) or no_rules()
        try:
            keep_and_feed(session, rules, conversation_id, message, answers, now)
        except IntegrityError:
            session.rollback()  # another run recorded it first
            return
        session.commit()


def keep_and_feed(
    session: Session,
    rules: RulesInForce,
    conversation_id: int,
    message: Message,
    answers: tuple[Classification, Extraction],
    now: datetime,
) -> None:
    """Keep the answers for the page (unless kept already) and run `inquiry classified`
    through the rules, in the caller's transaction. Feeding twice fires nothing twice: a
    rule fires once per (rule, event) and the event is named after the message."""
    classification, extraction = answers
    kept = (
        None
        if stored_by_this_transaction(session, message.id) and not _fed(session, message.id)
        else session.scalar(
            select(AiResult.id).where(
                AiResult.message_id == message.id, AiResult.job == Job.CLASSIFY.value
            )
        )
    )
    if kept is None:
        _fed(session, message.id, now_too=True)
        session.flush()
        # Both answers in one statement (no ids are needed back).
        session.execute(
            insert(AiResult),
            [
                {
                    "workspace_id": message.workspace_id,
                    "conversation_id": conversation_id,
                    "message_id": message.id,
                    "job": job.value,
                    "result": plain_json(asdict(answer)),
                    "source": answer.source.label()[:300],
                    "confidence": answer.confidence,
                    "at": now,
                }
                for job, answer in ((Job.CLASSIFY, classification), (Job.EXTRACT, extraction))
            ],
        )
    if classification.intent is not None:
        event = classified_event(rules.config, classification, message, now)
        run_events(session, rules, [ConversationEvent(conversation_id, event)], now)


def _fed(session: Session, message_id: int, *, now_too: bool = False) -> bool:
    """Whether this transaction kept answers for the message already (and, `now_too`,
    that it does now): a message stored by the same transaction needs no query for it."""
    cache = batch_cache(session)
    if cache is None:
        return False
    fed: set[int] = cache.setdefault(f"{TRANSACTION_BOUND}ai_fed", set())
    seen = message_id in fed
    if now_too:
        fed.add(message_id)
    return seen


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
