"""The visual builder: managers and admins edit the workspace folder's files in the
browser. Every save is previewed (compiled on a copy, text diff, scenarios before and
after) and then applied through engine.workspaces.builder; agents are refused."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from dsl.edit import FolderDraft, YamlEditError, YamlFile, folder_version, read_text
from dsl.edit.preview import check, preview, write_copy
from dsl.edit.rule_form import ACTIONS, TRIGGERS
from dsl.edit.yaml_file import line_of, plain, walk_scalars
from dsl.workspace import compile_workspace
from engine.auth import Principal
from engine.auth.policy import Action, require
from engine.composition import Runtime
from engine.db import workspace_session
from engine.inbox.errors import NotFound
from engine.models import Teammate
from engine.reports.simulation import simulate
from engine.workspaces.builder import Editor, StaleDraft, apply, snapshot
from engine.workspaces.installed import INSTALLED
from ui.dependencies import RuntimeDependency
from ui.routes.builder_forms import FIELD_FILES, SECTIONS, draft_for
from ui.routes.presentation import PAGE_ERRORS, page_context, workspace_of
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]

PAGES = (
    "workspace",
    "pipelines",
    "routing",
    "sla",
    "templates",
    "teammates",
    "rules",
    "replies",
    "integrations",
    "ai",
    "knowledge",
    "consent",
)
_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")

# What each version of a folder held, as pages read it: a refused save over a newer
# version shows what changed in between. Per process and bounded; without it the
# refusal still stands, only without the diff.
_READ: dict[str, dict[str, str]] = {}


def _remember(folder: Path) -> str:
    version = folder_version(folder)
    if version not in _READ:
        if len(_READ) > 64:
            _READ.pop(next(iter(_READ)))
        _READ[version] = snapshot(folder)
    return version


def _folder(runtime: Runtime, principal: Principal) -> tuple[Path, dict[str, Any]]:
    require(principal, Action.EDIT_CONFIG)
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        context = page_context(session, principal, now).as_dict()
        slug = workspace_of(session, principal).slug
    folder = runtime.configs.root / slug
    if not (folder / "workspace.yaml").is_file():
        raise NotFound(f"the workspace folder {folder.name} is not on this server")
    return folder, context


def _load(folder: Path, name: str) -> Any:
    path = folder / name
    return plain(YamlFile.parse(read_text(path)).document) if path.is_file() else None


def _template_checks(body: str, variables: dict[str, Any] | None) -> list[str]:
    """What is wrong between a template text's {{n}} placeholders and its variables."""
    used = sorted({int(n) for n in _PLACEHOLDER.findall(body)})
    declared = sorted(int(k) for k in (variables or {}))
    problems = []
    if used and used != list(range(1, len(used) + 1)):
        problems.append("placeholders must be numbered {{1}}, {{2}} ... without gaps")
    problems += [
        f"{{{{{n}}}}} has no variable saying what fills it" for n in used if n not in declared
    ]
    problems += [f"variable {n} is not used in the text" for n in declared if n not in used]
    return problems


def _section_context(section: str, folder: Path, selected: str | None) -> dict[str, Any]:
    if section == "workspace":
        data = _load(folder, "workspace.yaml") or {}
        holidays = "\n".join(
            f"{h.get('date', '')} {h.get('name', '')}".strip() for h in data.get("holidays") or []
        )
        return {"data": data, "days": list(_DAYS), "holidays": holidays}
    if section == "pipelines":
        path = folder / "pipelines.yaml"
        document = YamlFile.parse(read_text(path)).document if path.is_file() else {}
        pipelines = plain(document or {}).get("pipelines") or []
        for p, item in enumerate(pipelines):
            for s, stage in enumerate(item.get("stages") or []):
                stage["line"] = line_of(document, ("pipelines", p, "stages", s, "name"))
            moves = item.get("moves") or {}
            item["graph"] = json.dumps(
                {
                    "nodes": [
                        {
                            "id": s["name"],
                            "label": s.get("label", s["name"]),
                            "terminal": bool(s.get("terminal")),
                        }
                        for s in item.get("stages") or []
                    ],
                    "edges": [[a, b] for a, targets in moves.items() for b in targets or []],
                }
            )
        return {"pipelines": pipelines, "file": "pipelines.yaml"}
    if section == "templates":
        items = (_load(folder, "templates.yaml") or {}).get("templates") or []
        for item in items:
            item["checks"] = _template_checks(
                item.get("body", ""), (item.get("variables") or {}).get("body")
            )
        return {"templates": items}
    if section == "teammates":
        data = _load(folder, "workspace.yaml") or {}
        people = data.get("teammates") or []
        teams = [t["name"] for t in data.get("teams") or []]
        return {"people": people, "teams": teams, "handles": ",".join(p["handle"] for p in people)}
    if section == "rules":
        files = sorted(p.relative_to(folder).as_posix() for p in (folder / "rules").glob("*.kazi"))
        chosen = selected if selected in files else (files[0] if files else "rules/new.kazi")
        path = folder / chosen
        return {
            "files": files,
            "file": chosen,
            "text": read_text(path) if path.is_file() else "",
            "triggers": list(TRIGGERS),
            "actions": list(ACTIONS),
            "intents": [
                str(i.get("name"))
                for i in (_load(folder, "ai.yaml") or {}).get("intents") or []
                if isinstance(i, dict)
            ],
        }
    return _fields_context(folder, section)


def _fields_context(folder: Path, section: str) -> dict[str, Any]:
    """Each entry of the file's ordered list, with its plain values as form fields."""
    name, ordered = FIELD_FILES[section]
    path = folder / name
    document = YamlFile.parse(read_text(path)).document if path.is_file() else None

    def rows_of(node: Any, base: tuple[Any, ...], skip: int) -> list[dict[str, Any]]:
        rows = []
        for leaf, value in walk_scalars(node, base):
            secret = isinstance(value, str) and value.startswith("env:")
            rows.append(
                {
                    "name": "f:" + json.dumps(list(leaf)),
                    "label": ".".join(str(part) for part in leaf[skip:]) or str(leaf[-1]),
                    "value": ""
                    if value is None
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value),
                    "secret": str(value)[4:] if secret else None,
                    "kind": type(value).__name__,
                    "line": line_of(document, leaf),
                }
            )
        return rows

    entries = []
    items = (document or {}).get(ordered) if ordered is not None else None
    for index, item in enumerate(items or []):
        title = item.get("name") or item.get("shortcut") if isinstance(item, dict) else None
        if isinstance(item, dict) and item.get("language"):
            title = f"{title} ({item['language']})"
        entries.append(
            {
                "index": index,
                "title": str(title or index),
                "rows": rows_of(item, (ordered, index), 2),
            }
        )
    # The file's other parts (ai.yaml's provider and budget, knowledge.yaml's delivery
    # areas and policies, consent.yaml's keywords): edited in place, never reordered.
    settings = []
    for key, value in (document or {}).items() if isinstance(document, dict) else ():
        if key != ordered:
            settings.append({"index": None, "title": str(key), "rows": rows_of(value, (key,), 1)})
    return {
        "entries": entries,
        "settings": settings,
        "file": name,
        "ordered": ordered,
        "exists": document is not None,
    }


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _editor(runtime: Runtime, principal: Principal) -> Editor:
    with workspace_session(runtime.db, principal.workspace_id) as session:
        person = session.get(Teammate, principal.teammate_id) if principal.teammate_id else None
        email = (person.email if person is not None else None) or "builder@kazi.invalid"
    return Editor(principal.teammate_id, principal.name, email)


def _fields(form: dict[str, str]) -> dict[str, str]:
    """The section's own fields, to carry from the preview into the apply form."""
    return {k: v for k, v in form.items() if k not in ("_csrf_token", "version", "message")}


class BuilderController(Controller):
    path = "/builder"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def index(self, principal: PrincipalDependency) -> Redirect:
        require(principal, Action.EDIT_CONFIG)
        return Redirect("/builder/pipelines")

    @get("/{section:str}", sync_to_thread=True)
    def page(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        section: FromPath[str],
        file: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        folder, context = _folder(runtime, principal)
        if section not in PAGES:
            return Redirect("/builder/pipelines")
        context.update(_section_context(section, folder, file))
        context.update(section=section, pages=PAGES, version=_remember(folder))
        template = "fields" if section in FIELD_FILES else section
        return Template(template_name=f"builder/{template}.html", context=context)

    @post("/{section:str}/preview", sync_to_thread=True, status_code=200)
    def preview(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        section: FromPath[str],
        data: Form,
    ) -> Template:
        folder, _ = _folder(runtime, principal)
        context: dict[str, Any] = {"section": section, "version": data.get("version", "")}
        try:
            draft = draft_for(section, folder, data)
        except YamlEditError as error:
            context["problem"] = str(error)
            return Template(template_name="builder/_preview.html", context=context)
        result = preview(folder, draft.changes(), capabilities=INSTALLED)
        stale = data.get("version") != folder_version(folder)
        context.update(result=result, fields=_fields(data), stale=stale, sources=_sources(draft))
        return Template(template_name="builder/_preview.html", context=context)

    @post("/{section:str}/apply", sync_to_thread=True, status_code=200)
    def apply(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        section: FromPath[str],
        data: Form,
    ) -> Template:
        folder, _ = _folder(runtime, principal)
        version = data.get("version", "")
        context: dict[str, Any] = {"section": section}
        try:
            draft = draft_for(section, folder, data)
            outcome = apply(
                runtime.db,
                folder,
                draft.changes(),
                read_version=version,
                editor=_editor(runtime, principal),
                message=data.get("message", "").strip() or f"Builder: {section}",
                now=runtime.clock.now(),
                read_files=_READ.get(version),
            )
        except StaleDraft as stale:
            context.update(stale=str(stale), changed=stale.changed)
            return Template(template_name="builder/_applied.html", context=context)
        except YamlEditError as error:
            context["problem"] = str(error)
            return Template(template_name="builder/_applied.html", context=context)
        context.update(outcome=outcome, version=_remember(folder))
        return Template(template_name="builder/_applied.html", context=context)

    @post("/{section:str}/simulate", sync_to_thread=True, status_code=200)
    def simulation(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        section: FromPath[str],
        data: Form,
    ) -> Template:
        """The last week's customer messages through the rules in force and the draft."""
        folder, _ = _folder(runtime, principal)
        context: dict[str, Any] = {}
        try:
            draft = draft_for(section, folder, data)
        except YamlEditError as error:
            context["problem"] = str(error)
            return Template(template_name="builder/_simulation.html", context=context)
        before = compile_workspace(folder, capabilities=INSTALLED).graph
        with tempfile.TemporaryDirectory(prefix="kazi-simulate-") as scratch:
            after = compile_workspace(
                write_copy(folder, draft.changes(), Path(scratch)), capabilities=INSTALLED
            ).graph
        if before is None or after is None:
            context["problem"] = "the workspace does not compile, before or after this change"
            return Template(template_name="builder/_simulation.html", context=context)
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context["simulation"] = simulate(session, before, after, runtime.clock.now())
        return Template(template_name="builder/_simulation.html", context=context)

    @post("/rules/check", sync_to_thread=True, status_code=200)
    def check_rules(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Template:
        """The compiler's diagnostics for the rule text being typed, at line and column."""
        folder, _ = _folder(runtime, principal)
        context: dict[str, Any] = {"file": data.get("file", "")}
        try:
            draft = draft_for("rules", folder, data)
        except YamlEditError as error:
            context["problem"] = str(error)
            return Template(template_name="builder/_diagnostics.html", context=context)
        name = data.get("file", "")
        # Every error stops a save; warnings are shown for the file being edited only.
        diagnostics = [
            d
            for d in check(folder, draft.changes(), capabilities=INSTALLED)
            if d.is_error or d.span.file == name
        ]
        context.update(diagnostics=diagnostics, sources=_sources(draft))
        return Template(template_name="builder/_diagnostics.html", context=context)

    @post("/templates/check", sync_to_thread=True, status_code=200)
    def check_template(self, principal: PrincipalDependency, data: Form) -> Template:
        require(principal, Action.EDIT_CONFIG)
        try:
            declared = json.loads(data.get("variables", "{}") or "{}")
        except ValueError:
            declared = {}
        problems = _template_checks(data.get("body", ""), declared)
        return Template(template_name="builder/_checks.html", context={"checks": problems})


def _sources(draft: FolderDraft) -> dict[str, list[str]]:
    """Each changed file's new lines, so diagnostics can show the line they point at."""
    return {change.name: change.after.splitlines() for change in draft.changes()}


__all__ = ["SECTIONS", "BuilderController"]
