"""Issue 6, item 9: the sample workspaces' scenarios, end to end through the real engine.

Each scenario of configs/{retail,firm,distributor}/tests is played on a workspace of its
own through the database, the jobs and the outbox (see playback.py), then its `expect`
is read back from the database (see facts.py and expectations.py). One scenario of each
workspace also runs through the real huey queue the runtime builds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import Engine

from connectors.whatsapp.fake import FakeSender
from dsl.scenarios import instant
from engine.composition import build_runtime
from engine.core.clock import FrozenClock
from engine.jobs.names import (
    CHECK_SLA_CLOCK,
    DISPATCH_OUTBOX_ROW,
    PROCESS_INBOUND_EVENT,
    REPORT_TASK_DUE,
    RUN_SCHEDULED_ACTION,
)
from engine.settings import Settings
from engine.workspaces.directory import ConfigDirectory
from tests.scenarios_e2e.catalogue import SAMPLES, SampleScenario, all_scenarios
from tests.scenarios_e2e.conftest import SampleCopy
from tests.scenarios_e2e.jobs import DirectJobs, HueyJobs, send_executors
from tests.scenarios_e2e.outcome import failures
from tests.scenarios_e2e.playback import Playback

SCENARIOS = {scenario.name: scenario for scenario in all_scenarios()}


# One scenario a workspace through huey, with the jobs each must run through it: the
# inbound webhook's processing, outbox dispatch, delayed actions, SLA clocks.
ALL_JOBS = {
    PROCESS_INBOUND_EVENT,
    DISPATCH_OUTBOX_ROW,
    RUN_SCHEDULED_ACTION,
    CHECK_SLA_CLOCK,
    REPORT_TASK_DUE,  # tasks the rules create fall due while the scenario plays
}
THROUGH_HUEY = {
    "A customer who answers the quote gets no chasing task": ALL_JOBS,
    "A client who sends documents is not reminded, and each file becomes a check task": ALL_JOBS,
    "A verified outlet's order is captured, stock confirmed, paid and loaded": {
        PROCESS_INBOUND_EVENT,
        DISPATCH_OUTBOX_ROW,
    },
}


def play(
    db: Engine, sample_copy: SampleCopy, configs: ConfigDirectory, scenario: SampleScenario
) -> list[str]:
    config_dir, slug = sample_copy(scenario.sample)
    clock = FrozenClock(instant(scenario.spec["events"][0]["at"]))
    sender = FakeSender(clock=clock)
    playback = Playback(
        db, config_dir / slug, DirectJobs(db, clock, configs, sender), clock, configs
    )
    playback.play(scenario.spec)
    return failures(db, playback, sender, scenario.spec)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_end_to_end(
    name: str, db: Engine, sample_copy: SampleCopy, scenario_configs: ConfigDirectory
) -> None:
    found = play(db, sample_copy, scenario_configs, SCENARIOS[name])
    assert not found, "\n".join(found)


def test_every_sample_scenario_is_played() -> None:
    assert set(THROUGH_HUEY) <= set(SCENARIOS)
    assert {SCENARIOS[name].sample for name in THROUGH_HUEY} == set(SAMPLES)
    assert len(SCENARIOS) == sum(1 for _ in all_scenarios())  # names are unique test ids


@pytest.mark.parametrize("name", list(THROUGH_HUEY))
def test_scenario_through_huey(
    name: str,
    db: Engine,
    database_url: str,
    redis_url: str | None,
    queue_name: str,
    tmp_path: Path,
    sample_copy: SampleCopy,
    scenario_configs: ConfigDirectory,
) -> None:
    scenario = SCENARIOS[name]
    config_dir, slug = sample_copy(scenario.sample)
    clock = FrozenClock(instant(scenario.spec["events"][0]["at"]))
    sender = FakeSender(clock=clock)
    settings = Settings.from_env(
        {
            "KAZI_DATABASE_URL": database_url,
            "KAZI_REDIS_URL": redis_url or "",
            "KAZI_CONFIG_DIR": str(config_dir),
            "KAZI_VAR_DIR": str(tmp_path / "var"),
            "KAZI_QUEUE_NAME": queue_name,
        }
    )
    runtime = build_runtime(settings, clock=clock, executors=send_executors(sender))
    try:
        assert isinstance(runtime.huey, RedisHuey if redis_url else SqliteHuey)
        # The jobs use the runtime's own config cache; the events and the schedule loop
        # (a worker thread, not a huey task) use the run's shared one.
        jobs = HueyJobs(runtime)
        playback = Playback(runtime.db, config_dir / slug, jobs, clock, scenario_configs)
        playback.play(scenario.spec)
        found = failures(runtime.db, playback, sender, scenario.spec)
        assert not found, "\n".join(found)
        assert runtime.huey.pending_count() == 0
        assert {task.rsplit(".", 1)[-1] for task in jobs.executed} == THROUGH_HUEY[name]
    finally:
        runtime.huey.flush()
        runtime.close()
