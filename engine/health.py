"""Readiness: does each part a request or a job depends on answer right now?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # part -> "ok" or what failed

    @property
    def ready(self) -> bool:
        return all(verdict == "ok" for verdict in self.checks.values())


def check_readiness(probes: dict[str, Callable[[], object]]) -> Readiness:
    """Run every probe; a probe that raises marks its part failed with the reason."""
    checks: dict[str, str] = {}
    for part, probe in probes.items():
        try:
            probe()
        except Exception as error:  # any failure means "not ready", and we say why
            checks[part] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        else:
            checks[part] = "ok"
    return Readiness(checks)
