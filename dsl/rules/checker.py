"""The rule checker: every diagnostic for a workspace's rules and embedded expressions."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Diagnostic, Severity, Span
from dsl.rules import ast
from dsl.rules.emptiness import guaranteed, known_objects, may_be_empty
from dsl.rules.expressions import (
    Scope,
    check_condition,
    check_reference,
    field_info,
    infer,
    walk,
)
from dsl.rules.fields import ALWAYS_ROOTS, CONVERSATION_STATUSES, EVENT_ROOTS, Catalog, Type
from dsl.rules.interpolate import pieces
from dsl.rules.loops import find_loops
from dsl.rules.names import suggest
from engine.core.capabilities import Capabilities
from engine.core.config import Pipeline, WorkspaceConfig
from engine.core.rich import (
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    ROW_TITLE_MAX,
    SECTION_TITLE_MAX,
)

_WINDOW_SECONDS = 24 * 3600
_RICH_SENDS = ("send_buttons", "send_list")
_SENDS = ("send_template", "send_text", *_RICH_SENDS)
_TEXT_ACTIONS = (
    "create_task", "remind", "send_text", "draft_reply", "notify", "add_note", "escalate",
    *_RICH_SENDS,
)  # fmt: skip


@dataclass(frozen=True)
class Embedded:
    """An expression from a YAML file, parsed: a routing `when`, an SLA selector, a variable."""

    owner: str  # "routing" | "sla" | "template"
    name: str
    expr: ast.Expr


def template_slot(name: str, language: str, component: str, position: int) -> str:
    """How a template variable's expression is named among the embedded expressions."""
    return f"{name}/{language}/{component}/{position}"


def trigger_where(kind: str) -> str:
    return f"a '{kind.replace('_', ' ')}' rule"


def rule_roots(kind: str, delayed: bool) -> frozenset[str]:
    roots = set(ALWAYS_ROOTS)
    if not delayed and kind in EVENT_ROOTS:
        roots.add(EVENT_ROOTS[kind])
    return frozenset(roots)


class RuleChecker:
    def __init__(
        self, config: WorkspaceConfig, catalog: Catalog, capabilities: Capabilities
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.capabilities = capabilities
        self.diagnostics: list[Diagnostic] = []
        self._template_roots: dict[str, dict[str, str]] = {}
        self._template_fields: dict[str, list[ast.Field]] = {}
        self._stage_kinds = {
            stage.name: pipeline.subject
            for pipeline in config.pipelines
            if pipeline.subject != "conversation"
            for stage in pipeline.stages
        }

    def scope(self, roots: frozenset[str], where: str, guards: bool = False) -> Scope:
        return Scope(self.catalog, self.config, roots, where, guards, self.diagnostics)

    def error(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, suggestion))

    def warn(self, code: str, message: str, span: Span, suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.WARNING, message, span, suggestion))

    # ----- whole workspace
    def check(self, files: list[ast.RuleFile], embedded: list[Embedded]) -> list[Diagnostic]:
        self._template_roots = _template_roots(embedded)
        self._template_fields = _template_fields(embedded)
        rules = [rule for f in files for rule in f.rules]
        self._duplicates(rules)
        sources: dict[int, tuple[str, ...]] = {}
        for i, rule in enumerate(rules):
            sources[i] = self._rule(rule)
        self.diagnostics += find_loops(rules, sources)
        for item in embedded:
            self._embedded(item)
        return self.diagnostics

    def _duplicates(self, rules: list[ast.Rule]) -> None:
        seen: dict[str, ast.Rule] = {}
        for rule in rules:
            first = seen.setdefault(rule.name.value, rule)
            if first is not rule:
                where = f"{first.name.span.file}:{first.name.span.line}"
                self.error(
                    "E114",
                    f"duplicate rule name '{rule.name.value}'",
                    rule.name.span,
                    f"the first is at {where}",
                )

    # ----- one rule
    def _rule(self, rule: ast.Rule) -> tuple[str, ...]:
        """Check the rule; return the stages it can move a conversation from."""
        trigger = rule.trigger
        self._trigger(trigger)
        where = trigger_where(trigger.kind)
        if rule.condition is not None:
            check_condition(rule.condition, self.scope(rule_roots(trigger.kind, False), where))
        sources = self._source_stages(rule)
        for block in rule.blocks:
            delayed = block.delay is not None
            scope = self.scope(
                rule_roots(trigger.kind, delayed),
                f"the delayed part of {where}" if delayed else where,
            )
            if block.delay is not None and block.delay.amount <= 0:
                self.error("E103", "a delay must be longer than zero", block.delay.span)
            if block.guard is not None:
                guard_scope = self.scope(rule_roots(trigger.kind, True), "a delay's guard", True)
                check_condition(block.guard, guard_scope)
            for action in block.actions:
                self._action(action, scope, sources)
            self._empty_values(rule, block, scope)
        self._risks(rule)
        return sources

    def _empty_values(self, rule: ast.Rule, block: ast.Block, scope: Scope) -> None:
        """W104: a message that may read an empty value, so it would be held, not sent."""
        proven = guaranteed(rule.condition)
        objects = known_objects(rule.trigger, proven, self._stage_kinds)
        if block.delay is not None:
            proven = set()  # the condition held when the rule fired, not necessarily now
        events = scope.roots - frozenset(ALWAYS_ROOTS)
        for action in block.actions:
            if action.kind == "set_field" and action.target is not None:
                proven.add(action.target.dotted)  # set just before: filled from here on
            elif action.kind == "create_object" and action.name is not None:
                objects.add(action.name.value)
            fields: list[ast.Field] = []
            if action.kind == "send_template" and action.name is not None:
                fields = self._template_fields.get(action.name.value, [])
            elif action.kind in ("send_text", *_RICH_SENDS) and action.text is not None:
                found, _ = pieces(action.text)
                fields = [
                    node
                    for piece in found
                    if piece.expr is not None
                    for node in walk(piece.expr)
                    if isinstance(node, ast.Field)
                ]
            empty = sorted(
                {f.dotted for f in fields if may_be_empty(f, self.catalog, events, proven, objects)}
            )
            if empty:
                self.warn(
                    "W104",
                    f"this message reads {', '.join(empty)}, which can be empty when the rule "
                    "acts: it would then be held for staff to fill in, not sent",
                    action.span,
                    "add a condition such as: " + f"{empty[0]} is not empty",
                )

    def _rich_limits(self, action: ast.Action) -> None:
        """E130: buttons and lists WhatsApp would refuse (count, length, repeats)."""
        if action.kind == "send_buttons":
            if not 1 <= len(action.choices) <= BUTTONS_MAX:
                self.error(
                    "E130",
                    f"WhatsApp allows 1 to {BUTTONS_MAX} reply buttons, not {len(action.choices)}",
                    action.choices[BUTTONS_MAX].span if action.choices else action.span,
                    "use `send list` for more choices",
                )
            self._choice_titles(action.choices, BUTTON_TITLE_MAX, "button")
            return
        if action.name is not None and not 1 <= len(action.name.value) <= LIST_BUTTON_MAX:
            self.error(
                "E130",
                f"the list's button label must be 1 to {LIST_BUTTON_MAX} characters",
                action.name.span,
            )
        rows = [row for part in action.sections for row in part.rows]
        if len(rows) > LIST_ROWS_MAX:
            self.error(
                "E130",
                f"WhatsApp allows {LIST_ROWS_MAX} rows in a list, not {len(rows)}",
                rows[LIST_ROWS_MAX].span,
                "split the choices over two messages",
            )
        for part in action.sections:
            if part.title is None and len(action.sections) > 1:
                self.error(
                    "E130",
                    'with several sections, each needs a title: section "..." [...]',
                    part.rows[0].span if part.rows else action.span,
                )
            elif part.title is not None and len(part.title.value) > SECTION_TITLE_MAX:
                self.error(
                    "E130",
                    f"a section title has at most {SECTION_TITLE_MAX} characters",
                    part.title.span,
                )
        self._choice_titles(tuple(rows), ROW_TITLE_MAX, "row")

    def _choice_titles(self, choices: tuple[ast.Name, ...], most: int, what: str) -> None:
        seen: set[str] = set()
        for choice in choices:
            if not choice.value.strip() or len(choice.value) > most:
                self.error(
                    "E130",
                    f"a {what} title has 1 to {most} characters; '{choice.value}' has "
                    f"{len(choice.value)}",
                    choice.span,
                    "shorten it: the customer's reply carries this title back",
                )
            elif choice.value in seen:
                self.error(
                    "E130",
                    f"two {what}s say '{choice.value}'; each must be different",
                    choice.span,
                )
            seen.add(choice.value)

    def _trigger(self, trigger: ast.Trigger) -> None:
        subject = trigger.subject
        scope = self.scope(frozenset(), "")
        if trigger.kind in ("stage_entered", "stage_left") and subject is not None:
            check_reference(scope, "stage", subject.value, subject.span)
        elif trigger.kind == "status_changed" and subject is not None:
            if subject.value not in CONVERSATION_STATUSES:
                self.error(
                    "E120",
                    f"unknown status '{subject.value}'",
                    subject.span,
                    suggest(subject.value, CONVERSATION_STATUSES),
                )
        elif trigger.kind in ("sla_warning", "sla_breached") and subject is not None:
            policies = [p.name for p in self.config.sla_policies]
            if subject.value not in policies:
                self.error(
                    "E122",
                    f"unknown SLA policy '{subject.value}'",
                    subject.span,
                    suggest(subject.value, policies),
                )
        elif trigger.kind == "integration_event" and trigger.integration is not None:
            self._integration(trigger.integration)
        elif trigger.kind == "inquiry_classified" and subject is not None:
            intents = [i.name for i in self.config.ai.intents]
            if subject.value not in intents:
                self.error(
                    "E127",
                    f"unknown intent '{subject.value}'",
                    subject.span,
                    suggest(subject.value, intents)
                    or (
                        f"ai.yaml's intents are: {', '.join(intents)}"
                        if intents
                        else "declare it under intents: in ai.yaml"
                    ),
                )
        elif trigger.kind == "schedule" and trigger.at and int(trigger.at.split(":")[0]) > 23:
            self.error("E103", f"'{trigger.at}' is not a time of day", trigger.span)

    def _integration(self, name: ast.Name) -> None:
        known = [i.name for i in self.config.integrations]
        if name.value not in known:
            self.error(
                "E109", f"unknown integration '{name.value}'", name.span, suggest(name.value, known)
            )

    def _source_stages(self, rule: ast.Rule) -> tuple[str, ...]:
        """Stages the conversation is known to be in when the rule acts."""
        if rule.trigger.kind == "stage_entered" and rule.trigger.subject is not None:
            return (rule.trigger.subject.value,)
        condition = rule.condition
        parts = condition.items if isinstance(condition, ast.And) else (condition,)
        for part in parts:
            if (
                isinstance(part, ast.Compare)
                and part.op == "=="
                and _is_stage(part.left)
                and isinstance(part.right, ast.Text)
            ):
                return (part.right.value,)
            if (
                isinstance(part, ast.In)
                and not part.negated
                and _is_stage(part.value)
                and isinstance(part.options, ast.ListLit)
            ):
                return tuple(i.value for i in part.options.items if isinstance(i, ast.Text))
        return ()

    # ----- actions
    def _action(self, action: ast.Action, scope: Scope, sources: tuple[str, ...]) -> None:
        if action.recipient is not None and action.recipient.name is not None:
            check_reference(
                scope,
                action.recipient.kind,
                action.recipient.name.value,
                action.recipient.name.span,
            )
        if action.kind in _TEXT_ACTIONS and action.text is not None:
            self._text(action.text, scope)
        if action.duration is not None and action.duration.amount <= 0:
            self.error("E103", "a duration must be longer than zero", action.duration.span)
        if action.kind in _SENDS and not self.capabilities.sends:
            self.error(
                "E126",
                "this installation cannot send WhatsApp messages",
                action.span,
                "configure a WhatsApp sender, or remove the send",
            )
        if (
            action.kind == "escalate"
            and action.recipient is not None
            and action.recipient.kind == "team"
        ):
            self.error(
                "E128",
                "an escalation names one person who decides, not a team",
                action.span,
                'escalate to teammate "..." because "..."',
            )
        if action.kind == "move_stage":
            self._move(action, sources)
        elif action.kind in ("add_tag", "remove_tag") and action.name is not None:
            if not action.name.value.strip():
                self.error("E100", "a tag needs a name", action.name.span)
        elif action.kind == "send_template" and action.name is not None:
            known = [t.name for t in self.config.templates]
            if action.name.value not in known:
                self.error(
                    "E105",
                    f"unknown template '{action.name.value}'",
                    action.name.span,
                    suggest(action.name.value, known),
                )
            self._template_fits(action.name, scope)
        elif action.kind in _RICH_SENDS:
            self._rich_limits(action)
        elif action.kind == "set_field":
            self._set(action, scope)
        elif action.kind == "create_object" and action.name is not None:
            self._create(action)
        elif action.kind == "call_integration" and action.name is not None:
            self._integration(action.name)
            self._executable(action, action.name, self.capabilities.integration_calls, "call")
        elif action.kind == "request_payment":
            if action.name is not None:
                self._integration(action.name)
                self._executable(
                    action, action.name, self.capabilities.payment_providers, "take payments by"
                )
            if action.value is not None:
                kind = infer(action.value, scope)
                if kind not in (Type.NUMBER, Type.ANY, None):
                    self.error(
                        "E110",
                        f"a payment amount must be a number, not {kind.value}",
                        action.value.span,
                    )

    def _create(self, action: ast.Action) -> None:
        assert action.name is not None
        kind = action.name.value
        if kind not in self.catalog.object_kinds:
            self.error(
                "E124",
                f"unknown kind of business object '{kind}'",
                action.name.span,
                suggest(kind, self.catalog.object_kinds),
            )
            return
        if action.extra is None:
            return
        pipeline = self.config.pipeline(action.extra.value)
        if pipeline is None:
            scope = self.scope(frozenset(), "")
            check_reference(scope, "pipeline", action.extra.value, action.extra.span)
        elif pipeline.subject != kind:
            self.error(
                "E125",
                f"pipeline '{pipeline.name}' is for {pipeline.subject}, not {kind}",
                action.extra.span,
                f'create {pipeline.subject} in pipeline "{pipeline.name}"',
            )

    def _executable(
        self, action: ast.Action, name: ast.Name, kinds: frozenset[str], verb: str
    ) -> None:
        """E126: an action no executor of this installation can carry out."""
        integration = self.config.integration(name.value)
        if integration is None or integration.kind in kinds:
            return
        self.error(
            "E126",
            f"this installation cannot {verb} a '{integration.kind}' integration "
            f"('{name.value}'): the action would fail every time it runs",
            name.span,
            (
                f"kinds it can {verb}: {', '.join(sorted(kinds))}"
                if kinds
                else "remove the action until this installation supports it"
            ),
        )

    def _template_fits(self, name: ast.Name, scope: Scope) -> None:
        """W103: a template variable reads an event field this rule does not have."""
        for root, field in sorted(self._template_roots.get(name.value, {}).items()):
            if root not in scope.roots and root not in self.catalog.object_kinds:
                self.warn(
                    "W103",
                    f"template '{name.value}' reads {field}, which {scope.where} does not have: "
                    "the variable would be empty",
                    name.span,
                )

    def _text(self, text: ast.Name, scope: Scope) -> None:
        found, errors = pieces(text)
        self.diagnostics.extend(errors)
        for piece in found:
            if piece.expr is not None:
                infer(piece.expr, scope)

    def _set(self, action: ast.Action, scope: Scope) -> None:
        assert action.target is not None and action.value is not None
        info = field_info(scope, action.target)
        value_type = infer(action.value, scope)
        if info is None:
            return
        if not info.settable:
            self.error(
                "E121",
                f"'{action.target.dotted}' cannot be set by a rule",
                action.target.span,
                _set_hint(action.target),
            )
            return
        if value_type not in (None, Type.ANY, info.type):
            self.error(
                "E110",
                f"'{action.target.dotted}' holds {info.type.value}, not {value_type.value}",
                action.value.span,
            )
            return
        if (
            isinstance(action.value, ast.Text)
            and info.choices
            and action.value.value not in info.choices
        ):
            self.error(
                "E120",
                f"'{action.value.value}' is not a value of {action.target.dotted}",
                action.value.span,
                suggest(action.value.value, info.choices),
            )

    def _move(self, action: ast.Action, sources: tuple[str, ...]) -> None:
        assert action.name is not None
        stage = action.name.value
        pipelines = [p for p in self.config.pipelines if stage in p.stage_names()]
        if action.extra is not None:
            named = self.config.pipeline(action.extra.value)
            if named is None:
                scope = self.scope(frozenset(), "")
                check_reference(scope, "pipeline", action.extra.value, action.extra.span)
                return
            if stage not in named.stage_names():
                self.error(
                    "E104",
                    f"pipeline '{named.name}' has no stage '{stage}'",
                    action.name.span,
                    suggest(stage, named.stage_names()),
                )
                return
            pipelines = [named]
        if not pipelines:
            check_reference(self.scope(frozenset(), ""), "stage", stage, action.name.span)
            return
        if len(pipelines) > 1:
            names = ", ".join(p.name for p in pipelines)
            self.error(
                "E123",
                f"stage '{stage}' is in several pipelines ({names})",
                action.name.span,
                f'write: move to stage "{stage}" in pipeline "{pipelines[0].name}"',
            )
            return
        self._allowed(pipelines[0], stage, sources, action.name.span)

    def _allowed(
        self, pipeline: Pipeline, stage: str, sources: tuple[str, ...], span: Span
    ) -> None:
        known = [s for s in sources if s in pipeline.stage_names()]
        for source in known:
            if source == stage:
                continue
            if not pipeline.allows(source, stage):
                allowed = sorted(m.target for m in pipeline.moves if m.source == source)
                hint = ("from there it can move to: " + ", ".join(allowed)) if allowed else None
                self.error(
                    "E111",
                    f"pipeline '{pipeline.name}' does not allow a move from "
                    f"'{source}' to '{stage}'",
                    span,
                    hint,
                )
        if (
            not known
            and stage != pipeline.initial
            and not any(m.target == stage for m in pipeline.moves)
        ):
            self.error("E111", f"no move in pipeline '{pipeline.name}' leads to '{stage}'", span)

    # ----- warnings
    def _risks(self, rule: ast.Rule) -> None:
        for block in rule.blocks:
            sends = [a for a in block.actions if a.kind in _SENDS]
            if (
                rule.trigger.kind == "message_received"
                and rule.condition is None
                and block.delay is None
                and sends
            ):
                self.warn(
                    "W100",
                    "this rule sends a message on every inbound message",
                    sends[0].span,
                    "add an 'if' so customers are not answered every time",
                )
            if block.delay is not None and block.delay.seconds > _WINDOW_SECONDS:
                for action in block.actions:
                    if action.kind in ("send_text", *_RICH_SENDS):
                        self.warn(
                            "W101",
                            f"free text after {_describe(block.delay)}: WhatsApp only allows "
                            "free text within 24 hours of the customer's last message",
                            action.span,
                            "send an approved template instead",
                        )
            if block.delay is not None and block.guard is None and sends:
                self.warn(
                    "W102",
                    "a delayed message with no 'unless' guard is sent even if the "
                    "customer has answered meanwhile",
                    block.delay.span,
                    "add: unless customer replied",
                )

    # ----- the YAML side's expressions
    def _embedded(self, item: Embedded) -> None:
        if item.owner == "template":
            scope = self.scope(frozenset(self.catalog.roots) | {"event"}, f"template '{item.name}'")
            infer(item.expr, scope)
            return
        roots = (
            frozenset(("conversation", "contact", "message"))
            if item.owner == "routing"
            else frozenset(ALWAYS_ROOTS)
        )
        where = f"routing rule '{item.name}'" if item.owner == "routing" else f"SLA '{item.name}'"
        check_condition(item.expr, self.scope(roots, where))


def _template_fields(embedded: list[Embedded]) -> dict[str, list[ast.Field]]:
    """Per template name: every field its variables read, in any language."""
    found: dict[str, list[ast.Field]] = {}
    for item in embedded:
        if item.owner == "template":
            name = item.name.split("/", 1)[0]
            found.setdefault(name, []).extend(
                node for node in walk(item.expr) if isinstance(node, ast.Field)
            )
    return found


def _template_roots(embedded: list[Embedded]) -> dict[str, dict[str, str]]:
    """Per template name: each root its variables read, with one field that reads it."""
    found: dict[str, dict[str, str]] = {}
    for item in embedded:
        if item.owner != "template":
            continue
        name = item.name.split("/", 1)[0]
        for node in walk(item.expr):
            if isinstance(node, ast.Field):
                found.setdefault(name, {}).setdefault(node.root, node.dotted)
    return found


def _is_stage(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Field) and len(expr.parts) == 2 and expr.parts[1] == "stage"


def _set_hint(target: ast.Field) -> str | None:
    hints: dict[tuple[str, ...], str] = {
        ("conversation", "stage"): 'use: move to stage "..."',
        ("conversation", "owner"): 'use: assign to teammate "..."',
        ("conversation", "team"): 'use: assign to team "..."',
        ("conversation", "tags"): 'use: tag "..."',
    }
    return hints.get(target.parts)


def _describe(delay: ast.DurationLit) -> str:
    names = {"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week"}
    amount = int(delay.amount) if delay.amount.is_integer() else delay.amount
    return f"{amount} {'business ' if delay.business else ''}{names[delay.unit]}s"


def check_rules(
    config: WorkspaceConfig,
    files: list[ast.RuleFile],
    embedded: list[Embedded],
    capabilities: Capabilities,
) -> list[Diagnostic]:
    """Every error and warning in the rules, the embedded expressions and the templates."""
    return RuleChecker(config, Catalog.for_config(config), capabilities).check(files, embedded)
