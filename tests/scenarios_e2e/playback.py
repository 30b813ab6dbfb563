"""One scenario played through the real engine, each event the way production applies it.

- The workspace is loaded from its folder with `load_folder`; the scenario's contact,
  conversation and business objects become rows, the contact with a WhatsApp number.
- `message received`: a signed WhatsApp webhook body (built with the simulator's
  payload builders) goes through `receive_webhook` (store raw, commit, enqueue), then
  the worker's `process_inbound_event` job applies it and runs the rules.
- `stage entered` and `tag added`: a teammate's action through the inbox's own services
  (`move_stage`, `add_tag`), then the domain event through `run_event` in the same
  transaction, as DESIGN says staff actions enter the engine (the inbox's page and API
  routes do not raise that event yet).
- `schedule`: the worker's schedule loop (`run_due_schedules`) at that moment.
- any other event (conversation opened, payment, integration, SLA, ...): `run_event`
  in a workspace transaction, as an integration or a staff action would.
- time passing (before every event, and `tick`): the frozen clock steps to each moment
  something falls due (a delayed action, an SLA warning or deadline, an outbox retry),
  and at each the sweeper runs and its jobs are carried out, as a worker running the
  sweeper every few seconds would. After every event the same happens at that moment,
  so outbox rows are dispatched (to a fake WhatsApp sender) before the next event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from connectors.whatsapp.signature import sign
from connectors.whatsapp.simulator.payloads import (
    MEDIA_MIME,
    Business,
    inbound_message,
    message_webhook,
    new_wamid,
)
from dsl.scenarios import instant, plain
from engine.auth.principal import Principal, Role
from engine.automation.runner import rules_in_force, run_event
from engine.automation.schedules import run_due_schedules
from engine.conversations.threads import lock_conversation
from engine.core.clock import FrozenClock
from engine.core.config import BusinessNumber, WorkspaceConfig
from engine.core.rules.events import DomainEvent
from engine.core.rules.graph import RuleGraph
from engine.db import workspace_session
from engine.inbox.stages import move_stage
from engine.inbox.work import add_tag
from engine.models import (
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    ConversationTag,
    Identity,
    OutboxRow,
    RuleFiring,
    ScheduledAction,
    SlaClock,
    StageHistory,
    Team,
    Teammate,
)
from engine.whatsapp.webhook import WhatsAppSecrets, receive_webhook
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from tests.scenarios_e2e.jobs import Jobs, settle

APP_SECRET = "scenario-app-secret"
CONVERSATION_COLUMNS = {
    "number",
    "status",
    "owner",
    "team",
    "priority",
    "pipeline",
    "stage",
    "tags",
    "waiting_on",
}
CONTACT_COLUMNS = {"name", "first_name", "language"}
OBJECT_COLUMNS = {"reference", "amount", "status", "pipeline", "stage"}


class SetupError(Exception):
    """The scenario asks for a starting state or an event this playback cannot build."""


class Playback:
    """Plays one scenario on the workspace of `folder` (a copy of a sample, its own slug)."""

    def __init__(
        self,
        db: Engine,
        folder: Path,
        jobs: Jobs,
        clock: FrozenClock,
        configs: ConfigDirectory,
    ) -> None:
        self.db = db
        self.folder = folder
        self.jobs = jobs
        self.clock = clock
        self.configs = configs
        self.slug = folder.name
        digits = int(hashlib.sha256(self.slug.encode()).hexdigest(), 16) % 10**8
        self.wa_id = f"2547{digits:08d}"
        self.workspace_id = 0
        self.conversation_id = 0

    @property
    def config(self) -> WorkspaceConfig:
        compiled = self.configs.compiled(self.slug)
        assert compiled is not None and compiled.config is not None
        return compiled.config

    @property
    def graph(self) -> RuleGraph:
        compiled = self.configs.compiled(self.slug)
        assert compiled is not None and compiled.graph is not None
        return compiled.graph

    # ----- the whole scenario
    def play(self, scenario: dict[str, Any]) -> None:
        events: list[dict[str, Any]] = scenario["events"]
        start = instant(events[0]["at"])
        self.clock.set(start)
        self.workspace_id = load_folder(self.db, self.folder, start)
        self.conversation_id = self._create(scenario, start)
        for index, event in enumerate(events):
            at = instant(event["at"])
            self.advance_to(at)
            self._apply(index, event, at)
            settle(self.jobs, self.workspace_id, at)

    # ----- time
    def advance_to(self, target: datetime) -> None:
        """Let time pass up to `target`, stopping wherever something falls due."""
        settle(self.jobs, self.workspace_id, self.clock.now())
        while (moment := self._next_due(target)) is not None:
            self.clock.set(moment)
            settle(self.jobs, self.workspace_id, moment)
        if target > self.clock.now():
            self.clock.set(target)
        settle(self.jobs, self.workspace_id, self.clock.now())

    def _next_due(self, until: datetime) -> datetime | None:
        """The first moment after now and at or before `until` that the sweeper acts on."""
        now = self.clock.now()
        with workspace_session(self.db, self.workspace_id) as session:
            candidates = [
                session.scalar(
                    select(func.min(column)).where(column > now, column <= until, *where)
                )
                for column, where in (
                    (ScheduledAction.due_at, (ScheduledAction.state == "pending",)),
                    (
                        SlaClock.warn_at,
                        (SlaClock.stopped_at.is_(None), SlaClock.warned_at.is_(None)),
                    ),
                    (
                        SlaClock.due_at,
                        (SlaClock.stopped_at.is_(None), SlaClock.breached_at.is_(None)),
                    ),
                    (OutboxRow.next_attempt_at, (OutboxRow.state == "queued",)),
                )
            ]
        due = [c for c in candidates if c is not None]
        return min(due) if due else None

    # ----- the starting state
    def _create(self, scenario: dict[str, Any], start: datetime) -> int:
        wanted = plain(dict(scenario.get("conversation") or {}))
        person = plain(dict(scenario.get("contact") or {}))
        objects = plain(dict(scenario.get("objects") or {}))
        with workspace_session(self.db, self.workspace_id) as session:
            teammates = {t.handle: t.id for t in session.scalars(select(Teammate))}
            teams = {t.handle: t.id for t in session.scalars(select(Team))}
            contact = self._contact(session, person, start)
            conversation = Conversation(
                contact_id=contact.id,
                business_number=self.number(wanted.get("number")).phone,
                status=wanted.get("status", "open"),
                owner_id=teammates[wanted["owner"]] if "owner" in wanted else None,
                team_id=teams[wanted["team"]] if "team" in wanted else None,
                priority=wanted.get("priority", "normal"),
                pipeline=wanted.get("pipeline"),
                stage=wanted.get("stage"),
                waiting_on=wanted.get("waiting_on"),
                opened_at=start,
                fields={k: v for k, v in wanted.items() if k not in CONVERSATION_COLUMNS},
            )
            session.add(conversation)
            session.flush()
            for tag in wanted.get("tags", []):
                session.add(ConversationTag(conversation_id=conversation.id, name=tag))
            for kind, fields in objects.items():
                self._business_object(session, kind, fields, contact, conversation)
            session.commit()
            return conversation.id

    def _contact(self, session: Session, person: dict[str, Any], start: datetime) -> Contact:
        name = person.get("name") or person.get("first_name")
        first = person.get("first_name")
        if first and name and str(name).split()[0] != first:
            # The engine reads contact.first_name off the name; it keeps no separate one.
            raise SetupError(f"first_name {first!r} is not the first word of name {name!r}")
        contact = Contact(
            name=name,
            profile_name=name,
            language=person.get("language"),
            fields={k: v for k, v in person.items() if k not in CONTACT_COLUMNS},
        )
        session.add(contact)
        session.flush()
        session.add(
            Identity(
                contact_id=contact.id,
                channel="whatsapp",
                address=f"+{self.wa_id}",
                valid_from=start,
                is_current=True,
            )
        )
        return contact

    def _business_object(
        self,
        session: Session,
        kind: str,
        fields: dict[str, Any],
        contact: Contact,
        conversation: Conversation,
    ) -> None:
        stage = fields.get("stage")
        pipeline = fields.get("pipeline") or (self._pipeline_of(kind, stage) if stage else None)
        amount = fields.get("amount")
        item = BusinessObject(
            kind=kind,
            external_ref=fields.get("reference"),
            status=fields.get("status", "open"),
            amount=Decimal(str(amount)) if amount is not None else None,
            currency=self.config.currency if amount is not None else None,
            fields={k: v for k, v in fields.items() if k not in OBJECT_COLUMNS},
            contact_id=contact.id,
            pipeline=pipeline,
            stage=stage,
        )
        session.add(item)
        session.flush()
        session.add(BusinessObjectLink(business_object_id=item.id, conversation_id=conversation.id))

    def _pipeline_of(self, subject: str, stage: str) -> str:
        for pipeline in self.config.pipelines:
            if pipeline.subject == subject and any(s.name == stage for s in pipeline.stages):
                return pipeline.name
        raise SetupError(f"no {subject} pipeline has a stage {stage!r}")

    def number(self, name: str | None) -> BusinessNumber:
        numbers = self.config.numbers
        if name is None:
            return numbers[0]
        for number in numbers:
            if number.name == name:
                return number
        raise SetupError(f"the workspace has no number named {name!r}")

    # ----- events
    def _apply(self, index: int, event: dict[str, Any], at: datetime) -> None:
        kind = str(event["kind"]).strip().replace(" ", "_")
        if kind == "tick":
            return
        if kind == "message_received":
            self._customer_writes(index, plain(dict(event.get("message") or {})), at)
        elif kind == "schedule":
            self._schedule_runs(str(event["key"]), at)
        else:
            self._domain_event(index, kind, event, at)

    def _customer_writes(self, index: int, message: dict[str, Any], at: datetime) -> None:
        """The customer's message arrives as WhatsApp would post it to the webhook route."""
        with workspace_session(self.db, self.workspace_id) as session:
            conversation = session.get(Conversation, self.conversation_id)
            assert conversation is not None
            sent_on = next(
                n for n in self.config.numbers if n.phone == conversation.business_number
            )
            name = conversation.contact.name or "Customer"
        business = Business("1", sent_on.phone_number_id, sent_on.phone.lstrip("+"))
        item = inbound_message(
            whatsapp_step(message),
            wamid=new_wamid(f"{self.slug}:{index}"),
            wa_id=self.wa_id,
            timestamp=int(at.timestamp()),
            business_number=business.display_phone_number,
            last_business_message=None,
        )
        body = json.dumps(message_webhook(business, self.wa_id, name, item)).encode()
        outcome = receive_webhook(
            db=self.db,
            queue=self.jobs.queue,
            secrets=lambda _slug: WhatsAppSecrets(app_secret=APP_SECRET, verify_token=None),
            slug=self.slug,
            body=body,
            signature=sign(body, APP_SECRET),
            now=at,
        )
        if (outcome.status, outcome.stored) != (200, 1):
            raise SetupError(f"the webhook was not stored: {outcome}")

    def _schedule_runs(self, rule: str, at: datetime) -> None:
        run_due_schedules(self.db, self.configs, at)
        with workspace_session(self.db, self.workspace_id) as session:
            claimed = session.scalar(
                select(RuleFiring.id).where(
                    RuleFiring.rule_name == rule, RuleFiring.trigger_key.startswith("schedule:")
                )
            )
        if claimed is None:
            raise SetupError(f"the scheduled rule {rule!r} is not due at {at.isoformat()}")

    def _domain_event(self, index: int, kind: str, event: dict[str, Any], at: datetime) -> None:
        data: dict[str, Any] = plain(dict(event.get("data") or {}))
        for name in ("message", "payment", "task", "sla"):
            if name in event:
                data[name] = plain(event[name])
        key = event.get("key")
        with workspace_session(self.db, self.workspace_id) as session:
            rules = rules_in_force(session, self.configs, self.workspace_id)
            found = session.get(Conversation, self.conversation_id)
            if rules is None or found is None:
                raise SetupError("no rules in force or no conversation")
            conversation = lock_conversation(session, found)
            if kind == "stage_entered":
                data.setdefault("pipeline", self._staff_moves(session, conversation, key, at))
            elif kind == "tag_added":
                add_tag(session, self._staff(session), conversation.id, str(key), at)
            domain = DomainEvent(kind, f"scenario:{index}:{kind}", at, key, data)
            run_event(session, rules, conversation, domain, at)
            session.commit()

    def _staff(self, session: Session) -> Principal:
        admin = session.scalars(select(Teammate).where(Teammate.role == "admin")).first()
        if admin is None:
            raise SetupError("the workspace has no admin to act as staff")
        return Principal(self.workspace_id, Role.ADMIN, admin.name, admin.id)

    def _staff_moves(
        self, session: Session, conversation: Conversation, stage: Any, at: datetime
    ) -> str:
        """A teammate moves the conversation (through the inbox's `move_stage`, which
        allows only the configured moves), or its business object, to `stage`."""
        pipelines = self.graph.stage_pipelines.get(str(stage), ())
        if not pipelines:
            raise SetupError(f"no pipeline has a stage {stage!r}")
        pipeline = pipelines[0]
        subject_kind = self.graph.pipeline_subjects.get(pipeline, "conversation")
        staff = self._staff(session)
        if subject_kind == "conversation":
            move_stage(
                session,
                staff,
                conversation.id,
                pipelines=self.config.pipelines,
                stage=str(stage),
                expected_stage=conversation.stage,
                now=at,
            )
            return pipeline
        # No staff service moves a business object yet: the same record, written here.
        linked = [o for o in conversation.business_objects if o.kind == subject_kind]
        if not linked:
            raise SetupError(f"no {subject_kind} to move to {stage!r}")
        item = max(linked, key=lambda o: o.id)
        session.add(
            StageHistory(
                subject_kind="business_object",
                subject_id=item.id,
                pipeline=pipeline,
                from_stage=item.stage if item.pipeline == pipeline else None,
                to_stage=str(stage),
                actor_kind="teammate",
                actor_teammate_id=staff.teammate_id,
                at=at,
            )
        )
        item.pipeline, item.stage = pipeline, str(stage)
        session.flush()
        return pipeline


def whatsapp_step(message: dict[str, Any]) -> dict[str, Any]:
    """A scenario's message as a simulator step: text, a button press, or a file."""
    kind = message.get("type", "text")
    if message.get("button"):
        return {"button": {"text": message["button"], "payload": message["button"]}}
    if kind in MEDIA_MIME:
        media = {"filename": message.get("file_name"), "caption": message.get("caption")}
        return {kind: {k: v for k, v in media.items() if v is not None}}
    if kind == "text":
        return {"text": message.get("text", "")}
    raise SetupError(f"no WhatsApp message of type {kind!r} to build")
