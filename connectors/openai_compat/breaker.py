"""A circuit breaker: after N failed calls in a row, calls stop for a cooldown, then one
is tried again. So a model that is down costs one timeout per cooldown, not one per job."""

from __future__ import annotations

import threading
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are refused until the cooldown ends
    HALF_OPEN = "half_open"  # one trial call is allowed


class CircuitBreaker:
    """Thread-safe; time is passed in (seconds on any monotonic scale)."""

    def __init__(self, failures: int, cooldown_seconds: float) -> None:
        self.failures = failures
        self.cooldown_seconds = cooldown_seconds
        self._lock = threading.Lock()
        self._failed_in_a_row = 0
        self._opened_at: float | None = None
        self._trial_running = False

    def state(self, now: float) -> BreakerState:
        with self._lock:
            return self._state(now)

    def _state(self, now: float) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if now - self._opened_at >= self.cooldown_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self, now: float) -> bool:
        """Whether a call may go out now; in half-open, only one caller gets a yes."""
        with self._lock:
            state = self._state(now)
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def succeeded(self) -> None:
        with self._lock:
            self._failed_in_a_row = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self, now: float) -> None:
        with self._lock:
            self._failed_in_a_row += 1
            if self._trial_running or self._failed_in_a_row >= self.failures:
                self._opened_at = now
            self._trial_running = False
