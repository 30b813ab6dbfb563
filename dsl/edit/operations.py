"""The builder's edits, each a small change to a FolderDraft in the business's words.

Each edit touches only what it must; whether the result is a valid workspace is
the compiler's business (preview.py), not these functions'.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from dsl.edit.folder import FolderDraft
from dsl.edit.rules_text import rename_stage_in_expression, rename_stage_in_rules
from dsl.edit.yaml_file import YamlEditError, YamlFile, walk_scalars

PIPELINES = "pipelines.yaml"
WORKSPACE = "workspace.yaml"
TEMPLATES = "templates.yaml"


def _index(items: Any, key: str, value: str, what: str) -> int:
    for index, item in enumerate(items or []):
        if isinstance(item, dict) and item.get(key) == value:
            return index
    raise YamlEditError(f"no {what} named {value!r}")


def _pipeline(draft: FolderDraft, pipeline: str) -> tuple[YamlFile, int]:
    file = draft.yaml(PIPELINES)
    return file, _index(file.get(("pipelines",)), "name", pipeline, "pipeline")


def stage_names(draft: FolderDraft, pipeline: str) -> list[str]:
    file, p = _pipeline(draft, pipeline)
    return [str(stage["name"]) for stage in file.get(("pipelines", p, "stages"))]


# ----- pipelines ---------------------------------------------------------------


def add_stage(draft: FolderDraft, pipeline: str, name: str, label: str) -> None:
    file, p = _pipeline(draft, pipeline)
    stages = file.get(("pipelines", p, "stages"))
    if any(stage.get("name") == name for stage in stages):
        raise YamlEditError(f"pipeline {pipeline!r} already has a stage {name!r}")
    file.insert(("pipelines", p, "stages"), len(stages), {"name": name, "label": label})


def rename_stage(draft: FolderDraft, pipeline: str, old: str, new: str) -> None:
    """Rename a stage everywhere: its entry, `initial`, the moves, the rule files, SLA and
    routing conditions, AI intents and the scenario tests."""
    if old == new:
        return
    file, p = _pipeline(draft, pipeline)
    base = ("pipelines", p)
    stages = file.get((*base, "stages"))
    if any(stage.get("name") == new for stage in stages):
        raise YamlEditError(f"pipeline {pipeline!r} already has a stage {new!r}")
    file.set((*base, "stages", _index(stages, "name", old, "stage"), "name"), new)
    if file.has((*base, "initial")) and file.get((*base, "initial")) == old:
        file.set((*base, "initial"), new)
    if file.has((*base, "moves")):
        moves = file.get((*base, "moves"))
        for source in list(moves):
            targets = moves[source]
            if isinstance(targets, list):
                for i, target in enumerate(targets):
                    if target == old:
                        file.set((*base, "moves", source, i), new)
        if old in moves:
            file.rename_key((*base, "moves"), old, new)
    for name in draft.rule_files():
        draft.set_text(name, rename_stage_in_rules(draft.text(name), name, old, new))
    for name, items, key in (
        ("sla.yaml", "policies", "applies_when"),
        ("routing.yaml", "rules", "when"),
    ):
        if draft.original(name) is None:
            continue
        conditions = draft.yaml(name)
        for index, item in enumerate(conditions.get((items,)) if conditions.has((items,)) else []):
            condition = item.get(key) if isinstance(item, dict) else None
            if isinstance(condition, str):
                renamed = rename_stage_in_expression(condition, old, new)
                if renamed != condition:
                    conditions.set((items, index, key), renamed)
    if draft.original("ai.yaml") is not None:
        ai = draft.yaml("ai.yaml")
        for index, intent in enumerate(ai.get(("intents",)) if ai.has(("intents",)) else []):
            if isinstance(intent, dict) and intent.get("stage") == old:
                ai.set(("intents", index, "stage"), new)
    for path in sorted((draft.folder / "tests").glob("*.yaml")):
        _rename_in_scenarios(draft.yaml(f"tests/{path.name}"), old, new)


def quick_reply_renamed(draft: FolderDraft, old: str, new: str) -> None:
    """A quick reply's shortcut changed: the AI intents that draft from it follow, once no
    reply (in any language) keeps the old shortcut."""
    if old == new or draft.original("ai.yaml") is None:
        return
    replies = draft.yaml("replies.yaml")
    left = replies.get(("replies",)) if replies.has(("replies",)) else []
    if any(isinstance(r, dict) and r.get("shortcut") == old for r in left):
        return
    ai = draft.yaml("ai.yaml")
    for index, intent in enumerate(ai.get(("intents",)) if ai.has(("intents",)) else []):
        if isinstance(intent, dict) and intent.get("reply") == old:
            ai.set(("intents", index, "reply"), new)


def _rename_in_scenarios(file: YamlFile, old: str, new: str) -> None:
    """Scenario tests name stages as `stage: x` and in `stage entered`/`left` events."""
    for path, value in list(walk_scalars(file.document)):
        if value != old or not path:
            continue
        parent = file.get(path[:-1])
        stage_event = isinstance(parent, dict) and parent.get("kind") in (
            "stage entered",
            "stage left",
        )
        if path[-1] == "stage" or (path[-1] == "key" and stage_event):
            file.set(path, new)


def remove_stage(draft: FolderDraft, pipeline: str, name: str) -> None:
    """Remove a stage and the moves into and out of it. Rules that still name it are
    left as written, so the compiler points at them instead of them vanishing. An AI
    intent that led to it keeps classifying and only stops leading there: `stage:` is an
    optional hint, and ai.yaml is not a page where a manager would look for the cause."""
    file, p = _pipeline(draft, pipeline)
    base = ("pipelines", p)
    stages = file.get((*base, "stages"))
    file.remove((*base, "stages", _index(stages, "name", name, "stage")))
    if file.has((*base, "moves")):
        moves = file.get((*base, "moves"))
        if name in moves:
            file.remove((*base, "moves", name))
        for source in list(moves):
            targets = moves[source]
            if isinstance(targets, list) and name in targets:
                file.remove((*base, "moves", source, targets.index(name)))
    if draft.original("ai.yaml") is not None:
        ai = draft.yaml("ai.yaml")
        for index, intent in enumerate(ai.get(("intents",)) if ai.has(("intents",)) else []):
            if isinstance(intent, dict) and intent.get("stage") == name:
                ai.remove(("intents", index, "stage"))


def reorder_stages(draft: FolderDraft, pipeline: str, order: list[str]) -> None:
    """Put the stages in `order` (every stage named once), moving as few as needed."""
    file, p = _pipeline(draft, pipeline)
    path = ("pipelines", p, "stages")
    current = [str(stage["name"]) for stage in file.get(path)]
    if sorted(current) != sorted(order):
        raise YamlEditError("the new order must name every stage of the pipeline once")
    for position, name in enumerate(order):
        now_at = [str(stage["name"]) for stage in file.get(path)].index(name)
        if now_at != position:
            file.move(path, now_at, position)


def set_moves(draft: FolderDraft, pipeline: str, stage: str, targets: list[str]) -> None:
    """The stages a conversation may move to from `stage`; an empty list removes the entry."""
    file, p = _pipeline(draft, pipeline)
    base = ("pipelines", p)
    if not file.has((*base, "moves")):
        if not targets:
            return
        file.put(base, "moves", {})
    moves = file.get((*base, "moves"))
    if not targets:
        if stage in moves:
            file.remove((*base, "moves", stage))
        return
    existing = moves.get(stage)
    if isinstance(existing, list):
        # Keep the list's own node (its flow style, comments) and its order: targets
        # that stay keep their place, new ones go last.
        for target in [t for t in existing if t not in targets]:
            existing.remove(target)
        for target in targets:
            if target not in existing:
                existing.append(target)
        return
    file.put((*base, "moves"), stage, _flow(targets))


def _flow(items: list[str]) -> Any:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


# ----- workspace ---------------------------------------------------------------

WORKSPACE_FIELDS = ("name", "timezone")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def set_workspace_field(draft: FolderDraft, key: str, value: str) -> None:
    if key not in WORKSPACE_FIELDS:
        raise YamlEditError(f"{key!r} is not a workspace field the builder edits")
    draft.yaml(WORKSPACE).set((key,), value)


def set_business_hours(draft: FolderDraft, day: str, hours: str) -> None:
    if day not in DAYS:
        raise YamlEditError(f"{day!r} is not a day of the week")
    file = draft.yaml(WORKSPACE)
    if not file.has(("business_hours",)):
        file.put((), "business_hours", {})
    days = file.get(("business_hours",))
    quoted = [v for v in days.values() if isinstance(v, DoubleQuotedScalarString)]
    # Hours read like the other days': the samples quote "08:30-18:30" so that YAML 1.1
    # tools do not read a time as a number; a value with a colon is quoted the same way.
    value: Any = DoubleQuotedScalarString(hours) if quoted and ":" in hours else hours
    file.put(("business_hours",), day, value)


def set_holidays(draft: FolderDraft, holidays: list[tuple[str, str]]) -> None:
    """Make the holiday list exactly `holidays` (date, name), keeping the entries that stay."""
    file = draft.yaml(WORKSPACE)
    if not file.has(("holidays",)):
        file.put((), "holidays", [])
    items = file.get(("holidays",))
    wanted = [(d, n) for d, n in holidays if d]
    for index in reversed(range(len(items))):
        kept = items[index]
        if (str(kept.get("date")), str(kept.get("name", ""))) not in wanted:
            file.remove(("holidays", index))
    have = [(str(e.get("date")), str(e.get("name", ""))) for e in file.get(("holidays",))]
    for date, name in wanted:
        if (date, name) not in have:
            entry: dict[str, str] = {"date": date}
            if name:
                entry["name"] = name
            file.insert(("holidays",), len(file.get(("holidays",))), entry)


# ----- teammates ---------------------------------------------------------------


def add_teammate(
    draft: FolderDraft, handle: str, name: str, email: str, role: str, teams: list[str]
) -> None:
    file = draft.yaml(WORKSPACE)
    people = file.get(("teammates",))
    if any(person.get("handle") == handle for person in people):
        raise YamlEditError(f"there is already a teammate {handle!r}")
    person: dict[str, Any] = {"handle": handle, "name": name, "email": email, "role": role}
    if teams:
        person["teams"] = _flow(teams)
    file.insert(("teammates",), len(people), person)
    for team in teams:
        _join(file, handle, team)


def set_role(draft: FolderDraft, handle: str, role: str) -> None:
    file = draft.yaml(WORKSPACE)
    index = _index(file.get(("teammates",)), "handle", handle, "teammate")
    file.set(("teammates", index, "role"), role)


def set_teams(draft: FolderDraft, handle: str, teams: list[str]) -> None:
    """The teams a teammate belongs to, on their own entry and in each team's members."""
    file = draft.yaml(WORKSPACE)
    index = _index(file.get(("teammates",)), "handle", handle, "teammate")
    person = file.get(("teammates", index))
    if isinstance(person.get("teams"), list):
        current = person["teams"]
        current[:] = teams
    elif teams:
        file.put(("teammates", index), "teams", _flow(teams))
    for position, team in enumerate(file.get(("teams",)) or []):
        members = team.get("members")
        if not isinstance(members, list):
            continue
        if team.get("name") in teams and handle not in members:
            members.append(handle)
        elif team.get("name") not in teams and handle in members:
            file.remove(("teams", position, "members", members.index(handle)))


def deactivate_teammate(draft: FolderDraft, handle: str) -> None:
    """Take a teammate out of the folder: on reload their account is made inactive
    (engine/workspaces/load.py), their history stays."""
    file = draft.yaml(WORKSPACE)
    file.remove(("teammates", _index(file.get(("teammates",)), "handle", handle, "teammate")))
    for position, team in enumerate(file.get(("teams",)) or []):
        members = team.get("members")
        if isinstance(members, list) and handle in members:
            file.remove(("teams", position, "members", members.index(handle)))


def _join(file: YamlFile, handle: str, team: str) -> None:
    teams = file.get(("teams",)) if file.has(("teams",)) else []
    position = _index(teams, "name", team, "team")
    members = teams[position].get("members")
    if isinstance(members, list) and handle not in members:
        members.append(handle)


# ----- templates ---------------------------------------------------------------


def set_template_text(draft: FolderDraft, name: str, language: str, part: str, text: str) -> None:
    """Change a template's header, body or footer text."""
    if part not in ("header", "body", "footer"):
        raise YamlEditError(f"{part!r} is not a template text")
    file = draft.yaml(TEMPLATES)
    for index, template in enumerate(file.get(("templates",))):
        if template.get("name") == name and template.get("language") == language:
            if text or file.has(("templates", index, part)):
                if part in template:
                    file.set(("templates", index, part), text)
                else:
                    file.put(("templates", index), part, text)
            return
    raise YamlEditError(f"no template {name!r} in {language!r}")
