"""Achieng Mwangi & Co. (the firm sample) from an empty database, as it runs live: a tax
question is qualified, the calendar books the consultation, staff fill in what the
proposal needs, and the client's acceptance engages them (tests/samples_live/live.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from connectors.whatsapp.simulator.payloads import Business
from engine.models import BusinessObject, Conversation, OutboxRow, Task
from tests.samples_live.live import Live, live_sample

WEDNESDAY_10_NAIROBI = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
OFFICE = Business("3060", "118273645500212", "254722418630")
WA_SECRET, CALENDAR_SECRET = "firm-wa-secret", "firm-calendar-secret"
CLIENT = "254722515151"


class Firm(Live):
    def client_writes(self, text: str) -> None:
        self.customer_writes(CLIENT, "Otieno Odhiambo", text, WA_SECRET)

    def calendar_says(self, document: dict[str, object]) -> None:
        self.integration_says("calendar", document, CALENDAR_SECRET)

    def conversation(self) -> Conversation:
        [conversation] = self.rows(Conversation)
        return conversation


@pytest.fixture()
def firm(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    repo_root: Path,
    queue_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Firm]:
    secrets = {
        "KAZI_FIRM_WA_APP_SECRET": WA_SECRET,
        "KAZI_FIRM_CALENDAR_SIGNING_SECRET": CALENDAR_SECRET,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    with live_sample(
        "firm",
        Firm,
        number=OFFICE,
        secrets=secrets,
        start=WEDNESDAY_10_NAIROBI,
        db=db,
        database_url=database_url,
        tmp_path=tmp_path,
        repo_root=repo_root,
        queue_name=queue_name,
    ) as live:
        yield live


def test_a_tax_question_runs_to_an_engaged_client(firm: Firm) -> None:
    firm.client_writes("Habari, I need help filing my KRA tax returns this year")
    conversation = firm.conversation()
    assert (conversation.pipeline, conversation.stage) == ("engagement", "qualification")
    assert any(t.title.startswith("Qualify Otieno") for t in firm.rows(Task))
    api = f"/api/v1/conversations/{conversation.id}"

    # Intake fills in what they learned; a wrong value is refused by name.
    bad = firm.client.patch(f"{api}/details", json={"service": "taxes"}, headers=firm.api)
    assert bad.status_code == 400 and "choose one of" in bad.text
    filled = firm.client.patch(
        f"{api}/details",
        json={"service": "tax_returns", "documents_missing": "P9 form, KRA PIN certificate"},
        headers=firm.api,
    )
    assert filled.status_code == 200, filled.text
    assert filled.json()["fields"]["documents_missing"] == ["P9 form", "KRA PIN certificate"]

    # The client books a slot in the firm's calendar: a booking, confirmed on WhatsApp.
    firm.calendar_says(
        {
            "id": "cal-1",
            "event": "booking.created",
            "phone": f"+{CLIENT}",
            "data": {
                "booking_id": "bk_1",
                "advisor": "Dennis Ouma",
                "slot_label": "Thu 26 Nov, 10:00",
                "mode": "office",
            },
        }
    )
    assert firm.conversation().stage == "booking"
    [booking] = firm.rows(BusinessObject)
    assert (booking.kind, booking.fields["advisor"]) == ("booking", "Dennis Ouma")
    assert firm.sends() == ["consultation_confirmed"]

    # After the consultation the advisor asks for the documents.
    firm.runtime.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    moved = firm.client.put(
        f"{api}/stage", json={"stage": "documents", "expected_stage": "booking"}, headers=firm.api
    )
    assert moved.status_code == 200, moved.text
    assert firm.sends() == ["consultation_confirmed", "document_checklist"]
    [checklist] = [r for r in firm.rows(OutboxRow) if r.payload.get("name") == "document_checklist"]
    assert "P9 form, KRA PIN certificate" in str(checklist.payload)

    # All documents in: the proposal waits for its fee, then goes once the fee is filled in.
    tagged = firm.client.post(f"{api}/tags", json={"name": "documents-complete"}, headers=firm.api)
    assert tagged.status_code in (200, 201), tagged.text
    assert firm.conversation().stage == "proposal"
    [held] = [t for t in firm.rows(Task) if t.held_send]
    assert held.held_send["missing"] == ["conversation.estimated_fee"]
    firm.client.patch(f"{api}/details", json={"estimated_fee": "85000"}, headers=firm.api)
    sent = firm.client.post(f"{api}/tasks/{held.id}/send", headers=firm.api)
    assert sent.status_code == 201, sent.text
    assert "85000" in sent.json()["body"]
    assert firm.sends()[-1] == "proposal_ready"

    # The client accepts in the chat: engaged, the partners told, the letter on a task.
    firm.client_writes("Thank you, I accept the proposal")
    conversation = firm.conversation()
    assert conversation.stage == "engaged"
    assert any("engagement letter" in t.title for t in firm.rows(Task))
