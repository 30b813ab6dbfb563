"""Switching a workspace to a new config: all or nothing, and every process follows.

A folder that compiles becomes the version in force in one transaction (the
`active` flag of its config version); servers and workers see the new hash on
their next event and compile the same folder themselves. A folder with any
error changes nothing: the refusal and its diagnostics are written to the
workspace's audit log, where managers see it, and the running config stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from dsl.diagnostics import Diagnostic
from dsl.workspace import compile_workspace
from engine.db import system_session, workspace_session
from engine.models import AuditLog, ConfigVersion, Workspace
from engine.workspaces.installed import INSTALLED
from engine.workspaces.load import config_files, load_workspace


@dataclass(frozen=True)
class ReloadOutcome:
    folder: Path
    slug: str
    version: str | None
    changed: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.version is not None


def reload_folder(db: Engine, folder: Path, now: datetime, create: bool = True) -> ReloadOutcome:
    """Compile and put in force; with `create=False` only a workspace already loaded."""
    result = compile_workspace(folder, capabilities=INSTALLED)
    slug = result.config.slug if result.config is not None else folder.name
    if not result.ok or result.config is None or result.version is None:
        _record_refusal(db, slug, result.diagnostics, now)
        return ReloadOutcome(folder, slug, None, False, result.diagnostics)
    with system_session(db) as session:
        exists = session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None
        active = session.scalar(
            select(ConfigVersion.hash)
            .join(Workspace, Workspace.id == ConfigVersion.workspace_id)
            .where(Workspace.slug == slug, ConfigVersion.active.is_(True))
        )
    if active == result.version or not (exists or create):
        return ReloadOutcome(folder, slug, result.version, False, result.diagnostics)
    load_workspace(db, result.config, result.version, now, config_files(folder))
    return ReloadOutcome(folder, slug, result.version, True, result.diagnostics)


def _record_refusal(db: Engine, slug: str, diagnostics: list[Diagnostic], now: datetime) -> None:
    with system_session(db) as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if workspace_id is None:
        return  # never loaded: nothing is running that could be kept
    errors = [d for d in diagnostics if d.is_error]
    with workspace_session(db, workspace_id) as session:
        session.add(
            AuditLog(
                actor_kind="system",
                action="config_refused",
                subject_kind="workspace",
                subject_id=workspace_id,
                detail={
                    "errors": len(errors),
                    "diagnostics": [d.headline() for d in errors[:50]],
                },
                at=now,
            )
        )
        session.commit()


def workspace_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "workspace.yaml").is_file())
