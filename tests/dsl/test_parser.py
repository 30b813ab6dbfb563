"""The grammar reads the sentences operations managers write, and points at what it cannot read."""

from __future__ import annotations

import pytest

from dsl.rules import ast, parse_expression, parse_rules

RULE = """\
# a comment
rule "Price question moves to quote"
when message received
if conversation.stage is "inquiry" and message.text contains any of ["price", "bei"]
then
  move to stage "quote"
  assign to team "sales"
after 48h unless customer replied
  send template "quote_reminder"
after 3 business days unless stage changed
  create task "Call {contact.name}" for owner due in 2 hours
end
"""


def test_a_rule_becomes_an_ast_with_spans() -> None:
    parsed, diagnostics = parse_rules(RULE, "rules/sales.kazi")
    assert diagnostics == []
    assert parsed is not None
    (rule,) = parsed.rules
    assert rule.name.value == "Price question moves to quote"
    assert (rule.span.line, rule.span.column) == (2, 1)
    assert rule.trigger.kind == "message_received"
    assert isinstance(rule.condition, ast.And)
    first, second = rule.condition.items
    assert isinstance(first, ast.Compare) and first.op == "=="
    assert isinstance(second, ast.ContainsAny)
    assert [b.delay.seconds if b.delay else None for b in rule.blocks] == [None, 172800, 259200]
    assert rule.blocks[2].delay is not None and rule.blocks[2].delay.business
    task = rule.blocks[2].actions[0]
    assert task.kind == "create_task" and task.recipient is not None
    assert task.recipient.kind == "owner"
    assert task.duration is not None and task.duration.seconds == 7200
    move = rule.blocks[0].actions[0]
    assert move.name is not None
    assert (move.name.span.line, move.name.span.column) == (6, 17)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("conversation opened", "conversation_opened"),
        ('stage entered "quote"', "stage_entered"),
        ("stage left", "stage_left"),
        ('status changed to "resolved"', "status_changed"),
        ("assigned", "assigned"),
        ('tag added "vip"', "tag_added"),
        ("task due", "task_due"),
        ('sla warning "standard"', "sla_warning"),
        ("sla breached", "sla_breached"),
        ("payment confirmed", "payment_confirmed"),
        ("payment failed", "payment_failed"),
        ('integration "erp" event "stock_low"', "integration_event"),
        ("every weekday at 08:30", "schedule"),
    ],
)
def test_every_trigger_parses(text: str, kind: str) -> None:
    parsed, diagnostics = parse_rules(f'rule "r" when {text} then add note "x" end', "r.kazi")
    assert diagnostics == []
    assert parsed is not None and parsed.rules[0].trigger.kind == kind


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("contact.vip", ast.Field),
        ("not contact.vip", ast.Not),
        ("order.amount >= 5000", ast.Compare),
        ('conversation.priority is not "low"', ast.Compare),
        ('conversation.stage in ["quote", "payment"]', ast.In),
        ('conversation.stage not in ["quote"]', ast.In),
        ('"vip" in conversation.tags', ast.In),
        ('message.text contains "price"', ast.Contains),
        ("message.text matches /\\bmpesa\\b/i", ast.Matches),
        ("contact.email is empty", ast.IsEmpty),
        ("contact.email is not empty", ast.IsEmpty),
        ("within business hours", ast.BusinessHours),
        ("outside business hours or contact.vip", ast.Or),
        ("time since conversation.opened_at > 2 hours", ast.Compare),
        ('has tag "vip"', ast.HasTag),
        ("(contact.vip or order.amount > 10) and within business hours", ast.And),
    ],
)
def test_expressions(text: str, node: type) -> None:
    expr, diagnostics = parse_expression(text, "routing.yaml", 4, 11)
    assert diagnostics == []
    assert isinstance(expr, node)


def test_embedded_expression_spans_are_moved_to_the_yaml_position() -> None:
    expr, _ = parse_expression("contact.vip and order.amount > 3", "routing.yaml", 4, 11)
    assert isinstance(expr, ast.And)
    second = expr.items[1]
    assert (second.span.file, second.span.line, second.span.column) == ("routing.yaml", 4, 27)


def test_durations() -> None:
    for text, seconds, business in [
        ("30m", 1800, False),
        ("2h", 7200, False),
        ("1d", 86400, False),
        ("10 minutes", 600, False),
        ("1 hour", 3600, False),
        ("3 business days", 259200, True),
    ]:
        expr, _ = parse_expression(text, "x", 1, 1)
        assert isinstance(expr, ast.DurationLit)
        assert (expr.seconds, expr.business) == (seconds, business)
