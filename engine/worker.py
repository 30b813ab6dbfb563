"""`kazi worker`: huey's consumer plus the sweeper, config watcher, schedule and retention
threads."""

from __future__ import annotations

from engine.automation.schedules import schedules_thread
from engine.composition import Runtime
from engine.jobs.sweeper import sweeper_thread
from engine.payments.confirm import reconciliation_thread
from engine.workspaces.retention import retention_thread
from engine.workspaces.watcher import ConfigWatcher


def run_worker(runtime: Runtime, threads: int = 2) -> None:
    """Run jobs until SIGTERM or SIGINT; huey's consumer handles the signals."""
    background = [
        sweeper_thread(runtime.db, runtime.queue, runtime.clock),
        ConfigWatcher(runtime.db, runtime.settings.config_dir, runtime.clock).thread(),
        schedules_thread(runtime.db, runtime.configs, runtime.clock),
        retention_thread(runtime.db, runtime.clock),
    ]
    if runtime.payment_clients is not None:
        background.append(
            reconciliation_thread(
                runtime.db, runtime.configs, runtime.payment_clients, runtime.clock
            )
        )
    for thread in background:
        thread.start()
    consumer = runtime.huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=False,
        check_worker_health=True,
    )
    try:
        consumer.run()
    finally:
        for thread in reversed(background):
            thread.stop()
