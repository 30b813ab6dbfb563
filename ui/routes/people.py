"""The customer record page (edit, merge and undo, export, erase), and the admin's
page of teammates and their sessions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth import Principal
from engine.auth.passwords_admin import UnknownTeammate, end_sessions_of, reset_password_of
from engine.auth.policy import Action, may
from engine.automation.runner import RulesInForce, rules_in_force
from engine.automation.staff import act_on_contacts
from engine.composition import Runtime
from engine.contacts import consent_history, consent_of, contact_tags
from engine.contacts.outreach import outreach_of
from engine.db import unit_of_work, workspace_session
from engine.inbox.contact_merge import (
    merge_contacts,
    merged_contact_of,
    preview_merge,
    undo_merge,
)
from engine.inbox.contact_privacy import CONFIRMATION, erase_contact
from engine.inbox.contacts import (
    ContactEdit,
    company_names,
    contact_view,
    edit_contact,
    find_contacts,
    parse_fields,
    team_overview,
)
from engine.inbox.errors import InvalidInput, NotFound
from engine.inbox.objects import related_objects
from engine.inbox.queues import display_name
from engine.inbox.stages import ContactObject, contact_object_cards
from engine.models import BusinessObject
from ui.dependencies import RuntimeDependency
from ui.routes.api_contacts import export_response
from ui.routes.presentation import PAGE_ERRORS, page_context
from ui.security.auth import PrincipalDependency, page_principal

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _team_page(
    runtime: Runtime, principal: Principal, issued: tuple[str, str, str] | None
) -> Template:
    now = runtime.clock.now()
    with workspace_session(runtime.db, principal.workspace_id) as session:
        context = page_context(session, principal, now).as_dict()
        context["people"] = team_overview(session, principal, now)
    context["issued"] = issued
    # A page showing a password must not be kept by the browser or a proxy.
    return Template(
        template_name="team.html", context=context, headers={"Cache-Control": "no-store"}
    )


class PeopleController(Controller):
    dependencies = {"principal": Provide(page_principal, sync_to_thread=True)}
    exception_handlers = PAGE_ERRORS

    @get("/inbox/contacts/{contact_id:int}", sync_to_thread=True)
    def contact(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        find: FromQuery[str] = "",
        merge: FromQuery[int | None] = None,
    ) -> Template | Redirect:
        """The record; `find` searches for a duplicate to merge, `merge` previews it."""
        now = runtime.clock.now()
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            context = page_context(session, principal, now).as_dict()
            view = contact_view(session, principal, contact_id, audit_at=now)
            if view.id != contact_id:
                # A merged contact's old links lead to the person's record now.
                session.rollback()
                return Redirect(path=f"/inbox/contacts/{view.id}", status_code=303)
            context["contact"] = view
            context["person_tags"] = contact_tags(session, view.id)
            context["consent"] = consent_of(session, view.id)
            context["consent_history"] = consent_history(session, view.id)
            rules = rules_in_force(session, runtime.configs, principal.workspace_id)
            context["outreach"] = outreach_of(session, rules.config if rules else None, view.id)
            context["companies"] = company_names(session, principal)
            context["object_cards"] = _object_cards(session, principal, rules, view.id)
            context["may"] = {
                "merge": may(principal, Action.MERGE_CONTACTS),
                "export": may(principal, Action.EXPORT_CONTACT),
                "erase": may(principal, Action.ERASE_CONTACT),
            }
            context["find"] = find
            context["candidates"] = (
                [
                    (c.id, display_name(c))
                    for c in find_contacts(session, principal, find, limit=20)
                    if c.id != view.id and c.erased_at is None
                ]
                if find.strip() and context["may"]["merge"]
                else []
            )
            context["preview"] = (
                preview_merge(session, principal, view.id, merge) if merge is not None else None
            )
        context["confirmation"] = CONFIRMATION
        context["fields_text"] = "\n".join(f"{k}: {v}" for k, v in view.fields.items())
        return Template(
            template_name="contact.html", context=context, headers={"Cache-Control": "no-store"}
        )

    @post("/inbox/contacts/{contact_id:int}/edit", sync_to_thread=True)
    def edit(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        edit = ContactEdit(
            name=data.get("name"),
            language=data.get("language"),
            company=data.get("company"),
            fields=parse_fields(data["fields"]) if "fields" in data else None,
        )
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            edit_contact(session, principal, contact_id, edit, runtime.clock.now())
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @post("/inbox/contacts/{contact_id:int}/merge", sync_to_thread=True)
    def merge(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        try:
            merged_id = int(data.get("merged_id", ""))
        except ValueError:
            raise InvalidInput("pick the contact to merge into this one") from None
        act_on_contacts(
            runtime.db,
            runtime.configs,
            principal.workspace_id,
            lambda session: (contact_id, merged_id),
            lambda session: merge_contacts(
                session, principal, contact_id, merged_id, runtime.clock.now()
            ),
            runtime.clock.now(),
        )
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @post("/inbox/contacts/{contact_id:int}/merges/{merge_id:int}/undo", sync_to_thread=True)
    def undo_merge(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        merge_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        act_on_contacts(
            runtime.db,
            runtime.configs,
            principal.workspace_id,
            lambda session: (contact_id, merged_contact_of(session, merge_id)),
            lambda session: undo_merge(
                session, principal, merge_id, runtime.clock.now(), survivor_id=contact_id
            ),
            runtime.clock.now(),
        )
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @get("/inbox/contacts/{contact_id:int}/export", sync_to_thread=True)
    def export(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, contact_id: FromPath[int]
    ) -> Response[bytes]:
        return export_response(runtime, principal, contact_id)

    @post("/inbox/contacts/{contact_id:int}/erase", sync_to_thread=True)
    def erase(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: Form,
    ) -> Redirect:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            erase_contact(
                session, principal, contact_id, data.get("confirm", ""), runtime.clock.now()
            )
        return Redirect(path=f"/inbox/contacts/{contact_id}", status_code=303)

    @get("/account/team", sync_to_thread=True)
    def team(self, runtime: RuntimeDependency, principal: PrincipalDependency) -> Template:
        return _team_page(runtime, principal, issued=None)

    @post("/account/team/{teammate_id:int}/password", sync_to_thread=True)
    def new_password(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate_id: FromPath[int],
        data: Form,
    ) -> Template:
        """Show a fresh password once, for the admin to hand over (the invite)."""
        try:
            with unit_of_work(runtime.db, principal.workspace_id) as session:
                teammate, password = reset_password_of(
                    session, principal, teammate_id, runtime.clock.now()
                )
        except UnknownTeammate as missing:
            raise NotFound(str(missing)) from None
        return _team_page(runtime, principal, issued=(teammate.name, teammate.handle, password))

    @post("/account/team/{teammate_id:int}/signout", sync_to_thread=True)
    def sign_out(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        teammate_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            end_sessions_of(session, principal, teammate_id, runtime.clock.now())
        return Redirect(path="/account/team", status_code=303)


def _object_cards(
    session: Session, principal: Principal, rules: RulesInForce | None, contact_id: int
) -> list[ContactObject]:
    config = rules.config if rules is not None else None
    items = list(
        session.scalars(
            select(BusinessObject)
            .where(BusinessObject.contact_id == contact_id)
            .order_by(BusinessObject.id)
        )
    )
    return contact_object_cards(
        session,
        principal,
        config.pipelines if config is not None else (),
        config.fields if config is not None else (),
        contact_id,
        {i.id: related_objects(session, i.id) for i in items},
        items,
    )
