"""Fault specs, scripts and the send policy, without a server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.whatsapp.policy import ApprovedTemplate, SendPolicy
from connectors.whatsapp.simulator import (
    DEMO_SCRIPT,
    Faults,
    FaultSpecError,
    ScriptError,
    load_script,
    parse_faults,
)
from connectors.whatsapp.simulator.payloads import StepError, inbound_message
from connectors.whatsapp.simulator.script import script_from_document

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_a_full_fault_spec() -> None:
    faults = parse_faults(
        "429:3, 500:2,timeout,failed-after-sent:1,duplicates:5,reorder,delay:250,race"
    )
    assert faults == Faults(
        http_429=3,
        http_500=2,
        timeout=1,
        failed_after_sent=1,
        duplicates=5,
        reorder=True,
        delay_ms=250,
        race=True,
    )
    assert parse_faults(faults.describe()) == faults


def test_empty_and_none_specs_mean_no_faults() -> None:
    assert parse_faults("") == Faults() == parse_faults("none")
    assert Faults().describe() == "none"


def test_switches_can_be_turned_off_again() -> None:
    faults = parse_faults("reorder,race")
    parse_faults("reorder:off,race:0", into=faults)
    assert not faults.reorder and not faults.race


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode", "unknown fault"),
        ("429:many", "not a whole number"),
        ("500:-1", "negative"),
        ("reorder:3", "takes no count"),
    ],
)
def test_bad_specs_name_the_bad_part(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_faults(spec)


def test_counted_faults_are_used_up() -> None:
    faults = Faults(http_429=2)
    assert [faults.take("http_429") for _ in range(3)] == [True, True, False]


def test_the_demo_script_loads_with_customers_and_templates() -> None:
    script = load_script(DEMO_SCRIPT)
    assert len(script.customers) >= 3
    assert {t.name for t in script.templates} >= {"hello_world", "order_update"}


def test_script_errors_say_where(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"customers\[0\]: needs a `wa_id`"):
        script_from_document({"customers": [{"wa_id": "+254 7"}]})
    with pytest.raises(ScriptError, match=r"steps\[1\]: needs exactly one of"):
        script_from_document({"customers": [{"wa_id": "1", "steps": [{"text": "a"}, {"x": 1}]}]})
    with pytest.raises(ScriptError, match="`after` is a number"):
        script_from_document({"customers": [{"wa_id": "1", "steps": [{"text": "a", "after": -1}]}]})
    broken = tmp_path / "s.yaml"
    broken.write_text("customers: [", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"s\.yaml"):
        load_script(broken)


def test_a_step_with_two_kinds_is_refused() -> None:
    with pytest.raises(StepError):
        inbound_message(
            {"text": "a", "image": {}},
            wamid="wamid.1",
            wa_id="1",
            timestamp=1,
            business_number="2",
            last_business_message=None,
        )


def test_window_opens_with_the_customer_and_closes_after_24_hours() -> None:
    policy = SendPolicy()
    text = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}}
    assert policy.check(text, NOW) is not None
    policy.customer_wrote("1", NOW)
    policy.customer_wrote("1", NOW - timedelta(hours=5))  # an older message never shortens it
    assert policy.check(text, NOW + timedelta(hours=23)) is None
    refusal = policy.check(text, NOW + timedelta(hours=24))
    assert refusal is not None and refusal.is_window and refusal.code == 131047


def test_templates_are_checked_by_name_language_and_body_count() -> None:
    policy = SendPolicy.with_templates([ApprovedTemplate("t", frozenset({"en"}), 1)])

    def template(name: str, language: str, parameters: int) -> dict[str, object]:
        body = {"type": "body", "parameters": [{"type": "text", "text": "x"}] * parameters}
        return {
            "messaging_product": "whatsapp",
            "to": "1",
            "type": "template",
            "template": {"name": name, "language": {"code": language}, "components": [body]},
        }

    assert policy.check(template("t", "en", 1), NOW) is None
    assert [
        getattr(policy.check(template(*case), NOW), "code", None)
        for case in (("u", "en", 1), ("t", "sw", 1), ("t", "en", 2))
    ] == [132001, 132001, 132000]
    assert SendPolicy().check(template("anything", "xx", 0), NOW) is None


def test_shapes_the_api_refuses() -> None:
    policy = SendPolicy(enforce_window=False)
    assert getattr(policy.check({"messaging_product": "sms"}, NOW), "code", None) == 100
    missing = {"messaging_product": "whatsapp", "to": "1", "type": "text"}
    assert getattr(policy.check(missing, NOW), "code", None) == 131008
    odd = {"messaging_product": "whatsapp", "to": "1", "type": "hologram", "hologram": {}}
    assert getattr(policy.check(odd, NOW), "code", None) == 100


def test_rates_hit_about_that_share_of_sends_until_reset() -> None:
    faults = parse_faults("429@0.3,timeout@0.05")
    assert faults.rates == {"http_429": 0.3, "timeout": 0.05}
    assert parse_faults(faults.describe()) == faults
    rng = random.Random(11)
    hits = sum(faults.take("http_429", rng) for _ in range(2000))
    assert 500 < hits < 700
    assert not any(Faults().take("http_429", rng) for _ in range(100))


@pytest.mark.parametrize(
    ("spec", "message"),
    [("429@2", "between 0 and 1"), ("reorder@0.5", "take a rate"), ("500@lots", "not a number")],
)
def test_bad_rates_are_refused(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_faults(spec)
