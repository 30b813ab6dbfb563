"""The simulator: signed webhooks, statuses for every send, the API's refusals, fault switches."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from connectors.whatsapp.client import CloudApiSender
from connectors.whatsapp.events import InboundMessage, StatusUpdate, SystemContent, TextContent
from connectors.whatsapp.signature import SignatureVerdict
from connectors.whatsapp.simulator import Faults
from connectors.whatsapp.simulator.script import ScriptedCustomer
from connectors.whatsapp.simulator.world import DEFAULT_BUSINESS
from engine.core.messaging import (
    OutboundTemplate,
    OutboundText,
    SendAccepted,
    SendFailure,
    SendOutcomeUnknown,
    TextParameter,
)
from tests.whatsapp.conftest import TOKEN, Receiver, RunningSimulator, SimulatorFactory, wait_until

CUSTOMER = "254712345678"


SenderFactory = Callable[..., CloudApiSender]


@pytest.fixture()
def make_sender() -> Iterator[SenderFactory]:
    made: list[CloudApiSender] = []

    def make(url: str, token: str = TOKEN, timeout: float = 2.0) -> CloudApiSender:
        sender = CloudApiSender(
            access_token=token,
            phone_number_id=DEFAULT_BUSINESS.phone_number_id,
            base_url=url,
            timeout=timeout,
        )
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def say(running: RunningSimulator, text: str, wa_id: str = CUSTOMER) -> str:
    answer = httpx.post(f"{running.url}/_sim/customers/{wa_id}/messages", json={"text": text})
    answer.raise_for_status()
    return str(answer.json()["id"])


def statuses_of(receiver: Receiver, wamid: str) -> list[str]:
    return [
        e.status for e in receiver.events() if isinstance(e, StatusUpdate) and e.message_id == wamid
    ]


def send_text(sender: CloudApiSender, key: str = "outbox-1") -> str:
    result = sender.send(OutboundText(CUSTOMER, "Karibu"), idempotency_key=key)
    assert isinstance(result, SendAccepted), result
    assert result.provider_message_id is not None
    return result.provider_message_id


def test_a_customer_message_arrives_signed_and_parses(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(customers=(ScriptedCustomer(CUSTOMER, "Amina Wanjiru", ()),))
    wamid = say(running, "Habari, bei gani? ☺")
    receiver.wait_for(lambda r: len(r.posts) == 1)
    (post,) = receiver.posts
    assert post.verdict is SignatureVerdict.VALID
    assert b"\\u263a" in post.raw  # non-ASCII escaped the way Meta sends it
    (event,) = post.events
    assert isinstance(event, InboundMessage)
    assert (event.message_id, event.content) == (wamid, TextContent("Habari, bei gani? ☺"))
    assert event.sender is not None and event.sender.name == "Amina Wanjiru"
    assert event.origin is not None
    assert event.origin.phone_number_id == DEFAULT_BUSINESS.phone_number_id
    assert not event.flagged


def test_every_accepted_send_gets_sent_delivered_read_with_the_idempotency_key(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator()
    say(running, "hi")
    wamid = send_text(make_sender(running.url), key="outbox-77")
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 3)
    assert statuses_of(receiver, wamid) == ["sent", "delivered", "read"]
    updates = [e for e in receiver.events() if isinstance(e, StatusUpdate)]
    assert {u.callback_data for u in updates} == {"outbox-77"}
    assert all(u.recipient_id == CUSTOMER and u.pricing is not None for u in updates)
    assert all(p.verdict is SignatureVerdict.VALID for p in receiver.posts)


def test_free_form_outside_the_window_is_accepted_then_fails_131047(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator()  # window_errors="async", the usual real behaviour
    wamid = send_text(make_sender(running.url))
    receiver.wait_for(lambda r: statuses_of(r, wamid) == ["failed"])
    (failed,) = [e for e in receiver.events() if isinstance(e, StatusUpdate)]
    assert [e.code for e in failed.errors] == [131047]


def test_the_window_closes_24_hours_after_the_customer_last_wrote(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    from datetime import UTC, datetime, timedelta

    from engine.core.clock import FrozenClock

    running = start_simulator(window_errors="sync")
    clock = FrozenClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    running.simulator.clock = clock
    say(running, "hi")
    sender = make_sender(running.url)
    clock.advance(timedelta(hours=23, minutes=59))
    assert isinstance(sender.send(OutboundText(CUSTOMER, "ok"), idempotency_key="a"), SendAccepted)
    clock.advance(timedelta(minutes=2))
    late = sender.send(OutboundText(CUSTOMER, "late"), idempotency_key="b")
    assert isinstance(late, SendFailure) and late.code == "131047"


def test_a_wrong_token_or_phone_number_is_refused(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator()
    say(running, "hi")
    refused = make_sender(running.url, token="stolen").send(
        OutboundText(CUSTOMER, "x"), idempotency_key="k"
    )
    assert isinstance(refused, SendFailure)
    assert (refused.code, refused.http_status, refused.retryable) == ("190", 401, False)
    wrong = httpx.post(
        f"{running.url}/v23.0/999/messages",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "text",
            "text": {"body": "x"},
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == 100
    assert running.simulator.sends == []


def test_duplicates_deliver_every_webhook_n_times(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(faults=Faults(duplicates=3))
    say(running, "hi")
    receiver.wait_for(lambda r: len(r.posts) == 3)
    assert len({p.raw for p in receiver.posts}) == 1
    time.sleep(0.1)
    assert len(receiver.posts) == 3


def test_reorder_delivers_a_sends_statuses_newest_first(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(reorder=True))
    say(running, "hi")
    wamid = send_text(make_sender(running.url))
    receiver.wait_for(lambda r: len(statuses_of(r, wamid)) == 3)
    assert statuses_of(receiver, wamid) == ["read", "delivered", "sent"]


def test_failed_after_sent_applies_to_the_next_send_only(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(failed_after_sent=1))
    say(running, "hi")
    sender = make_sender(running.url)
    first, second = send_text(sender, "a"), send_text(sender, "b")
    receiver.wait_for(
        lambda r: len(statuses_of(r, first)) == 2 and len(statuses_of(r, second)) == 3
    )
    assert statuses_of(receiver, first) == ["sent", "failed"]
    (failed,) = [
        e for e in receiver.events() if isinstance(e, StatusUpdate) and e.status == "failed"
    ]
    assert failed.errors[0].code == 131026
    assert statuses_of(receiver, second) == ["sent", "delivered", "read"]
    assert running.faults.failed_after_sent == 0


def test_counted_http_faults_switch_themselves_off(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(http_429=2, http_500=1))
    say(running, "hi")
    sender = make_sender(running.url)
    results = [sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="k") for _ in range(4)]
    codes = [r.code if isinstance(r, SendFailure) else "ok" for r in results]
    assert codes == ["130429", "130429", "131000", "ok"]
    assert all(r.retryable for r in results if isinstance(r, SendFailure))
    assert len(running.simulator.sends) == 1  # refused sends were never taken


def test_timeout_takes_the_message_but_answers_too_late(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(timeout=1), timeout_seconds=1.0)
    say(running, "hi")
    sender = make_sender(running.url, timeout=0.3)
    started = time.monotonic()
    result = sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="lost-answer")
    assert isinstance(result, SendOutcomeUnknown)
    assert time.monotonic() - started < 0.9
    # The message did go out: its statuses arrive, carrying the key to reconcile with.
    (record,) = running.simulator.sends
    assert record.faults == ("timeout",)
    receiver.wait_for(lambda r: len(statuses_of(r, record.wamid)) == 3)
    keys = {e.callback_data for e in receiver.events() if isinstance(e, StatusUpdate)}
    assert keys == {"lost-answer"}


def test_race_delivers_statuses_before_the_send_answers(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(race=True))
    say(running, "hi")
    receiver.wait_for(lambda r: len(r.posts) == 1)
    wamid = send_text(make_sender(running.url))
    assert statuses_of(receiver, wamid) == ["sent", "delivered", "read"]


def test_delay_holds_each_webhook_back(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(faults=Faults(delay_ms=200))
    started = time.monotonic()
    say(running, "hi")
    receiver.wait_for(lambda r: len(r.posts) == 1)
    assert 0.2 <= receiver.posts[0].at - started < 2.0


def test_webhooks_are_retried_until_accepted_and_the_attempts_bounded(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    running = start_simulator(max_attempts=4, retry_base=0.02)
    say(running, "hi")
    receiver.wait_for(lambda r: len(r.posts) == 1)
    (delivery,) = httpx.get(f"{running.url}/_sim/deliveries").json()
    assert (delivery["attempts"], delivery["delivered"]) == (3, 1)
    receiver.answers = [500] * 10
    say(running, "again")
    wait_until(lambda: httpx.get(f"{running.url}/_sim/deliveries").json()[1]["attempts"] == 4)
    time.sleep(0.2)
    last = httpx.get(f"{running.url}/_sim/deliveries").json()[1]
    assert (last["attempts"], last["delivered"], last["last_error"]) == (4, 0, "HTTP 500")


def test_control_endpoint_switches_and_resets_faults(start_simulator: SimulatorFactory) -> None:
    running = start_simulator()
    answer = httpx.post(f"{running.url}/_sim/faults", json={"spec": "429:2,reorder,delay:5"})
    assert answer.status_code == 200
    assert (answer.json()["http_429"], answer.json()["reorder"], answer.json()["delay_ms"]) == (
        2,
        True,
        5,
    )
    bad = httpx.post(f"{running.url}/_sim/faults", json={"spec": "explode:1"})
    assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]
    assert httpx.delete(f"{running.url}/_sim/faults").json() == Faults().as_dict()


def test_mark_as_read_marks_the_customers_messages_and_refuses_unknown_ids(
    start_simulator: SimulatorFactory,
) -> None:
    running = start_simulator()
    first, second = say(running, "one"), say(running, "two")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{running.url}/v23.0/{DEFAULT_BUSINESS.phone_number_id}/messages"
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": second}
    assert httpx.post(url, headers=headers, json=read).json() == {"success": True}
    chat = httpx.get(f"{running.url}/_sim/state").json()["customers"][0]["chat"]
    assert [(line["wamid"], line["status"]) for line in chat] == [(first, "read"), (second, "read")]
    unknown = httpx.post(url, headers=headers, json={**read, "message_id": "wamid.nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 131009


def test_a_script_plays_several_types_and_waits_for_the_business(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    steps = (
        {"text": "Hi, is this the clinic?", "referral": {"source_type": "ad", "source_id": "1"}},
        {"wait_for_reply": 5},
        {"button_reply": {"id": "yes:bk-1", "title": "Yes"}},
        {"image": {"caption": "my card"}},
        {"location": {"latitude": -1.28, "longitude": 36.82}},
        {"reaction": "🙏"},
        {"change_number": "254799111222"},
        {"text": "this is my new number", "forwarded": True},
    )
    running = start_simulator(customers=(ScriptedCustomer(CUSTOMER, "Amina", steps),))
    receiver.wait_for(lambda r: len(r.posts) == 1)
    time.sleep(0.1)
    assert len(receiver.posts) == 1  # still waiting for the business to answer
    wamid = send_text(make_sender(running.url))
    receiver.wait_for(lambda r: sum(isinstance(e, InboundMessage) for e in r.events()) == 7)
    messages = [e for e in receiver.events() if isinstance(e, InboundMessage)]
    assert [m.message_type for m in messages] == [
        "text",
        "interactive",
        "image",
        "location",
        "reaction",
        "system",
        "text",
    ]
    assert not any(m.flagged for m in messages)
    assert messages[0].referral is not None
    assert messages[1].context is not None and messages[1].context.replied_to_id == wamid
    assert isinstance(messages[5].content, SystemContent)
    assert (messages[5].from_wa_id, messages[5].content.new_wa_id) == (CUSTOMER, "254799111222")
    assert messages[6].from_wa_id == "254799111222"
    assert messages[6].context is not None and messages[6].context.forwarded


def test_a_bad_step_from_the_control_endpoint_is_refused(start_simulator: SimulatorFactory) -> None:
    running = start_simulator()
    answer = httpx.post(f"{running.url}/_sim/customers/{CUSTOMER}/messages", json={"dance": 1})
    assert answer.status_code == 400
    assert (
        httpx.post(f"{running.url}/_sim/customers/abc/messages", json={"text": "x"}).status_code
        == 400
    )


def test_templates_appear_in_the_chat_and_the_page_is_served(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator()
    message = OutboundTemplate(
        CUSTOMER, "order_update", "en", body=(TextParameter("Amina"), TextParameter("#42"))
    )
    result = make_sender(running.url).send(message, idempotency_key="k")
    assert isinstance(result, SendAccepted) and result.provider_status == "accepted"
    chat = httpx.get(f"{running.url}/_sim/state").json()["customers"][0]["chat"]
    assert chat[0]["text"] == "[template order_update] Amina, #42"
    page = httpx.get(running.url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "textContent" in page.text and "innerHTML" not in page.text


def test_statuses_can_be_switched_off_for_sending_benchmarks(
    start_simulator: SimulatorFactory, receiver: Receiver, make_sender: SenderFactory
) -> None:
    running = start_simulator(send_statuses=False)
    say(running, "hi")
    receiver.wait_for(lambda r: len(r.posts) == 1)
    send_text(make_sender(running.url))
    time.sleep(0.1)
    assert len(receiver.posts) == 1


def test_typed_messages_answer_at_once_and_arrive_in_order(
    start_simulator: SimulatorFactory, receiver: Receiver
) -> None:
    running = start_simulator(faults=Faults(delay_ms=2000))
    started = time.monotonic()
    wamids = [say(running, f"message {n}") for n in range(3)]
    # Not 3 x 2 s: delivery runs behind. Three answers took 2.5 s at load average 15.
    assert time.monotonic() - started < 4.0
    receiver.wait_for(lambda r: len(r.posts) == 3, timeout=20)
    arrived = [e.message_id for e in receiver.events() if isinstance(e, InboundMessage)]
    assert arrived == wamids


def test_a_recipient_written_with_plus_and_spaces_is_the_same_customer(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator(window_errors="sync")
    say(running, "hi")
    result = make_sender(running.url).send(
        OutboundText("+254 712 345678", "x"), idempotency_key="k"
    )
    assert isinstance(result, SendAccepted)
    assert result.recipient_id == CUSTOMER
    assert running.simulator.sends[0].to == CUSTOMER


def test_a_brazilian_number_with_the_ninth_digit_reaches_the_old_form_account(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator(window_errors="sync")
    say(running, "oi", wa_id="551187654321")  # registered without the ninth digit
    result = make_sender(running.url).send(
        OutboundText("5511987654321", "Olá"), idempotency_key="k"
    )
    assert isinstance(result, SendAccepted)
    assert result.recipient_id == "551187654321"


def test_a_429_storm_refuses_some_sends_and_takes_the_rest_once(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator(faults=Faults(rates={"http_429": 0.5}))
    say(running, "hi")
    sender = make_sender(running.url)
    results = [sender.send(OutboundText(CUSTOMER, "x"), idempotency_key=f"k{n}") for n in range(40)]
    refused = [r for r in results if isinstance(r, SendFailure)]
    accepted = [r for r in results if isinstance(r, SendAccepted)]
    assert 5 < len(refused) < 35 and len(refused) + len(accepted) == 40
    assert all(r.code == "130429" and r.retryable for r in refused)
    assert len(running.simulator.sends) == len(accepted)
    httpx.delete(f"{running.url}/_sim/faults")
    assert all(
        isinstance(sender.send(OutboundText(CUSTOMER, "x"), idempotency_key="after"), SendAccepted)
        for _ in range(5)
    )


def test_state_names_idempotency_keys_sent_twice(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator()
    say(running, "hi")
    sender = make_sender(running.url)
    for key in ("once", "twice", "twice"):
        assert isinstance(
            sender.send(OutboundText(CUSTOMER, "x"), idempotency_key=key), SendAccepted
        )
    state = httpx.get(f"{running.url}/_sim/state").json()
    assert (state["sends"], state["duplicate_sends"]) == (3, {"twice": 2})


def test_the_numbers_throughput_is_enforced_with_429_130429(
    start_simulator: SimulatorFactory, make_sender: SenderFactory
) -> None:
    running = start_simulator(throughput=10)
    say(running, "hi")
    sender = make_sender(running.url)
    started = time.monotonic()
    results = [sender.send(OutboundText(CUSTOMER, "x"), idempotency_key=f"k{n}") for n in range(30)]
    elapsed = time.monotonic() - started
    accepted = [r for r in results if isinstance(r, SendAccepted)]
    refused = [r for r in results if isinstance(r, SendFailure)]
    # One second's burst (10) plus what refilled while sending; the rest refused.
    assert 10 <= len(accepted) <= 10 + 10 * elapsed + 1
    assert refused and len(accepted) + len(refused) == 30
    assert all(r.code == "130429" and r.retryable and r.http_status == 429 for r in refused)
    assert len(running.simulator.sends) == len(accepted)
    assert httpx.get(f"{running.url}/_sim/state").json()["throttled"] == len(refused)
    time.sleep(0.5)  # half a second refills five
    assert isinstance(
        sender.send(OutboundText(CUSTOMER, "y"), idempotency_key="later"), SendAccepted
    )


def test_the_default_throughput_is_metas_80_per_second(start_simulator: SimulatorFactory) -> None:
    running = start_simulator()
    assert running.simulator.config.throughput == 80
    assert [running.simulator.throttle.admit(100.0) for _ in range(81)].count(True) == 80
    assert running.simulator.throttle.admit(100.5)  # 40 refilled in half a second
