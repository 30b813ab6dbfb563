"""Checked rules + config -> an immutable `engine.core` RuleGraph, with generated Python."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from types import MappingProxyType
from typing import Any

from dsl.diagnostics import Span
from dsl.rules import ast
from dsl.rules.checker import Embedded, template_slot
from dsl.rules.fields import Catalog
from dsl.rules.interpolate import pieces
from dsl.rules.pygen import Constants, FunctionBody, function
from engine.core.config import Duration as ConfiguredDuration
from engine.core.config import SlaPolicy, WorkspaceConfig
from engine.core.rules import (
    ActionSpec,
    Block,
    Bucket,
    BusinessCalendar,
    CompiledRule,
    Conjunct,
    Duration,
    Location,
    OpeningWindow,
    RoutingSpec,
    RuleGraph,
    Schedule,
    SlaSpec,
    TemplateSpec,
)
from engine.core.rules.codegen import load_functions
from engine.core.rules.evaluate import constant_effect
from engine.core.rules.graph import SlaTargets

_KEYED = {
    "stage_entered",
    "stage_left",
    "status_changed",
    "tag_added",
    "sla_warning",
    "sla_breached",
    "inquiry_classified",
}
_DAYS = {
    "day": (0, 1, 2, 3, 4, 5, 6),
    "weekday": (0, 1, 2, 3, 4),
    **{
        d: (i,)
        for i, d in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}


def trigger_key(rule: ast.Rule) -> str | None:
    trigger = rule.trigger
    if trigger.kind in _KEYED:
        return trigger.subject.value if trigger.subject is not None else None
    if trigger.kind == "integration_event" and trigger.integration and trigger.subject:
        return f"{trigger.integration.value}:{trigger.subject.value}"
    if trigger.kind == "schedule":
        return rule.name.value
    return None


def describe_trigger(trigger: ast.Trigger) -> str:
    words = trigger.kind.replace("_", " ")
    if trigger.kind == "integration_event" and trigger.integration and trigger.subject:
        return f'integration "{trigger.integration.value}" event "{trigger.subject.value}"'
    if trigger.kind == "schedule":
        return f"every {trigger.days} at {trigger.at}"
    if trigger.subject is not None:
        return f'{words} "{trigger.subject.value}"'
    return words


def calendar_of(config: WorkspaceConfig) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=config.timezone,
        windows=tuple(OpeningWindow(h.weekday, h.opens, h.closes) for h in config.opening_hours),
        holidays=frozenset(h.day for h in config.holidays),
    )


class _Sources:
    """Source texts by file, to quote a condition's words in traces and `kazi explain`."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._lines = {path: text.splitlines() for path, text in texts.items()}

    def quote(self, span: Span) -> str:
        lines = self._lines.get(span.file)
        if not lines or span.end_line is None or span.end_column is None:
            return ""
        chunk = lines[span.line - 1 : span.end_line]
        if not chunk:
            return ""
        if len(chunk) == 1:
            return chunk[0][span.column - 1 : span.end_column - 1]
        chunk[0] = chunk[0][span.column - 1 :]
        chunk[-1] = chunk[-1][: span.end_column - 1]
        return " ".join(part.strip() for part in chunk)


class _Module:
    """Collects generated functions into one module, compiled once."""

    def __init__(self, catalog: Catalog, constants: Constants) -> None:
        self.catalog = catalog
        self.constants = constants
        self.parts: list[str] = []

    def body(self, direct: bool = False) -> FunctionBody:
        return FunctionBody(self.catalog, self.constants, direct)

    def predicate(self, name: str, expr: ast.Expr) -> str:
        body = self.body()
        result = body.test(expr)
        self.parts.append(function(name, body, [f"return {result}"]))
        return name

    def value(self, name: str, expr: ast.Expr) -> str:
        body = self.body()
        result = body.value(expr)
        self.parts.append(function(name, body, [f"return {result}"]))
        return name

    def text(self, name: str, text: ast.Name) -> str | None:
        """A function building an interpolated text, or None when the text is constant."""
        found, _ = pieces(text)
        if all(p.expr is None for p in found):
            return None
        body = self.body()
        items = []
        for piece in found:
            if piece.expr is not None:
                items.append(f"_display({body.value(piece.expr)})")
            else:
                items.append(repr(piece.literal))
        self.parts.append(function(name, body, ["return ''.join((" + ", ".join(items) + ",))"]))
        return name

    def missing(self, name: str, text: ast.Name) -> str:
        """A function listing what an interpolated text reads that is empty (`{order.amount}`)."""
        found, _ = pieces(text)
        body = self.body()
        lines = ["out = []"]
        for piece in found:
            if piece.expr is not None:
                value = body.value(piece.expr)
                lines.append(
                    f"if not _display({value}).strip(): out.append({_source(piece.expr)!r})"
                )
        lines.append("return out")
        self.parts.append(function(name, body, lines))
        return name


def _source(expr: ast.Expr) -> str:
    """How an interpolated expression reads in a task title: its dotted field, when it is one."""
    return expr.dotted if isinstance(expr, ast.Field) else "a value"


def _duration(node: ast.DurationLit) -> Duration:
    return Duration(node.seconds, node.business, node.unit, node.amount)


def _recipient(action: ast.Action) -> dict[str, Any]:
    if action.recipient is None:
        return {}
    return {
        "recipient": action.recipient.kind,
        "recipient_name": action.recipient.name.value if action.recipient.name else None,
    }


def _stage_pipelines(config: WorkspaceConfig) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for pipeline in config.pipelines:
        for stage in pipeline.stages:
            out.setdefault(stage.name, []).append(pipeline.name)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class _ActionPlan:
    kind: str
    text: str  # the action as written, for traces
    params: dict[str, Any]
    values: dict[str, str]  # parameter -> generated function name


@dataclass(frozen=True)
class _BlockPlan:
    block: ast.Block
    guard: str | None
    actions: tuple[_ActionPlan, ...]


@dataclass(frozen=True)
class _RulePlan:
    rule: ast.Rule
    conjuncts: tuple[tuple[str, str], ...]  # (source text, generated function name)
    blocks: tuple[_BlockPlan, ...]


@dataclass(frozen=True)
class _TemplatePlan:
    name: str
    language: str
    components: dict[str, list[str]]  # "header" | "body" | "button" -> function names


@dataclass(frozen=True)
class _Selectors:
    routing: tuple[str | None, ...]  # by routing rule, its `when` function
    sla: tuple[str | None, ...]  # by SLA policy, its `applies_when` function


def compile_graph(
    config: WorkspaceConfig,
    files: list[ast.RuleFile],
    embedded: list[Embedded],
    sources: dict[str, str],
) -> RuleGraph:
    """Build the graph. The input must be checked: the compiler trusts names and types.

    In phases: generate the source of every function (bucket matchers, conditions,
    action values, template variables, routing and SLA selectors), compile it once,
    then link the plans to the compiled functions.
    """
    catalog = Catalog.for_config(config)
    calendar = calendar_of(config)
    module = _Module(catalog, Constants([calendar]))
    quote = _Sources(sources)
    rules = [rule for f in files for rule in f.rules]
    stage_pipelines = _stage_pipelines(config)
    buckets = _bucket_plans(rules, module)
    plans = [
        _rule_plan(index, rule, module, config, stage_pipelines, quote)
        for index, rule in enumerate(rules)
    ]
    templates = _template_plans(config, embedded, module)
    selectors = _selector_plans(config, embedded, module)
    source = "\n".join(module.parts)
    functions = load_functions(source, tuple(module.constants.values), f"<rules {config.slug}>")
    compiled_rules = [_link_rule(index, plan, functions, quote) for index, plan in enumerate(plans)]
    return RuleGraph(
        version=content_hash(config, compiled_rules, source),
        rules=tuple(compiled_rules),
        buckets=MappingProxyType(
            {
                key: Bucket(tuple(indexes), functions[name])
                for key, (indexes, name) in buckets.items()
            }
        ),
        calendar=calendar,
        templates=MappingProxyType(_link_templates(templates, functions)),
        routing=tuple(
            RoutingSpec(
                route.name, _function(functions, name), route.team, route.teammate, route.strategy
            )
            for route, name in zip(config.routing, selectors.routing, strict=True)
        ),
        sla=tuple(
            SlaSpec(policy.name, _function(functions, name), sla_targets(policy))
            for policy, name in zip(config.sla_policies, selectors.sla, strict=True)
        ),
        stage_pipelines=MappingProxyType(stage_pipelines),
        pipeline_subjects=MappingProxyType({p.name: p.subject for p in config.pipelines}),
        source=source,
        config=config,
        constant_effects=tuple(r.constant_effects for r in compiled_rules),
    )


def _function(functions: dict[str, Callable[..., Any]], name: str | None) -> Any:
    return functions[name] if name is not None else None


def _bucket_plans(
    rules: list[ast.Rule], module: _Module
) -> dict[tuple[str, str | None], tuple[list[int], str]]:
    """One generated function per (trigger, key), testing all of its rules at once."""
    buckets: dict[tuple[str, str | None], list[int]] = {}
    for index, rule in enumerate(rules):
        buckets.setdefault((rule.trigger.kind, trigger_key(rule)), []).append(index)
    named: dict[tuple[str, str | None], tuple[list[int], str]] = {}
    for number, key in enumerate(sorted(buckets, key=lambda k: (k[0], k[1] or ""))):
        body = module.body(direct=True)
        result = ["out = []"]
        for index in buckets[key]:
            condition = rules[index].condition
            if condition is None:
                result.append(f"out.append({index})")
            else:
                result.append(f"if {body.test(condition)}: out.append({index})")
        result.append("return out")
        name = f"f_bucket{number}"
        module.parts.append(function(name, body, result))
        named[key] = (buckets[key], name)
    return named


def _rule_plan(
    index: int,
    rule: ast.Rule,
    module: _Module,
    config: WorkspaceConfig,
    stage_pipelines: dict[str, tuple[str, ...]],
    quote: _Sources,
) -> _RulePlan:
    """A rule's conjuncts (each tested alone for traces), guards and action values."""
    conjuncts: list[tuple[str, str]] = []
    if rule.condition is not None:
        items = rule.condition.items if isinstance(rule.condition, ast.And) else (rule.condition,)
        for k, item in enumerate(items):
            conjuncts.append((quote.quote(item.span), module.predicate(f"f_r{index}_c{k}", item)))
    blocks = []
    for b, block in enumerate(rule.blocks):
        guard = module.predicate(f"f_r{index}_g{b}", block.guard) if block.guard else None
        actions = tuple(
            _action_plan(module, config, stage_pipelines, f"f_r{index}_b{b}_a{a}", action, quote)
            for a, action in enumerate(block.actions)
        )
        blocks.append(_BlockPlan(block, guard, actions))
    return _RulePlan(rule, tuple(conjuncts), tuple(blocks))


def _template_plans(
    config: WorkspaceConfig, embedded: list[Embedded], module: _Module
) -> list[_TemplatePlan]:
    """Each template's variables as value functions, the default language first."""
    by_name = {(e.owner, e.name): e.expr for e in embedded}
    default = config.default_language
    plans = []
    for t, template in enumerate(sorted(config.templates, key=lambda t: t.language != default)):
        components: dict[str, list[str]] = {"header": [], "body": [], "button": []}
        ordered = sorted(template.variables, key=lambda v: (v.component, v.position))
        for v, variable in enumerate(ordered):
            slot = template_slot(
                template.name, template.language, variable.component, variable.position
            )
            expr = by_name.get(("template", slot))
            if expr is not None:
                components.setdefault(variable.component, []).append(
                    module.value(f"f_t{t}_{v}", expr)
                )
        plans.append(_TemplatePlan(template.name, template.language, components))
    return plans


def _selector_plans(
    config: WorkspaceConfig, embedded: list[Embedded], module: _Module
) -> _Selectors:
    by_name = {(e.owner, e.name): e.expr for e in embedded}
    routing = []
    for r, route in enumerate(config.routing):
        expr = by_name.get(("routing", route.name))
        routing.append(module.predicate(f"f_route{r}", expr) if expr is not None else None)
    sla = []
    for s, policy in enumerate(config.sla_policies):
        expr = by_name.get(("sla", policy.name))
        sla.append(module.predicate(f"f_sla{s}", expr) if expr is not None else None)
    return _Selectors(tuple(routing), tuple(sla))


def _link_rule(
    index: int, plan: _RulePlan, functions: dict[str, Callable[..., Any]], quote: _Sources
) -> CompiledRule:
    rule = plan.rule
    blocks = []
    for block_plan in plan.blocks:
        specs = tuple(
            _spec(
                rule.name.value,
                action.kind,
                action.text,
                action.params,
                {k: functions[v] for k, v in action.values.items()},
            )
            for action in block_plan.actions
        )
        block = block_plan.block
        blocks.append(
            Block(
                _duration(block.delay) if block.delay else None,
                _function(functions, block_plan.guard),
                quote.quote(block.guard.span) if block.guard else None,
                specs,
            )
        )
    trigger = rule.trigger
    schedule = None
    if trigger.kind == "schedule" and trigger.days and trigger.at:
        hour, minute = (int(x) for x in trigger.at.split(":"))
        schedule = Schedule(_DAYS[trigger.days], time(hour, minute))
    return CompiledRule(
        index=index,
        name=rule.name.value,
        trigger=trigger.kind,
        key=trigger_key(rule),
        trigger_text=describe_trigger(trigger),
        condition_text=quote.quote(rule.condition.span) if rule.condition else None,
        conjuncts=tuple(Conjunct(text, functions[name]) for text, name in plan.conjuncts),
        blocks=tuple(blocks),
        location=Location(rule.span.file, rule.span.line, rule.span.column),
        schedule=schedule,
        constant_effects=_constant_effects(blocks),
    )


def _link_templates(
    plans: list[_TemplatePlan], functions: dict[str, Callable[..., Any]]
) -> dict[str, tuple[TemplateSpec, ...]]:
    versions: dict[str, list[TemplateSpec]] = {}
    for plan in plans:

        def loaded(
            component: str, parts: dict[str, list[str]] = plan.components
        ) -> tuple[Any, ...]:
            return tuple(functions[n] for n in parts.get(component, []))

        spec = TemplateSpec(
            plan.name, plan.language, loaded("body"), loaded("header"), loaded("button")
        )
        versions.setdefault(plan.name, []).append(spec)
    return {name: tuple(specs) for name, specs in versions.items()}


_UNIT = {"minutes": ("m", 60), "hours": ("h", 3600), "days": ("d", 86400)}


def sla_targets(policy: SlaPolicy) -> SlaTargets:
    """A policy's deadlines as durations on the workspace calendar, worked out once."""
    warn = policy.warn_before
    return SlaTargets(
        policy=policy.name,
        first_response=_sla_duration(policy.first_response, policy.business_hours),
        next_response=_sla_duration(policy.next_response, policy.business_hours),
        resolution=_sla_duration(policy.resolution, policy.business_hours),
        warn_before=timedelta(minutes=warn.minutes) if warn is not None else None,
        pause_when=frozenset(policy.pause_when),
        first_response_when_snoozed=policy.first_response_when_snoozed,
    )


def _sla_duration(configured: ConfiguredDuration | None, business_hours: bool) -> Duration | None:
    if configured is None:
        return None
    unit, seconds = _UNIT.get(configured.unit, ("m", 60))
    business = configured.business or (business_hours and unit != "d")
    if business and unit != "d":
        return Duration(configured.minutes * 60, True, unit, configured.amount)
    return Duration(configured.amount * seconds, business, unit, configured.amount)


def _spec(
    rule: str, kind: str, text: str, params: dict[str, Any], values: dict[str, Any]
) -> ActionSpec:
    spec = ActionSpec(kind, text, MappingProxyType(params), MappingProxyType(values))
    return dataclasses.replace(spec, constant=constant_effect(rule, spec))


def _constant_effects(blocks: list[Block]) -> tuple[Any, ...] | None:
    if any(b.delay is not None or any(a.constant is None for a in b.actions) for b in blocks):
        return None
    return tuple(a.constant for b in blocks for a in b.actions)


def _action_plan(
    module: _Module,
    config: WorkspaceConfig,
    stage_pipelines: dict[str, tuple[str, ...]],
    prefix: str,
    action: ast.Action,
    quote: _Sources,
) -> _ActionPlan:
    """Constant params and value function names of one action."""
    params: dict[str, Any] = _recipient(action)
    values: dict[str, str] = {}
    kind = action.kind
    name = action.name.value if action.name else None
    if kind == "assign" and action.recipient is not None:
        params = {action.recipient.kind: params.get("recipient_name")}
    elif kind == "move_stage" and name is not None:
        pipeline = action.extra.value if action.extra else stage_pipelines[name][0]
        params.update(pipeline=pipeline, stage=name)
    elif kind in ("add_tag", "remove_tag"):
        params["tag"] = name
    elif kind == "send_template":
        params["template"] = name
    elif kind == "call_integration":
        params.update(integration=name, operation=action.extra.value if action.extra else "")
    elif kind == "request_payment":
        params["provider"] = name
        assert action.value is not None
        values["amount"] = module.value(f"{prefix}_amount", action.value)
        if isinstance(action.value, ast.Field) and action.value.root in module.catalog.object_kinds:
            params["for_kind"] = action.value.root
    elif kind == "create_object":
        params.update(kind=name, pipeline=action.extra.value if action.extra else None)
    elif kind == "send_buttons":
        params["buttons"] = tuple(c.value for c in action.choices)
    elif kind == "send_list":
        params["list_button"] = name
        params["sections"] = tuple(
            (part.title.value if part.title else "", tuple(r.value for r in part.rows))
            for part in action.sections
        )
    elif kind == "set_field":
        assert action.target is not None and action.value is not None
        params.update(owner=action.target.root, field=action.target.parts[1])
        values["value"] = module.value(f"{prefix}_value", action.value)
    if action.text is not None:
        slot = "title" if kind == "create_task" else "text"
        params[slot] = action.text.value
        text_function = module.text(f"{prefix}_{slot}", action.text)
        if text_function is not None:
            values[slot] = text_function
            if kind in ("send_text", "send_buttons", "send_list"):
                values["missing"] = module.missing(f"{prefix}_missing", action.text)
    if action.duration is not None:
        params["due" if kind == "create_task" else "delay"] = _duration(action.duration)
    return _ActionPlan(kind, quote.quote(action.span), params, values)


def _canonical(value: Any) -> Any:
    """Plain JSON data with spans dropped, so moving a line does not change the version."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.name.endswith(("span", "spans"))
            and f.name not in ("location", "index")
            and not callable(getattr(value, f.name))
        }
    if isinstance(value, dict | MappingProxyType):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_canonical(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, frozenset | set) else items
    if callable(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _rule_form(rule: CompiledRule) -> list[Any]:
    """A rule as plain data: its name, trigger and each block's delay, guard and actions.
    Conditions are covered by the generated source; action texts carry every name and value."""
    blocks = [
        [
            _canonical(block.delay),
            block.guard_text,
            [" ".join(action.text.split()) for action in block.actions],
        ]
        for block in rule.blocks
    ]
    return [rule.name, rule.trigger, rule.key, rule.condition_text, blocks]


def content_hash(config: WorkspaceConfig, rules: list[CompiledRule], source: str) -> str:
    """sha256 over the config (no spans), the rules' plain data and the generated code."""
    data = {
        "config": _canonical(dataclasses.replace(config, root="")),
        "rules": [_rule_form(r) for r in rules],
        "source": source,
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
