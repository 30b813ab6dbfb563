"""The Contacts area: find people, add one by hand, import a list (upload, map, preview,
confirm) and export a segment; plus a contact's numbers, tags and consent on the record."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from anyio.to_thread import run_sync
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from engine.auth import Principal
from engine.auth.policy import Action, may, require
from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.composition import Runtime
from engine.contacts import (
    ConsentRefused,
    NewContact,
    Segment,
    add_contact,
    add_number,
    contact_rows,
    correct_number,
    export_segment,
    record_consent,
    set_contact_tags,
)
from engine.contacts.consent import ConsentSource
from engine.contacts.csv_import import FIELD, Target
from engine.contacts.outreach import find_by_number, start_conversation
from engine.contacts.people import split_tags
from engine.contacts.segments import save_segment, saved_segment, saved_segments
from engine.contacts.uploads import (
    confirm_import,
    list_settings,
    map_columns,
    preview_import,
    recent_imports,
    upload_contact_list,
)
from engine.core.config import CustomField
from engine.db import unit_of_work, workspace_session
from engine.inbox.contacts import parse_fields, surviving_contact
from engine.inbox.errors import InvalidInput
from engine.models import ConsentState
from ui.dependencies import RuntimeDependency
from ui.routes.conversation import kick_outbox
from ui.routes.presentation import (
    PAGE_ERRORS,
    page_context,
    parse_local_time,
    workspace_of,
    zone_of,
)
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# A contact list of 200,000 rows fits; the import itself refuses more rows than that.
LIST_LIMIT = 60 * 1024 * 1024


def _list_settings(
    runtime: Runtime, session: Session, workspace_id: int
) -> tuple[tuple[CustomField, ...], str | None]:
    rules = rules_in_force(session, runtime.configs, workspace_id)
    return list_settings(rules.config if rules is not None else None)


def _targets(fields: tuple[CustomField, ...]) -> list[tuple[str, str]]:
    """(value, label) for the mapping's drop-downs."""
    labels = {
        Target.NAME: "Name",
        Target.PHONE: "WhatsApp number",
        Target.COMPANY: "Company",
        Target.LANGUAGE: "Language",
        Target.TAGS: "Tags (comma-separated)",
        Target.OPT_IN: "Opted in (yes / no)",
        Target.OPT_IN_AT: "Opted in at (date)",
        Target.OPT_IN_SOURCE: "How they opted in",
        Target.IGNORE: "Ignore this column",
    }
    return [(t.value, labels[t]) for t in Target] + [
        (FIELD + f.name, f"Field: {f.label or f.name}") for f in fields
    ]


class ContactsController(Controller):
    path = "/contacts"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get(sync_to_thread=True)
    def index(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        q: FromQuery[str] = "",
        tags: FromQuery[str] = "",
        language: FromQuery[str] = "",
        opted_in: FromQuery[str] = "",
        stage: FromQuery[str] = "",
        active_days: FromQuery[str] = "",
        fields: FromQuery[str] = "",
        segment_id: FromQuery[int | None] = None,
    ) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            if segment_id is not None:
                _, segment = saved_segment(session, segment_id)
            else:
                segment = Segment.of(
                    tags,
                    language,
                    opted_in=bool(opted_in),
                    stage=stage,
                    active_days=active_days,
                    fields=fields,
                )
            context["rows"] = contact_rows(session, principal, text=q, segment=segment, now=now)
            context["saved"] = saved_segments(session)
        filters = segment.form_values()
        context.update(
            q=q,
            filters=filters,
            filter_query=urlencode({k: v for k, v in filters.items() if v}),
            segment=segment.describe(),
            may_import=may(principal, Action.IMPORT_CONTACTS),
            may_export=may(principal, Action.EXPORT_CONTACTS),
        )
        return Template(
            template_name="contacts.html", context=context, headers={"Cache-Control": "no-store"}
        )

    @post("/segments", sync_to_thread=True)
    def keep_segment(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Redirect:
        segment = Segment.of(
            data.get("tags", ""),
            data.get("language", ""),
            opted_in=bool(data.get("opted_in")),
            stage=data.get("stage", ""),
            active_days=data.get("active_days", ""),
            fields=data.get("fields", ""),
        )
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            saved = save_segment(
                session, principal, data.get("name", ""), segment, runtime.clock.now()
            )
            segment_id = saved.id
        return Redirect(path=f"/contacts?segment_id={segment_id}", status_code=303)

    def _new_form(
        self,
        runtime: Runtime,
        principal: Principal,
        values: dict[str, str],
        error: str | None,
    ) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            fields, region = _list_settings(runtime, session, principal.workspace_id)
        context.update(
            values=values,
            error=error,
            region=values.get("region") or region or "",
            fields=fields,
            now_local=context["fmt"].local_input(now),
        )
        return Template(
            template_name="contact_new.html",
            context=context,
            status_code=400 if error else 200,
            headers={"Cache-Control": "no-store"},
        )

    @get("/new", sync_to_thread=True)
    def new(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        return self._new_form(runtime, principal, {}, None)

    @post("/new", sync_to_thread=True)
    def create(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Form
    ) -> Template | Redirect:
        now = runtime.clock.now()
        try:
            with unit_of_work(runtime.db, principal.workspace_id) as session:
                zone = zone_of(workspace_of(session, principal))
                opt_in_at = (
                    parse_local_time(data["opt_in_at"], zone) if data.get("opt_in_at") else None
                )
                if opt_in_at is not None and opt_in_at > now:
                    raise InvalidInput("opted in at: that moment is still to come")
                contact = add_contact(
                    session,
                    principal,
                    NewContact(
                        name=data.get("name", ""),
                        number=data.get("number", ""),
                        default_region=data.get("region") or None,
                        company=data.get("company", ""),
                        language=data.get("language", ""),
                        fields=parse_fields(data.get("fields", "")),
                        tags=split_tags(data.get("tags", "")),
                        opt_in=data.get("opt_in", ""),
                        opt_in_at=opt_in_at,
                    ),
                    now,
                )
                contact_id = contact.id
        except InvalidInput as wrong:
            return self._new_form(runtime, principal, data, str(wrong))
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @get("/by-number", sync_to_thread=True)
    def by_number(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, number: FromQuery[str]
    ) -> Redirect:
        """Write to a number: the contact who has it, at the record's "write first" part."""
        require(principal, Action.VIEW_CONTACT)
        with workspace_session(runtime.db, principal.workspace_id) as session:
            _, region = _list_settings(runtime, session, principal.workspace_id)
            contact = find_by_number(session, number, region)
            contact_id = contact.id
        return Redirect(path=f"/inbox/contacts/{contact_id}#start", status_code=303)

    # --- import -----------------------------------------------------------------------

    @get("/import", sync_to_thread=True)
    def import_form(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        require(principal, Action.IMPORT_CONTACTS)
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            context["imports"] = recent_imports(session, principal)
            _, context["region"] = _list_settings(runtime, session, principal.workspace_id)
        context["error"] = None
        return Template(template_name="contacts_import.html", context=context)

    @post("/import", request_max_body_size=LIST_LIMIT)
    async def upload(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, data: Multipart
    ) -> Redirect:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("choose a CSV file to import")
        content = await upload.read()
        region = data.get("region")
        import_id = await run_sync(
            lambda: self._keep_upload(
                runtime,
                principal,
                upload.filename,
                content,
                region if isinstance(region, str) else None,
            )
        )
        return Redirect(path=f"/contacts/import/{import_id}", status_code=303)

    @staticmethod
    def _keep_upload(
        runtime: Runtime,
        principal: Principal,
        filename: str,
        content: bytes,
        region: str | None,
    ) -> int:
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            fields, _ = _list_settings(runtime, session, principal.workspace_id)
            kept = upload_contact_list(
                session,
                principal,
                filename=filename,
                content=content,
                default_region=region,
                fields=fields,
                now=now,
            )
            return kept.id

    @get("/import/{import_id:int}", sync_to_thread=True)
    def preview(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, import_id: FromPath[int]
    ) -> Template:
        now = runtime.clock.now()
        with workspace_session(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            fields, _ = _list_settings(runtime, session, principal.workspace_id)
            context["preview"] = preview_import(
                session, principal, import_id, fields=fields, now=now
            )
        context["targets"] = _targets(fields)
        return Template(
            template_name="contacts_import_preview.html",
            context=context,
            headers={"Cache-Control": "no-store"},
        )

    @post("/import/{import_id:int}/mapping", sync_to_thread=True)
    def mapping(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        import_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        chosen = {
            key[len("map:") :]: value for key, value in data.items() if key.startswith("map:")
        }
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            map_columns(session, principal, import_id, chosen, data.get("region"))
        return Redirect(path=f"/contacts/import/{import_id}", status_code=303)

    @post("/import/{import_id:int}/confirm", sync_to_thread=True)
    def confirm(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        import_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            fields, _ = _list_settings(runtime, session, principal.workspace_id)
            confirm_import(session, principal, import_id, fields=fields, now=now)
        return Redirect(path=f"/contacts/import/{import_id}", status_code=303)

    # --- export -----------------------------------------------------------------------

    @get("/export", sync_to_thread=True)
    def export(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        tags: FromQuery[str] = "",
        language: FromQuery[str] = "",
        opted_in: FromQuery[str] = "",
        stage: FromQuery[str] = "",
        active_days: FromQuery[str] = "",
        fields: FromQuery[str] = "",
    ) -> Response[str]:
        segment = Segment.of(
            tags,
            language,
            opted_in=bool(opted_in),
            stage=stage,
            active_days=active_days,
            fields=fields,
        )
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            body, _ = export_segment(session, principal, segment, now)
        name = "-".join(("contacts", *segment.tags)) + ".csv"
        return Response(
            content=body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )


class ContactRecordController(Controller):
    """A contact's numbers, tags and consent, changed from the customer record."""

    path = "/inbox/contacts/{contact_id:int}"
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @post("/numbers", sync_to_thread=True)
    def numbers(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            _, region = _list_settings(runtime, session, principal.workspace_id)
            if data.get("replaces"):
                correct_number(
                    session,
                    principal,
                    contact_id,
                    data["replaces"],
                    data.get("number", ""),
                    now,
                    default_region=region,
                )
            else:
                add_number(
                    session,
                    principal,
                    contact_id,
                    data.get("number", ""),
                    now,
                    default_region=region,
                )
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @post("/start", sync_to_thread=True)
    def start(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        """The business writes first: an approved template opens a conversation."""
        conversation_id = _start(runtime, principal, contact_id, data)
        return Redirect(path=f"/inbox/c/{conversation_id}", status_code=303)

    @post("/tags", sync_to_thread=True)
    def set_tags(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            set_contact_tags(
                session, principal, contact_id, data.get("tags", ""), runtime.clock.now()
            )
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @post("/consent", sync_to_thread=True)
    def consent(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        """A teammate records what the customer told them: how they agreed, or that they
        do not want messages any more."""
        require(principal, Action.RECORD_CONSENT)
        state = data.get("state")
        if state not in (ConsentState.OPTED_IN, ConsentState.OPTED_OUT):
            raise InvalidInput("choose opted in or opted out")
        how = data.get("source", "").strip()
        if state == ConsentState.OPTED_IN and not how:
            raise InvalidInput(
                "say how the customer agreed (for example: at the counter, by phone)"
            )
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            contact = surviving_contact(session, contact_id)
            try:
                record_consent(
                    session,
                    contact.id,
                    ConsentState(state),
                    source=ConsentSource.MANUAL,
                    detail=how or None,
                    now=now,
                    teammate_id=principal.teammate_id,
                )
            except ConsentRefused as refused:
                raise InvalidInput(str(refused)) from None
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)


def _start(runtime: Runtime, principal: Principal, contact_id: int, data: dict[str, str]) -> int:
    name, _, language = data.get("template", "").partition(":")
    positions = sorted(
        int(key[len("param_") :])
        for key in data
        if key.startswith("param_") and key[len("param_") :].isdigit()
    )
    parameters = [data[f"param_{p}"] for p in positions]
    now = runtime.clock.now()
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        desk = desk_for(session, rules_in_force(session, runtime.configs, principal.workspace_id))
        started = start_conversation(
            desk,
            principal,
            contact_id,
            template=name,
            language=language,
            parameters=parameters,
            business_phone=data.get("business_number") or None,
            now=now,
        )
    kick_outbox(runtime, principal.workspace_id, started.conversation_id)
    return started.conversation_id
