"""Broken configs: each gives the expected diagnostic at the expected place.

Every case is a small folder under `broken/`, made from `minimal/` by changing a line
or two; `kazi validate tests/config/broken/<case>` shows the same diagnostics.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.config import load_config
from dsl.config.codes import CATALOG
from dsl.diagnostics import Severity

HERE = Path(__file__).parent

# case: (code, file, line, column)
CASES: dict[str, tuple[str, str, int, int]] = {
    "yaml_syntax_error": ("E001", "workspace.yaml", 6, 13),
    "yaml_tab_indent": ("E001", "workspace.yaml", 16, 1),
    "missing_workspace_file": ("E002", "workspace.yaml", 1, 1),
    "duplicate_key": ("E003", "workspace.yaml", 3, 1),
    "complex_key": ("E004", "workspace.yaml", 3, 3),
    "misspelt_key": ("E010", "workspace.yaml", 3, 1),
    "integration_unknown_setting": ("E010", "integrations.yaml", 8, 5),
    "missing_required_key": ("E011", "workspace.yaml", 16, 5),
    "phone_unquoted": ("E012", "workspace.yaml", 9, 12),
    "bad_role": ("E013", "workspace.yaml", 19, 11),
    "routing_bad_strategy": ("E013", "routing.yaml", 9, 15),
    "bad_hours_form": ("E014", "workspace.yaml", 6, 12),
    "quick_reply_too_long": ("E015", "templates.yaml", 10, 32),
    "duplicate_member": ("E015", "workspace.yaml", 9, 29),
    "duplicate_teammate": ("E020", "workspace.yaml", 16, 13),
    "teammate_unknown_team": ("E021", "workspace.yaml", 20, 20),
    "team_unknown_member": ("E022", "workspace.yaml", 9, 29),
    "choice_without_choices": ("E023", "workspace.yaml", 24, 13),
    "field_shadows_builtin": ("E024", "workspace.yaml", 23, 13),
    "never_on_shift": ("W023", "workspace.yaml", 25, 5),
    "unknown_timezone": ("E025", "workspace.yaml", 3, 11),
    "closes_before_opens": ("E026", "workspace.yaml", 6, 26),
    "overlapping_hours": ("E027", "workspace.yaml", 6, 12),
    "move_from_unknown_stage": ("E030", "pipelines.yaml", 20, 7),
    "move_to_unknown_stage": ("E031", "pipelines.yaml", 20, 15),
    "unknown_initial_stage": ("E032", "pipelines.yaml", 4, 14),
    "unreachable_stage": ("E033", "pipelines.yaml", 12, 15),
    "unknown_subject": ("E034", "pipelines.yaml", 3, 14),
    "placeholder_without_variable": ("E040", "templates.yaml", 5, 40),
    "placeholder_in_block_body": ("E040", "templates.yaml", 7, 25),
    "variable_without_placeholder": ("E041", "templates.yaml", 10, 9),
    "placeholders_with_gap": ("E042", "templates.yaml", 5, 11),
    "footer_placeholder": ("E044", "templates.yaml", 10, 18),
    "bad_duration": ("E050", "sla.yaml", 3, 21),
    "duration_without_unit": ("E050", "sla.yaml", 3, 21),
    "business_time_in_calendar_policy": ("E051", "sla.yaml", 4, 17),
    "routing_unknown_team": ("E060", "routing.yaml", 8, 11),
    "routing_unknown_teammate": ("E061", "routing.yaml", 5, 15),
    "unknown_integration_kind": ("E070", "integrations.yaml", 3, 11),
    "literal_secret": ("E071", "integrations.yaml", 5, 17),
    "whatsapp_for_undeclared_number": ("E072", "integrations.yaml", 4, 22),
    "number_unknown_pipeline": ("E073", "workspace.yaml", 11, 15),
    "reply_unknown_variable": ("E090", "replies.yaml", 7, 15),
    "reply_duplicate_shortcut": ("E020", "replies.yaml", 10, 15),
    "reply_bad_shortcut": ("E014", "replies.yaml", 5, 15),
    "header_two_placeholders": ("E043", "templates.yaml", 5, 13),
    "policy_without_targets": ("E052", "sla.yaml", 2, 5),
    "routing_teammate_outside_team": ("E062", "routing.yaml", 5, 15),
    "routing_without_target": ("E063", "routing.yaml", 2, 5),
    "membership_one_sided": ("W020", "workspace.yaml", 20, 13),
    "choices_on_non_choice": ("W021", "workspace.yaml", 25, 7),
    "owner_looks_misspelt": ("W022", "workspace.yaml", 22, 3),
    "terminal_with_moves": ("W030", "pipelines.yaml", 21, 7),
    "dead_end_stage": ("W031", "pipelines.yaml", 12, 15),
    "move_to_itself": ("W032", "pipelines.yaml", 20, 26),
    "warning_not_before_deadline": ("W050", "sla.yaml", 5, 18),
    "policy_after_catch_all": ("W051", "sla.yaml", 6, 11),
    "no_business_hours": ("W052", "sla.yaml", 2, 11),
    "duplicate_holiday": ("W060", "workspace.yaml", 10, 11),
    "routing_rule_after_catch_all": ("W061", "routing.yaml", 10, 11),
    "number_without_integration": ("W070", "workspace.yaml", 13, 22),
    "ai_unknown_stage": ("E091", "ai.yaml", 5, 12),
    "ai_unknown_reply": ("E092", "ai.yaml", 5, 12),
    "ai_unknown_fact": ("E093", "ai.yaml", 5, 13),
    "ai_intent_without_words": ("E094", "ai.yaml", 5, 11),
    "ai_model_missing": ("E095", "ai.yaml", 1, 11),
    "ai_literal_key": ("E071", "ai.yaml", 5, 12),
    "knowledge_duplicate_alias": ("E020", "knowledge.yaml", 7, 15),
    "ai_keyword_twice": ("W090", "ai.yaml", 7, 23),
    "ai_model_unused": ("W091", "ai.yaml", 2, 1),
}


def test_minimal_config_is_clean() -> None:
    config, diagnostics = load_config(HERE / "minimal")
    assert [d.headline() for d in diagnostics] == []
    assert config is not None


def test_every_case_folder_is_listed() -> None:
    assert sorted(p.name for p in (HERE / "broken").iterdir()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_config_reports_code_at_place(case: str) -> None:
    code, file, line, column = CASES[case]
    folder = HERE / "broken" / case
    config, diagnostics = load_config(folder)
    found = [(d.code, Path(d.span.file).name, d.span.line, d.span.column) for d in diagnostics]
    assert (code, file, line, column) in found, [d.headline() for d in diagnostics]
    expected_file = str(folder / file)
    assert any(d.span.file == expected_file for d in diagnostics if d.code == code)
    if code.startswith("E"):
        assert config is None
    else:
        assert config is not None
        assert all(d.severity is Severity.WARNING for d in diagnostics)


def test_literal_secret_is_not_echoed() -> None:
    _, diagnostics = load_config(HERE / "broken" / "literal_secret")
    secret = "7d3f9a0c5be14e21"
    assert diagnostics
    assert all(secret not in d.message and secret not in (d.suggestion or "") for d in diagnostics)


def test_suggestions_name_the_intended_word() -> None:
    expected = {
        "misspelt_key": "did you mean 'timezone'?",
        "unknown_initial_stage": "did you mean 'inquiry'?",
        "routing_unknown_teammate": "did you mean 'baraka'?",
        "unknown_integration_kind": "did you mean 'whatsapp'?",
        "team_unknown_member": "did you mean 'baraka'?",
    }
    for case, suggestion in expected.items():
        _, diagnostics = load_config(HERE / "broken" / case)
        assert suggestion in [d.suggestion for d in diagnostics], case


def test_misspelt_key_is_not_also_reported_missing() -> None:
    _, diagnostics = load_config(HERE / "broken" / "misspelt_key")
    assert [d.code for d in diagnostics] == ["E010"]


def test_unknown_kind_does_not_flood_its_settings() -> None:
    _, diagnostics = load_config(HERE / "broken" / "unknown_integration_kind")
    assert [d.code for d in diagnostics if d.is_error] == ["E070"]


def test_render_shows_source_line_and_caret() -> None:
    _, diagnostics = load_config(HERE / "broken" / "routing_unknown_teammate")
    text = diagnostics[0].render()
    lines = text.splitlines()
    assert lines[1].strip() == "teammate: barak"
    assert lines[2] == "    " + " " * 14 + "^^^^^"


def test_every_code_has_a_broken_example() -> None:
    """Every code the loader can emit is shown by a case here (or, for the three that need
    bytes, environments or stray files, by test_never_raises and test_secrets)."""
    elsewhere = {"E005", "E080", "W001"}
    assert set(CATALOG) - elsewhere - {code for code, *_ in CASES.values()} == set()
