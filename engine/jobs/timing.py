"""How long leases last and how often the sweeper looks, from the environment.

The defaults suit production: a lease outlives any honest job, the sweeper looks
every 2 s and re-asks for work a queue seems to have lost after a minute. Tests
that kill workers shorten them (KAZI_JOB_LEASE_SECONDS, KAZI_SWEEP_INTERVAL_SECONDS,
KAZI_REENQUEUE_AFTER_SECONDS) so that recovery is seen in seconds.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from engine.settings import SettingsError

LEASE_VARIABLE = "KAZI_JOB_LEASE_SECONDS"
INTERVAL_VARIABLE = "KAZI_SWEEP_INTERVAL_SECONDS"
REENQUEUE_VARIABLE = "KAZI_REENQUEUE_AFTER_SECONDS"


@dataclass(frozen=True)
class JobTimings:
    lease: timedelta = timedelta(minutes=2)  # how long a claimed row is a worker's alone
    sweep_interval: timedelta = timedelta(seconds=2)
    reenqueue_after: timedelta = timedelta(seconds=60)  # an enqueued row not started by then

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> JobTimings:
        env = os.environ if env is None else env
        default = cls()
        return cls(
            lease=_seconds(env, LEASE_VARIABLE, default.lease),
            sweep_interval=_seconds(env, INTERVAL_VARIABLE, default.sweep_interval),
            reenqueue_after=_seconds(env, REENQUEUE_VARIABLE, default.reenqueue_after),
        )


@functools.cache
def job_timings() -> JobTimings:
    """This process's timings, read from the environment once, at first use."""
    return JobTimings.from_env()


def _seconds(env: Mapping[str, str], variable: str, default: timedelta) -> timedelta:
    raw = env.get(variable, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise SettingsError(f"{variable}={raw!r} is not a positive number of seconds")
    return timedelta(seconds=seconds)
