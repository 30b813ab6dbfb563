"""`kazi worker`: huey's consumer plus the sweeper, config watcher and schedule threads."""

from __future__ import annotations

from engine.automation.schedules import ScheduleLoop
from engine.composition import Runtime
from engine.jobs.sweeper import SweeperLoop
from engine.workspaces.watcher import ConfigWatcher


def run_worker(runtime: Runtime, threads: int = 2) -> None:
    """Run jobs until SIGTERM or SIGINT; huey's consumer handles the signals."""
    sweeper = SweeperLoop(runtime.db, runtime.queue, runtime.huey, runtime.clock)
    sweeper.start()
    watcher = ConfigWatcher(runtime.db, runtime.settings.config_dir, runtime.huey, runtime.clock)
    watcher.start()
    schedules = ScheduleLoop(runtime.db, runtime.configs, runtime.clock)
    schedules.start()
    consumer = runtime.huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=False,
        check_worker_health=True,
    )
    try:
        consumer.run()
    finally:
        schedules.stop()
        watcher.stop()
        sweeper.stop()
