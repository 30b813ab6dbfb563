"""Orders, bookings, cases and payment requests created from a conversation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from engine.auth import Role, create_api_token
from engine.auth.policy import Forbidden
from engine.db import unit_of_work, workspace_session
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.objects import (
    NewObject,
    create_for_conversation,
    link_to_conversation,
    objects_of,
)
from engine.models import BusinessObject
from tests.inbox.seed import NOW, World, desk
from tests.inbox.web import Web


def test_an_order_is_created_for_the_contact_and_linked(world: World) -> None:
    conversation = world.conversation("Buyer", owner="agent")
    second = world.conversation("Buyer again", owner="agent")
    agent = world.principal("agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        order = create_for_conversation(
            desk(session),
            agent,
            conversation,
            NewObject(kind="order", external_ref="DB-1042", amount="18,500.50", currency="kes"),
            NOW,
        )
        assert (order.amount, order.currency, order.status) == (Decimal("18500.50"), "KES", "open")
        with pytest.raises(Conflict, match="link it instead"):
            create_for_conversation(
                desk(session),
                agent,
                conversation,
                NewObject(kind="order", external_ref="DB-1042"),
                NOW,
            )
        for bad in (
            NewObject(kind="spaceship"),
            NewObject(kind="order", amount="1e400"),
            NewObject(kind="order", amount="-5"),
            NewObject(kind="order", currency="shilling"),
        ):
            with pytest.raises(InvalidInput):
                create_for_conversation(desk(session), agent, conversation, bad, NOW)
        link_to_conversation(desk(session), agent, second, order.id, NOW)
        link_to_conversation(desk(session), agent, second, order.id, NOW)  # twice: still one link
        assert [o.external_ref for o in objects_of(session, agent, second)] == ["DB-1042"]
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(Forbidden):
        create_for_conversation(
            desk(session), world.principal("other"), conversation, NewObject(kind="booking"), NOW
        )


def test_created_from_the_page_and_the_api(web: Web) -> None:
    conversation = web.world.conversation("Paged buyer", owner="agent")
    web.sign_in("agent")
    created = web.post(
        f"/inbox/c/{conversation}/objects",
        {"kind": "order", "external_ref": "<b>X-1</b>", "amount": "2500", "currency": "KES"},
    )
    assert created.status_code == 303
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "order &lt;b&gt;X-1&lt;/b&gt;</strong> · open · KES 2,500" in page
    token = create_api_token(
        web.world.db, workspace_id=web.world.workspace_id, role=Role.MANAGER, label="erp", now=NOW
    )
    headers = {"Authorization": f"Bearer {token}"}
    made = web.client.post(
        f"/api/v1/conversations/{conversation}/objects",
        json={"kind": "payment_request", "amount": "2500.00", "currency": "KES"},
        headers=headers,
    )
    assert (made.status_code == 201 and made.json()["amount"] == "2500.0000") or made.json()[
        "amount"
    ] == "2500.00"
    listed = web.client.get(f"/api/v1/conversations/{conversation}/objects", headers=headers).json()
    assert [o["kind"] for o in listed] == ["order", "payment_request"]
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert len(session.scalars(select(BusinessObject)).all()) == 2
