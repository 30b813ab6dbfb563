"""`step(state, input, graph, now)`: everything one input does to one conversation.

The one implementation of Kazi's rule semantics (DESIGN: one semantics). The
worker, delayed actions, SLA clocks, staff actions and `kazi test` all call it;
the engine around it only locks, loads, steps and persists. It reads no clock
and does no I/O: given the same state, input, graph and time it returns the same
outcome.

An input first changes the record as a fact (a customer message makes the
conversation wait on us), then runs through the compiled rules. Each fired
rule's effects change the state at once and raise follow-on events, evaluated
in turn, depth first, under two brakes (DESIGN rule 7): a rule fires at most
once per (rule, event), a cascade stops at MAX_CASCADE, and a rule that fired
FIRINGS_PER_RULE_PER_HOUR times on one conversation in the last hour is stopped
and the managers are told. Finally the SLA clocks are brought in line with the
new state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.core.config import Pipeline, Template, WorkspaceConfig
from engine.core.rich import OUTSIDE_WINDOW_RICH
from engine.core.rich import preview as rich_preview
from engine.core.rich import problem as rich_problem
from engine.core.rules import effects as fx
from engine.core.rules.evaluate import actions, filled_template, match, resumed, roots
from engine.core.rules.events import DomainEvent, TriggerKind
from engine.core.rules.graph import Roots, RuleGraph
from engine.core.states import ConversationStatus, Priority, WaitingOn
from engine.core.step import outcome as out
from engine.core.step.clocks import plan_clocks, policy_for
from engine.core.step.inputs import SYSTEM, Actor, ClockDue, Command, DelayDue, Input
from engine.core.step.routing import choose_owner
from engine.core.step.state import ObjectState, PendingDelay, State
from engine.core.step.view import snapshot

MAX_CASCADE = 25
FIRINGS_PER_RULE_PER_HOUR = 30
SERVICE_WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = (
    "The customer last wrote more than 24 hours ago: WhatsApp allows only an approved "
    "template now. Send a template instead."
)
_STATUS_WAITING = {
    ConversationStatus.WAITING_ON_US: WaitingOn.US,
    ConversationStatus.WAITING_ON_CUSTOMER: WaitingOn.CUSTOMER,
}


def step(state: State, input: Input, graph: RuleGraph, now: datetime) -> out.Outcome:
    """Apply `input` to `state` under `graph` at `now`; the new state and all that follows."""
    run = _Run(state, graph, now)
    try:
        match input:
            case DomainEvent():
                run.record(input)
                run.event(input, 0)
            case Command():
                run.command(input)
            case DelayDue():
                run.delay_due(input.delay)
            case ClockDue():
                run.clock_due(input.kind)
    except Refused as refused:
        return out.Outcome(state=state, refused=out.Refusal(str(refused), refused.conflict))
    run.refresh_clocks()
    return run.outcome()


def window_is_open(state: State, now: datetime) -> bool:
    """Free text is allowed within 24 hours of the customer's last message (DESIGN rule 9)."""
    last = state.conversation.last_inbound_at
    return last is not None and now < last + SERVICE_WINDOW


class Refused(Exception):
    """A person asked for something the record does not allow; nothing is applied."""

    def __init__(self, reason: str, conflict: bool = False) -> None:
        super().__init__(reason)
        self.conflict = conflict


class _Run:
    """The bookkeeping of one step: the state as it evolves and what it has produced."""

    def __init__(self, state: State, graph: RuleGraph, now: datetime) -> None:
        self.state = state
        self.graph = graph
        self.now = now
        self.events: list[DomainEvent] = []
        self.changes: list[out.Change] = []
        self.intents: list[out.Intent] = []
        self.firings: list[out.Firing] = []
        self.traces: list[out.EventTrace] = []
        self.effects: list[fx.Effect] = []
        self.fired: set[tuple[str, str]] = set()
        self.recent = dict(state.recent_firings)
        self.counter = 0
        self.key_base = ""

    # ----- the outcome --------------------------------------------------------------
    def outcome(self) -> out.Outcome:
        return out.Outcome(
            state=self.state,
            events=tuple(self.events),
            changes=tuple(self.changes),
            intents=tuple(self.intents),
            firings=tuple(self.firings),
            traces=tuple(self.traces),
            effects=tuple(self.effects),
        )

    @property
    def config(self) -> WorkspaceConfig | None:
        return self.graph.config

    def new_key(self, what: str) -> str:
        """A key for something this step creates, unique across steps of one conversation."""
        self.counter += 1
        return f"new:{self.key_base}:{what}{self.counter}"

    def change(self, *items: out.Change) -> None:
        self.changes.extend(items)

    def set_conversation(self, **values: Any) -> None:
        self.state = replace(self.state, conversation=replace(self.state.conversation, **values))

    # ----- inputs ---------------------------------------------------------------------
    def record(self, event: DomainEvent) -> None:
        """What an input event itself changes, before any rule sees it."""
        self.key_base = self.key_base or event.id
        conversation = self.state.conversation
        if event.kind == TriggerKind.MESSAGE_RECEIVED:
            at = event.occurred_at
            # Messages can arrive out of order: the window and waiting-on follow the newest.
            if conversation.last_inbound_at is None or at >= conversation.last_inbound_at:
                self.set_conversation(
                    last_inbound_at=at,
                    waiting_on=WaitingOn.US,
                    status=ConversationStatus.WAITING_ON_US,
                    snoozed_until=None,
                )
        elif event.kind == TriggerKind.REACTION_RECEIVED:
            # Activity in the chat keeps WhatsApp's window open (reference §8.1), but a
            # reaction asks nothing of us: waiting-on and the status stay as they are.
            at = event.occurred_at
            if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
                self.set_conversation(last_inbound_at=at)
        elif event.kind == TriggerKind.MESSAGE_SENT_FROM_APP:
            self.sent_from_app(event.occurred_at)
        elif event.kind == TriggerKind.STAGE_ENTERED and event.key:
            subject = self.stage_subject(event)
            if subject is None:
                return
            pipeline, key = subject
            if key is None:
                self.set_conversation(pipeline=pipeline, stage=event.key)
            else:
                item = self.state.object(key)
                if item is not None:
                    self.state = self.state.with_object(
                        replace(item, pipeline=pipeline, stage=event.key)
                    )
        elif event.kind == TriggerKind.STATUS_CHANGED and event.key:
            self.set_conversation(status=event.key)
        elif (
            event.kind == TriggerKind.TAG_ADDED and event.key and event.key not in conversation.tags
        ):
            self.set_conversation(tags=(*conversation.tags, event.key))

    def stage_subject(self, event: DomainEvent) -> tuple[str, str | None] | None:
        """(pipeline, object key or None for the conversation) a stage event is about."""
        pipeline = event.data.get("pipeline")
        if not isinstance(pipeline, str) or not pipeline:
            candidates = self.graph.stage_pipelines.get(event.key or "", ())
            if not candidates:
                return None
            pipeline = candidates[0]
        kind = self.graph.pipeline_subjects.get(pipeline, "conversation")
        if kind == "conversation":
            return pipeline, None
        focus = self.state.object(_subject_of(event))
        item = focus if focus is not None and focus.kind == kind else self.state.newest(kind)
        return (pipeline, item.key) if item is not None else None

    def command(self, command: Command) -> None:
        self.key_base = command.id
        trigger = DomainEvent("command", command.id, command.occurred_at)
        for position, effect in enumerate(command.effects):
            for follow in self.apply(effect, command.actor, trigger, position):
                self.event(follow, 1)

    def delay_due(self, delay: PendingDelay) -> None:
        key = delay.key
        if all(d.key != key for d in self.state.pending):
            return  # it ran already or was cancelled: a delay acts once at most
        self.key_base = f"{delay.event_id}#after{delay.block}"
        self.state = replace(
            self.state, pending=tuple(d for d in self.state.pending if d.key != key)
        )
        scheduled = fx.ScheduleDelayed(
            rule=delay.rule,
            block=delay.block,
            due_at=delay.due_at,
            scheduled_at=delay.scheduled_at,
            event_id=delay.event_id,
            stage=delay.stage,
            status=delay.status,
            guard=delay.guard,
        )
        trigger = DomainEvent(
            "scheduled", self.key_base, self.now, delay.rule, subject=delay.subject
        )
        verdict, effects = resumed(
            self.graph, scheduled, lambda: self.values(trigger, with_event=False), self.now
        )
        self.traces.append(out.EventTrace(trigger, (verdict,)))
        if effects is None:
            reason = verdict.failed or verdict.reason or "nothing to do"
            self.change(out.DelayFinished(key, "skipped", reason))
            return
        self.events.append(trigger)
        self.fire(delay.rule, effects, trigger, 1)
        self.change(out.DelayFinished(key, "done"))

    def clock_due(self, kind: str) -> None:
        self.refresh_clocks()
        clock = next((c for c in self.state.clocks if c.kind == kind), None)
        if clock is None:
            return  # met or no longer applies: nothing to report
        if clock.paused_at is not None and (
            clock.paused_until is None or clock.paused_until > self.now
        ):
            return  # a paused clock is neither warned nor breached; it moves on when it resumes
        self.key_base = f"sla:{clock.key}"
        if clock.breached_at is None and clock.due_at <= self.now:
            reported, trigger = "breached", TriggerKind.SLA_BREACHED
            clock = replace(clock, breached_at=self.now)
        elif clock.warned_at is None and clock.warn_at is not None and clock.warn_at <= self.now:
            reported, trigger = "warned", TriggerKind.SLA_WARNING
            clock = replace(clock, warned_at=self.now)
        else:
            return
        self.state = replace(
            self.state,
            clocks=tuple(clock if c.key == clock.key else c for c in self.state.clocks),
        )
        self.change(out.ClockReported(clock.key, reported, self.now))
        event = DomainEvent(
            trigger.value,
            f"sla:{clock.key}:{trigger.value}",
            self.now,
            key=clock.policy,
            data={"sla": {"policy": clock.policy, "kind": clock.kind, "due_at": clock.due_at}},
        )
        self.event(event, 0)

    # ----- events through the rules ------------------------------------------------------
    def event(self, event: DomainEvent, depth: int) -> None:
        if depth > MAX_CASCADE:
            self.stop(event.caused_by or "?", "rules keep triggering each other")
            return
        self.key_base = self.key_base or event.id
        self.events.append(event)
        follow_ups: list[DomainEvent] = []
        if event.kind == TriggerKind.CONVERSATION_OPENED:
            follow_ups = self.start(event)
        matched = match(self.graph, event, snapshot(self.state, event.subject), self.now)
        if matched.trace:
            self.traces.append(out.EventTrace(event, matched.trace))
        for rule in matched.rules:
            effects = actions(self.graph, rule, event, lambda: self.values(event), self.now)
            self.fire(rule.name, effects, event, depth)
        for follow in follow_ups:
            self.event(follow, depth + 1)

    def values(self, event: DomainEvent, with_event: bool = True) -> Roots:
        """What conditions and action values read now: the state as it stands, the event."""
        return roots(event if with_event else None, snapshot(self.state, event.subject))

    def fire(
        self, rule: str, effects: Iterable[fx.Effect], trigger: DomainEvent, depth: int
    ) -> None:
        """Carry out a fired rule's effects in order, once per (rule, event), under the brake."""
        if (rule, trigger.id) in self.fired:
            return
        self.fired.add((rule, trigger.id))
        count = self.recent.get(rule, 0)
        if count >= FIRINGS_PER_RULE_PER_HOUR:
            self.firings.append(out.Firing(rule, trigger, "stopped"))
            self.stop(rule, f"fired {count} times in the last hour")
            return
        self.recent[rule] = count + 1
        place = len(self.firings)
        self.firings.append(out.Firing(rule, trigger, "fired"))
        done: list[dict[str, Any]] = []
        actor = Actor.rule(rule)
        for position, effect in enumerate(effects):
            follow_ups = self.apply(effect, actor, trigger, position)
            done.append(fx.effect_to_json(self.effects[-1]))
            for follow in follow_ups:
                self.event(follow, depth + 1)
        self.firings[place] = out.Firing(rule, trigger, "fired", tuple(done))

    def stop(self, rule: str, why: str) -> None:
        self.change(
            out.Audited("rule_stopped", SYSTEM, detail={"rule": rule, "why": why}),
            out.NoteAdded(
                f"Automation '{rule}' was stopped here: {why}. A manager should check the rule.",
                Actor.rule(rule),
            ),
        )

    def start(self, event: DomainEvent) -> list[DomainEvent]:
        """A conversation just opened: put it at the start of its pipeline and give it an
        owner by routing.yaml. Returns the stage-entered event, run after the opening's rules."""
        follow_ups: list[DomainEvent] = []
        conversation = self.state.conversation
        config = self.config
        pipeline = (
            config.starting_pipeline(conversation.phone_number or "")
            if config is not None
            else None
        )
        if pipeline is not None and conversation.stage is None:
            self.set_conversation(pipeline=pipeline.name, stage=pipeline.initial)
            self.change(
                out.StageMoved(out.CONVERSATION, pipeline.name, None, pipeline.initial, SYSTEM)
            )
            follow_ups.append(
                DomainEvent(
                    TriggerKind.STAGE_ENTERED.value,
                    f"{event.id}>stage_entered:{pipeline.initial}",
                    self.now,
                    key=pipeline.initial,
                    data={"pipeline": pipeline.name},
                )
            )
        if conversation.owner is None and conversation.team is None:
            self.route(event, SYSTEM)
        return follow_ups

    def route(self, trigger: DomainEvent, actor: Actor) -> bool:
        values = roots(trigger, snapshot(self.state, _subject_of(trigger)))
        decision = choose_owner(
            self.graph, values, self.state.roster, self.now, self.state.contact.language
        )
        if decision is None:
            return False
        conversation = self.state.conversation
        if (decision.team, decision.owner) == (conversation.team, conversation.owner):
            return False
        self.set_conversation(team=decision.team, owner=decision.owner)
        detail: dict[str, Any] = {"routing_rule": decision.rule, "owner": decision.owner}
        if decision.why:
            detail["why"] = decision.why
        self.change(out.Audited("route", actor, detail=detail))
        return True

    # ----- effects -----------------------------------------------------------------------
    def apply(
        self, effect: fx.Effect, actor: Actor, trigger: DomainEvent, position: int
    ) -> list[DomainEvent]:
        """Carry out one effect on the state; the events it raises for the rules."""
        if actor.is_rule:
            self.effects.append(effect)
        handler = getattr(self, f"_{fx.effect_kind(effect)}", None)
        if handler is None:
            raise TypeError(f"no handler for effect {type(effect).__name__}")
        result: list[DomainEvent] = handler(effect, _Cause(actor, trigger, position))
        return result

    def refuse_or_audit(self, cause: _Cause, why: str, action: str, **detail: Any) -> None:
        """A person is told why not; a rule's skipped action goes to the audit trail."""
        if cause.actor.is_person or not cause.actor.is_rule:
            raise Refused(why)
        self.change(out.Audited(action, cause.actor, detail={**detail, "why": why}))

    def follow(
        self,
        cause: _Cause,
        kind: TriggerKind,
        key: str | None,
        subject: str | None = None,
        **data: Any,
    ) -> DomainEvent:
        by = cause.actor.name if cause.actor.is_rule else f"{cause.actor.kind}"
        about = f"@{subject}" if subject else ""
        return DomainEvent(
            kind=kind.value,
            id=f"{cause.trigger.id}>{by}>{kind.value}:{key}{about}",
            occurred_at=self.now,
            key=key,
            data=data,
            caused_by=cause.actor.name if cause.actor.is_rule else None,
            subject=subject,
        )

    def _assign(self, effect: fx.Assign, cause: _Cause) -> list[DomainEvent]:
        conversation = self.state.conversation
        team, owner = conversation.team, conversation.owner
        if effect.claim and owner is not None and owner != effect.teammate:
            raise Refused(f"{owner} already owns this conversation", conflict=True)
        if effect.check_owner and owner != effect.expected_owner:
            raise Refused(
                f"{owner or 'nobody'} owns this conversation now; reload to see the latest",
                conflict=True,
            )
        if effect.team:
            team = effect.team
        if effect.teammate:
            member = self.state.roster.member(effect.teammate)
            if member is None or not member.active:
                self.refuse_or_audit(
                    cause,
                    f"{effect.teammate} is not an active teammate",
                    "assign_skipped",
                    teammate=effect.teammate,
                )
                return []
            owner = member.handle
        elif effect.unassign:
            owner = None
        if (team, owner) == (conversation.team, conversation.owner):
            return []
        self.set_conversation(team=team, owner=owner)
        self.change(
            out.Audited(
                "claim" if effect.claim else "assign",
                cause.actor,
                detail={"from_owner": conversation.owner, "teammate": owner, "team": team},
            )
        )
        return [self.follow(cause, TriggerKind.ASSIGNED, None)]

    def _route(self, effect: fx.Route, cause: _Cause) -> list[DomainEvent]:
        if not self.route(cause.trigger, cause.actor):
            return []
        return [self.follow(cause, TriggerKind.ASSIGNED, None)]

    def _move_stage(self, effect: fx.MoveStage, cause: _Cause) -> list[DomainEvent]:
        pipeline = self.config.pipeline(effect.pipeline) if self.config else None
        if pipeline is None:
            self.refuse_or_audit(cause, f"there is no pipeline '{effect.pipeline}'", "move_skipped")
            return []
        if effect.stage not in pipeline.stage_names():
            self.refuse_or_audit(
                cause, f"{pipeline.name} has no stage '{effect.stage}'", "move_skipped"
            )
            return []
        key: str | None = None
        if pipeline.subject == "conversation":
            conversation = self.state.conversation
            current = conversation.stage if conversation.pipeline == pipeline.name else None
        else:
            item = self.subject_object(pipeline.subject, effect.subject, cause.trigger)
            if item is None:
                self.refuse_or_audit(
                    cause,
                    f"there is no {pipeline.subject} on this conversation to move",
                    "move_skipped",
                    reason=f"no linked {pipeline.subject}",
                )
                return []
            key = item.key
            current = item.stage if item.pipeline == pipeline.name else None
        if effect.check_from and current != effect.from_stage:
            raise Refused(
                f"the stage changed to {current or 'none'} meanwhile; reload to see it",
                conflict=True,
            )
        if current == effect.stage:
            return []
        if current is not None and not pipeline.allows(current, effect.stage):
            allowed = sorted(m.target for m in pipeline.moves if m.source == current)
            self.refuse_or_audit(
                cause,
                f"{pipeline.name} does not allow moving from {current} to {effect.stage!r}; "
                f"allowed: {', '.join(allowed) or 'none'}",
                "move_refused",
                source=current,
                target=effect.stage,
            )
            return []
        return self.enter_stage(pipeline, key, current, effect.stage, cause)

    def enter_stage(
        self,
        pipeline: Pipeline,
        key: str | None,
        current: str | None,
        stage: str,
        cause: _Cause,
    ) -> list[DomainEvent]:
        if key is None:
            self.set_conversation(pipeline=pipeline.name, stage=stage)
        else:
            item = self.state.object(key)
            assert item is not None
            self.state = self.state.with_object(replace(item, pipeline=pipeline.name, stage=stage))
        target = next(s for s in pipeline.stages if s.name == stage)
        if target.waiting_on and self.state.conversation.status != ConversationStatus.RESOLVED:
            self.set_conversation(waiting_on=target.waiting_on)
        self.change(
            out.StageMoved(key or out.CONVERSATION, pipeline.name, current, stage, cause.actor)
        )
        events = []
        if current is not None:
            events.append(
                self.follow(cause, TriggerKind.STAGE_LEFT, current, key, pipeline=pipeline.name)
            )
        events.append(
            self.follow(cause, TriggerKind.STAGE_ENTERED, stage, key, pipeline=pipeline.name)
        )
        return events

    def subject_object(
        self, kind: str, named: str | None, trigger: DomainEvent
    ) -> ObjectState | None:
        """The object an action is about: the one named, else the one the triggering event
        is about, else the newest linked object of the kind."""
        if named is not None:
            item = self.state.object(named)
            return item if item is not None and item.kind == kind else None
        focus = self.state.object(_subject_of(trigger))
        if focus is not None and focus.kind == kind:
            return focus
        return self.state.newest(kind)

    def _create_object(self, effect: fx.CreateObject, cause: _Cause) -> list[DomainEvent]:
        pipeline = self.pipeline_for(effect.object_kind, effect.pipeline)
        conversation = self.state.conversation
        count = 1 + sum(1 for o in self.state.objects if o.kind == effect.object_kind)
        key = self.new_key(effect.object_kind)
        item = ObjectState(
            key=key,
            kind=effect.object_kind,
            reference=effect.reference or f"{effect.object_kind.upper()}-{conversation.id}-{count}",
            status=effect.status or "open",
            amount=effect.amount,
            currency=effect.currency or (self.config.currency if self.config else None),
            created_at=self.now,
        )
        self.state = self.state.with_object(item)
        self.change(
            out.ObjectCreated(key),
            out.Audited(
                "create_object", cause.actor, subject=key, detail={"kind": effect.object_kind}
            ),
        )
        if pipeline is None:
            return []
        return self.enter_stage(pipeline, key, None, pipeline.initial, cause)

    def pipeline_for(self, kind: str, named: str | None) -> Pipeline | None:
        if self.config is None:
            return None
        if named is not None:
            return self.config.pipeline(named)
        return next((p for p in self.config.pipelines if p.subject == kind), None)

    def _add_tag(self, effect: fx.AddTag, cause: _Cause) -> list[DomainEvent]:
        tags = self.state.conversation.tags
        if effect.tag in tags:
            return []
        self.set_conversation(tags=(*tags, effect.tag))
        return [self.follow(cause, TriggerKind.TAG_ADDED, effect.tag)]

    def _remove_tag(self, effect: fx.RemoveTag, cause: _Cause) -> list[DomainEvent]:
        tags = self.state.conversation.tags
        if effect.tag in tags:
            self.set_conversation(tags=tuple(t for t in tags if t != effect.tag))
        return []

    def recipient(self, recipient: fx.Recipient | None) -> tuple[str | None, str | None]:
        """(teammate handle, team name) an action is for; the owner when none is named."""
        if recipient is None or recipient.kind == "owner":
            return self.state.conversation.owner, None
        if recipient.kind == "teammate":
            return recipient.name, None
        return None, recipient.name

    def task(
        self,
        cause: _Cause,
        title: str,
        recipient: fx.Recipient | None,
        due: datetime | None,
        held: out.HeldSend | None = None,
    ) -> None:
        assignee, team = self.recipient(recipient)
        subject = self.state.object(_subject_of(cause.trigger))
        self.change(
            out.TaskCreated(
                title=title[:300],
                actor=cause.actor,
                assignee=assignee,
                team=team,
                recipient=recipient.kind if recipient is not None else "owner",
                due_at=due,
                subject=subject.key if subject is not None else out.CONVERSATION,
                held=held,
            ),
            out.Audited("create_task", cause.actor, detail={"title": title[:300]}),
        )

    def _create_task(self, effect: fx.CreateTask, cause: _Cause) -> list[DomainEvent]:
        self.task(cause, effect.title, effect.assignee, effect.due_at)
        return []

    def _remind(self, effect: fx.Remind, cause: _Cause) -> list[DomainEvent]:
        self.task(cause, effect.text, effect.recipient, effect.at)
        return []

    def _add_note(self, effect: fx.AddNote, cause: _Cause) -> list[DomainEvent]:
        self.change(out.NoteAdded(effect.text, cause.actor))
        return []

    def notify(self, cause: _Cause, recipient: fx.Recipient | None, text: str) -> None:
        """An in-app notification for each person the recipient names (a team: its members)."""
        handle, team = self.recipient(recipient)
        if team is not None:
            people = tuple(m.handle for m in self.state.roster.team_members(team) if m.active)
        else:
            people = (handle,) if handle is not None else ()
        if people:
            self.change(out.Notified(people, text, cause.actor.name or cause.actor.kind))

    def _notify(self, effect: fx.Notify, cause: _Cause) -> list[DomainEvent]:
        recipient = effect.recipient
        who = recipient.name if recipient and recipient.name else "owner"
        self.change(
            out.NoteAdded(f"@{who}: {effect.text}", cause.actor),
            out.Audited("notify", cause.actor, detail={"recipient": who, "text": effect.text}),
        )
        self.notify(cause, recipient, effect.text)
        return []

    def _draft_reply(self, effect: fx.DraftReply, cause: _Cause) -> list[DomainEvent]:
        # A model or a rule only suggests; a teammate decides and sends (DESIGN rule 10).
        self.change(
            out.NoteAdded(
                f"Suggested reply, for a teammate to check and send:\n{effect.text}", cause.actor
            )
        )
        return []

    def _escalate(self, effect: fx.Escalate, cause: _Cause) -> list[DomainEvent]:
        """One named person must decide: they get a task and a notification with the reason,
        the conversation turns urgent and is tagged `escalated` until they decide."""
        decider, team = self.recipient(effect.recipient)
        member = self.state.roster.member(decider) if decider else None
        if team is not None or member is None or not member.active:
            self.refuse_or_audit(
                cause,
                f"{decider or team or 'nobody'} is not an active teammate who can decide",
                "escalate_skipped",
                to=decider or team,
            )
            return []
        reason = " ".join(effect.reason.split())[:500]
        by = cause.actor.name or "a teammate"
        self.set_conversation(priority=Priority.URGENT)
        why = f": {reason}" if reason else ""
        recipient = fx.Recipient("teammate", member.handle)
        self.task(cause, f"Escalated by '{by}': please decide{why}", recipient, self.now)
        self.change(
            out.Escalated(member.handle, reason, cause.actor),
            out.Audited("escalate", cause.actor, detail={"to": member.handle, "reason": reason}),
        )
        self.notify(cause, recipient, f"{by} asks you to decide{why}")
        return self._add_tag(fx.AddTag(effect.rule, tag="escalated"), cause)

    def _decide_escalation(self, effect: fx.DecideEscalation, cause: _Cause) -> list[DomainEvent]:
        if effect.decision not in ("approved", "declined"):
            raise Refused("decide with approve or decline")
        note = effect.note.strip()[:2000]
        by = cause.actor.name or "a teammate"
        said = f": {note}" if note else ""
        self.change(
            out.EscalationDecided(effect.escalation, effect.decision, note, cause.actor),
            out.NoteAdded(f"Escalation {effect.decision} by {by}{said}", cause.actor),
            out.Audited(
                "escalation_decided",
                cause.actor,
                detail={"escalation": effect.escalation, "decision": effect.decision, "note": note},
            ),
        )
        if effect.asked_by and self.state.roster.member(effect.asked_by) is not None:
            self.notify(
                cause,
                fx.Recipient("teammate", effect.asked_by),
                f"{by} {effect.decision} your escalation{said}",
            )
        return self._remove_tag(fx.RemoveTag(effect.rule, tag="escalated"), cause)

    def _set_line_items(self, effect: fx.SetLineItems, cause: _Cause) -> list[DomainEvent]:
        item = self.subject_object(effect.owner, effect.subject, cause.trigger)
        if item is None:
            raise Refused(f"there is no {effect.owner} on this conversation")
        for line in effect.items:
            if not line.description.strip():
                raise Refused("each line needs a description or product")
            if not line.quantity.is_finite() or line.quantity <= 0:
                raise Refused(f"{line.description}: the quantity must be more than zero")
            if not line.unit_price.is_finite() or line.unit_price < 0:
                raise Refused(f"{line.description}: the price cannot be negative")
        if effect.items == item.items:
            return []
        amount = sum((line.total for line in effect.items), Decimal(0)) if effect.items else None
        currency = item.currency or (self.config.currency if self.config else None)
        self.state = self.state.with_object(
            replace(
                item,
                items=effect.items,
                amount=amount if effect.items else item.amount,
                currency=currency,
            )
        )
        self.change(
            out.Audited(
                "set_line_items",
                cause.actor,
                subject=item.key,
                detail={
                    "owner": effect.owner,
                    "lines": [
                        f"{line.quantity} x {line.description} @ {line.unit_price}"
                        for line in effect.items
                    ],
                    "amount": str(amount) if amount is not None else None,
                },
            )
        )
        return []

    def _set_field(self, effect: fx.SetField, cause: _Cause) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        if effect.owner == "conversation":
            if effect.field == "status":
                return self.set_status(str(effect.value), cause)
            if effect.field == "priority":
                self.set_conversation(priority=str(effect.value))
            elif effect.field == "language":
                self.state = replace(
                    self.state, contact=replace(self.state.contact, language=_text(effect.value))
                )
            else:
                fields = {**self.state.conversation.fields, effect.field: effect.value}
                self.set_conversation(fields=fields)
        elif effect.owner == "contact":
            contact = self.state.contact
            if effect.field == "name":
                contact = replace(contact, name=_text(effect.value))
            elif effect.field == "language":
                contact = replace(contact, language=_text(effect.value))
            else:
                contact = replace(contact, fields={**contact.fields, effect.field: effect.value})
            self.state = replace(self.state, contact=contact)
        else:
            item = self.subject_object(effect.owner, effect.subject, cause.trigger)
            if item is None:
                self.refuse_or_audit(
                    cause,
                    f"there is no {effect.owner} on this conversation",
                    "set_field_skipped",
                    owner=effect.owner,
                    field=effect.field,
                )
                return []
            if effect.field == "status":
                item = replace(item, status=_text(effect.value) or "open")
            elif effect.field == "amount":
                if item.items:
                    self.refuse_or_audit(
                        cause,
                        f"the {effect.owner} amount is the sum of its lines; change the lines",
                        "set_field_skipped",
                        owner=effect.owner,
                        field=effect.field,
                    )
                    return []
                item = replace(item, amount=_decimal(effect.value))
            elif effect.field == "currency":
                item = replace(item, currency=_text(effect.value))
            elif effect.field == "reference":
                item = replace(item, reference=_text(effect.value))
            else:
                item = replace(item, fields={**item.fields, effect.field: effect.value})
            self.state = self.state.with_object(item)
        self.change(
            out.Audited(
                "set_field",
                cause.actor,
                detail={"owner": effect.owner, "field": effect.field, "value": str(effect.value)},
            )
        )
        return events

    def set_status(self, status: str, cause: _Cause) -> list[DomainEvent]:
        conversation = self.state.conversation
        if status == conversation.status:
            return []
        if status == ConversationStatus.RESOLVED:
            self.set_conversation(
                status=status, resolved_at=self.now, waiting_on=None, snoozed_until=None
            )
        else:
            waiting = _STATUS_WAITING.get(ConversationStatus(status)) if _known(status) else None
            self.set_conversation(
                status=status,
                resolved_at=None,
                snoozed_until=conversation.snoozed_until
                if status == ConversationStatus.SNOOZED
                else None,
                waiting_on=waiting or conversation.waiting_on or WaitingOn.US,
            )
        self.change(
            out.Audited(
                "status", cause.actor, detail={"from_status": conversation.status, "to": status}
            )
        )
        return [self.follow(cause, TriggerKind.STATUS_CHANGED, status)]

    def _snooze(self, effect: fx.Snooze, cause: _Cause) -> list[DomainEvent]:
        if self.state.conversation.status == ConversationStatus.RESOLVED:
            raise Refused("a resolved conversation cannot be snoozed; reopen it first")
        if effect.until is None or effect.until <= self.now:
            raise Refused("snooze until a time in the future")
        self.set_conversation(snoozed_until=effect.until)
        events = self.set_status(ConversationStatus.SNOOZED, cause)
        self.set_conversation(snoozed_until=effect.until)
        return events

    def _cancel_delay(self, effect: fx.CancelDelay, cause: _Cause) -> list[DomainEvent]:
        delay = next((d for d in self.state.pending if d.key == effect.delay), None)
        if delay is None:
            raise Refused("it already ran or was cancelled; reload to see it", conflict=True)
        self.state = replace(
            self.state, pending=tuple(d for d in self.state.pending if d.key != effect.delay)
        )
        self.change(
            out.DelayFinished(delay.key, "cancelled", by=cause.actor),
            out.Audited("cancel_scheduled", cause.actor, detail={"rule": delay.rule}),
        )
        return []

    def sent(self, actor: Actor) -> None:
        """Something went to the customer: the conversation now waits on them; a message
        from anyone but a rule (a teammate, an API client) is a reply the SLA clocks wait for."""
        conversation = self.state.conversation
        values: dict[str, Any] = {
            "last_outbound_at": self.now,
            "messages": conversation.messages + 1,
        }
        if conversation.status != ConversationStatus.RESOLVED:
            values.update(
                waiting_on=WaitingOn.CUSTOMER, status=ConversationStatus.WAITING_ON_CUSTOMER
            )
        if not actor.is_rule:
            values.update(first_reply_at=conversation.first_reply_at or self.now)
            values.update(last_reply_at=self.now)
        self.set_conversation(**values)

    def sent_from_app(self, at: datetime) -> None:
        """The business answered from its WhatsApp Business app (a coexistence echo, already
        stored): a person's reply for the SLA clocks, and the customer's turn unless they
        wrote again since. Our own messages never open or extend the 24-hour window."""
        conversation = self.state.conversation
        latest = conversation.last_outbound_at
        values: dict[str, Any] = {
            "last_outbound_at": at if latest is None or at > latest else latest,
            "first_reply_at": min(conversation.first_reply_at or at, at),
            "last_reply_at": max(conversation.last_reply_at or at, at),
        }
        newest = conversation.last_inbound_at is None or at >= conversation.last_inbound_at
        if conversation.status != ConversationStatus.RESOLVED and newest:
            values.update(
                waiting_on=WaitingOn.CUSTOMER, status=ConversationStatus.WAITING_ON_CUSTOMER
            )
        self.set_conversation(**values)

    def _replied(self, effect: fx.Replied, cause: _Cause) -> list[DomainEvent]:
        self.sent(cause.actor)
        return []

    def intent_key(self, cause: _Cause) -> str:
        by = f"rule:{cause.actor.name}" if cause.actor.is_rule else f"{cause.actor.kind}"
        return f"{by}:{cause.trigger.id}:{cause.position}"[:255]

    def _send_text(self, effect: fx.SendText, cause: _Cause) -> list[DomainEvent]:
        if effect.missing:
            self.hold(cause, "a message", effect.missing, None)
            return []
        if not window_is_open(self.state, self.now):
            if cause.actor.is_rule:
                # Never a failed send: the window closed, so a person picks a template.
                self.task(
                    cause,
                    f"Send with a template (24-hour window closed): {effect.text}",
                    None,
                    self.now,
                )
                return []
            raise Refused(OUTSIDE_WINDOW, conflict=True)
        self.intents.append(
            out.SendText(self.intent_key(cause), effect.text, cause.actor, effect.reply_to)
        )
        self.sent(cause.actor)
        return []

    def _send_rich(self, effect: fx.SendRich, cause: _Cause) -> list[DomainEvent]:
        message = effect.message
        if effect.missing:
            self.hold(cause, "a message", effect.missing, None)
            return []
        why = rich_problem(message)
        if why is not None:
            self.refuse_or_audit(cause, why, "send_skipped", kind=message.kind)
            return []
        if not window_is_open(self.state, self.now):
            if cause.actor.is_rule:
                self.task(
                    cause,
                    f"Send with a template (24-hour window closed): {rich_preview(message)}",
                    None,
                    self.now,
                )
                return []
            raise Refused(OUTSIDE_WINDOW_RICH, conflict=True)
        self.intents.append(out.SendRich(self.intent_key(cause), message, cause.actor))
        if message.kind != "reaction":
            self.sent(cause.actor)
        return []

    def _send_from_record(self, effect: fx.SendFromRecord, cause: _Cause) -> list[DomainEvent]:
        values = self.values(cause.trigger, with_event=False)
        try:
            filled = filled_template(
                self.graph, "", effect.template, effect.language, values, self.now
            )
        except KeyError:
            raise Refused(f"there is no template {effect.template!r} in the config") from None
        missing = _missing(self.template(filled.template, filled.language), filled)
        if missing:
            names = ", ".join(_readable(m) for m in missing)
            raise Refused(f"still empty: {names}. Fill it in on the record, then send")
        return self._send_template(filled, cause)

    def _send_template(self, effect: fx.SendTemplate, cause: _Cause) -> list[DomainEvent]:
        template = self.template(effect.template, effect.language)
        missing = _missing(template, effect)
        if missing:
            if not cause.actor.is_rule:
                raise Refused(f"template {effect.template!r} needs every value filled")
            self.hold(cause, f"'{effect.template}'", missing, template)
            return []
        preview = f"[template {effect.template}] " + " · ".join(effect.variables)
        if template is not None:
            preview = _filled(template.body, effect.variables)
            if template.header:
                preview = f"{_filled(template.header, effect.header_variables)}\n{preview}"
        self.intents.append(
            out.SendTemplate(
                key=self.intent_key(cause),
                template=effect.template,
                language=effect.language or (template.language if template else "en"),
                variables=effect.variables,
                header_variables=effect.header_variables,
                button_variables=effect.button_variables,
                preview=preview,
                actor=cause.actor,
            )
        )
        self.sent(cause.actor)
        return []

    def held(self, cause: _Cause, action: str, name: str, missing: tuple[str, ...]) -> None:
        """Show in the effects that the rule's send or payment was held, not carried out."""
        if cause.actor.is_rule and self.effects:
            rule = cause.actor.name or ""
            self.effects[-1] = fx.Held(rule, action=action, name=name, missing=missing)

    def hold(
        self, cause: _Cause, what: str, missing: tuple[str, ...], template: Template | None
    ) -> None:
        """A message with an empty value is never sent: it becomes a task for staff."""
        self.held(
            cause,
            "send_template" if template is not None else "send_text",
            template.name if template is not None else "",
            missing,
        )
        names = ", ".join(_readable(m) for m in missing)
        held = (
            out.HeldSend(template.name, template.language, missing)
            if template is not None
            else None
        )
        self.task(cause, f"Fill in {names}, then send {what}", None, self.now, held)
        self.change(
            out.Audited("send_held", cause.actor, detail={"what": what, "missing": list(missing)})
        )

    def template(self, name: str, language: str) -> Template | None:
        if self.config is None:
            return None
        versions = [t for t in self.config.templates if t.name == name]
        return next((t for t in versions if t.language == language), None) or (
            versions[0] if versions else None
        )

    def _call_integration(self, effect: fx.CallIntegration, cause: _Cause) -> list[DomainEvent]:
        subject = self.state.object(_subject_of(cause.trigger))
        self.intents.append(
            out.CallIntegration(
                key=self.intent_key(cause),
                integration=effect.integration,
                operation=effect.operation,
                actor=cause.actor,
                subject=subject.key if subject is not None else None,
            )
        )
        return []

    def _request_payment(self, effect: fx.RequestPayment, cause: _Cause) -> list[DomainEvent]:
        item = (
            self.subject_object(effect.for_kind, None, cause.trigger) if effect.for_kind else None
        )
        amount = _decimal(effect.amount)
        if amount is None or amount <= 0:
            # An empty amount is never pushed to the customer's phone (DESIGN rule 8).
            what = f"the {effect.for_kind} amount" if effect.for_kind else "the amount"
            self.held(cause, "request_payment", effect.provider, (what,))
            self.task(cause, f"Fill in {what}, then request the payment again", None, self.now)
            self.change(
                out.Audited("payment_held", cause.actor, detail={"provider": effect.provider})
            )
            return []
        self.intents.append(
            out.RequestPayment(
                key=self.intent_key(cause),
                provider=effect.provider,
                amount=amount,
                actor=cause.actor,
                subject=item.key if item is not None else None,
                currency=item.currency if item is not None else None,
            )
        )
        return []

    def _schedule_delayed(self, effect: fx.ScheduleDelayed, cause: _Cause) -> list[DomainEvent]:
        if effect.due_at is None:
            return []
        delay = PendingDelay(
            key=self.new_key("delay"),
            rule=effect.rule,
            block=effect.block,
            due_at=effect.due_at,
            scheduled_at=effect.scheduled_at or self.now,
            event_id=effect.event_id,
            stage=effect.stage,
            status=effect.status,
            guard=effect.guard,
            subject=_subject_of(cause.trigger),
        )
        self.state = replace(self.state, pending=(*self.state.pending, delay))
        self.change(out.DelayScheduled(delay))
        return []

    # ----- SLA clocks ------------------------------------------------------------------
    def refresh_clocks(self) -> None:
        values = roots(None, snapshot(self.state))
        policy = policy_for(self.graph, values, self.now)
        plan = plan_clocks(
            self.graph,
            policy,
            self.state.conversation,
            self.state.clocks,
            self.new_key("clock:"),
            self.now,
        )
        self.state = replace(self.state, clocks=plan.clocks)
        self.change(*plan.changes)


class _Cause:
    """Who an effect acts for, the event that set it off, and its place among the actions."""

    __slots__ = ("actor", "position", "trigger")

    def __init__(self, actor: Actor, trigger: DomainEvent, position: int) -> None:
        self.actor = actor
        self.trigger = trigger
        self.position = position


def _subject_of(event: DomainEvent) -> str | None:
    return event.subject


def _known(status: str) -> bool:
    return status in {s.value for s in ConversationStatus}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _filled(text: str, values: tuple[str, ...]) -> str:
    for position, value in enumerate(values, start=1):
        text = text.replace(f"{{{{{position}}}}}", value)
    return text


def _missing(template: Template | None, effect: fx.SendTemplate) -> tuple[str, ...]:
    """What each empty variable of the send reads (`order.amount`), in template order."""
    if template is None:
        return ()
    meaning = {(v.component, v.position): v.value.text for v in template.variables}
    found = []
    for component, values in (
        ("header", effect.header_variables),
        ("body", effect.variables),
        ("button", effect.button_variables),
    ):
        for position, value in enumerate(values, start=1):
            if not value.strip():
                found.append(meaning.get((component, position), f"{component} {{{{{position}}}}}"))
    return tuple(found)


def _readable(expression: str) -> str:
    """`order.amount` -> `the order amount`, for a task title staff read."""
    words = expression.replace("_", " ").split(".")
    return "the " + " ".join(words) if len(words) > 1 else expression


__all__ = [
    "FIRINGS_PER_RULE_PER_HOUR",
    "MAX_CASCADE",
    "OUTSIDE_WINDOW",
    "Refused",
    "step",
    "window_is_open",
]
