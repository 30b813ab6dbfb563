"""Ordinary 4xx answers are logged as what they are, not as "unhandled error" with a
traceback (issue 11, item 6); a real 500 still leaves its traceback."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from engine.auth import Role
from tests.inbox.seed import NOW
from tests.inbox.test_api import bearer
from tests.inbox.web import Web
from ui.app import log_exception


def web_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kazi.web"]


def test_refusals_are_one_line_at_info_or_warning_without_a_traceback(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    manager = bearer(web.world, Role.MANAGER)
    conversation = web.world.conversation("Closed", last_at=NOW - timedelta(hours=30))
    base = f"/api/v1/conversations/{conversation}"
    with caplog.at_level(logging.INFO, logger="kazi.web"):
        closed = web.client.post(f"{base}/messages", json={"body": "hi"}, headers=manager)
        wrong = web.client.put(f"{base}/snooze", json={"until": "tomorrow"}, headers=manager)
        malformed = web.client.post(f"{base}/notes", json={"nope": 1}, headers=manager)
        missing_row = web.client.get("/api/v1/conversations/987654", headers=manager)
        missing_page = web.client.get("/no/such/page")
    assert [r.status_code for r in (closed, wrong, malformed, missing_row, missing_page)] == [
        409,
        400,
        400,
        404,
        404,
    ]
    records = web_records(caplog)
    assert not [r for r in records if "unhandled" in r.getMessage()]
    assert not [r for r in records if r.exc_info]
    assert all(r.levelno <= logging.WARNING for r in records)
    lines = [(r.levelno, r.getMessage()) for r in records]
    assert (
        logging.WARNING,
        f"POST {base}/messages answered 409: " + closed.json()["error"],
    ) in lines
    assert any(level == logging.WARNING and "snooze answered 400" in m for level, m in lines)
    assert any(level == logging.WARNING and "notes answered 400" in m for level, m in lines)
    assert any(level == logging.INFO and "987654 answered 404" in m for level, m in lines)
    assert (logging.INFO, "GET /no/such/page answered 404: Not Found") in lines


def test_a_page_refusal_is_logged_the_same_way(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    web.sign_in("manager")
    with caplog.at_level(logging.INFO, logger="kazi.web"):
        page = web.client.get("/inbox/c/987654")
    assert page.status_code == 404
    [record] = web_records(caplog)
    assert record.levelno == logging.INFO and not record.exc_info
    assert getattr(record, "refusal", None) == "NotFound"


def test_an_unexpected_error_still_logs_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("the disk is on fire")
    except RuntimeError as error:
        with caplog.at_level(logging.INFO, logger="kazi.web"):
            asyncio.run(log_exception(error, {"method": "GET", "path": "/inbox"}))  # type: ignore[arg-type]
    [record] = web_records(caplog)
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == "unhandled error on GET /inbox"
