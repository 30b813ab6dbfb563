"""The rule form writes the rule language and adds it after the rules already written."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.edit.folder import FolderDraft
from dsl.edit.preview import preview
from dsl.edit.rule_form import ActionRow, RuleForm, RuleFormError, append_rule
from engine.workspaces.installed import INSTALLED

RETAIL = Path(__file__).resolve().parents[2] / "configs" / "retail"

FORM = RuleForm(
    name='Thank "delivered" customers',
    trigger="stage entered",
    subject="completed",
    condition='not has tag "thanked"',
    actions=[ActionRow("tag", "thanked"), ActionRow("notify owner", "{contact.name} has it")],
    delay="2h",
    guard="customer replied",
    delayed=[ActionRow("create task for owner", "Call {contact.name} for a review")],
)


def test_the_form_writes_the_rule_language() -> None:
    assert FORM.text() == (
        'rule "Thank \\"delivered\\" customers"\n'
        'when stage entered "completed"\n'
        'if not has tag "thanked"\n'
        "then\n"
        '  tag "thanked"\n'
        '  notify owner "{contact.name} has it"\n'
        "after 2h unless customer replied\n"
        '  create task "Call {contact.name} for a review" for owner\n'
        "end\n"
    )


def test_a_new_rule_is_added_after_the_others_and_compiles() -> None:
    original = (RETAIL / "rules" / "service.kazi").read_text(encoding="utf-8")
    draft = FolderDraft(RETAIL)
    draft.set_text("rules/service.kazi", append_rule(original, FORM.text()))
    (change,) = draft.changes()
    assert change.after.startswith(original)
    result = preview(RETAIL, draft.changes(), capabilities=INSTALLED)
    assert result.ok, [d.headline() for d in result.errors]
    assert not [s for s in result.scenarios if s.changed]


def test_a_form_without_actions_is_refused() -> None:
    with pytest.raises(RuleFormError, match="at least one action"):
        RuleForm(name="x", trigger="message received").text()


def test_the_form_offers_the_ai_trigger_and_checks_the_intent() -> None:
    """`inquiry classified as` came with the AI; the form writes it and the compiler
    checks the intent against ai.yaml."""
    form = RuleForm(
        name="Price questions go to quote",
        trigger="inquiry classified as",
        subject="price",
        actions=[ActionRow("move to stage", "quote")],
    )
    assert form.text().splitlines()[1] == 'when inquiry classified as "price"'
    original = (RETAIL / "rules" / "sales.kazi").read_text(encoding="utf-8")
    draft = FolderDraft(RETAIL)
    draft.set_text("rules/sales.kazi", append_rule(original, form.text()))
    assert preview(RETAIL, draft.changes(), capabilities=INSTALLED).ok
    wrong = RuleForm(
        name="x", trigger="inquiry classified as", subject="prize", actions=form.actions
    )
    draft.set_text("rules/sales.kazi", append_rule(original, wrong.text()))
    errors = preview(RETAIL, draft.changes(), capabilities=INSTALLED).errors
    assert [d.span.file for d in errors] == ["rules/sales.kazi"]
    with pytest.raises(RuleFormError, match="needs an intent"):
        RuleForm(name="x", trigger="inquiry classified as", actions=form.actions).text()
