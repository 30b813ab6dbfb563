"""/metrics: guarded by its token, and counting what a webhook sets off: received,
acknowledged, the event processed by a worker job, the rules evaluated, the queues.

Counters live in this process for the whole run (other tests count too), so each test
compares the numbers before and after what it does."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from connectors.whatsapp.signature import SIGNATURE_HEADER, sign
from connectors.whatsapp.simulator.payloads import Business, message_webhook
from engine.composition import Runtime, build_runtime
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory
from engine.workspaces.load import load_folder
from ui.app import create_app

SECRET = "metrics-test-secret"
TOKEN = "metrics-test-token"
SHOP = Business("1020", "104729384756101", "254711502300")


def webhook_body(message_id: str) -> bytes:
    message = {
        "from": "254722777001",
        "id": message_id,
        "timestamp": "1764061200",
        "type": "text",
        "text": {"body": "Habari, bei gani?"},
    }
    return json.dumps(message_webhook(SHOP, "254722777001", "Otieno", message)).encode()


@pytest.fixture()
def app(
    database_url: str,
    db: Engine,
    retail_copy: tuple[Path, str],
    tmp_path: Path,
    queue_name: str,
) -> Iterator[tuple[TestClient, Runtime, str]]:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, datetime.now(UTC))
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path),
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_QUEUE_NAME": queue_name,
            "KAZI_METRICS_TOKEN": TOKEN,
        }
    )
    runtime = build_runtime(settings)
    runtime.configs = ConfigDirectory(
        settings.config_dir, env={"KAZI_RETAIL_WA_APP_SECRET": SECRET}
    )
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, slug
    runtime.huey.storage.flush_queue()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["content-type"].count("charset") == 1
    return samples(response.text)


def test_metrics_answer_only_the_token_holder(app: tuple[TestClient, Runtime, str]) -> None:
    client, _, _ = app
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_without_a_token_setting_there_is_no_metrics_page(
    database_url: str, db: Engine, tmp_path: Path, queue_name: str
) -> None:
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    with TestClient(create_app(build_runtime(settings))) as client:
        answer = client.get("/metrics", headers={"Authorization": "Bearer "})
        assert answer.status_code == 404
        assert "KAZI_METRICS_TOKEN" in answer.text


def test_a_webhook_is_counted_in_out_through_its_job_and_its_rules(
    app: tuple[TestClient, Runtime, str],
) -> None:
    client, runtime, slug = app
    before = scrape(client)
    body = webhook_body("wamid.metrics-1")
    for signature in (sign(body, SECRET), "sha256=" + "0" * 64):
        client.post(
            f"/webhooks/whatsapp/{slug}",
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )
    queued = scrape(client)
    assert value(queued, "kazi_webhooks_received_total", source="whatsapp") == 2 + value(
        before, "kazi_webhooks_received_total", source="whatsapp"
    )
    for status in ("200", "401"):
        assert value(
            queued, "kazi_webhooks_acknowledged_total", source="whatsapp", status=status
        ) == 1 + value(before, "kazi_webhooks_acknowledged_total", source="whatsapp", status=status)
    assert value(queued, "kazi_webhook_ack_seconds_count", source="whatsapp") == 2 + value(
        before, "kazi_webhook_ack_seconds_count", source="whatsapp"
    )
    # Owed work and its age come from the database.
    owed = value(queued, "kazi_inbound_events_owed", provider="whatsapp", state="received")
    assert owed >= 1
    assert value(queued, "kazi_inbound_lag_seconds", provider="whatsapp") >= 0
    assert value(queued, "kazi_jobs_pending") >= 1

    task = runtime.huey.dequeue()
    assert task is not None
    runtime.huey.execute(task)  # as a worker runs it: the job's wrapper, then the job

    done = scrape(client)
    assert value(done, "kazi_inbound_events_total", provider="whatsapp", outcome="processed") == (
        1 + value(queued, "kazi_inbound_events_total", provider="whatsapp", outcome="processed")
    )
    assert value(done, "kazi_job_seconds_count", job="process_inbound_batch") == 1 + value(
        queued, "kazi_job_seconds_count", job="process_inbound_batch"
    )
    evaluated = "kazi_rule_evaluations_total"
    assert sum(v for (n, _), v in done.items() if n == evaluated) > sum(
        v for (n, _), v in queued.items() if n == evaluated
    )
    assert value(done, evaluated, input="message_received", outcome="applied") > value(
        queued, evaluated, input="message_received", outcome="applied"
    )
    assert (
        value(done, "kazi_inbound_events_owed", provider="whatsapp", state="received") == owed - 1
    )


COUNT_IN_A_PROCESS = """
import sys
from pathlib import Path
from engine.observability import OUTBOX_SENDS, enable_multiprocess, render_metrics
enable_multiprocess(Path(sys.argv[1]))
if sys.argv[2] == "count":
    OUTBOX_SENDS.labels("whatsapp.send", "done").inc(int(sys.argv[3]))
else:
    sys.stdout.write(render_metrics().decode())
"""


def test_counts_of_several_processes_add_up(tmp_path: Path) -> None:
    """Server processes and workers each count in files of their own; any one of them
    answers the scrape with the sum, including processes that have exited."""

    def run(*arguments: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", COUNT_IN_A_PROCESS, str(tmp_path), *arguments],
            check=True,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        ).stdout

    run("count", "2")
    run("count", "3")
    scraped = samples(run("render"))
    assert value(scraped, "kazi_outbox_sends_total", kind="whatsapp.send", outcome="done") == 5
