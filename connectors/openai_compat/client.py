"""One chat-completions call to an OpenAI-compatible server (OpenAI, llama.cpp, vLLM, Ollama).

A timeout on every call, no redirects, a small retry budget for answers worth retrying
(network trouble, 408, 429, 5xx), and the verdict as data: the answer with its token
counts and latency, or a failure with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

CHAT_PATH = "/chat/completions"


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class ChatAnswer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    attempts: int


class ChatFailed(Exception):
    def __init__(self, reason: str, *, latency_ms: int, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.latency_ms = latency_ms
        self.attempts = attempts


@dataclass(frozen=True)
class ChatClient:
    base_url: str  # the API root, e.g. https://api.openai.com/v1
    model: str
    api_key: str | None
    timeout_seconds: float
    retries: int = 1
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    def complete(self, messages: Sequence[ChatMessage], *, json_answer: bool) -> ChatAnswer:
        """The model's answer; raises ChatFailed once the retry budget is spent."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": 0,
        }
        if json_answer:
            body["response_format"] = {"type": "json_object"}
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        started = time.monotonic()
        reason = "no attempt made"
        attempts = 0
        for attempt in range(self.retries + 1):
            attempts = attempt + 1
            if attempt:
                self.sleep(min(0.2 * 2**attempt, 1.0))
            try:
                with httpx.Client(
                    timeout=self.timeout_seconds, follow_redirects=False, transport=self.transport
                ) as client:
                    response = client.post(
                        self.base_url.rstrip("/") + CHAT_PATH, json=body, headers=headers
                    )
            except httpx.TimeoutException:
                reason = f"no answer within {self.timeout_seconds:g}s"
                continue
            except httpx.HTTPError as error:
                reason = f"{type(error).__name__}: {error}"
                continue
            if response.status_code in (408, 429) or response.status_code >= 500:
                reason = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                reason = f"HTTP {response.status_code}: {response.text[:200]}"
                break  # a wrong key or model name is not fixed by asking again
            return self._answer(response, started, attempts)
        latency = int((time.monotonic() - started) * 1000)
        raise ChatFailed(reason, latency_ms=latency, attempts=attempts)

    def _answer(self, response: httpx.Response, started: float, attempts: int) -> ChatAnswer:
        latency = int((time.monotonic() - started) * 1000)
        try:
            document = response.json()
            text = document["choices"][0]["message"]["content"]
            usage = document.get("usage") or {}
            if not isinstance(text, str):
                raise TypeError("content is not text")
            return ChatAnswer(
                text,
                int(usage.get("prompt_tokens") or 0),
                int(usage.get("completion_tokens") or 0),
                latency,
                attempts,
            )
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise ChatFailed(
                f"not a chat-completions answer ({type(error).__name__})",
                latency_ms=latency,
                attempts=attempts,
            ) from None


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object a model answered, tolerating a ```json fence around it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped.removeprefix("json").strip()
    value = json.loads(stripped)
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object")
    return value
