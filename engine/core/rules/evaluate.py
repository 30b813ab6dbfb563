"""Pure evaluation: (graph, event, snapshot, now) -> effects as data, plus an optional trace."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from engine.core.rich import Choice, RichMessage, Section
from engine.core.rules import effects as fx
from engine.core.rules.calendar import BusinessCalendar
from engine.core.rules.events import DomainEvent, Snapshot
from engine.core.rules.graph import ActionSpec, Block, Bucket, CompiledRule, Roots, RuleGraph
from engine.core.rules.runtime import as_dict, display, num

_EVENT_ROOTS = ("message", "payment", "task", "sla", "inquiry")


@dataclass(frozen=True)
class RuleTrace:
    """Why one candidate rule fired or not."""

    rule: str
    fired: bool
    failed: str | None = None  # the first condition part that was false
    reason: str | None = None  # for skips: e.g. "caused this event"


class Evaluation(NamedTuple):
    """What one event caused: effects in rule order, and the trace when asked for.

    A NamedTuple rather than a frozen dataclass: it is built once per event on the hot path.
    """

    effects: tuple[fx.Effect, ...]
    trace: tuple[RuleTrace, ...] | None = None


def roots(event: DomainEvent | None, snapshot: Snapshot) -> Roots:
    """The objects conditions read, each a plain dict whatever the caller passed.

    Roots that are absent stay absent: generated code reads them as empty.
    """
    data = event.data if event is not None else {}
    if type(data) is not dict:
        data = as_dict(data)
    conversation = snapshot.conversation
    if type(conversation) is not dict:
        conversation = as_dict(conversation)
    contact = snapshot.contact
    if type(contact) is not dict:
        contact = as_dict(contact)
    objects = snapshot.objects
    result: Roots = (
        {str(kind): as_dict(value) for kind, value in objects.items()}
        if objects and isinstance(objects, Mapping)
        else {}
    )
    result["conversation"] = conversation
    result["contact"] = contact
    result["event"] = data
    if data:
        for name in _EVENT_ROOTS:
            if name in data:
                result[name] = as_dict(data[name])
    return result


def evaluate(
    graph: RuleGraph,
    event: DomainEvent,
    snapshot: Snapshot,
    now: datetime,
    trace: bool = False,
) -> Evaluation:
    """The effects of every rule this event fires, in rule order. Never raises on odd payloads."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    buckets = graph.buckets
    exact = buckets.get((event.kind, event.key))
    generic = buckets.get((event.kind, None)) if event.key is not None else None
    if trace:
        return _traced(graph, event, snapshot, now, exact, generic)
    if exact is not None:
        hits = exact.match(event, snapshot, now)
        if generic is not None:
            hits = sorted(hits + generic.match(event, snapshot, now))
    elif generic is not None:
        hits = generic.match(event, snapshot, now)
    else:
        return _NOTHING
    if not hits:
        return _NOTHING
    constants = graph.constant_effects
    caused_by = event.caused_by
    effects: list[fx.Effect] = []
    values: Roots | None = None
    for index in hits:
        constant = constants[index]
        if caused_by is not None and graph.rules[index].name == caused_by:
            continue  # a rule's own action does not trigger it again
        if constant is not None:
            effects += constant
            continue
        if values is None:
            values = roots(event, snapshot)
        effects += _fire(graph, graph.rules[index], event, values, now)
    return Evaluation(tuple(effects))


_NOTHING = Evaluation(())


def _traced(
    graph: RuleGraph,
    event: DomainEvent,
    snapshot: Snapshot,
    now: datetime,
    exact: Bucket | None,
    generic: Bucket | None,
) -> Evaluation:
    """The slow, explaining path: each rule's condition part by part, in rule order."""
    values = roots(event, snapshot)
    candidates: set[int] = set()
    for bucket in (exact, generic):
        if bucket is not None:
            candidates.update(bucket.rules)
    traces: list[RuleTrace] = []
    effects: list[fx.Effect] = []
    for index in sorted(candidates):
        rule = graph.rules[index]
        failed = _first_failure(rule, values, now)
        if rule.name == event.caused_by:
            traces.append(RuleTrace(rule.name, False, reason="its own action caused this event"))
            continue
        traces.append(RuleTrace(rule.name, failed is None, failed=failed))
        if failed is None:
            effects.extend(_fire(graph, rule, event, values, now))
    return Evaluation(tuple(effects), tuple(traces))


class Match(NamedTuple):
    """The rules an event fires, in rule order, and why each candidate did or did not."""

    rules: tuple[CompiledRule, ...]
    trace: tuple[RuleTrace, ...]


def match(graph: RuleGraph, event: DomainEvent, snapshot: Snapshot, now: datetime) -> Match:
    """Which rules fire, condition part by part, without working out their effects yet."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    candidates: set[int] = set()
    for key in {(event.kind, event.key), (event.kind, None)}:
        bucket = graph.buckets.get(key)
        if bucket is not None:
            candidates.update(bucket.rules)
    if not candidates:
        return Match((), ())
    values = roots(event, snapshot)
    fired: list[CompiledRule] = []
    traces: list[RuleTrace] = []
    for index in sorted(candidates):
        rule = graph.rules[index]
        if rule.name == event.caused_by:
            traces.append(RuleTrace(rule.name, False, reason="its own action caused this event"))
            continue
        failed = _first_failure(rule, values, now)
        traces.append(RuleTrace(rule.name, failed is None, failed=failed))
        if failed is None:
            fired.append(rule)
    return Match(tuple(fired), tuple(traces))


def _first_failure(rule: CompiledRule, values: Roots, now: datetime) -> str | None:
    for conjunct in rule.conjuncts:
        if not conjunct.test(values, now):
            return conjunct.text
    return None


def _fire(
    graph: RuleGraph, rule: CompiledRule, event: DomainEvent, values: Roots, now: datetime
) -> list[fx.Effect]:
    return list(actions(graph, rule, event, lambda: values, now))


def actions(
    graph: RuleGraph,
    rule: CompiledRule,
    event: DomainEvent,
    values_of: Callable[[], Roots],
    now: datetime,
) -> Iterator[fx.Effect]:
    """A fired rule's effects, one at a time, each worked out when its turn comes.

    `values_of` reads the state as it is at that moment, so an action sees what the
    actions before it did (`set order.items to message.text` then `send template` reads
    the items just set)."""
    for position, block in enumerate(rule.blocks):
        if block.delay is None:
            for action in block.actions:
                yield action.constant or _effect(graph, rule.name, action, values_of(), now)
            continue
        conversation = values_of()["conversation"]
        yield fx.ScheduleDelayed(
            rule=rule.name,
            block=position,
            due_at=block.delay.after(now, graph.calendar),
            scheduled_at=now,
            event_id=event.id,
            stage=_string(conversation.get("stage")),
            status=_string(conversation.get("status")),
            guard=block.guard_text,
        )


def resume(
    graph: RuleGraph,
    scheduled: fx.ScheduleDelayed,
    snapshot: Snapshot,
    now: datetime,
    trace: bool = False,
) -> Evaluation:
    """Run a delayed block at its due time: re-read state, re-check the guard, then act."""
    values = roots(None, snapshot)
    verdict, block_actions = resumed(graph, scheduled, lambda: values, now)
    effects = tuple(block_actions) if block_actions is not None else ()
    return Evaluation(effects, (verdict,) if trace else None)


def resumed(
    graph: RuleGraph,
    scheduled: fx.ScheduleDelayed,
    values_of: Callable[[], Roots],
    now: datetime,
) -> tuple[RuleTrace, Iterator[fx.Effect] | None]:
    """A delayed block at its due time: whether its guard lets it act, and if so its effects,
    one at a time (as `actions`). The guard reads the state as it is now (DESIGN rule 4)."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    rule = graph.rule(scheduled.rule)
    if rule is None or not 0 <= scheduled.block < len(rule.blocks):
        return RuleTrace(scheduled.rule, False, reason="the rule is no longer in the config"), None
    block: Block = rule.blocks[scheduled.block]

    def values_then() -> Roots:
        values = values_of()
        values["$since"] = scheduled.scheduled_at
        values["$stage"] = scheduled.stage
        values["$status"] = scheduled.status
        return values

    if block.guard is not None and block.guard(values_then(), now):
        return RuleTrace(rule.name, False, failed=f"unless {block.guard_text}"), None
    effects = (
        action.constant or _effect(graph, rule.name, action, values_then(), now)
        for action in block.actions
    )
    return RuleTrace(rule.name, True), effects


_CONSTANT_KINDS = {
    "assign", "route", "move_stage", "add_tag", "remove_tag", "send_text", "draft_reply",
    "notify", "add_note", "call_integration", "escalate", "create_object",
}  # fmt: skip


def constant_effect(rule: str, action: ActionSpec) -> fx.Effect | None:
    """The action's effect when it depends on nothing but the rule: built once, reused."""
    if (
        action.kind not in _CONSTANT_KINDS
        or action.values
        or action.params.get("recipient") == "owner"
    ):
        return None
    empty = RuleGraph("", (), {}, BusinessCalendar(), {}, (), (), {}, {}, "")
    return _effect(empty, rule, action, {"conversation": {}}, datetime.min.replace(tzinfo=UTC))


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _recipient(params: Mapping[str, Any], values: Roots) -> fx.Recipient | None:
    kind = params.get("recipient")
    if kind is None:
        return None
    if kind == "owner":
        return fx.Recipient("owner", _string(values["conversation"].get("owner")))
    return fx.Recipient(str(kind), params.get("recipient_name"))


def _text(action: ActionSpec, name: str, values: Roots, now: datetime) -> str:
    function = action.values.get(name)
    if function is not None:
        return display(function(values, now))
    return str(action.params.get(name, ""))


def _rich(action: ActionSpec, body: str) -> RichMessage:
    """A rule's buttons or list: each choice's title is also its payload, so the customer's
    reply reads back as `message.button == "<title>"`."""
    p = action.params
    if action.kind == "send_buttons":
        return RichMessage("buttons", body, buttons=tuple(Choice(t) for t in p["buttons"]))
    return RichMessage(
        "list",
        body,
        list_button=p["list_button"],
        sections=tuple(
            Section(title, tuple(Choice(row) for row in rows)) for title, rows in p["sections"]
        ),
    )


def _effect(
    graph: RuleGraph, rule: str, action: ActionSpec, values: Roots, now: datetime
) -> fx.Effect:
    p = action.params
    kind = action.kind
    if kind == "assign":
        return fx.Assign(rule, teammate=p.get("teammate"), team=p.get("team"))
    if kind == "route":
        return fx.Route(rule)
    if kind == "move_stage":
        return fx.MoveStage(rule, pipeline=p["pipeline"], stage=p["stage"])
    if kind == "add_tag":
        return fx.AddTag(rule, tag=p["tag"])
    if kind == "remove_tag":
        return fx.RemoveTag(rule, tag=p["tag"])
    if kind == "create_task":
        due = p.get("due")
        return fx.CreateTask(
            rule,
            title=_text(action, "title", values, now),
            assignee=_recipient(p, values),
            due_at=due.after(now, graph.calendar) if due is not None else None,
        )
    if kind == "remind":
        return fx.Remind(
            rule,
            recipient=_recipient(p, values),
            text=_text(action, "text", values, now),
            at=p["delay"].after(now, graph.calendar),
        )
    if kind == "send_template":
        return filled_template(
            graph, rule, p["template"], values["contact"].get("language"), values, now
        )
    if kind == "send_text":
        missing = action.values.get("missing")
        return fx.SendText(
            rule,
            text=_text(action, "text", values, now),
            missing=tuple(missing(values, now)) if missing is not None else (),
        )
    if kind in ("send_buttons", "send_list"):
        missing = action.values.get("missing")
        return fx.SendRich(
            rule,
            message=_rich(action, _text(action, "text", values, now)),
            missing=tuple(missing(values, now)) if missing is not None else (),
        )
    if kind == "draft_reply":
        return fx.DraftReply(rule, text=_text(action, "text", values, now))
    if kind == "notify":
        return fx.Notify(
            rule, recipient=_recipient(p, values), text=_text(action, "text", values, now)
        )
    if kind == "add_note":
        return fx.AddNote(rule, text=_text(action, "text", values, now))
    if kind == "set_field":
        value = action.values["value"](values, now)
        return fx.SetField(rule, owner=p["owner"], field=p["field"], value=value)
    if kind == "call_integration":
        return fx.CallIntegration(rule, integration=p["integration"], operation=p["operation"])
    if kind == "request_payment":
        amount = num(action.values["amount"](values, now))
        return fx.RequestPayment(
            rule,
            amount=float(amount) if amount is not None else None,
            provider=p["provider"],
            for_kind=p.get("for_kind"),
        )
    if kind == "create_object":
        return fx.CreateObject(rule, object_kind=p["kind"], pipeline=p.get("pipeline"))
    if kind == "escalate":
        reason = _text(action, "text", values, now) if "text" in p else ""
        return fx.Escalate(rule, recipient=_recipient(p, values), reason=reason)
    raise ValueError(f"unknown action kind {kind!r}")  # only a compiler bug can get here


def filled_template(
    graph: RuleGraph, rule: str, name: str, language: str | None, values: Roots, now: datetime
) -> fx.SendTemplate:
    """A template send with each variable read from the record as it stands (templates.yaml
    says which field fills which placeholder); an empty one stays empty for the caller to see."""
    template = graph.template(name, language)
    return fx.SendTemplate(
        rule,
        template=template.name,
        language=template.language,
        variables=tuple(display(v(values, now)) for v in template.variables),
        header_variables=tuple(display(v(values, now)) for v in template.header_variables),
        button_variables=tuple(display(v(values, now)) for v in template.button_variables),
    )
