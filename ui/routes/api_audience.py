"""The JSON API for contacts in and out: add, numbers, consent, write first, import, export.

Thin: each handler turns a request into a call of an engine.contacts service, which
authorises and audits, exactly as the Contacts pages do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from engine.auth.policy import Action, require
from engine.automation.runner import rules_in_force
from engine.automation.staff import desk_for
from engine.contacts import (
    ConsentRefused,
    NewContact,
    Segment,
    add_contact,
    add_number,
    correct_number,
    export_segment,
    record_consent,
)
from engine.contacts.consent import ConsentSource
from engine.contacts.outreach import start_conversation
from engine.contacts.people import checked_tags
from engine.contacts.uploads import checked_region, import_contact_file, list_settings
from engine.db import unit_of_work
from engine.inbox.contacts import surviving_contact
from engine.inbox.errors import InvalidInput
from engine.models import ConsentState
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.routes.conversation import kick_outbox
from ui.security.auth import PrincipalDependency, api_principal


@dataclass
class ContactCreate:
    name: str
    number: str
    region: str | None = None  # for a number without +country, e.g. "KE"
    company: str = ""
    language: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    opt_in: str = ""  # how they agreed; empty: no opt-in recorded


@dataclass
class ContactCreated:
    id: int


@dataclass
class NumberChange:
    number: str
    replaces: str | None = None  # a current number of theirs that changed


@dataclass
class ConsentChange:
    state: str  # "opted_in" | "opted_out"
    source: str = ""  # how they agreed, or why they stop


@dataclass
class ConversationStart:
    template: str
    language: str
    parameters: list[str] = field(default_factory=list)
    business_number: str | None = None


@dataclass
class ConversationStarted:
    conversation_id: int
    message_id: int


@dataclass
class ContactListImport:
    csv: str
    filename: str = "api.csv"
    region: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # column -> target
    check: bool = False  # report only, write nothing


@dataclass
class RowProblem:
    line: int
    message: str


@dataclass
class ContactListImported:
    written: bool
    problems: list[str]
    errors: list[RowProblem]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    tags_added: int = 0
    opted_in: int = 0
    kept_opted_out: int = 0


class ContactListsApiController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    # Not POST /contacts: ApiController owns that path (GET, the search).
    @post("/new", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def create(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        data: JSONBody[ContactCreate],
    ) -> ContactCreated:
        """Add a contact with their WhatsApp number, tags and (when given) opt-in."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            contact = add_contact(
                session,
                principal,
                NewContact(
                    name=data.name,
                    number=data.number,
                    default_region=checked_region(data.region),
                    company=data.company,
                    language=data.language,
                    fields=data.fields,
                    tags=checked_tags(data.tags),
                    opt_in=data.opt_in,
                ),
                runtime.clock.now(),
            )
            return ContactCreated(contact.id)

    @post("/{contact_id:int}/numbers", sync_to_thread=True, status_code=HTTP_200_OK)
    def number(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[NumberChange],
    ) -> dict[str, str]:
        """Add a number, or replace a changed one (the old one stays in the history)."""
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            _, region = list_settings(rules.config if rules else None)
            if data.replaces:
                identity = correct_number(
                    session, principal, contact_id, data.replaces, data.number, now,
                    default_region=region,
                )  # fmt: skip
            else:
                identity = add_number(
                    session, principal, contact_id, data.number, now, default_region=region
                )
            return {"number": identity.address}

    @post("/{contact_id:int}/consent", sync_to_thread=True, status_code=HTTP_200_OK)
    def consent(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[ConsentChange],
    ) -> dict[str, str]:
        """Record what the customer told a teammate: an opt-in (say how) or an opt-out."""
        require(principal, Action.RECORD_CONSENT)
        if data.state not in (ConsentState.OPTED_IN, ConsentState.OPTED_OUT):
            raise InvalidInput("state: opted_in or opted_out")
        if data.state == ConsentState.OPTED_IN and not data.source.strip():
            raise InvalidInput("source: say how the customer agreed")
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            contact = surviving_contact(session, contact_id)
            try:
                record_consent(
                    session,
                    contact.id,
                    ConsentState(data.state),
                    source=ConsentSource.MANUAL,
                    detail=data.source.strip() or None,
                    now=runtime.clock.now(),
                    teammate_id=principal.teammate_id,
                )
            except ConsentRefused as refused:
                raise InvalidInput(str(refused)) from None
        return {"state": data.state}

    @post("/{contact_id:int}/conversations", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def start(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[ConversationStart],
    ) -> ConversationStarted:
        """Write first: an approved template opens a conversation (opted-in contacts only)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            started = start_conversation(
                desk_for(session, rules),
                principal,
                contact_id,
                template=data.template,
                language=data.language,
                parameters=data.parameters,
                business_phone=data.business_number,
                now=runtime.clock.now(),
            )
        kick_outbox(runtime, principal.workspace_id, started.conversation_id)
        return ConversationStarted(started.conversation_id, started.message_id)

    @post("/import", sync_to_thread=True, status_code=HTTP_200_OK, request_max_body_size=60 << 20)
    def import_list(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        data: JSONBody[ContactListImport],
    ) -> ContactListImported:
        """Import a CSV list in one step (managers): columns mapped as the page guesses them,
        `mapping` correcting any; rows with errors are listed and skipped."""
        require(principal, Action.IMPORT_CONTACTS)
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            fields, region = list_settings(rules.config if rules else None)
            plan, result = import_contact_file(
                session,
                principal.workspace_id,
                data.csv,
                filename=data.filename,
                fields=fields,
                default_region=data.region or region,
                mapping=data.mapping,
                now=runtime.clock.now(),
                write=not data.check,
            )
        errors = [RowProblem(e.line, e.message) for e in plan.errors]
        if result is None:
            return ContactListImported(False, list(plan.problems), errors)
        return ContactListImported(
            True,
            [],
            errors,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            tags_added=result.tags_added,
            opted_in=result.opted_in,
            kept_opted_out=result.kept_opted_out,
        )

    @get("/export", sync_to_thread=True)
    def export(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        tags: FromQuery[str] = "",
        language: FromQuery[str] = "",
        opted_in: FromQuery[bool] = False,
        stage: FromQuery[str] = "",
        active_days: FromQuery[str] = "",
    ) -> Response[str]:
        """A segment's contacts as CSV, in the columns an import reads (managers; audited)."""
        segment = Segment.of(tags, language, opted_in, stage=stage, active_days=active_days)
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            body, _ = export_segment(session, principal, segment, runtime.clock.now())
        return Response(
            content=body,
            media_type="text/csv; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )
