"""AI on the conversation page: the panel, the summary, the draft in the reply box and the
pre-filled order, all suggestions. Nothing reaches the outbox until a person presses
Send, and with the model failing or slow every page and the reply box work as before."""

from __future__ import annotations

import html
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from connectors.openai_compat.simulator import AiSimulator
from engine.composition import build_runtime
from engine.core.clock import FrozenClock
from engine.db import workspace_session
from engine.models import AiUsage, BusinessObject, Conversation, OutboxRow
from engine.outbox.sends import SEND_KIND
from engine.settings import Settings
from tests.inbox.seed import NOW, World
from tests.inbox.web import Web
from ui.app import create_app

ORDER_TEXT = "I want 2 galaxy a15 delivered to Westlands tomorrow at 3pm"


def _in_sales(world: World, conversation_id: int) -> None:
    with workspace_session(world.db, world.workspace_id) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.pipeline, conversation.stage = "sales", "inquiry"
        session.commit()


def _outbox(world: World) -> list[OutboxRow]:
    with workspace_session(world.db, world.workspace_id) as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


def test_the_panel_suggests_and_pre_fills_an_order_without_saving_it(web: Web) -> None:
    conversation = web.world.conversation("Akinyi", owner="agent", texts=("Hi", ORDER_TEXT))
    _in_sales(web.world, conversation)
    web.sign_in("agent")
    page = web.client.get(f"/inbox/c/{conversation}").text
    assert f'hx-get="/inbox/c/{conversation}/ai/panel"' in page  # loaded after the page
    assert 'id="ai-draft"' in page

    panel = web.client.get(f"/inbox/c/{conversation}/ai/panel")
    assert panel.status_code == 200
    text = html.unescape(panel.text)
    assert "2 x Samsung Galaxy A15" in text and 'value="37000"' in text
    assert "offline ·" in text  # the source and confidence are shown
    assert 'action="/inbox/c/' in text and "Create order" in text
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        assert session.scalars(select(BusinessObject)).first() is None  # never saved by itself
    assert _outbox(web.world) == []


def test_creating_the_pre_filled_order_is_a_staff_action(web: Web) -> None:
    conversation = web.world.conversation("Akinyi", owner="agent", texts=(ORDER_TEXT,))
    _in_sales(web.world, conversation)
    web.sign_in("agent")
    answer = web.post(
        f"/inbox/c/{conversation}/ai/order",
        {"items": "2 x Samsung Galaxy A15", "amount": "37000", "currency": "KES"},
    )
    assert answer.status_code == 303
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        [order] = session.scalars(select(BusinessObject))
        assert (order.kind, order.amount, order.fields.get("items")) == (
            "order",
            37000,
            "2 x Samsung Galaxy A15",
        )


def test_a_draft_fills_the_reply_box_and_only_send_sends(web: Web) -> None:
    conversation = web.world.conversation(
        "Akinyi", owner="agent", texts=("How much is the galaxy a15? I am in Westlands",)
    )
    web.sign_in("agent")
    draft = web.client.get(f"/inbox/c/{conversation}/ai/draft")
    assert draft.status_code == 200
    assert draft.text.startswith('<textarea id="reply-body"')
    text = html.unescape(draft.text)
    assert "The Samsung Galaxy A15 is KES 18,500 each." in text
    assert 'hx-swap-oob="true"' in draft.text and "price:Samsung Galaxy A15" in text
    summary = web.client.get(f"/inbox/c/{conversation}/ai/summary")
    assert "Customer: How much is the galaxy a15?" in html.unescape(summary.text)
    web.client.get(f"/inbox/c/{conversation}/ai/panel")
    assert _outbox(web.world) == []  # panel, summary and draft sent nothing

    body = text.split(">", 1)[1].split("</textarea>")[0]
    sent = web.post(f"/inbox/c/{conversation}/reply", {"body": body})
    assert sent.status_code == 303
    [row] = [r for r in _outbox(web.world) if r.kind == SEND_KIND]
    assert row.payload["body"] == body and "KES 18,500" in body


def test_customer_words_in_ai_answers_are_escaped(web: Web) -> None:
    conversation = web.world.conversation(
        "x", owner="agent", texts=("<img src=x onerror=alert(1)> how much is the a15?",)
    )
    web.sign_in("agent")
    summary = web.client.get(f"/inbox/c/{conversation}/ai/summary").text
    assert "<img" not in summary and "&lt;img" in summary
    assert "hx-disable" in summary


def test_another_workspace_cannot_read_the_panel(web: Web, web2: Web) -> None:
    from tests.inbox.seed import make_world

    stranger = make_world(web.world.db).conversation("Elsewhere", texts=(ORDER_TEXT,))
    web.sign_in("agent")
    assert web.client.get(f"/inbox/c/{stranger}/ai/panel").status_code == 404
    assert web.client.get(f"/inbox/c/{stranger}/ai/draft").status_code == 404


@pytest.fixture()
def with_model(
    database_url: str,
    db: Engine,
    world: World,
    tmp_path: Path,
    repo_root: Path,
    queue_name: str,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Web, AiSimulator]]:
    """The retail config with ai.yaml pointed at the simulator, in the mode the test names."""
    simulator = AiSimulator().start()
    simulator.set_fault(request.param, delay=2)
    configs = tmp_path / "configs"
    shutil.copytree(repo_root / "configs" / "retail", configs / world.slug)
    ai = configs / world.slug / "ai.yaml"
    ai.write_text(
        ai.read_text(encoding="utf-8").replace(
            "provider: offline\n",
            "provider: openai_compat\n"
            f"model:\n  base_url: {simulator.url}\n  name: kazi-sim\n  timeout_seconds: 0.3\n"
            "  retries: 0\n  breaker: {failures: 2, cooldown_seconds: 600}\n",
        ),
        encoding="utf-8",
    )
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_CONFIG_DIR": str(configs),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=FrozenClock(NOW))
    assert isinstance(runtime.clock, FrozenClock)
    with TestClient(create_app(runtime)) as client:
        yield Web(client=client, world=world, runtime=runtime, clock=runtime.clock), simulator
    simulator.stop()


@pytest.mark.parametrize("with_model", ["500", "slow"], indirect=True)
def test_with_the_model_down_the_inbox_works_and_says_so(
    with_model: tuple[Web, AiSimulator],
) -> None:
    web, simulator = with_model
    conversation = web.world.conversation("Akinyi", owner="agent", texts=(ORDER_TEXT,))
    web.sign_in("agent")
    assert web.client.get("/inbox").status_code == 200
    assert web.client.get(f"/inbox/c/{conversation}").status_code == 200

    panel = web.client.get(f"/inbox/c/{conversation}/ai/panel")
    assert panel.status_code == 200 and "model unavailable" in html.unescape(panel.text)
    draft = web.client.get(f"/inbox/c/{conversation}/ai/draft")
    assert draft.status_code == 200 and "KES 18,500" in html.unescape(draft.text)
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        outcomes = [u.outcome for u in session.scalars(select(AiUsage).order_by(AiUsage.id))]
    assert outcomes[:2] == ["failed", "failed"] and set(outcomes[2:]) <= {"breaker_open"}
    calls = simulator.state.requests
    web.client.get(f"/inbox/c/{conversation}/ai/summary")
    assert simulator.state.requests == calls  # the breaker is open: no waiting on the model

    assert (
        web.post(f"/inbox/c/{conversation}/reply", {"body": "Sawa, tunakuletea"}).status_code == 303
    )
    assert [r.payload["body"] for r in _outbox(web.world) if r.kind == SEND_KIND] == [
        "Sawa, tunakuletea"
    ]


@pytest.mark.parametrize("with_model", ["ok"], indirect=True)
def test_with_a_model_answers_are_kept_so_reloading_costs_no_calls(
    with_model: tuple[Web, AiSimulator],
) -> None:
    web, simulator = with_model
    conversation = web.world.conversation("Akinyi", owner="agent", texts=(ORDER_TEXT,))
    web.sign_in("agent")
    for _ in range(2):
        panel = web.client.get(f"/inbox/c/{conversation}/ai/panel")
        assert "model kazi-sim" in panel.text
        web.client.get(f"/inbox/c/{conversation}/ai/summary")
    with workspace_session(web.world.db, web.world.workspace_id) as session:
        jobs = sorted(u.job for u in session.scalars(select(AiUsage)))
    assert jobs == ["classify", "extract", "suggest", "summarise"]
    assert simulator.state.requests == 4
    assert _outbox(web.world) == []


def test_the_json_api_gives_the_same_suggestions_and_sends_nothing(web: Web) -> None:
    from engine.auth import Role
    from tests.inbox.test_api import bearer

    conversation = web.world.conversation("Akinyi", texts=(ORDER_TEXT,))
    _in_sales(web.world, conversation)
    headers = bearer(web.world, Role.MANAGER)
    base = f"/api/v1/conversations/{conversation}/ai"
    body = web.client.get(base, headers=headers).json()
    assert body["order_draft"] == {
        "items": "2 x Samsung Galaxy A15",
        "amount": "37000",
        "currency": "KES",
    }
    assert body["suggestion"]["source_label"] == "offline"
    assert 0 <= body["classification"]["confidence"] <= 1
    draft = web.client.get(f"{base}/draft", headers=headers).json()
    assert "KES 18,500" in draft["text"] and draft["citations"][0]["file"] == "knowledge.yaml"
    summary = web.client.get(f"{base}/summary", headers=headers).json()
    assert summary["sentences"][0].startswith("Customer:")
    assert web.client.get(base).status_code == 401
    assert _outbox(web.world) == []
