"""Merging two contacts who are one person: everything moves, nothing is lost, and
Undo moves exactly that back, even after the customer wrote again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth import Role
from engine.auth.policy import Forbidden
from engine.db import workspace_session
from engine.identity import identify
from engine.inbox.contact_merge import Profile, Thread, merge_contacts, plan_merge, undo_merge
from engine.inbox.contacts import contact_view
from engine.inbox.errors import Conflict, NotFound
from engine.models import (
    AuditLog,
    BusinessObject,
    BusinessObjectLink,
    Contact,
    Conversation,
    ConversationTag,
    Identity,
    Message,
    Note,
    SlaClock,
    Task,
)
from tests.inbox.seed import NOW, World, customer_writes, desk, make_world
from tests.inbox.test_api import bearer
from tests.inbox.web import Web

SURVIVOR_PHONE = "+254711000111"
DUPLICATE_PHONE = "+254711000222"


def contact_of(world: World, conversation_id: int) -> int:
    with workspace_session(world.db, world.workspace_id) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.contact_id


def decorate(world: World, conversation_id: int) -> None:
    """Give a contact an order, a task, a tag and fields, so a merge has all to move."""
    with workspace_session(world.db, world.workspace_id) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        contact = session.get(Contact, conversation.contact_id)
        assert contact is not None
        contact.fields = {"city": "Mombasa", "tier": "gold"}
        contact.language = "sw"
        order = BusinessObject(
            kind="order",
            external_ref=f"ORD-{conversation_id}",
            status="open",
            amount=Decimal("1200"),
            currency="KES",
            contact_id=contact.id,
        )
        session.add(order)
        session.flush()
        session.add(
            BusinessObjectLink(business_object_id=order.id, conversation_id=conversation_id)
        )
        session.add(ConversationTag(conversation_id=conversation_id, name="vip"))
        session.add(Task(title="Call back", conversation_id=conversation_id, created_at=NOW))
        session.commit()


def snapshot(world: World) -> dict[str, Any]:
    """Who owns what, row by row: the state a merge changes and an undo restores."""
    with workspace_session(world.db, world.workspace_id) as session:
        return {
            "identities": sorted(
                session.execute(select(Identity.id, Identity.contact_id)).tuples()
            ),
            "conversations": sorted(
                session.execute(
                    select(
                        Conversation.id,
                        Conversation.contact_id,
                        Conversation.status,
                        Conversation.waiting_on,
                        Conversation.resolved_at,
                    )
                ).tuples()
            ),
            "objects": sorted(
                session.execute(select(BusinessObject.id, BusinessObject.contact_id)).tuples()
            ),
            "authors": sorted(
                session.execute(select(Message.id, Message.author_contact_id)).tuples()
            ),
            "contacts": sorted(
                (c.id, c.name, c.profile_name, c.language, c.fields, c.merged_into_id)
                for c in session.scalars(select(Contact))
            ),
            "notes": sorted(session.scalars(select(Note.id))),
        }


def pair(world: World, *, duplicate_status: str = "resolved") -> tuple[int, int, int, int]:
    """(survivor, duplicate, survivor's conversation, duplicate's conversation)."""
    kept = world.conversation("Amina", phone=SURVIVOR_PHONE)
    dup = world.conversation(
        "Amina W.",
        phone=DUPLICATE_PHONE,
        status=duplicate_status,
        last_at=NOW - timedelta(hours=3),
        texts=("old number here", "second"),
    )
    decorate(world, dup)
    return contact_of(world, kept), contact_of(world, dup), kept, dup


def test_the_plan_resolves_the_older_of_two_open_threads_and_fills_only_empty_parts() -> None:
    survivor = Profile("Amina", None, None, None, {"city": "Nairobi"})
    merged = Profile("Amina W.", "Amina", "sw", 7, {"city": "Mombasa", "tier": "gold"})
    day = NOW - timedelta(days=1)
    plan = plan_merge(
        survivor,
        merged,
        [Thread(1, "+254700", True, NOW), Thread(2, "+254799", False, day)],
        [Thread(3, "+254700", True, day), Thread(4, "+254799", True, day)],
    )
    assert plan.to_resolve == {3: 1}  # #4 clashes with nothing open
    assert plan.filled == {
        "profile_name": "Amina",
        "language": "sw",
        "company_id": 7,
        "fields": {"tier": "gold"},
    }
    newer = plan_merge(
        survivor, merged, [Thread(1, "+254700", True, day)], [Thread(3, "+254700", True, NOW)]
    )
    assert newer.to_resolve == {1: 3}


def test_a_merge_moves_everything_and_undo_puts_exactly_that_back(world: World) -> None:
    survivor_id, duplicate_id, kept, dup = pair(world)
    before = snapshot(world)
    manager = world.principal("manager")
    with workspace_session(world.db, world.workspace_id) as session:
        merge = merge_contacts(desk(session), manager, survivor_id, duplicate_id, NOW)
        session.commit()
        merge_id = merge.id
    with workspace_session(world.db, world.workspace_id) as session:
        view = contact_view(session, manager, duplicate_id)  # the old id leads to the survivor
        assert view.id == survivor_id
        assert {i.address for i in view.identities} == {SURVIVOR_PHONE, DUPLICATE_PHONE}
        assert {c.id for c in view.conversations} == {kept, dup}
        assert [b.external_ref for b in view.business_objects] == [f"ORD-{dup}"]
        assert view.tags == ["vip"] and [t.title for t in view.tasks] == ["Call back"]
        assert view.fields == {"city": "Mombasa", "tier": "gold"} and view.language == "sw"
        assert [(m.id, m.merged.id) for m in view.merges] == [(merge_id, duplicate_id)]
        authors = set(
            session.scalars(select(Message.author_contact_id).where(Message.conversation_id == dup))
        )
        assert authors == {survivor_id}
        duplicate = session.get(Contact, duplicate_id)
        assert (
            duplicate is not None and duplicate.merged_into_id == survivor_id
        )  # kept, not deleted
        actions = session.execute(
            select(AuditLog.action, AuditLog.subject_id).where(AuditLog.action.like("merge%"))
        ).all()
        assert sorted(tuple(a) for a in actions) == [
            ("merge", survivor_id),
            ("merged into", duplicate_id),
        ]
    with workspace_session(world.db, world.workspace_id) as session:
        undo_merge(desk(session), manager, merge_id, NOW + timedelta(minutes=5))
        session.commit()
    assert snapshot(world) == before
    with workspace_session(world.db, world.workspace_id) as session:
        undone = session.scalars(select(AuditLog.subject_id).where(AuditLog.action == "undo merge"))
        assert set(undone) == {survivor_id, duplicate_id}
        with pytest.raises(Conflict):
            undo_merge(desk(session), manager, merge_id, NOW)


def test_two_open_conversations_on_one_number_keep_one_open_and_undo_reopens(world: World) -> None:
    survivor_id, duplicate_id, kept, dup = pair(world, duplicate_status="waiting_on_us")
    before = snapshot(world)
    manager = world.principal("manager")
    with workspace_session(world.db, world.workspace_id) as session:
        merge = merge_contacts(desk(session), manager, survivor_id, duplicate_id, NOW)
        session.commit()
        merge_id = merge.id
    with workspace_session(world.db, world.workspace_id) as session:
        older = session.get(Conversation, dup)
        newer = session.get(Conversation, kept)
        assert older is not None and newer is not None
        assert older.status == "resolved" and newer.status == "waiting_on_us"
        assert older.contact_id == newer.contact_id == survivor_id
        (note,) = session.scalars(select(Note.body).where(Note.conversation_id == dup))
        assert f"continues in #{kept}" in note
    with workspace_session(world.db, world.workspace_id) as session:
        undo_merge(desk(session), manager, merge_id, NOW)
        session.commit()
    assert snapshot(world) == before


def test_what_arrives_after_the_merge_stays_with_the_survivor_on_undo(world: World) -> None:
    survivor_id, duplicate_id, kept, dup = pair(world)
    manager = world.principal("manager")
    with workspace_session(world.db, world.workspace_id) as session:
        merge_id = merge_contacts(desk(session), manager, survivor_id, duplicate_id, NOW).id
        session.commit()
    later = customer_writes(world, kept, "are you there?", NOW + timedelta(minutes=1))
    with workspace_session(world.db, world.workspace_id) as session:
        # The old number now finds the survivor, not the merged contact.
        found = identify(session, "whatsapp", DUPLICATE_PHONE, NOW + timedelta(minutes=2))
        assert found.id == survivor_id
        new_order = BusinessObject(kind="order", status="open", contact_id=survivor_id)
        session.add(new_order)
        session.commit()
        new_order_id = new_order.id
    with workspace_session(world.db, world.workspace_id) as session:
        undo_merge(desk(session), manager, merge_id, NOW + timedelta(minutes=3))
        session.commit()
    with workspace_session(world.db, world.workspace_id) as session:
        assert session.get(Message, later).author_contact_id == survivor_id  # type: ignore[union-attr]
        assert session.get(BusinessObject, new_order_id).contact_id == survivor_id  # type: ignore[union-attr]
        assert session.get(Conversation, dup).contact_id == duplicate_id  # type: ignore[union-attr]
        back = identify(session, "whatsapp", DUPLICATE_PHONE, NOW + timedelta(minutes=4))
        assert back.id == duplicate_id


def test_merging_refuses_itself_a_merged_contact_and_another_workspace(world: World) -> None:
    survivor_id, duplicate_id, _, _ = pair(world)
    other_world = make_world(world.db)
    theirs = contact_of(other_world, other_world.conversation("Theirs"))
    manager = world.principal("manager")
    with workspace_session(world.db, world.workspace_id) as session:
        with pytest.raises(NotFound):
            merge_contacts(desk(session), manager, survivor_id, theirs, NOW)
        session.rollback()
        with pytest.raises(Forbidden):
            merge_contacts(desk(session), world.principal("agent"), survivor_id, duplicate_id, NOW)
        merge_contacts(desk(session), manager, survivor_id, duplicate_id, NOW)
        session.commit()
        with pytest.raises(Conflict, match="already merged"):
            merge_contacts(desk(session), manager, duplicate_id, survivor_id, NOW)


def _merged_state(session: Session, contact_id: int) -> int | None:
    contact = session.get(Contact, contact_id)
    assert contact is not None
    return contact.merged_into_id


def test_the_page_finds_previews_merges_and_undoes(web: Web, web2: Web) -> None:
    survivor_id, duplicate_id, _, dup = pair(web.world)
    web.sign_in("manager")
    found = web.client.get(f"/inbox/contacts/{survivor_id}", params={"find": "Amina W"})
    assert f"?merge={duplicate_id}" in found.text
    preview = web.client.get(f"/inbox/contacts/{survivor_id}", params={"merge": duplicate_id})
    assert DUPLICATE_PHONE in preview.text and f"#{dup}" in preview.text
    merged = web.post(f"/inbox/contacts/{survivor_id}/merge", {"merged_id": str(duplicate_id)})
    assert merged.status_code == 303
    old_link = web.client.get(f"/inbox/contacts/{duplicate_id}", follow_redirects=False)
    assert (
        old_link.status_code == 303
        and old_link.headers["location"] == f"/inbox/contacts/{survivor_id}"
    )
    page = web.client.get(f"/inbox/contacts/{survivor_id}").text
    merge_id = int(page.split(f"/inbox/contacts/{survivor_id}/merges/")[1].split("/")[0])

    web2.sign_in("agent")
    assert "Merge a duplicate" not in web2.client.get(f"/inbox/contacts/{survivor_id}").text
    refused = web2.post(f"/inbox/contacts/{survivor_id}/merges/{merge_id}/undo")
    assert refused.status_code == 403 and "manager" in refused.text

    assert web.post(f"/inbox/contacts/{survivor_id}/merges/{merge_id}/undo").status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert _merged_state(session, duplicate_id) is None


def test_the_api_merges_and_undoes_with_json_errors(web: Web) -> None:
    survivor_id, duplicate_id, _, dup = pair(web.world)
    manager, agent = bearer(web.world, Role.MANAGER), bearer(web.world, Role.AGENT)
    base = f"/api/v1/contacts/{survivor_id}"
    preview = web.client.get(
        f"{base}/merge-preview", params={"merged_id": duplicate_id}, headers=manager
    )
    assert preview.status_code == 200 and preview.json()["conversations"] == [dup]
    refused = web.client.post(f"{base}/merges", json={"merged_id": duplicate_id}, headers=agent)
    assert refused.status_code == 403 and "manager" in refused.json()["error"]
    done = web.client.post(f"{base}/merges", json={"merged_id": duplicate_id}, headers=manager)
    assert done.status_code == 201 and done.json()["moved"]["identities"] == 1
    again = web.client.post(f"{base}/merges", json={"merged_id": duplicate_id}, headers=manager)
    assert again.status_code == 409 and "already merged" in again.json()["error"]
    old = web.client.get(f"/api/v1/contacts/{duplicate_id}", headers=manager).json()
    assert old["id"] == survivor_id
    merge_id = done.json()["merge_id"]
    wrong = web.client.post(
        f"/api/v1/contacts/{duplicate_id}/merges/{merge_id}/undo", headers=manager
    )
    assert wrong.status_code == 404
    undone = web.client.post(f"{base}/merges/{merge_id}/undo", headers=manager)
    assert undone.status_code == 200 and undone.json()["kept_resolved"] == []

    other = make_world(web.world.db)
    theirs = contact_of(other, other.conversation("Theirs"))
    foreign = web.client.post(f"{base}/merges", json={"merged_id": theirs}, headers=manager)
    assert foreign.status_code == 404 and foreign.json()["error"]


def test_a_conversation_a_merge_resolves_stops_its_clocks_and_undo_restarts_them(
    web: Web,
) -> None:
    survivor_id, duplicate_id, _, dup = pair(web.world, duplicate_status="waiting_on_us")
    manager = bearer(web.world, Role.MANAGER)

    def running_clocks(conversation: int) -> list[str]:
        with workspace_session(web.world.db, web.world.workspace_id) as session:
            return list(
                session.scalars(
                    select(SlaClock.kind).where(
                        SlaClock.conversation_id == conversation, SlaClock.stopped_at.is_(None)
                    )
                )
            )

    # A staff action starts the duplicate's clocks, as any page action would.
    tagged = web.client.post(
        f"/api/v1/conversations/{dup}/tags", json={"name": "vip"}, headers=manager
    )
    assert tagged.status_code == 201, tagged.text
    assert running_clocks(dup), "the duplicate's response-time clocks never started"
    base = f"/api/v1/contacts/{survivor_id}"
    done = web.client.post(f"{base}/merges", json={"merged_id": duplicate_id}, headers=manager)
    assert done.status_code == 201 and done.json()["resolved"] == [dup]
    assert running_clocks(dup) == [], "a resolved conversation's clocks must stop"
    undone = web.client.post(f"{base}/merges/{done.json()['merge_id']}/undo", headers=manager)
    assert undone.status_code == 200
    assert running_clocks(dup), "the reopened conversation's clocks run again"
