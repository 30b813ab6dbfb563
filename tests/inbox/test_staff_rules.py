"""A teammate's actions on the page reach the rules, as the design's one flow says."""

from __future__ import annotations

from sqlalchemy import select

from engine.db import workspace_session
from engine.models import BusinessObject, OutboxRow, ScheduledAction, Task
from tests.inbox.web import Web


def an_order_with_items(web: Web, conversation: int) -> int:
    """Staff create the order on the page and fill in what it contains."""
    created = web.post(
        f"/inbox/c/{conversation}/objects",
        {"kind": "order", "external_ref": "DB-7", "amount": "18500", "currency": "KES"},
    )
    assert created.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        order_id = session.scalars(
            select(BusinessObject.id).order_by(BusinessObject.id.desc())
        ).first()
    assert order_id is not None
    filled = web.post(f"/inbox/c/{conversation}/objects/{order_id}", {"items": "Hisense 43in TV"})
    assert filled.status_code == 303
    return order_id


def test_moving_to_quote_on_the_page_sends_the_quote_and_schedules_the_chase(web: Web) -> None:
    conversation = web.world.conversation("Wairimu", owner="agent", stage="inquiry")
    web.sign_in("agent")
    an_order_with_items(web, conversation)
    moved = web.post(
        f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"}
    )
    assert moved.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        sends = session.scalars(
            select(OutboxRow).where(OutboxRow.conversation_id == conversation)
        ).all()
        chases = session.scalars(
            select(ScheduledAction).where(ScheduledAction.conversation_id == conversation)
        ).all()
    assert [row.payload["name"] for row in sends] == ["quote_ready"]
    assert [action.rule_name for action in chases] == ["Send the quote"]
    assert "Hisense 43in TV" in str(sends[0].payload) and "18500" in str(sends[0].payload)


def test_a_quote_without_its_order_is_held_for_staff_not_sent_with_blanks(web: Web) -> None:
    conversation = web.world.conversation("Otieno", owner="agent", stage="inquiry")
    web.sign_in("agent")
    web.post(f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"})
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        sends = session.scalars(
            select(OutboxRow).where(OutboxRow.conversation_id == conversation)
        ).all()
        tasks = session.scalars(select(Task).where(Task.conversation_id == conversation)).all()
    assert sends == []
    [held] = [t for t in tasks if t.held_send]
    assert held.held_send["template"] == "quote_ready"
    assert "order.items" in held.held_send["missing"]


def test_the_page_shows_the_scheduled_chase_and_staff_can_cancel_it(web: Web) -> None:
    conversation = web.world.conversation("Kamau", owner="agent", stage="inquiry")
    web.sign_in("agent")
    web.post(f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"})
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert "Send the quote" in page and "unless customer replied or stage changed" in page
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [chase] = session.scalars(
            select(ScheduledAction).where(ScheduledAction.conversation_id == conversation)
        ).all()
    cancelled = web.post(f"/inbox/c/{conversation}/scheduled/{chase.id}/cancel")
    assert cancelled.status_code == 303
    assert "Nothing is scheduled." in web.client.get(f"/inbox/c/{conversation}").text
    again = web.post(f"/inbox/c/{conversation}/scheduled/{chase.id}/cancel")
    assert again.status_code == 409


def test_the_page_shows_the_running_response_time_target(web: Web) -> None:
    conversation = web.world.conversation("Njoroge", texts=("Hello?",), stage="inquiry")
    web.sign_in("agent")
    tagged = web.post(f"/inbox/c/{conversation}/tags", {"tag": "vip"})  # actions refresh clocks
    assert tagged.status_code == 303
    page = web.client.get(f"/inbox/c/{conversation}").text
    section = page[page.index("Response times") :]
    assert "Resolution" in section[:600], section[:600]


def test_the_history_says_which_rule_fired_on_what_and_what_it_did(web: Web) -> None:
    conversation = web.world.conversation("Achieng", owner="agent", stage="inquiry")
    web.sign_in("agent")
    an_order_with_items(web, conversation)
    web.post(f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"})
    page = web.client.get(f"/inbox/c/{conversation}").text
    line = page[page.index('class="event rule"') :].split("</li>")[0]
    assert "<strong>Send the quote</strong>" in line
    assert "ran on a stage being entered: send template quote_ready, wait until" in line


def test_the_page_says_why_each_rule_did_or_did_not_act(web: Web) -> None:
    conversation = web.world.conversation("Chebet", owner="agent", stage="inquiry")
    web.sign_in("agent")
    web.post(f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"})
    page = web.client.get(f"/inbox/c/{conversation}").text
    why = page[page.index('id="why"') :].split("</details>")[0]
    assert "stage entered &#39;quote&#39;" in why or "stage entered 'quote'" in why
    assert "<strong>Send the quote</strong> acted" in why
    assert "Lost deals are closed" not in why  # a rule listening to another stage is no candidate


def test_a_held_quote_is_sent_from_the_page_once_its_order_is_filled_in(web: Web) -> None:
    conversation = web.world.conversation("Nduta", owner="agent", stage="inquiry")
    web.sign_in("agent")
    created = web.post(
        f"/inbox/c/{conversation}/objects", {"kind": "order", "external_ref": "DB-12"}
    )
    assert created.status_code == 303
    web.post(f"/inbox/c/{conversation}/stage", {"stage": "quote", "expected_stage": "inquiry"})
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [held] = session.scalars(
            select(Task).where(Task.conversation_id == conversation, Task.held_send.is_not(None))
        ).all()
        order_id = session.scalars(select(BusinessObject.id)).all()[-1]
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f"/tasks/{held.id}/send" in page and "Send now" in page

    # Still empty: refused with what is missing, nothing sent, the task stays open.
    early = web.post(f"/inbox/c/{conversation}/tasks/{held.id}/send")
    assert early.status_code == 400
    assert "still empty: the order items, the order amount." in early.text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert (
            session.scalars(
                select(OutboxRow).where(OutboxRow.conversation_id == conversation)
            ).all()
            == []
        )

    web.post(
        f"/inbox/c/{conversation}/objects/{order_id}", {"items": "Sony soundbar", "amount": "23500"}
    )
    sent = web.post(f"/inbox/c/{conversation}/tasks/{held.id}/send")
    assert sent.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [row] = session.scalars(
            select(OutboxRow).where(
                OutboxRow.conversation_id == conversation, OutboxRow.kind == "whatsapp.send"
            )
        ).all()
        task = session.get(Task, held.id)
    assert row.payload["name"] == "quote_ready" and "Sony soundbar" in str(row.payload)
    assert task is not None and task.done_at is not None
    again = web.post(f"/inbox/c/{conversation}/tasks/{held.id}/send")
    assert again.status_code == 409
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        sends = session.scalars(
            select(OutboxRow).where(
                OutboxRow.conversation_id == conversation, OutboxRow.kind == "whatsapp.send"
            )
        ).all()
    assert len(sends) == 1  # sent once, however often the button is pressed
