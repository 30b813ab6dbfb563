"""The simulator plays customers who receive a broadcast: they wait for the business's
template (never for a plain message), then one replies to it and one sends STOP."""

from __future__ import annotations

from connectors.whatsapp.client import CloudApiSender
from connectors.whatsapp.events import InboundMessage, TextContent
from connectors.whatsapp.policy import SendPolicy
from connectors.whatsapp.simulator.script import DEMO_SCRIPT, load_script
from connectors.whatsapp.simulator.world import DEFAULT_BUSINESS
from engine.core.messaging import OutboundTemplate, OutboundText, SendAccepted, TextParameter
from tests.whatsapp.conftest import TOKEN, Receiver, SimulatorFactory

SCRIPT = DEMO_SCRIPT.with_name("broadcast_script.yaml")


def texts_from(receiver: Receiver) -> dict[str, list[str]]:
    said: dict[str, list[str]] = {}
    for event in receiver.events():
        if isinstance(event, InboundMessage) and isinstance(event.content, TextContent):
            assert event.sender is not None
            said.setdefault(event.sender.wa_id, []).append(event.content.body)
    return said


def test_broadcast_customers_answer_the_template_with_a_reply_or_stop(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    script = load_script(SCRIPT)
    wanjiru, kamau = script.customers
    running = start_simulator(customers=script.customers, pace=0.01)
    sender = CloudApiSender(
        access_token=TOKEN,
        phone_number_id=DEFAULT_BUSINESS.phone_number_id,
        base_url=running.url,
        timeout=2.0,
    )
    running.simulator.policy = SendPolicy.with_templates(script.templates)
    # A plain message is not what they wait for (and is refused outside the window anyway).
    sender.send(OutboundText(kamau.wa_id, "Hello"), idempotency_key="text-1")
    for customer in (wanjiru, kamau):
        result = sender.send(
            OutboundTemplate(
                to=customer.wa_id,
                name="weekly_offer",
                language="en",
                body=(TextParameter(customer.name.split()[0]), TextParameter("A15 at 15,999")),
                callback_data=f"broadcast:1:contact:{customer.wa_id}",
            ),
            idempotency_key=f"broadcast:1:contact:{customer.wa_id}",
        )
        assert isinstance(result, SendAccepted), result
    receiver.wait_for(lambda r: len(texts_from(r)) == 2, timeout=10)
    said = texts_from(receiver)
    assert said[wanjiru.wa_id] == ["Is the Samsung A15 still available? I want two."]
    assert said[kamau.wa_id] == ["STOP"]
