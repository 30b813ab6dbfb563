"""A webhook receiver and a simulator, both served in-process on 127.0.0.1 free ports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar, Request, Response, post

from connectors.whatsapp.events import WhatsAppEvent
from connectors.whatsapp.parse import parse_webhook
from connectors.whatsapp.policy import ApprovedTemplate
from connectors.whatsapp.signature import SignatureVerdict, verify_signature
from connectors.whatsapp.simulator import (
    Faults,
    ServerThread,
    Simulator,
    SimulatorConfig,
    create_app,
)
from connectors.whatsapp.simulator.script import Script, ScriptedCustomer

APP_SECRET = "simulator-test-secret"
TOKEN = "test-token"
TEMPLATES = (
    ApprovedTemplate("order_update", frozenset({"en", "en_US"}), body_parameters=2),
    ApprovedTemplate("hello_world", frozenset({"en_US"})),
)


@dataclass
class Received:
    raw: bytes
    verdict: SignatureVerdict
    at: float

    @property
    def events(self) -> list[WhatsAppEvent]:
        return parse_webhook(self.raw)


@dataclass
class Receiver:
    url: str = ""
    posts: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to answer first, in order

    def events(self) -> list[WhatsAppEvent]:
        return [event for post in list(self.posts) for event in post.events]

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 5.0) -> None:
        wait_until(lambda: predicate(self), timeout)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


@pytest.fixture()
def servers() -> Iterator[list[ServerThread]]:
    """Every server a test starts; stopped together at the end (each takes ~0.1 s)."""
    started: list[ServerThread] = []
    yield started
    for server in started:
        server.request_stop()
    for server in started:
        server.stop()


@pytest.fixture()
def receiver(servers: list[ServerThread]) -> Receiver:
    state = Receiver()

    @post("/hook")
    async def hook(request: Request[Any, Any, Any]) -> Response[str]:
        raw = await request.body()
        if state.answers:
            return Response("no", status_code=state.answers.pop(0))
        verdict = verify_signature(raw, request.headers.get("x-hub-signature-256"), APP_SECRET)
        state.posts.append(Received(raw, verdict, time.monotonic()))
        return Response("ok", status_code=200)

    server = ServerThread(Litestar([hook])).start()
    servers.append(server)
    state.url = server.url + "/hook"
    return state


@dataclass
class RunningSimulator:
    url: str
    simulator: Simulator

    @property
    def faults(self) -> Faults:
        return self.simulator.faults


SimulatorFactory = Callable[..., RunningSimulator]


@pytest.fixture()
def start_simulator(receiver: Receiver, servers: list[ServerThread]) -> SimulatorFactory:

    def start(
        customers: tuple[ScriptedCustomer, ...] = (),
        faults: Faults | None = None,
        **config: Any,
    ) -> RunningSimulator:
        options: dict[str, Any] = {
            "webhook_url": receiver.url,
            "access_token": TOKEN,
            "pace": 0.01,
            "status_delay": 0.01,
            "retry_base": 0.05,
            "max_attempts": 4,
            "timeout_seconds": 1.0,
            **config,
        }
        simulator = Simulator(
            SimulatorConfig(app_secret=APP_SECRET, **options),
            Script(customers, TEMPLATES),
            faults,
            seed=7,
        )
        server = ServerThread(create_app(simulator)).start()
        servers.append(server)
        return RunningSimulator(server.url, simulator)

    return start
