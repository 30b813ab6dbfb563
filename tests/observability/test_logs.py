"""JSON log lines carry the ids of the work they were written in."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from engine.jobs.huey_queue import _named
from engine.logging_setup import JsonFormatter, configure_logging
from engine.observability import LogContextFilter, add_log_ids, log_context


@pytest.fixture()
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContextFilter())
    logger = logging.getLogger("kazi.test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)


def records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_ids_join_inside_the_block_and_leave_with_it(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    with log_context(workspace_id=3, event_id=42, conversation_id=None):
        logger.info("claimed")
        add_log_ids(conversation_id=7)
        logger.info("stepped")
        logger.info("explicit", extra={"event_id": 99})
    logger.info("after")
    claimed, stepped, explicit, after = records(out)
    assert (claimed["workspace_id"], claimed["event_id"]) == (3, 42)
    assert "conversation_id" not in claimed
    assert stepped["conversation_id"] == 7
    assert explicit["event_id"] == 99  # an id passed with extra= wins
    assert not {"workspace_id", "event_id", "conversation_id"} & set(after)


def test_threads_keep_their_own_ids(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines
    ready = threading.Barrier(2)

    def job(event_id: int) -> None:
        with log_context(event_id=event_id):
            ready.wait(timeout=5)
            logger.info("working", extra={"thread_event": event_id})

    threads = [threading.Thread(target=job, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r["event_id"] == r["thread_event"] for r in records(out))


def test_every_job_logs_with_its_name_and_arguments(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = lines
    _named("process_inbound_event", lambda event_id: logger.info("job"))(event_id=5)
    (line,) = records(out)
    assert (line["job"], line["event_id"]) == ("process_inbound_event", 5)


@pytest.mark.parametrize(("chosen", "is_json"), [("json", True), ("text", False)])
def test_kazi_log_format_chooses_the_lines(
    chosen: str, is_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    monkeypatch.setenv("KAZI_LOG_FORMAT", chosen)
    try:
        configure_logging()
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter) is is_json
        assert any(isinstance(f, LogContextFilter) for f in handler.filters)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_ids_added_outside_any_block_are_not_kept(
    lines: tuple[logging.Logger, io.StringIO],
) -> None:
    """Code that adds ids when called directly, not as a job, leaves nothing behind."""
    logger, out = lines
    add_log_ids(workspace_id=8)
    logger.info("direct")
    (line,) = records(out)
    assert "workspace_id" not in line
