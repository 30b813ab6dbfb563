"""Segments: people chosen by tags, language, fields, stage, recent activity and opt-in;
saved by a manager under a name, and exported with the same choice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.contacts import ConsentSource, Segment, record_consent
from engine.contacts.segments import segment_query
from engine.db import workspace_session
from engine.models import ConsentState, Contact, ContactTag, Conversation
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def people(web: Web) -> dict[str, int]:
    """Four customers: tags, language, county, stage, last message and consent differ."""
    w = web.world
    ids = {}
    for name, stage, days_ago in (
        ("Amina", "quote", 2),
        ("Brian", "inquiry", 2),
        ("Carol", "quote", 40),
        ("Dan", None, 1),
    ):
        conversation = w.conversation(name, stage=stage, last_at=NOW - timedelta(days=days_ago))
        with workspace_session(w.db, w.workspace_id) as session:
            contact_id = session.scalars(
                select(Conversation.contact_id).where(Conversation.id == conversation)
            ).one()
            contact = session.get(Contact, contact_id)
            assert contact is not None
            contact.language = "sw" if name in ("Amina", "Carol") else "en"
            contact.fields = {"county": "nairobi" if name != "Brian" else "kiambu"}
            session.add(ContactTag(contact_id=contact_id, name="vip"))
            if name != "Dan":
                record_consent(
                    session,
                    contact_id,
                    ConsentState.OPTED_IN,
                    source=ConsentSource.MANUAL,
                    detail="counter",
                    now=NOW,
                )
            session.commit()
        ids[name] = contact_id
    return ids


def chosen(web: Web, segment: Segment) -> set[int]:
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        return set(session.scalars(segment_query(segment, NOW)))


def test_each_part_of_a_segment_narrows_it(web: Web) -> None:
    ids = people(web)
    everyone = set(ids.values())
    assert chosen(web, Segment(tags=("vip",))) == everyone
    assert chosen(web, Segment(language="sw")) == {ids["Amina"], ids["Carol"]}
    assert chosen(web, Segment(fields={"county": "kiambu"})) == {ids["Brian"]}
    assert chosen(web, Segment(stage="quote")) == {ids["Amina"], ids["Carol"]}
    assert chosen(web, Segment(active_days=7)) == everyone - {ids["Carol"]}
    assert chosen(web, Segment(opted_in=True)) == everyone - {ids["Dan"]}
    assert chosen(web, Segment(stage="quote", active_days=7, opted_in=True)) == {ids["Amina"]}


def test_a_manager_saves_a_segment_and_exports_it(web: Web) -> None:
    ids = people(web)
    web.sign_in("manager")
    filters = {"tags": "vip", "stage": "quote", "active_days": "7", "opted_in": "1"}
    saved = web.post("/contacts/segments", {**filters, "name": "Hot quotes"})
    assert saved.status_code == 303
    page = web.client.get(saved.headers["location"]).text
    assert "Hot quotes" in page and "/inbox/contacts/{}".format(ids["Amina"]) in page
    assert "/inbox/contacts/{}".format(ids["Carol"]) not in page
    exported = web.client.get("/contacts/export", params=filters).text.splitlines()
    assert len(exported) == 2 and exported[1].startswith("Amina,")
    web.client.cookies.clear()
    web.sign_in("agent")
    assert web.post("/contacts/segments", {**filters, "name": "Mine"}).status_code == 403
    bad = web.client.get("/contacts?active_days=soon")
    assert bad.status_code == 400 and "whole number of days" in bad.text
