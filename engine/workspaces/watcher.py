"""Watch the config folders and reload a workspace when its files change.

Runs as a thread in each worker. Reloading an unchanged version is a no-op and
only one version can be in force (a unique index), so several watchers never
switch a workspace twice; one that loses a race sees the other's version next
round. No lock between workers: a lock held by a killed worker would stop
reloads for good.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from engine.core.clock import Clock
from engine.jobs.periodic import PeriodicThread
from engine.workspaces.directory import CONFIG_SUFFIXES
from engine.workspaces.reload import reload_folder, workspace_folders

logger = logging.getLogger(__name__)

INTERVAL = timedelta(seconds=2)


def fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the config files: cheap to take often."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in CONFIG_SUFFIXES and path.is_file():
            stat = path.stat()
            entries.append((path.relative_to(folder).as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


class ConfigWatcher:
    def __init__(self, db: Engine, root: Path, clock: Clock) -> None:
        self._db, self._root, self._clock = db, root, clock
        self._seen: dict[Path, tuple[tuple[str, int, int], ...]] = {}

    def thread(self) -> PeriodicThread:
        return PeriodicThread("kazi-config-watch", self.check_once, INTERVAL)

    def check_once(self) -> None:
        if not self._root.is_dir():
            return
        for folder in workspace_folders(self._root):
            current = fingerprint(folder)
            if self._seen.get(folder) == current:
                continue
            # Also on the first look: files edited while no worker ran count too. An
            # unchanged version is a no-op; a folder never loaded is left to `kazi load`.
            outcome = reload_folder(self._db, folder, self._clock.now(), create=False)
            self._seen[folder] = current
            if not outcome.accepted:
                errors = [d.headline() for d in outcome.diagnostics if d.is_error]
                logger.error(
                    "config of %s refused, the running one stays: %s", outcome.slug, errors[:5]
                )
            elif outcome.changed:
                logger.info("config of %s is now version %s", outcome.slug, outcome.version)
