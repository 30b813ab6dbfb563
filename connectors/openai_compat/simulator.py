"""`kazi simulate-ai`: a local OpenAI-compatible chat-completions server for tests and the demo.

It answers Kazi's five jobs with a small deterministic "model" (word overlap, first
sentences, the first fact offered), so nothing needs a network or a GPU, and it has
fault switches to rehearse an outage:

- `ok`: answer at once;
- `slow`: wait `delay` seconds before answering (longer than Kazi's timeout);
- `500`: answer HTTP 500;
- `garbage`: answer 200 with text that is not JSON.

Switch at start (`--fault slow`) or while running: `POST /_faults {"mode": "500"}`.
`GET /_stats` counts the chat requests seen.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("ok", "slow", "500", "garbage")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class SimulatorState:
    mode: str = "ok"
    delay: float = 10.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def answer_for(job: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What the toy model answers to one job."""
    if job == "classify":
        words = set(_WORD.findall(str(payload.get("message", "")).lower()))
        best, best_score = None, 0
        for intent in payload.get("intents", []):
            vocabulary = set(_WORD.findall(" ".join(intent.get("examples", [])).lower()))
            vocabulary |= set(_WORD.findall(str(intent.get("label", "")).lower()))
            score = len(words & vocabulary)
            if score > best_score:
                best, best_score = intent.get("name"), score
        return {"intent": best, "confidence": min(0.95, 0.4 + 0.15 * best_score)}
    if job == "extract":
        message = str(payload.get("message", "")).lower()
        fields = [
            {"kind": kind, "value": name, "text": name}
            for kind, key in (("product", "products"), ("place", "places"))
            for name in payload.get(key, [])
            if name.lower() in message
        ]
        return {"fields": fields}
    if job == "summarise":
        lines = payload.get("thread", [])
        count = int(payload.get("max_sentences", 3))
        return {"sentences": [f"{ln['who']}: {ln['text']}" for ln in lines[:count]]}
    if job == "draft":
        facts = payload.get("facts", [])
        if not facts:
            return {"text": "Thank you, we will get back to you shortly.", "cited": []}
        return {"text": f"Hello! {facts[0]['text']}.", "cited": [facts[0]["key"]]}
    if job == "suggest":
        return {"choice": 0, "confidence": 0.6, "reason": "first candidate"}
    return {}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode())

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/_stats":
            self._json(200, {"requests": state.requests, "mode": state.mode})
        elif self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "kazi-sim", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        state = self.server.state
        if self.path == "/_faults":
            wanted = self._body()
            if wanted.get("mode") not in FAULTS:
                self._json(400, {"error": f"mode is one of {', '.join(FAULTS)}"})
                return
            with state.lock:
                state.mode = wanted["mode"]
                state.delay = float(wanted.get("delay", state.delay))
            self._json(200, {"mode": state.mode, "delay": state.delay})
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        with state.lock:
            state.requests += 1
            mode, delay = state.mode, state.delay
        request = self._body()
        if mode == "slow":
            time.sleep(delay)
        if mode == "500":
            self._json(500, {"error": {"message": "simulated server error"}})
            return
        if mode == "garbage":
            content = "I am sorry, as a language model I cannot answer in JSON today."
        else:
            messages = request.get("messages", [])
            system = next((m["content"] for m in messages if m["role"] == "system"), "")
            job_match = re.search(r"job: (\w+)", system)
            user = next((m["content"] for m in messages if m["role"] == "user"), "{}")
            try:
                payload = json.loads(user)
            except ValueError:
                payload = {}
            job = job_match.group(1) if job_match else ""
            content = json.dumps(answer_for(job, payload))
        prompt_tokens = sum(
            len(str(m.get("content", ""))) // 4 for m in request.get("messages", [])
        )
        self._json(
            200,
            {
                "id": f"chatcmpl-sim-{state.requests}",
                "object": "chat.completion",
                "model": request.get("model", "kazi-sim"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt_tokens + len(content) // 4,
                },
            },
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up waiting (the point of the `slow` switch) is not an error here.
        return


class AiSimulator:
    """The server on a background thread; `url` is the API root to put in ai.yaml."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, mode: str = "ok") -> None:
        self.state = SimulatorState(mode=mode)
        self._server = _Server((host, port), self.state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def set_fault(self, mode: str, delay: float | None = None) -> None:
        if mode not in FAULTS:
            raise ValueError(f"mode is one of {', '.join(FAULTS)}")
        with self.state.lock:
            self.state.mode = mode
            if delay is not None:
                self.state.delay = delay

    def start(self) -> AiSimulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
