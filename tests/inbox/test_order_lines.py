"""Filling in what an order contains: lines with quantity and price, the amount computed
exactly, a status, links to other objects, on the conversation page, the customer page
and the API; every change audited and seen by the templates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.auth import Role
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import InvalidInput, NotFound
from engine.inbox.objects import (
    LineInput,
    NewObject,
    create_for_conversation,
    link_objects,
    related_objects,
    set_line_items,
)
from engine.models import AuditLog, BusinessObject, BusinessObjectRelation
from tests.inbox.seed import NOW, desk, make_world
from tests.inbox.test_api import bearer
from tests.inbox.web import Web


def _order(web: Web, conversation: int, reference: str) -> int:
    created = web.post(
        f"/inbox/c/{conversation}/objects", {"kind": "order", "external_ref": reference}
    )
    assert created.status_code == 303, created.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        order_id = session.scalar(
            select(BusinessObject.id).where(BusinessObject.external_ref == reference)
        )
    assert order_id is not None
    return order_id


def _audits(web: Web, action: str) -> list[AuditLog]:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_lines_filled_on_the_page_make_the_amount_and_show_on_both_pages(web: Web) -> None:
    conversation = web.world.conversation("Achieng", owner="agent", stage="inquiry")
    web.sign_in("agent")
    order_id = _order(web, conversation, "DB-501")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f'action="/inbox/c/{conversation}/objects/{order_id}/lines"' in page

    saved = web.post(
        f"/inbox/c/{conversation}/objects/{order_id}/lines",
        {
            "line-0-description": "Hisense 43in TV",
            "line-0-quantity": "1",
            "line-0-unit_price": "38,500",
            "line-1-description": "Wall bracket",
            "line-1-quantity": "2",
            "line-1-unit_price": "1499.50",
            "line-2-description": "",  # the form's spare rows
            "line-2-quantity": "",
            "line-2-unit_price": "",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/inbox/c/{conversation}#object-{order_id}"
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        order = session.get(BusinessObject, order_id)
        assert order is not None
        assert order.amount == Decimal("41499.00")
        assert order.currency == "KES"  # the retail workspace's currency
        assert order.line_items == [
            {"description": "Hisense 43in TV", "quantity": "1", "unit_price": "38500"},
            {"description": "Wall bracket", "quantity": "2", "unit_price": "1499.50"},
        ]
    [audit] = _audits(web, "set_line_items")
    assert audit.subject_kind == "business_object" and audit.subject_id == order_id
    assert audit.actor_teammate_id == web.world.people["agent"]

    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Wall bracket" in page and "2,999" in page and "KES 41,499" in page

    # A status like any other field, and a typed amount that disagrees with the lines
    # is refused with why.
    assert (
        web.post(f"/inbox/c/{conversation}/objects/{order_id}", {"status": "confirmed"}).status_code
        == 303
    )
    refused = web.post(f"/inbox/c/{conversation}/objects/{order_id}", {"amount": "100"})
    assert refused.status_code == 400 and "sum of its lines" in refused.text

    # A bad row refuses the whole form, naming the row; nothing changes.
    bad = web.post(
        f"/inbox/c/{conversation}/objects/{order_id}/lines",
        {"line-0-description": "TV", "line-0-quantity": "two", "line-0-unit_price": "5"},
    )
    assert bad.status_code == 400 and "line 1 quantity" in bad.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        order = session.get(BusinessObject, order_id)
        assert order is not None and order.status == "confirmed"
        assert order.amount == Decimal("41499.00") and len(order.line_items) == 2

    # The customer page shows the lines and edits them through the same desk.
    contact_id = order.contact_id
    record = web.client.get(f"/inbox/contacts/{contact_id}").text
    assert "Hisense 43in TV" in record and "KES 41,499" in record
    assert f'action="/inbox/c/{conversation}/objects/{order_id}/lines"' in record
    edited = web.post(
        f"/inbox/c/{conversation}/objects/{order_id}/lines",
        {
            "back": f"/inbox/contacts/{contact_id}",
            "line-0-description": "Hisense 43in TV",
            "line-0-quantity": "1",
            "line-0-unit_price": "38500",
        },
    )
    assert edited.headers["location"] == f"/inbox/contacts/{contact_id}#object-{order_id}"
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        order = session.get(BusinessObject, order_id)
        assert order is not None and order.amount == Decimal("38500")
    assert len(_audits(web, "set_line_items")) == 2
    # Only the customer page may be returned to.
    elsewhere = web.post(
        f"/inbox/c/{conversation}/objects/{order_id}/lines",
        {"back": "https://evil.example/", "line-0-description": "TV", "line-0-unit_price": "1"},
    )
    assert elsewhere.headers["location"].startswith(f"/inbox/c/{conversation}")


def test_objects_link_to_existing_ones_by_reference_audited_and_shown(web: Web) -> None:
    conversation = web.world.conversation("Baraka", owner="agent")
    web.sign_in("agent")
    order_id = _order(web, conversation, "DB-601")
    case = web.post(
        f"/inbox/c/{conversation}/objects", {"kind": "support_case", "external_ref": "CASE-9"}
    )
    assert case.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        case_id = session.scalar(
            select(BusinessObject.id).where(BusinessObject.external_ref == "CASE-9")
        )
    linked = web.post(f"/inbox/c/{conversation}/objects/{case_id}/links", {"object": "DB-601"})
    assert linked.status_code == 303
    again = web.post(f"/inbox/c/{conversation}/objects/{order_id}/links", {"object": "CASE-9"})
    assert again.status_code == 303  # the same pair either way round: still one link
    unknown = web.post(f"/inbox/c/{conversation}/objects/{order_id}/links", {"object": "NOPE"})
    assert unknown.status_code == 404
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert len(session.scalars(select(BusinessObjectRelation)).all()) == 1
        assert [o.id for o in related_objects(session, order_id)] == [case_id]
        assert [o.id for o in related_objects(session, case_id)] == [order_id]
    [audit] = _audits(web, "link_objects")
    assert (audit.subject_id, audit.detail["linked"]) == (case_id, order_id)
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "order DB-601" in page and "support case CASE-9" in page

    removed = web.post(f"/inbox/c/{conversation}/objects/{order_id}/links/{case_id}/remove")
    assert removed.status_code == 303
    assert len(_audits(web, "unlink_objects")) == 1
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert related_objects(session, order_id) == []


def test_the_api_fills_lines_reads_them_and_links_objects(web: Web) -> None:
    conversation = web.world.conversation("Nduta", owner="agent")
    manager = bearer(web.world, Role.MANAGER)
    base = f"/api/v1/conversations/{conversation}/objects"
    order = web.client.post(base, json={"kind": "order", "external_ref": "API-1"}, headers=manager)
    assert order.status_code == 201
    order_id = order.json()["id"]
    patched = web.client.patch(
        f"{base}/{order_id}",
        json={
            "status": "confirmed",
            "items": [
                {"description": "Soundbar", "quantity": "1", "unit_price": "23500"},
                {"description": "HDMI cable", "quantity": "3", "unit_price": "450.25"},
            ],
        },
        headers=manager,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["amount"] == "24850.7500" and body["status"] == "confirmed"
    assert body["currency"] == "KES"
    assert body["items"][1] == {
        "description": "HDMI cable",
        "quantity": "3",
        "unit_price": "450.25",
        "total": "1350.75",
    }
    assert web.client.get(base, headers=manager).json()[0]["items"] == body["items"]
    refused = web.client.patch(
        f"{base}/{order_id}",
        json={"items": [{"description": "", "unit_price": "5"}]},
        headers=manager,
    )
    assert refused.status_code == 400 and "line 1" in refused.json()["error"]

    other = web.client.post(base, json={"kind": "booking", "external_ref": "BK-1"}, headers=manager)
    links = web.client.post(f"{base}/{order_id}/links", json={"object": "BK-1"}, headers=manager)
    assert links.status_code == 201
    assert [(o["id"], o["kind"]) for o in links.json()] == [(other.json()["id"], "booking")]
    assert web.client.get(f"{base}/{order_id}/links", headers=manager).json() == links.json()
    gone = web.client.delete(f"{base}/{order_id}/links/{other.json()['id']}", headers=manager)
    assert gone.status_code == 200
    assert web.client.get(f"{base}/{order_id}/links", headers=manager).json() == []


def test_another_workspaces_object_cannot_be_linked(web: Web) -> None:
    elsewhere = make_world(web.world.db)
    theirs = elsewhere.conversation("Them", owner="agent")
    with unit_of_work(elsewhere.db, elsewhere.workspace_id) as session:
        create_for_conversation(
            desk(session),
            elsewhere.principal("agent"),
            theirs,
            NewObject(kind="order", external_ref="THEIRS-1"),
            NOW,
        )
    ours = web.world.conversation("Us", owner="agent")
    with unit_of_work(web.world.db, web.world.workspace_id) as session:
        agent = web.world.principal("agent")
        mine = create_for_conversation(
            desk(session), agent, ours, NewObject(kind="order", external_ref="OURS-1"), NOW
        )
        with pytest.raises(NotFound):
            link_objects(desk(session), agent, ours, mine.id, "THEIRS-1", NOW)
        with pytest.raises(InvalidInput, match="itself"):
            link_objects(desk(session), agent, ours, mine.id, "OURS-1", NOW)
        with pytest.raises(InvalidInput, match="at most"):
            set_line_items(
                desk(session),
                agent,
                ours,
                mine.id,
                [LineInput(f"item {n}", "1", "1") for n in range(201)],
                NOW,
            )
