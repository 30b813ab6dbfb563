"""Fixtures for the AI tests: a running chat-completions simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.openai_compat.simulator import AiSimulator


@pytest.fixture()
def simulator() -> Iterator[AiSimulator]:
    running = AiSimulator().start()
    yield running
    running.stop()
