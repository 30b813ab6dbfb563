"""What the conversation page shows from AI: the last message's intent and details, a
suggested next step, an order pre-filled for staff to confirm, a summary and a draft.

Reading only: nothing here changes the conversation or sends anything. The page calls
these from separate requests (htmx, after it has loaded), so a slow or absent model
never delays the page, and every answer says where it came from and how sure it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from engine.ai.answers import (
    classification_from_json,
    extraction_from_json,
    plain_json,
    source_from_json,
)
from engine.ai.assistant import AiScope, Assistant
from engine.ai.threads import ConversationFacts, conversation_facts
from engine.auth import Action, Principal
from engine.core.ai import (
    ActionKind,
    Author,
    Classification,
    ClassifyRequest,
    Draft,
    DraftRequest,
    ExtractedField,
    Extraction,
    ExtractRequest,
    FieldKind,
    Job,
    Source,
    Suggestion,
    SuggestRequest,
    SummariseRequest,
    Summary,
)
from engine.core.config import WorkspaceConfig
from engine.db import workspace_session
from engine.inbox.lookup import conversation_for
from engine.models import AiResult, Message
from engine.models.states import Direction


@dataclass(frozen=True)
class OrderDraft:
    """An order as the customer's words describe it, for staff to check and create."""

    items: str
    amount: Decimal | None
    currency: str | None
    details: tuple[ExtractedField, ...]  # the dates, places, phones ... read alongside


@dataclass(frozen=True)
class AiPanel:
    classification: Classification | None
    extraction: Extraction | None
    suggestion: Suggestion | None
    order: OrderDraft | None
    show_summary: bool  # a handover or a long thread: the summary loads by itself
    intent_label: str | None


def _facts(
    db: Engine,
    config: WorkspaceConfig,
    principal: Principal,
    conversation_id: int,
    now: datetime,
) -> ConversationFacts | None:
    with workspace_session(db, principal.workspace_id) as session:
        conversation_for(session, principal, conversation_id, Action.VIEW_CONVERSATION)
        return conversation_facts(session, config, conversation_id, now)


def ai_panel(
    db: Engine, config: WorkspaceConfig, principal: Principal, conversation_id: int, now: datetime
) -> AiPanel:
    facts = _facts(db, config, principal, conversation_id, now)
    empty = AiPanel(None, None, None, None, False, None)
    if facts is None:
        return empty
    assistant = Assistant(config, AiScope(db, principal.workspace_id, now, conversation_id))
    latest = _latest_customer_message(db, principal.workspace_id, conversation_id)
    classification = extraction = None
    if latest is not None:
        classification, extraction = _understood(assistant, db, principal, facts, latest, now)
    pipeline = config.pipeline(facts.pipeline) if facts.pipeline else None
    moves = tuple(m.target for m in pipeline.moves if m.source == facts.stage) if pipeline else ()
    request = SuggestRequest(
        stage=facts.stage,
        moves=moves,
        waiting_on=facts.waiting_on,
        classification=classification,
        extraction=extraction,
        order_kinds=config.object_kinds or ("order",),
        stage_labels={s.name: s.label for s in pipeline.stages} if pipeline else {},
    )
    suggestion = _suggestion(assistant, db, principal.workspace_id, facts, latest, request, now)
    handed_over = _handed_over(facts, principal)
    intent = (
        config.ai.intent(classification.intent)
        if classification and classification.intent
        else None
    )
    return AiPanel(
        classification,
        extraction,
        suggestion,
        order_draft(config, extraction) if extraction else None,
        handed_over or facts.message_count >= config.ai.summary_after_messages,
        intent.label if intent else None,
    )


def order_draft(config: WorkspaceConfig, extraction: Extraction) -> OrderDraft | None:
    products = extraction.of(FieldKind.PRODUCT)
    if not products:
        return None
    prices = {p.name: p.price for p in config.knowledge.products}
    lines, total = [], Decimal(0)
    for product in products:
        count = product.quantity or 1
        lines.append(f"{count} x {product.value}")
        total += prices.get(product.value, Decimal(0)) * count
    details = tuple(f for f in extraction.fields if f.kind is not FieldKind.PRODUCT)
    currency = config.knowledge.currency or config.currency
    return OrderDraft("\n".join(lines), total or None, currency, details)


def summary_for(
    db: Engine, config: WorkspaceConfig, principal: Principal, conversation_id: int, now: datetime
) -> Summary:
    """The thread's summary, made again only when a message has arrived since the last one."""
    facts = _facts(db, config, principal, conversation_id, now)
    if facts is None or facts.last_message_id is None:
        return Summary((), 0.0, Source("offline"))
    with workspace_session(db, principal.workspace_id) as session:
        kept = session.scalars(
            select(AiResult)
            .where(AiResult.conversation_id == conversation_id, AiResult.job == Job.SUMMARISE.value)
            .order_by(AiResult.id.desc())
            .limit(1)
        ).first()
        if kept is not None and kept.result.get("through_message_id") == facts.last_message_id:
            return Summary(
                tuple(kept.result.get("sentences", ())),
                kept.confidence,
                source_from_json(kept.result),
            )
    assistant = Assistant(config, AiScope(db, principal.workspace_id, now, conversation_id))
    summary = assistant.summarise(SummariseRequest(facts.thread))
    with workspace_session(db, principal.workspace_id) as session:
        session.add(
            AiResult(
                conversation_id=conversation_id,
                job=Job.SUMMARISE.value,
                result={
                    "sentences": list(summary.sentences),
                    "through_message_id": facts.last_message_id,
                    "provider": summary.source.provider,
                    "model": summary.source.model,
                    "fallback_reason": summary.source.fallback_reason,
                },
                source=summary.source.label()[:300],
                confidence=summary.confidence,
                at=now,
            )
        )
        session.commit()
    return summary


def draft_for(
    db: Engine, config: WorkspaceConfig, principal: Principal, conversation_id: int, now: datetime
) -> Draft:
    """Reply text for the reply box. Returned, never stored as a message, never sent."""
    facts = _facts(db, config, principal, conversation_id, now)
    if facts is None:
        return Draft("", (), 0.0, Source("offline"))
    assistant = Assistant(config, AiScope(db, principal.workspace_id, now, conversation_id))
    return assistant.draft(DraftRequest(facts.thread, principal.name))


def _latest_customer_message(db: Engine, workspace_id: int, conversation_id: int) -> Message | None:
    with workspace_session(db, workspace_id) as session:
        message = session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.INBOUND,
                Message.body.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(1)
        ).first()
        if message is not None:
            session.expunge(message)
        return message


def _understood(
    assistant: Assistant,
    db: Engine,
    principal: Principal,
    facts: ConversationFacts,
    message: Message,
    now: datetime,
) -> tuple[Classification, Extraction]:
    """The message's intent and details: as kept, or asked for now and kept."""
    with workspace_session(db, principal.workspace_id) as session:
        kept = {
            r.job: r
            for r in session.scalars(select(AiResult).where(AiResult.message_id == message.id))
        }
    classify, extract = kept.get(Job.CLASSIFY.value), kept.get(Job.EXTRACT.value)
    if classify is not None and extract is not None:
        return classification_from_json(classify.result), extraction_from_json(extract.result)
    text = message.body or ""
    classification = assistant.classify(ClassifyRequest(text))
    extraction = assistant.extract(ExtractRequest(text, facts.thread.today))
    try:
        with workspace_session(db, principal.workspace_id) as session:
            for job, answer in ((Job.CLASSIFY, classification), (Job.EXTRACT, extraction)):
                session.add(
                    AiResult(
                        conversation_id=facts.conversation_id,
                        message_id=message.id,
                        job=job.value,
                        result=plain_json(asdict(answer)),
                        source=answer.source.label()[:300],
                        confidence=answer.confidence,
                        at=now,
                    )
                )
            session.commit()
    except IntegrityError:
        pass  # the classification job kept its own answer meanwhile; this one is as good
    return classification, extraction


def _suggestion(
    assistant: Assistant,
    db: Engine,
    workspace_id: int,
    facts: ConversationFacts,
    latest: Message | None,
    request: SuggestRequest,
    now: datetime,
) -> Suggestion:
    """The next step for the latest message where the conversation stands now: kept per
    message, asked again when the stage or who is waiting has changed since."""
    situation = {"stage": facts.stage, "waiting_on": facts.waiting_on}
    if latest is None:
        return assistant.suggest(request)
    with workspace_session(db, workspace_id) as session:
        kept = session.scalars(
            select(AiResult).where(
                AiResult.message_id == latest.id, AiResult.job == Job.SUGGEST.value
            )
        ).first()
        data = dict(kept.result) if kept is not None else None
    if data is not None and data.get("situation") == situation:
        return Suggestion(
            ActionKind(data["action"]),
            str(data["label"]),
            str(data["reason"]),
            float(data["confidence"]),
            source_from_json(data["source"]),
            data.get("argument"),
        )
    # No transaction is open while the model is asked.
    suggestion = assistant.suggest(request)
    result = {**plain_json(asdict(suggestion)), "situation": situation}
    with workspace_session(db, workspace_id) as session:
        row = session.scalars(
            select(AiResult).where(
                AiResult.message_id == latest.id, AiResult.job == Job.SUGGEST.value
            )
        ).first()
        if row is None:
            row = AiResult(
                conversation_id=facts.conversation_id,
                message_id=latest.id,
                job=Job.SUGGEST.value,
                at=now,
            )
            session.add(row)
        row.result, row.at = result, now
        row.source, row.confidence = suggestion.source.label()[:300], suggestion.confidence
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another page kept one meanwhile
    return suggestion


def _handed_over(facts: ConversationFacts, principal: Principal) -> bool:
    """Someone other than this teammate has answered in the thread: a handover."""
    agents = {ln.name for ln in facts.thread.lines if ln.author is Author.AGENT and ln.name}
    return bool(agents - {principal.name})
