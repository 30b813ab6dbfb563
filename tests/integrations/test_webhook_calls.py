"""call integration: signed, no private addresses, no redirects, retried only when it may help."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from connectors.webhook.addresses import RefusedAddress, check_url
from connectors.webhook.client import deliver
from connectors.webhook.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature, verify

NOW = int(datetime(2026, 11, 25, 9, 0, tzinfo=UTC).timestamp())


class Receiver(ThreadingHTTPServer):
    answer = 200
    received: list[tuple[dict[str, str], bytes]]


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(self.server.answer)
        if self.server.answer == 302:
            self.send_header("Location", "http://169.254.169.254/latest/meta-data")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: Receiver) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/orders"


def call(server: Receiver, **overrides: Any) -> Any:
    arguments: dict[str, Any] = dict(
        secret="s3cret",
        idempotency_key="rule:reserve:1:0",
        timestamp=NOW,
        timeout=5,
        allow_private=True,
    )
    arguments.update(overrides)
    return deliver(url(server), {"operation": "reserve_stock", "order": "PF-1"}, **arguments)


def test_a_call_is_signed_with_a_timestamp_and_carries_its_key(receiver: Receiver) -> None:
    assert call(receiver).delivered
    [(headers, body)] = receiver.received
    assert headers[IDEMPOTENCY_HEADER] == "rule:reserve:1:0"
    assert verify(body, headers[SIGNATURE_HEADER], "s3cret", NOW)
    assert not verify(body, headers[SIGNATURE_HEADER], "s3cret", NOW + 3600)  # too old
    assert not verify(body + b" ", headers[SIGNATURE_HEADER], "s3cret", NOW)
    assert json.loads(body)["order"] == "PF-1"


def test_private_and_loopback_addresses_are_refused_unless_allowed(receiver: Receiver) -> None:
    refused = call(receiver, allow_private=False)
    assert (refused.delivered, refused.retryable) == (False, False)
    assert receiver.received == []
    for address in ("10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "fc00::1"):
        with pytest.raises(RefusedAddress, match="private or reserved"):
            check_url("https://erp.example/x", lambda host, port, a=address: [a])
    check_url("https://erp.example/x", lambda host, port: ["41.90.64.10"])  # a public address
    with pytest.raises(RefusedAddress, match="plain http"):
        check_url("http://erp.example/x", lambda host, port: ["41.90.64.10"])


def test_redirects_are_not_followed_and_server_errors_are_retryable(receiver: Receiver) -> None:
    receiver.answer = 302
    moved = call(receiver)
    assert (moved.delivered, moved.retryable, moved.status) == (False, False, 302)
    assert len(receiver.received) == 1  # the redirect target was never called
    receiver.answer = 503
    assert call(receiver).retryable
    receiver.answer = 400
    assert not call(receiver).retryable


def test_the_signature_is_the_documented_scheme() -> None:
    assert signature(b"{}", "k", 1) == "t=1,v1=" + hmac.new(b"k", b"1.{}", "sha256").hexdigest()
