"""The builder's edits change the lines they must and no others."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from dsl.edit import operations as op
from dsl.edit.folder import FolderDraft
from dsl.edit.preview import preview
from dsl.edit.yaml_file import YamlEditError
from engine.workspaces.installed import INSTALLED

ROOT = Path(__file__).resolve().parents[2]
RETAIL = ROOT / "configs" / "retail"


def _changed(draft: FolderDraft) -> dict[str, list[str]]:
    out = {}
    for change in draft.changes():
        out[change.name] = [
            line
            for line in difflib.unified_diff(
                (change.before or "").splitlines(), change.after.splitlines(), n=0, lineterm=""
            )
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
    return out


def test_renaming_a_stage_renames_its_entry_moves_and_rule_mentions_only() -> None:
    draft = FolderDraft(RETAIL)
    op.rename_stage(draft, "sales", "quote", "offer")
    changed = _changed(draft)
    scenario_lines = changed.pop("tests/payments.yaml") + changed.pop("tests/sales.yaml")
    removed = [line[1:] for line in scenario_lines if line[0] == "-"]
    added = [line[1:].replace("offer", "quote") for line in scenario_lines if line[0] == "+"]
    assert removed and removed == added  # the same lines, with only the stage renamed
    assert changed == {
        "ai.yaml": ["-    stage: quote", "+    stage: offer"],
        "pipelines.yaml": [
            "-      - name: quote",
            "+      - name: offer",
            "-      inquiry: [quote, lost]",
            "-      quote: [payment, inquiry, lost]",
            "-      payment: [fulfilment, quote, lost]",
            "+      inquiry: [offer, lost]",
            "+      offer: [payment, inquiry, lost]",
            "+      payment: [fulfilment, offer, lost]",
        ],
        "rules/payments.kazi": ['-  move to stage "quote"', '+  move to stage "offer"'],
        "rules/sales.kazi": [
            '-when stage entered "quote"',
            '+when stage entered "offer"',
            '-if conversation.stage is "quote"',
            '+if conversation.stage is "offer"',
        ],
    }


def test_reordering_moves_only_the_dragged_stage() -> None:
    draft = FolderDraft(RETAIL)
    order = op.stage_names(draft, "sales")
    order.remove("lost")
    order.insert(1, "lost")
    op.reorder_stages(draft, "sales", order)
    after = draft.text("pipelines.yaml")
    before = draft.original("pipelines.yaml") or ""
    assert sorted(after.splitlines()) == sorted(before.splitlines())
    assert op.stage_names(draft, "sales")[:2] == ["inquiry", "lost"]
    assert after.startswith(before.split("stages:")[0])  # the comment and header stay


def test_adding_a_stage_appends_two_lines() -> None:
    draft = FolderDraft(RETAIL)
    op.add_stage(draft, "sales", "returned", "Returned")
    assert _changed(draft)["pipelines.yaml"] == [
        "+      - name: returned",
        "+        label: Returned",
    ]


def test_a_teammate_leaving_is_taken_off_their_teams() -> None:
    draft = FolderDraft(RETAIL)
    op.deactivate_teammate(draft, "kevin")
    lines = _changed(draft)["workspace.yaml"]
    assert "-    members: [kevin]" in lines and "+    members: []" in lines
    assert "-  - handle: kevin" in lines
    assert not [line for line in lines if line.startswith("+") and "members" not in line]


def test_moves_keep_their_flow_list() -> None:
    draft = FolderDraft(RETAIL)
    op.set_moves(draft, "sales", "delivery", ["completed"])
    assert _changed(draft)["pipelines.yaml"] == [
        "-      delivery: [completed, fulfilment]",
        "+      delivery: [completed]",
    ]


def test_an_unknown_stage_is_a_clear_error() -> None:
    with pytest.raises(YamlEditError, match="no stage named 'nope'"):
        op.rename_stage(FolderDraft(RETAIL), "sales", "nope", "x")


def _pipelines(folder: Path) -> list[tuple[str, str]]:
    draft = FolderDraft(folder)
    return [
        (str(p["name"]), stage)
        for p in draft.yaml("pipelines.yaml").get(("pipelines",))
        for stage in op.stage_names(draft, str(p["name"]))
    ]


@pytest.mark.parametrize(
    ("sample", "pipeline", "stage"),
    [
        (sample, pipeline, stage)
        for sample in ("retail", "distributor", "firm")
        for pipeline, stage in _pipelines(ROOT / "configs" / sample)
    ],
)
def test_renaming_any_sample_stage_compiles_and_keeps_every_scenario(
    sample: str, pipeline: str, stage: str
) -> None:
    """A rename reaches rules, SLA and routing conditions and the scenario tests: the
    workspace behaves exactly as before."""
    folder = ROOT / "configs" / sample
    draft = FolderDraft(folder)
    op.rename_stage(draft, pipeline, stage, f"{stage}_renamed")
    result = preview(folder, draft.changes(), capabilities=INSTALLED)
    assert result.ok, [d.headline() for d in result.errors]
    assert result.scenarios and not [s.name for s in result.scenarios if s.changed]


def test_removing_a_stage_takes_it_off_the_ai_intents_that_led_there() -> None:
    draft = FolderDraft(RETAIL)
    op.remove_stage(draft, "sales", "quote")
    assert _changed(draft)["ai.yaml"] == ["-    stage: quote"]
    result = preview(RETAIL, draft.changes(), capabilities=INSTALLED)
    # What the removal leaves broken (stages no move reaches, rules that name it) is the
    # compiler's to point at; the intent that led there is not broken.
    assert result.errors and not result.errors_in("ai.yaml")
    assert {d.span.file for d in result.errors} <= {
        "pipelines.yaml",
        "rules/sales.kazi",
        "rules/payments.kazi",
    }


@pytest.mark.parametrize(
    ("sample", "pipeline", "stage"),
    [
        (sample, pipeline, stage)
        for sample in ("retail", "distributor")
        for pipeline, stage in _pipelines(ROOT / "configs" / sample)
    ],
)
def test_removing_any_sample_stage_leaves_the_ai_and_consent_files_valid(
    sample: str, pipeline: str, stage: str
) -> None:
    folder = ROOT / "configs" / sample
    draft = FolderDraft(folder)
    op.remove_stage(draft, pipeline, stage)
    result = preview(folder, draft.changes(), capabilities=INSTALLED)
    for name in ("ai.yaml", "knowledge.yaml", "consent.yaml"):
        assert not result.errors_in(name), [d.headline() for d in result.errors_in(name)]
