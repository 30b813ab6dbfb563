"""Replying inside and outside the window, the reply race, notes, status, tags, tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.auth.policy import Forbidden
from engine.db import unit_of_work, workspace_session
from engine.inbox.conversation import conversation_view
from engine.inbox.errors import Conflict, InvalidInput
from engine.inbox.replies import ReplyRace, reply_template, reply_text, retry_message
from engine.inbox.work import add_note, add_tag, complete_task, create_task, remove_tag, set_status
from engine.models import Conversation, Message, OutboxRow
from engine.workspaces.directory import read_folder
from tests.inbox.seed import NOW, World, desk


def test_a_reply_inside_the_window_is_queued_with_its_outbox_row(world: World) -> None:
    conversation = world.conversation("Amina", owner="agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        message = reply_text(
            desk(session), world.principal("agent"), conversation, " Tuko na stock! ", now=NOW
        )
        message_id = message.id
    with workspace_session(world.db, world.workspace_id) as session:
        stored = session.get(Message, message_id)
        assert stored is not None
        assert (stored.body, stored.direction, stored.delivery_state) == (
            "Tuko na stock!",
            "outbound",
            "queued",
        )
        assert session.scalar(
            select(OutboxRow.payload).where(OutboxRow.conversation_id == conversation)
        )
        row = session.get(Conversation, conversation)
        assert row is not None and row.waiting_on == "customer"


def test_free_text_outside_the_window_is_refused_and_a_template_goes(
    world: World, repo_root
) -> None:  # type: ignore[no-untyped-def]
    conversation = world.conversation("Old", owner="agent", last_at=NOW - timedelta(hours=25))
    with (
        unit_of_work(world.db, world.workspace_id) as session,
        pytest.raises(Conflict, match="24 hours"),
    ):
        reply_text(desk(session), world.principal("agent"), conversation, "Hello?", now=NOW)
    retail = read_folder(repo_root / "configs" / "retail")
    templates = retail.templates
    with unit_of_work(world.db, world.workspace_id) as session:
        view = conversation_view(
            session, world.principal("agent"), conversation, templates=templates, now=NOW
        )
        assert not view.window_open
        opener = next(t for t in view.templates if t.name == "we_are_open")
        assert opener.suggestions == ("Old",)
        message = reply_template(
            desk(session, retail),
            world.principal("agent"),
            conversation,
            name="we_are_open",
            language="en",
            parameters=["Old"],
            now=NOW,
        )
        assert (
            message.body
            == "Good morning Old, we are open and a salesperson will answer your message shortly."
        )
        with pytest.raises(InvalidInput, match="needs 1"):
            reply_template(
                desk(session, retail),
                world.principal("agent"),
                conversation,
                name="we_are_open",
                language="en",
                parameters=[],
                now=NOW,
            )
        with pytest.raises(InvalidInput, match="no template"):
            reply_template(
                desk(session, retail),
                world.principal("agent"),
                conversation,
                name="made_up",
                language="en",
                parameters=[],
                now=NOW,
            )


def test_the_second_of_two_simultaneous_replies_must_confirm(world: World) -> None:
    conversation = world.conversation("Race")
    with workspace_session(world.db, world.workspace_id) as session:
        seen = session.scalar(
            select(Message.id)
            .where(Message.conversation_id == conversation)
            .order_by(Message.id.desc())
        )
    with unit_of_work(world.db, world.workspace_id) as session:
        reply_text(
            desk(session),
            world.principal("agent"),
            conversation,
            "Karibu!",
            now=NOW,
            seen_message_id=seen,
        )
    with unit_of_work(world.db, world.workspace_id) as session, pytest.raises(ReplyRace) as race:
        reply_text(
            desk(session),
            world.principal("manager"),
            conversation,
            "Hello!",
            now=NOW + timedelta(seconds=4),
            seen_message_id=seen,
        )
    assert str(race.value) == "Agent replied 4 s ago. Send yours anyway?"
    with unit_of_work(world.db, world.workspace_id) as session:
        reply_text(
            desk(session),
            world.principal("manager"),
            conversation,
            "Hello!",
            now=NOW + timedelta(seconds=5),
            seen_message_id=seen,
            confirmed=True,
        )
        # Having seen the first reply, there is nothing to confirm.
        reply_text(
            desk(session),
            world.principal("manager"),
            conversation,
            "More",
            now=NOW + timedelta(seconds=6),
            seen_message_id=race.value.message_id,
        )


def test_only_the_owner_or_a_manager_works_an_owned_conversation(world: World) -> None:
    conversation = world.conversation("Owned", owner="agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        with pytest.raises(Forbidden):
            reply_text(desk(session), world.principal("other"), conversation, "Hi", now=NOW)
        with pytest.raises(Forbidden):
            set_status(desk(session), world.principal("other"), conversation, "resolved", NOW)
        add_note(desk(session), world.principal("other"), conversation, "I know this customer", NOW)
        set_status(desk(session), world.principal("manager"), conversation, "resolved", NOW)
        row = session.get(Conversation, conversation)
        assert row is not None and (row.status, row.resolved_at) == ("resolved", NOW)


def test_reopening_when_a_newer_thread_is_open_is_a_conflict(world: World) -> None:
    conversation = world.conversation("Twice", phone="+254700000111", status="resolved")
    world_open = world.conversation("Twice", phone="+254700000112")
    with unit_of_work(world.db, world.workspace_id) as session:
        # Point the open thread at the same contact and number.
        row = session.get(Conversation, world_open)
        resolved = session.get(Conversation, conversation)
        assert row is not None and resolved is not None
        row.contact_id = resolved.contact_id
    with (
        unit_of_work(world.db, world.workspace_id) as session,
        pytest.raises(Conflict, match="already has an open"),
    ):
        set_status(desk(session), world.principal("manager"), conversation, "open", NOW)


def test_tags_tasks_and_the_timeline(world: World) -> None:
    conversation = world.conversation("Tags", owner="agent", texts=("hi", "price?"))
    principal = world.principal("agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        assert add_tag(desk(session), principal, conversation, "  Hot   Lead ", NOW) == "hot lead"
        add_tag(desk(session), principal, conversation, "hot lead", NOW)
        add_tag(desk(session), principal, conversation, "m-pesa", NOW)
        remove_tag(desk(session), principal, conversation, "M-Pesa", NOW)
        with pytest.raises(InvalidInput):
            add_tag(desk(session), principal, conversation, "<script>", NOW)
        task = create_task(
            desk(session),
            principal,
            conversation,
            title="Call back",
            due_at=NOW + timedelta(hours=1),
            assignee_id=None,
            now=NOW + timedelta(seconds=1),
        )
        add_note(desk(session), principal, conversation, "VIP", NOW + timedelta(seconds=2))
        complete_task(session, principal, task.id, NOW + timedelta(seconds=3))
        view = conversation_view(session, principal, conversation, templates=(), now=NOW)
    assert view.tags == ["hot lead"]
    assert [e.kind for e in view.timeline] == ["message", "message", "task", "note"]
    assert view.timeline[2].done and view.timeline[2].author == "Agent"
    assert view.window_open and view.window_seconds_left == 24 * 3600 - 5 * 60
    assert view.open_tasks == []


def test_a_failed_message_shows_the_providers_meaning_and_can_be_retried(world: World) -> None:
    conversation = world.conversation("Failed", owner="agent")
    with unit_of_work(world.db, world.workspace_id) as session:
        message = reply_text(desk(session), world.principal("agent"), conversation, "Hi", now=NOW)
        message.delivery_state, message.failure_code = "failed", "131026"
        message_id = message.id
    with unit_of_work(world.db, world.workspace_id) as session:
        view = conversation_view(
            session, world.principal("agent"), conversation, templates=(), now=NOW
        )
        failed = next(e for e in view.timeline if e.delivery_state == "failed")
        assert (
            failed.failure_meaning is not None and "not a WhatsApp number" in failed.failure_meaning
        )
        with pytest.raises(Forbidden):
            retry_message(session, world.principal("other"), message_id, NOW)
        assert (
            retry_message(session, world.principal("agent"), message_id, NOW).delivery_state
            == "queued"
        )
