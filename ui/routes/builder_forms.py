"""The builder's forms turned into drafts of the workspace folder.

Each section's form is one save: `draft_for(section, folder, form)` replays it onto a
fresh FolderDraft, so the preview and the apply run exactly the same edit (the apply
form carries the section's fields back, with the folder version they were read from).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dsl.edit import FolderDraft, YamlEditError
from dsl.edit import operations as op
from dsl.edit.rule_form import ActionRow, RuleForm, RuleFormError, append_rule

FormData = Mapping[str, str]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _identifier(value: str, what: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise YamlEditError(
            f"{what} {value!r}: use lower-case letters, digits and _, starting with a letter"
        )
    return value


def workspace(draft: FolderDraft, form: FormData) -> None:
    for key in op.WORKSPACE_FIELDS:
        if key in form:
            op.set_workspace_field(draft, key, form[key].strip())
    for day in op.DAYS:
        if f"hours_{day}" in form:
            op.set_business_hours(draft, day, form[f"hours_{day}"].strip() or "closed")
    if "holidays" in form:
        holidays = []
        for line in form["holidays"].splitlines():
            date, _, name = line.strip().partition(" ")
            if date:
                holidays.append((date, name.strip()))
        op.set_holidays(draft, holidays)


def pipeline(draft: FolderDraft, form: FormData) -> None:
    """One pipeline's stages: order (dragged), renames, removals, moves, a new stage."""
    name = form.get("pipeline", "")
    stages = op.stage_names(draft, name)
    removed = [s for s in stages if form.get(f"remove__{s}")]
    kept = [s for s in stages if s not in removed]
    for stage in removed:
        op.remove_stage(draft, name, stage)
    order = [s for s in form.get("order", "").split(",") if s in kept]
    if order and sorted(order) == sorted(kept):
        op.reorder_stages(draft, name, order)
    for stage in kept:
        targets = [t for t in kept if t != stage and form.get(f"move__{stage}__{t}")]
        op.set_moves(draft, name, stage, targets)
    new_stage = form.get("new_name", "").strip()
    if new_stage:
        new_stage = _identifier(new_stage, "stage name")
        op.add_stage(draft, name, new_stage, form.get("new_label", "").strip() or new_stage)
        if form.get("new_from"):
            source = form["new_from"]
            current = [t for t in kept if t != source and form.get(f"move__{source}__{t}")]
            op.set_moves(draft, name, source, [*current, new_stage])
    for stage in kept:
        wanted = form.get(f"rename__{stage}", stage).strip() or stage
        if wanted != stage:
            op.rename_stage(draft, name, stage, _identifier(wanted, "stage name"))


def templates(draft: FolderDraft, form: FormData) -> None:
    name, language = form.get("template", ""), form.get("language", "")
    for part in ("header", "body", "footer"):
        if part in form:
            op.set_template_text(draft, name, language, part, form[part])


def teammates(draft: FolderDraft, form: FormData) -> None:
    handles = [h for h in form.get("handles", "").split(",") if h]
    all_teams = [t for t in form.get("teams", "").split(",") if t]
    for handle in handles:
        if form.get(f"deactivate__{handle}"):
            op.deactivate_teammate(draft, handle)
            continue
        if f"role__{handle}" in form:
            op.set_role(draft, handle, form[f"role__{handle}"])
        op.set_teams(draft, handle, [t for t in all_teams if form.get(f"team__{handle}__{t}")])
    new_handle = form.get("new_handle", "").strip()
    if new_handle:
        op.add_teammate(
            draft,
            _identifier(new_handle, "handle"),
            form.get("new_name", "").strip(),
            form.get("new_email", "").strip(),
            form.get("new_role", "agent"),
            [t for t in all_teams if form.get(f"new_team__{t}")],
        )


def rules(draft: FolderDraft, form: FormData) -> None:
    name = form.get("file", "")
    if not re.match(r"^rules/[A-Za-z0-9_-]+\.kazi$", name):
        raise YamlEditError(f"{name!r} is not a rule file name (rules/<name>.kazi)")
    draft.set_text(name, form.get("text", "").replace("\r\n", "\n"))


# Pages that edit a file's plain values in place, with the list whose order matters
# (None: the file has no such list, only settings).
FIELD_FILES: dict[str, tuple[str, str | None]] = {
    "routing": ("routing.yaml", "rules"),
    "sla": ("sla.yaml", "policies"),
    "replies": ("replies.yaml", "replies"),
    "integrations": ("integrations.yaml", "integrations"),
    "ai": ("ai.yaml", "intents"),
    "knowledge": ("knowledge.yaml", "products"),
    "consent": ("consent.yaml", None),
}


def _coerce(old: Any, raw: str) -> Any:
    """A form value read as the type of the value it replaces."""
    if isinstance(old, bool):
        return raw.strip().lower() in ("true", "yes", "on", "1")
    if isinstance(old, int):
        try:
            return int(raw.strip())
        except ValueError:
            raise YamlEditError(f"{raw!r} is not a whole number") from None
    if isinstance(old, float):
        try:
            return float(raw.strip())
        except ValueError:
            raise YamlEditError(f"{raw!r} is not a number") from None
    if old is None and not raw.strip():
        return None
    return raw


def fields(section: str) -> Callable[[FolderDraft, FormData], None]:
    name, ordered = FIELD_FILES[section]

    def edit(draft: FolderDraft, form: FormData) -> None:
        file = draft.yaml(name)
        renamed: list[tuple[str, str]] = []
        for key, raw in form.items():
            if not key.startswith("f:"):
                continue
            path = tuple(json.loads(key[2:]))
            old = file.get(path)
            if isinstance(old, str) and old.startswith("env:"):
                continue  # a secret's variable name is not edited here
            new = _coerce(old, raw)
            if new != old:
                file.set(path, new)
                if name == "replies.yaml" and path[-1] == "shortcut":
                    renamed.append((str(old), str(new)))
        for old_shortcut, new_shortcut in renamed:
            op.quick_reply_renamed(draft, old_shortcut, new_shortcut)
        order = [int(i) for i in form.get("order", "").split(",") if i.strip().isdigit()]
        if order and ordered is not None and file.has((ordered,)):
            items = file.get((ordered,))
            if sorted(order) != list(range(len(items))):
                raise YamlEditError("the new order must name every entry once")
            current = list(range(len(items)))
            for position, original in enumerate(order):
                now_at = current.index(original)
                if now_at != position:
                    file.move((ordered,), now_at, position)
                    current.insert(position, current.pop(now_at))

    return edit


def new_rule(draft: FolderDraft, form: FormData) -> None:
    """A rule from the form, added at the end of the chosen rule file."""
    name = form.get("file", "")
    if not re.match(r"^rules/[A-Za-z0-9_-]+\.kazi$", name):
        raise YamlEditError(f"{name!r} is not a rule file name (rules/<name>.kazi)")

    def rows(prefix: str) -> list[ActionRow]:
        out = []
        for n in range(1, 6):
            kind = form.get(f"{prefix}{n}_kind", "")
            if kind:
                out.append(ActionRow(kind, form.get(f"{prefix}{n}_value", "")))
        return out

    rule = RuleForm(
        name=form.get("name", ""),
        trigger=form.get("trigger", ""),
        subject=form.get("subject", ""),
        condition=form.get("condition", ""),
        actions=rows("action"),
        delay=form.get("delay", ""),
        guard=form.get("guard", ""),
        delayed=rows("later"),
    )
    try:
        text = rule.text()
    except RuleFormError as error:
        raise YamlEditError(str(error)) from error
    draft.set_text(name, append_rule(draft.text(name), text))


SECTIONS: dict[str, Callable[[FolderDraft, FormData], None]] = {
    "newrule": new_rule,
    **{section: fields(section) for section in FIELD_FILES},
    "workspace": workspace,
    "pipelines": pipeline,
    "templates": templates,
    "teammates": teammates,
    "rules": rules,
}


def draft_for(section: str, folder: Path, form: FormData) -> FolderDraft:
    if section not in SECTIONS:
        raise YamlEditError(f"no builder section {section!r}")
    draft = FolderDraft(folder)
    SECTIONS[section](draft, form)
    return draft
