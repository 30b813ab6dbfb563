"""The audit log page: managers see who did what, filter it and export it; agents may not."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from engine.db import unit_of_work
from engine.models import AuditLog
from tests.inbox.web import Web

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture()
def logged(web: Web) -> Web:
    people = web.world.people
    with unit_of_work(web.runtime.db, web.world.workspace_id) as session:
        session.add_all(
            [
                AuditLog(
                    actor_kind="teammate",
                    actor_teammate_id=people["agent"],
                    action="contact.export",
                    subject_kind="contact",
                    subject_id=7,
                    detail={"format": "json"},
                    at=MONDAY,
                ),
                AuditLog(
                    actor_kind="rule",
                    actor_name="Chase the quote",
                    action="stage.move",
                    subject_kind="conversation",
                    subject_id=3,
                    detail={"to": "quote"},
                    at=TUESDAY,
                ),
                AuditLog(
                    actor_kind="system",
                    actor_name="retention",
                    action="retention.applied",
                    subject_kind="workspace",
                    subject_id=web.world.workspace_id,
                    detail={"messages_erased": 4},
                    at=TUESDAY,
                ),
            ]
        )
    web.sign_in("manager")
    return web


def _csv(web: Web, query: str) -> list[dict[str, str]]:
    answer = web.client.get(f"/audit/export.csv?{query}")
    assert answer.status_code == 200
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_a_manager_reads_who_did_what(logged: Web) -> None:
    page = logged.client.get("/audit")
    assert page.status_code == 200
    for text in ("Agent", "contact.export", "Chase the quote", "retention.applied"):
        assert text in page.text
    assert 'href="/inbox/c/3"' in page.text


def test_filters_by_actor_action_and_date(logged: Web) -> None:
    agent = logged.world.people["agent"]
    [row] = _csv(logged, f"teammate={agent}")
    assert (row["actor"], row["action"], row["detail"]) == (
        "Agent",
        "contact.export",
        "format=json",
    )
    [row] = _csv(logged, "actor=retention")
    assert row["detail"] == "messages_erased=4"
    [row] = _csv(logged, "action=stage.move")
    assert row["actor"] == "Chase the quote"
    # Days are the workspace's (Nairobi): Tuesday holds two entries, Monday one.
    assert len(_csv(logged, "start=2026-11-24&end=2026-11-24")) == 2
    assert len(_csv(logged, "end=2026-11-23")) == 1
    assert logged.client.get("/audit?start=someday").status_code == 400


def test_an_agent_is_refused(web: Web) -> None:
    web.sign_in("agent")
    assert web.client.get("/audit").status_code == 403
    assert web.client.get("/audit/export.csv").status_code == 403
