"""What a scenario's `expect` means in the database.

`kazi test` compares the effects it produced in memory. Here each effect kind is read
back from the rows the engine left, shaped like kazi test's effect JSON, and the same
expectations are matched against them:

    effect              the durable fact
    move_stage          a StageHistory row written by the rule
    add_tag             the tag on the conversation; tags keep no history, so a tag a
                        later effect removed is found as a recorded firing of a rule
                        whose compiled action adds it
    remove_tag          the tag gone, and a recorded firing of a rule that removes it
    create_task, remind a Task (title, due, assignee). Task has no team column: a task
                        for a team is stored unassigned, so that is what is checked
    send_template       the rule's outbound Message and its `whatsapp.send` outbox row
                        (template name, language, body and header parameters)
    send_text           the same, a text body
    draft_reply         the rule's Note "Suggested reply, ..."
    add_note            the rule's Note
    notify              AuditLog "notify" (recipient handle or team name, and text)
                        with the rule's Note "@recipient: text" beside it
    escalate            AuditLog "escalate" (to whom) with the task "Escalated by ..."
                        for that person; the task belongs to it, not to create_task
    assign, route       AuditLog "assign" / "route"; assigning the owner already in
                        place writes nothing, so then the owner and team in place are
                        the fact (used only for expected effects, never for `absent`)
    set_field           AuditLog "set_field" (value as text); the field itself is on
                        the conversation, contact or object (`fields`)
    request_payment     an outbox row `payment.request` (amount, provider)
    call_integration    an outbox row `integration.call` (integration, operation)
    schedule_delayed    a ScheduledAction (rule, block, due time, guard)

expectations.py matches a scenario's `expect` against these facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.rules import effects as fx
from engine.core.rules.graph import ActionSpec, Block, RuleGraph
from engine.models import (
    AuditLog,
    Conversation,
    Message,
    Note,
    OutboxRow,
    RuleFiring,
    ScheduledAction,
    StageHistory,
    Task,
    Teammate,
)

DRAFT_PREFIX = "Suggested reply, for a teammate to check and send:\n"
ESCALATION_TASK = "Escalated by '"


@dataclass(frozen=True)
class Fact:
    source: tuple[str, int]  # (table, id): one row serves one expected effect
    effect: Mapping[str, Any]  # shaped like kazi test's effect JSON
    inferred: bool = False  # read off the state, not off a row the effect wrote


@dataclass
class Record:
    """The conversation as the database holds it after the scenario."""

    conversation: dict[str, Any]
    tags: list[str]
    facts: list[Fact] = field(default_factory=list)

    def of_kind(self, kind: str, *, recorded_only: bool = False) -> list[Fact]:
        return [
            f for f in self.facts if f.effect["kind"] == kind and not (recorded_only and f.inferred)
        ]

    @property
    def tasks(self) -> list[Fact]:
        return self.of_kind("create_task")


def read_record(session: Session, conversation_id: int, graph: RuleGraph) -> Record:
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    handles = {t.id: t.handle for t in session.scalars(select(Teammate))}
    record = Record(
        conversation={
            "stage": conversation.stage,
            "pipeline": conversation.pipeline,
            "owner": conversation.owner.handle if conversation.owner else None,
            "team": conversation.team.handle if conversation.team else None,
            "status": conversation.status,
            "priority": conversation.priority,
        },
        tags=sorted(conversation.tag_names),
    )
    about = (conversation_id,)
    audits = list(
        session.scalars(
            select(AuditLog)
            .where(AuditLog.subject_kind == "conversation", AuditLog.subject_id.in_(about))
            .order_by(AuditLog.id)
        )
    )
    tasks = list(
        session.scalars(
            select(Task).where(Task.conversation_id == conversation_id).order_by(Task.id)
        )
    )
    notes = list(
        session.scalars(
            select(Note)
            .where(Note.conversation_id == conversation_id, Note.author_kind == "rule")
            .order_by(Note.id)
        )
    )
    record.facts += _stage_moves(session, conversation)
    record.facts += _tags(session, conversation, graph, record.tags)
    record.facts += _tasks(tasks, handles)
    record.facts += _notes(notes, audits)
    record.facts += _audited(audits, notes, tasks, handles)
    record.facts += _assigned_in_place(record)
    record.facts += _outbox(session, conversation_id)
    record.facts += _scheduled(session, conversation_id)
    return record


def _stage_moves(session: Session, conversation: Conversation) -> list[Fact]:
    subjects = [("conversation", conversation.id)] + [
        ("business_object", o.id) for o in conversation.business_objects
    ]
    facts = []
    for subject_kind, subject_id in subjects:
        for move in session.scalars(
            select(StageHistory).where(
                StageHistory.subject_kind == subject_kind,
                StageHistory.subject_id == subject_id,
                StageHistory.actor_kind == "rule",
            )
        ):
            facts.append(
                Fact(
                    ("stage_history", move.id),
                    {
                        "kind": "move_stage",
                        "rule": move.rule_name,
                        "pipeline": move.pipeline,
                        "stage": move.to_stage,
                    },
                )
            )
    return facts


def _tags(
    session: Session, conversation: Conversation, graph: RuleGraph, tags: list[str]
) -> list[Fact]:
    facts = [
        Fact(("conversation_tag", tag.id), {"kind": "add_tag", "tag": tag.name})
        for tag in conversation.tags
    ]
    firings = session.scalars(
        select(RuleFiring).where(
            RuleFiring.trigger_key.startswith(f"c{conversation.id}:"),
            RuleFiring.outcome == "fired",
        )
    )
    for firing in firings:
        rule = graph.rule(firing.rule_name)
        if rule is None:
            continue
        for action in _actions_fired(rule.blocks, firing.trigger_key):
            effect = action.constant
            if isinstance(effect, fx.AddTag) and effect.tag not in tags:
                facts.append(
                    Fact(
                        ("rule_firing", firing.id),
                        {"kind": "add_tag", "rule": rule.name, "tag": effect.tag},
                    )
                )
            if isinstance(effect, fx.RemoveTag) and effect.tag not in tags:
                facts.append(
                    Fact(
                        ("rule_firing", firing.id),
                        {"kind": "remove_tag", "rule": rule.name, "tag": effect.tag},
                    )
                )
    return facts


def _actions_fired(blocks: tuple[Block, ...], trigger_key: str) -> tuple[ActionSpec, ...]:
    """The actions a firing carried out: a delayed block's firing is keyed
    `...#after<block>`; any other firing ran the rule's `then` block, if it has one."""
    _, marker, number = trigger_key.rpartition("#after")
    if marker and number.isdigit():
        index = int(number)
        return blocks[index].actions if index < len(blocks) else ()
    return blocks[0].actions if blocks and blocks[0].delay is None else ()


def _tasks(tasks: list[Task], handles: dict[int, str]) -> list[Fact]:
    facts = []
    for task in tasks:
        if task.title.startswith(ESCALATION_TASK):
            continue  # part of an escalate effect
        assignee = handles.get(task.assignee_id) if task.assignee_id else None
        facts.append(
            Fact(
                ("task", task.id),
                {
                    "kind": "create_task",
                    "title": task.title,
                    "assignee": assignee,
                    "due_at": task.due_at,
                },
            )
        )
        facts.append(
            Fact(
                ("task", task.id),
                {"kind": "remind", "text": task.title, "recipient": assignee, "at": task.due_at},
            )
        )
    return facts


def _notification_note(audit: AuditLog) -> tuple[str | None, str]:
    """The note a notify effect writes next to its audit row."""
    return audit.actor_name, f"@{audit.detail.get('recipient')}: {audit.detail.get('text')}"


def _notes(notes: list[Note], audits: list[AuditLog]) -> list[Fact]:
    notified = {_notification_note(a) for a in audits if a.action == "notify"}
    facts = []
    for note in notes:
        if (note.author_rule, note.body) in notified:
            continue  # the notification's own note; the audit row is its fact
        if note.body.startswith(DRAFT_PREFIX):
            effect = {
                "kind": "draft_reply",
                "rule": note.author_rule,
                "text": note.body[len(DRAFT_PREFIX) :],
            }
        else:
            effect = {"kind": "add_note", "rule": note.author_rule, "text": note.body}
        facts.append(Fact(("note", note.id), effect))
    return facts


def _audited(
    audits: list[AuditLog], notes: list[Note], tasks: list[Task], handles: dict[int, str]
) -> list[Fact]:
    """Facts of the audit log; a notification counts only with its note, an escalation
    only with its task for the person escalated to."""
    noted = {(note.author_rule, note.body) for note in notes}
    escalations = {
        (task.title, handles.get(task.assignee_id) if task.assignee_id else None)
        for task in tasks
        if task.title.startswith(ESCALATION_TASK)
    }
    facts = []
    for audit in audits:
        if audit.actor_kind != "rule":
            continue
        detail, rule = audit.detail, audit.actor_name
        effect: dict[str, Any] | None = None
        if audit.action == "assign":
            effect = {"teammate": detail.get("teammate"), "team": detail.get("team")}
        elif audit.action == "route":
            effect = {}
        elif audit.action == "notify" and _notification_note(audit) in noted:
            effect = {"recipient": detail.get("recipient"), "text": detail.get("text")}
        elif audit.action == "escalate":
            task = (f"{ESCALATION_TASK}{rule}': please decide", detail.get("to"))
            effect = {"recipient": detail.get("to")} if task in escalations else None
        elif audit.action == "set_field":
            effect = {k: detail.get(k) for k in ("owner", "field", "value")}
        if effect is not None:
            facts.append(
                Fact(("audit_log", audit.id), {"kind": audit.action, "rule": rule, **effect})
            )
    return facts


def _assigned_in_place(record: Record) -> list[Fact]:
    owner, team = record.conversation["owner"], record.conversation["team"]
    return [Fact(("conversation", 0), {"kind": "assign", "teammate": owner, "team": team}, True)]


def _outbox(session: Session, conversation_id: int) -> list[Fact]:
    facts = []
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.conversation_id == conversation_id).order_by(OutboxRow.id)
    )
    for row in rows:
        payload = row.payload
        effect: dict[str, Any]
        if row.kind == "whatsapp.send":
            message = session.get(Message, int(payload["message_id"]))
            if message is None or message.author_kind != "rule":
                continue  # a teammate's send is not a rule effect
            effect = {"rule": message.author_rule}
            if payload.get("type") == "template":
                effect |= {
                    "kind": "send_template",
                    "template": payload.get("name"),
                    "language": payload.get("language"),
                    "variables": payload.get("body_parameters"),
                    "header_variables": payload.get("header_parameters"),
                }
            else:
                effect |= {"kind": "send_text", "text": payload.get("body")}
        elif row.kind == "payment.request":
            effect = {
                "kind": "request_payment",
                "rule": payload.get("rule"),
                "amount": payload.get("amount"),
                "provider": payload.get("provider"),
            }
        elif row.kind == "integration.call":
            effect = {
                "kind": "call_integration",
                "rule": payload.get("rule"),
                "integration": payload.get("integration"),
                "operation": payload.get("operation"),
            }
        else:
            continue
        facts.append(Fact(("outbox_row", row.id), effect))
    return facts


def _scheduled(session: Session, conversation_id: int) -> list[Fact]:
    return [
        Fact(
            ("scheduled_action", action.id),
            {
                "kind": "schedule_delayed",
                "rule": action.rule_name,
                "block": action.block,
                "due_at": action.due_at,
                "guard": action.guard_text,
            },
        )
        for action in session.scalars(
            select(ScheduledAction)
            .where(ScheduledAction.conversation_id == conversation_id)
            .order_by(ScheduledAction.id)
        )
    ]
