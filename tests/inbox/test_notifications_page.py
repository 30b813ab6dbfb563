"""A teammate's notifications: listed, counted in the header, marked read."""

from __future__ import annotations

from engine.db import workspace_session
from engine.models import Notification
from tests.inbox.seed import NOW
from tests.inbox.web import Web


def test_notifications_are_listed_counted_and_marked_read(web: Web) -> None:
    conversation = web.world.conversation("Otieno <script>x</script>")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        session.add(
            Notification(
                teammate_id=web.world.people["manager"],
                conversation_id=conversation,
                text="Otieno <script>x</script> paid KES 4,000 of 5,500",
                source="Short payments go to the manager",
                created_at=NOW,
            )
        )
        session.commit()
    web.sign_in("manager")
    assert 'class="count unread">1</span>' in web.client.get("/inbox").text
    page = web.client.get("/notifications")
    assert "paid KES 4,000 of 5,500" in page.text
    assert "<script>x</script>" not in page.text
    assert f'href="/inbox/c/{conversation}"' in page.text
    web.post("/notifications/read")
    assert 'class="count unread"' not in web.client.get("/inbox").text

    web.sign_in("agent")  # notifications are the recipient's own
    assert "paid KES" not in web.client.get("/notifications").text
