"""Circuit breakers per workspace and model, one set per process.

A breaker's state is what this process has seen of the model lately; keeping it in
memory (not the database) is the point: deciding not to call must cost nothing.
"""

from __future__ import annotations

import threading

from connectors.openai_compat import CircuitBreaker
from engine.core.config import AiEndpoint


class BreakerRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._breakers: dict[tuple[int, str, str], CircuitBreaker] = {}

    def for_endpoint(self, workspace_id: int, endpoint: AiEndpoint) -> CircuitBreaker:
        key = (workspace_id, endpoint.base_url, endpoint.model)
        with self._lock:
            breaker = self._breakers.get(key)
            if (
                breaker is None
                or breaker.failures != endpoint.breaker_failures
                or breaker.cooldown_seconds != endpoint.breaker_cooldown_seconds
            ):
                breaker = CircuitBreaker(
                    endpoint.breaker_failures, endpoint.breaker_cooldown_seconds
                )
                self._breakers[key] = breaker
            return breaker


PROCESS_BREAKERS = BreakerRegistry()
