"""Checker cases the broken files cannot show alone: several pipelines, loops, clean samples."""

from __future__ import annotations

import dataclasses

from dsl.rules import build_graph
from engine.core.capabilities import EVERYTHING
from engine.core.config import Move, Pipeline, Stage
from tests.dsl.factory import shop_config
from tests.dsl.helpers import compile_text


def _codes(text: str) -> list[tuple[str, int, int]]:
    _, diagnostics = compile_text(text, "r.kazi")
    return [(d.code, d.span.line, d.span.column) for d in diagnostics]


def test_a_stage_in_two_pipelines_needs_the_pipeline_named() -> None:
    config = shop_config()
    repairs = Pipeline(
        "repairs",
        "conversation",
        (Stage("received", "Received"), Stage("quote", "Quote")),
        (Move("received", "quote"),),
        "received",
    )
    config = dataclasses.replace(config, pipelines=(*config.pipelines, repairs))
    text = 'rule "r"\nwhen payment failed\nthen\n  move to stage "quote"\nend\n'
    _, diagnostics = build_graph(config, {"r.kazi": text}, capabilities=EVERYTHING)
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [("E123", 4, 17)]
    named = text.replace('"quote"', '"quote" in pipeline "repairs"')
    graph, diagnostics = build_graph(config, {"r.kazi": named}, capabilities=EVERYTHING)
    assert diagnostics == [] and graph is not None
    wrong = text.replace('"quote"', '"delivery" in pipeline "repairs"')
    _, diagnostics = build_graph(config, {"r.kazi": wrong}, capabilities=EVERYTHING)
    assert [d.code for d in diagnostics] == ["E104"]
    assert diagnostics[0].message == "pipeline 'repairs' has no stage 'delivery'"


def test_a_move_nothing_leads_to_is_refused_when_the_source_is_unknown() -> None:
    config = shop_config()
    sales = config.pipelines[0]
    cut = dataclasses.replace(sales, moves=tuple(m for m in sales.moves if m.target != "delivery"))
    config = dataclasses.replace(config, pipelines=(cut, *config.pipelines[1:]))
    text = 'rule "r"\nwhen payment confirmed\nthen move to stage "delivery"\nend\n'
    _, diagnostics = build_graph(config, {"r.kazi": text}, capabilities=EVERYTHING)
    assert [d.code for d in diagnostics] == ["E111"]


def test_the_source_stage_comes_from_the_condition_too() -> None:
    allowed = (
        'rule "r"\nwhen message received\nif conversation.stage is "quote"\n'
        'then move to stage "payment"\nend\n'
    )
    assert _codes(allowed) == []
    refused = allowed.replace('"quote"', '"inquiry"')
    assert _codes(refused) == [("E111", 4, 20)]
    listed = allowed.replace(
        'conversation.stage is "quote"', 'conversation.stage in ["quote", "inquiry"]'
    )
    assert _codes(listed) == [("E111", 4, 20)]


def test_status_and_assignment_loops_are_found() -> None:
    text = (
        'rule "Resolve reopens"\nwhen status changed to "resolved"\n'
        'then set conversation.status to "open"\nend\n'
        'rule "Open resolves"\nwhen status changed to "open"\n'
        'then set conversation.status to "resolved"\nend\n'
    )
    codes = _codes(text)
    assert codes == [("E112", 1, 6)]
    _, diagnostics = compile_text(text)
    assert "'Resolve reopens' → 'Open resolves' → 'Resolve reopens'" in diagnostics[0].message


def test_a_rule_retriggering_itself_is_not_a_loop() -> None:
    assert _codes('rule "r"\nwhen tag added "vip"\nthen tag "vip"\nend\n') == []


def test_a_choice_value_out_of_range_in_a_list_and_a_set() -> None:
    text = (
        'rule "r"\nwhen message received\nif conversation.priority in ["hgih", "low"]\n'
        'then set conversation.priority to "urgnet"\nend\n'
    )
    _, diagnostics = compile_text(text, "r.kazi")
    assert [(d.code, d.span.line, d.span.column, d.suggestion) for d in diagnostics] == [
        ("E120", 3, 30, "did you mean 'high'?"),
        ("E120", 4, 35, "did you mean 'urgent'?"),
    ]
