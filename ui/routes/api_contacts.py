"""The JSON API for changing the customer record: edit, merge and undo, export, erase.

Reading a contact and searching stay in ui.routes.api; these handlers only turn
requests into calls of engine.inbox services, which authorise and audit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from engine.auth import Principal
from engine.automation.staff import act_on_contacts
from engine.composition import Runtime
from engine.db import unit_of_work
from engine.inbox.contact_merge import (
    MergePreview,
    merge_contacts,
    merged_contact_of,
    preview_merge,
    undo_merge,
)
from engine.inbox.contact_privacy import Erasure, erase_contact, export_contact
from engine.inbox.contacts import ContactEdit, ContactView, contact_view, edit_contact
from ui.dependencies import RuntimeDependency
from ui.routes.api import API_ERRORS
from ui.security.auth import PrincipalDependency, api_principal


@dataclass
class ContactUpdate:
    """Only the parts given change; "" clears name, language or company."""

    name: str | None = None
    language: str | None = None
    company: str | None = None
    fields: dict[str, str] | None = None


@dataclass
class ContactEdited:
    changes: dict[str, dict[str, Any]]
    contact: ContactView


@dataclass
class MergeCreate:
    merged_id: int


@dataclass
class MergeDone:
    merge_id: int
    survivor_id: int
    merged_id: int
    moved: dict[str, int]
    resolved: list[int]


@dataclass
class MergeUndone:
    merge_id: int
    survivor_id: int
    merged_id: int
    # Conversations the merge resolved that stay resolved: a newer one is open now.
    kept_resolved: list[int]


@dataclass
class EraseRequest:
    confirm: str


def export_response(runtime: Runtime, principal: Principal, contact_id: int) -> Response[bytes]:
    """One contact's data as a download that no browser or proxy keeps a copy of."""
    with unit_of_work(runtime.db, principal.workspace_id) as session:
        document = export_contact(session, principal, contact_id, runtime.clock.now())
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    filename = f"contact-{document['contact']['id']}.json"
    return Response(
        content=body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class ContactsApiController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]
    dependencies = {"principal": Provide(api_principal, sync_to_thread=True)}
    exception_handlers = API_ERRORS

    # Not PATCH /contacts/{id}: ApiController owns that path, and Litestar lets one
    # path's handlers live in one controller only.
    @post("/{contact_id:int}/edit", sync_to_thread=True, status_code=HTTP_200_OK)
    def edit(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[ContactUpdate],
    ) -> ContactEdited:
        """Correct a contact's name, language, company (picked by name, or created) and fields."""
        edit = ContactEdit(
            name=data.name, language=data.language, company=data.company, fields=data.fields
        )
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            changes = edit_contact(session, principal, contact_id, edit, runtime.clock.now())
            view = contact_view(session, principal, contact_id)
        return ContactEdited(changes=changes, contact=view)

    @get("/{contact_id:int}/merge-preview", sync_to_thread=True)
    def merge_preview(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        merged_id: FromQuery[int],
    ) -> MergePreview:
        """What merging `merged_id` into this contact would move (managers)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            return preview_merge(session, principal, contact_id, merged_id)

    @post("/{contact_id:int}/merges", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def merge(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[MergeCreate],
    ) -> MergeDone:
        """Merge `merged_id` into this contact; everything of theirs moves here."""
        merge = act_on_contacts(
            runtime.db,
            runtime.configs,
            principal.workspace_id,
            lambda session: (contact_id, data.merged_id),
            lambda session: merge_contacts(
                session, principal, contact_id, data.merged_id, runtime.clock.now()
            ),
            runtime.clock.now(),
        )
        return MergeDone(
            merge_id=merge.id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            moved={k: len(v) for k, v in merge.moved.items() if isinstance(v, list)},
            resolved=[entry["conversation_id"] for entry in merge.moved.get("resolved", [])],
        )

    @post(
        "/{contact_id:int}/merges/{merge_id:int}/undo", sync_to_thread=True, status_code=HTTP_200_OK
    )
    def undo(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        merge_id: FromPath[int],
    ) -> MergeUndone:
        """Move exactly what the merge moved back to the merged contact."""
        result = act_on_contacts(
            runtime.db,
            runtime.configs,
            principal.workspace_id,
            lambda session: (contact_id, merged_contact_of(session, merge_id)),
            lambda session: undo_merge(
                session, principal, merge_id, runtime.clock.now(), survivor_id=contact_id
            ),
            runtime.clock.now(),
        )
        return MergeUndone(
            merge_id=result.merge.id,
            survivor_id=result.merge.survivor_id,
            merged_id=result.merge.merged_id,
            kept_resolved=result.kept_resolved,
        )

    @get("/{contact_id:int}/export", sync_to_thread=True)
    def export(
        self, runtime: RuntimeDependency, principal: PrincipalDependency, contact_id: FromPath[int]
    ) -> Response[bytes]:
        """Everything Kazi holds about the contact, as a JSON download (managers; audited)."""
        return export_response(runtime, principal, contact_id)

    @post("/{contact_id:int}/erase", sync_to_thread=True, status_code=HTTP_200_OK)
    def erase(
        self,
        runtime: RuntimeDependency,
        principal: PrincipalDependency,
        contact_id: FromPath[int],
        data: JSONBody[EraseRequest],
    ) -> Erasure:
        """Erase the contact's personal data; send confirm="ERASE". Cannot be undone (admins)."""
        with unit_of_work(runtime.db, principal.workspace_id) as session:
            return erase_contact(session, principal, contact_id, data.confirm, runtime.clock.now())
