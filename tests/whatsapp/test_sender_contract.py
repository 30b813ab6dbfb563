"""One contract, two adapters: the FakeSender and the real client against the simulator.

If the fake drifts from what the real client reports for the same situation, this
module fails for one of the two.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import httpx
import pytest

from connectors.whatsapp.client import CloudApiSender
from connectors.whatsapp.fake import FakeSender
from connectors.whatsapp.policy import SendPolicy
from connectors.whatsapp.simulator.world import DEFAULT_BUSINESS
from engine.core.clock import FrozenClock
from engine.core.messaging import (
    ListRow,
    ListSection,
    MarkAsRead,
    MessageSender,
    OutboundButtons,
    OutboundList,
    OutboundMedia,
    OutboundMessage,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    ReplyButton,
    SendAccepted,
    SendFailure,
    SendOutcomeUnknown,
    TextParameter,
)
from tests.whatsapp.conftest import TEMPLATES, TOKEN, SimulatorFactory

Fault = Literal["429", "500", "timeout"]
CUSTOMER = "254712345678"
STRANGER = "254799000111"


class Harness(Protocol):
    @property
    def sender(self) -> MessageSender: ...

    def customer_writes(self, wa_id: str) -> str:
        """The customer sends a message (opening their window); returns its id."""
        ...

    def fail_next(self, fault: Fault) -> None: ...


@dataclass
class FakeHarness:
    sender: FakeSender

    def customer_writes(self, wa_id: str) -> str:
        self.sender.policy.customer_wrote(wa_id, self.sender.clock.now())
        return f"wamid.inbound-{wa_id}"

    def fail_next(self, fault: Fault) -> None:
        if fault == "429":
            self.sender.fail_next(130429, http_status=429)
        elif fault == "500":
            self.sender.fail_next(131000, http_status=500)
        else:
            self.sender.time_out_next()


@dataclass
class SimulatorHarness:
    sender: CloudApiSender
    url: str

    def customer_writes(self, wa_id: str) -> str:
        answer = httpx.post(f"{self.url}/_sim/customers/{wa_id}/messages", json={"text": "hi"})
        answer.raise_for_status()
        return str(answer.json()["id"])

    def fail_next(self, fault: Fault) -> None:
        httpx.post(f"{self.url}/_sim/faults", json={"spec": f"{fault}:1"}).raise_for_status()


@pytest.fixture(params=["fake", "cloud_api_against_simulator"])
def harness(request: pytest.FixtureRequest, start_simulator: SimulatorFactory) -> Iterator[Harness]:
    if request.param == "fake":
        policy = SendPolicy.with_templates(TEMPLATES, enforce_window=True)
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        yield FakeHarness(FakeSender(policy=policy, clock=clock))
        return
    running = start_simulator(window_errors="sync", timeout_seconds=1.0)
    sender = CloudApiSender(
        access_token=TOKEN,
        phone_number_id=DEFAULT_BUSINESS.phone_number_id,
        base_url=running.url,
        timeout=0.3,
    )
    yield SimulatorHarness(sender, running.url)
    sender.close()


def accepted_id(result: object) -> str:
    assert isinstance(result, SendAccepted), result
    assert result.provider_message_id is not None
    return result.provider_message_id


def test_text_inside_the_window_is_accepted_with_a_new_wamid(harness: Harness) -> None:
    harness.customer_writes(CUSTOMER)
    first = accepted_id(harness.sender.send(OutboundText(CUSTOMER, "Karibu!"), idempotency_key="a"))
    second = accepted_id(harness.sender.send(OutboundText(CUSTOMER, "Again"), idempotency_key="b"))
    assert first.startswith("wamid.") and second.startswith("wamid.")
    assert first != second


def test_every_free_form_kind_is_accepted_inside_the_window(harness: Harness) -> None:
    inbound = harness.customer_writes(CUSTOMER)
    messages: list[OutboundMessage] = [
        OutboundMedia(CUSTOMER, "image", link="https://example.com/p.jpg", caption="p"),
        OutboundMedia(CUSTOMER, "document", media_id="123", filename="invoice.pdf"),
        OutboundButtons(CUSTOMER, "Confirm?", (ReplyButton("yes", "Yes"), ReplyButton("no", "No"))),
        OutboundList(CUSTOMER, "Pick", "Slots", (ListSection("Tue", (ListRow("s1", "09:00"),)),)),
        OutboundReaction(CUSTOMER, inbound, "👍"),
        OutboundText(CUSTOMER, "Quoting you", reply_to=inbound),
    ]
    for number, message in enumerate(messages):
        accepted_id(harness.sender.send(message, idempotency_key=f"k{number}"))


def test_free_form_outside_the_window_fails_permanently_asking_for_a_template(
    harness: Harness,
) -> None:
    result = harness.sender.send(OutboundText(STRANGER, "Hello?"), idempotency_key="k")
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code) == (False, "131047")
    assert "template" in result.meaning


def test_an_approved_template_goes_out_even_outside_the_window(harness: Harness) -> None:
    message = OutboundTemplate(
        STRANGER, "order_update", "en", body=(TextParameter("Amina"), TextParameter("#42"))
    )
    accepted_id(harness.sender.send(message, idempotency_key="k"))
    accepted_id(
        harness.sender.send(OutboundTemplate(STRANGER, "hello_world", "en_US"), idempotency_key="j")
    )


@pytest.mark.parametrize(
    ("template", "code"),
    [
        (OutboundTemplate(STRANGER, "no_such_template", "en"), "132001"),
        (OutboundTemplate(STRANGER, "hello_world", "en"), "132001"),  # en is not en_US
        (OutboundTemplate(STRANGER, "order_update", "en", body=(TextParameter("x"),)), "132000"),
    ],
)
def test_template_refusals_are_permanent(
    harness: Harness, template: OutboundTemplate, code: str
) -> None:
    result = harness.sender.send(template, idempotency_key="k")
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code) == (False, code)


def test_a_missing_recipient_is_a_permanent_bad_parameter(harness: Harness) -> None:
    result = harness.sender.send(OutboundText("", "to nobody"), idempotency_key="k")
    assert isinstance(result, SendFailure)
    assert (result.retryable, result.code) == (False, "131008")


def test_mark_as_read_of_a_received_message_succeeds_without_an_id(harness: Harness) -> None:
    inbound = harness.customer_writes(CUSTOMER)
    assert harness.sender.send(MarkAsRead(inbound), idempotency_key="k") == SendAccepted(None)


@pytest.mark.parametrize(("fault", "code"), [("429", "130429"), ("500", "131000")])
def test_provider_overload_is_retryable_and_passes(
    harness: Harness, fault: Fault, code: str
) -> None:
    harness.customer_writes(CUSTOMER)
    harness.fail_next(fault)
    failed = harness.sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="k")
    assert isinstance(failed, SendFailure)
    assert (failed.retryable, failed.code) == (True, code)
    accepted_id(harness.sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="k"))


def test_no_answer_in_time_is_an_unknown_outcome(harness: Harness) -> None:
    harness.customer_writes(CUSTOMER)
    harness.fail_next("timeout")
    result = harness.sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="k")
    assert isinstance(result, SendOutcomeUnknown)
