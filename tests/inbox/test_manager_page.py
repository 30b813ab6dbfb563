"""The manager's view page: managers see queue health; agents are told it is not theirs."""

from __future__ import annotations

from tests.inbox.web import Web


def test_a_manager_sees_waiting_customers_and_the_pipeline(web: Web) -> None:
    conversation = web.world.conversation("Zawadi <i>Njeri</i>", stage="inquiry")
    web.sign_in("manager")
    page = web.client.get("/manager")
    assert page.status_code == 200
    assert "Customers waiting on us" in page.text
    assert f'href="/inbox/c/{conversation}"' in page.text
    # A customer's own name is shown as text, never as markup.
    assert "Zawadi &lt;i&gt;Njeri&lt;/i&gt;" in page.text
    assert "<i>Njeri</i>" not in page.text


def test_an_agent_is_refused(web: Web) -> None:
    web.sign_in("agent")
    page = web.client.get("/manager")
    assert page.status_code == 403
    assert "for managers" in page.text
