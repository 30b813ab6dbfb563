"""A worker's background thread that does one thing every so often, whatever happens."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

logger = logging.getLogger(__name__)


class PeriodicThread:
    """Calls `step` every `interval` until stopped.

    An error is logged and the next round comes anyway: an outage of the
    database or Redis must only delay work, never end the thread.
    """

    def __init__(self, name: str, step: Callable[[], None], interval: timedelta) -> None:
        self._step = step
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:
                logger.exception("%s failed; trying again in %s", self._thread.name, self._interval)
            self._stop.wait(self._interval.total_seconds())
