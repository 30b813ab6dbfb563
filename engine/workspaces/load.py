"""Put a checked workspace config's people into the database: workspace, teammates, teams.

Idempotent: loading the same folder twice changes nothing; a teammate dropped
from the file is deactivated, not deleted, so their history keeps its author.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select, update

from engine.core.config import WorkspaceConfig
from engine.db import system_session, workspace_session
from engine.models import Team, Teammate, TeamMembership, Workspace
from engine.models.history import ConfigVersion
from engine.workspaces.directory import CONFIG_SUFFIXES, compile_folder


def load_folder(db: Engine, folder: Path, now: datetime) -> int:
    """Compile the folder (refusing it whole on any error) and load it; the workspace id."""
    compiled = compile_folder(folder)
    assert compiled.config is not None and compiled.version is not None
    return load_workspace(db, compiled.config, compiled.version, now, config_files(folder))


def config_files(folder: Path) -> dict[str, str]:
    """Every config file of the folder by relative path: what a version is made of."""
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in CONFIG_SUFFIXES
    }


def load_workspace(
    db: Engine, config: WorkspaceConfig, version: str, now: datetime, files: dict[str, str]
) -> int:
    """Create or update the workspace and its people; make `version` the config in force.

    The version keeps its files, so any process on any machine can compile the
    config in force from the database, even when its own folder has moved on or
    is broken.
    """
    with system_session(db) as session:
        workspace = session.scalars(select(Workspace).where(Workspace.slug == config.slug)).first()
        if workspace is None:
            workspace = Workspace(slug=config.slug, name=config.name, timezone=config.timezone)
            session.add(workspace)
        else:
            workspace.name, workspace.timezone = config.name, config.timezone
        session.commit()
        workspace_id = workspace.id

    with workspace_session(db, workspace_id) as session:
        teammates = {t.handle: t for t in session.scalars(select(Teammate))}
        for person in config.teammates:
            teammate = teammates.get(person.handle)
            if teammate is None:
                teammate = Teammate(handle=person.handle, name=person.name)
                session.add(teammate)
                teammates[person.handle] = teammate
            teammate.name, teammate.email, teammate.role = person.name, person.email, person.role
            teammate.capacity, teammate.active = person.capacity, True
        listed = {person.handle for person in config.teammates}
        for handle, teammate in teammates.items():
            if handle not in listed:
                teammate.active = False

        teams = {t.handle: t for t in session.scalars(select(Team))}
        for declared in config.teams:
            team = teams.get(declared.name)
            if team is None:
                team = Team(handle=declared.name, name=declared.name)
                session.add(team)
                teams[declared.name] = team
            team.name = declared.label or declared.name.replace("_", " ").capitalize()
        session.flush()
        # A membership may be written on the team (members:) or on the teammate (teams:).
        pairs = {(team.name, member) for team in config.teams for member in team.members}
        pairs |= {(team, person.handle) for person in config.teammates for team in person.teams}
        wanted = {
            (teams[team].id, teammates[handle].id)
            for team, handle in pairs
            if team in teams and handle in teammates
        }
        existing = {(m.team_id, m.teammate_id): m for m in session.scalars(select(TeamMembership))}
        for pair, membership in existing.items():
            if pair not in wanted:
                session.delete(membership)
        for team_id, teammate_id in wanted - existing.keys():
            session.add(TeamMembership(team_id=team_id, teammate_id=teammate_id))

        current = session.scalars(
            select(ConfigVersion).where(ConfigVersion.hash == version)
        ).first()
        if current is None or not current.active:
            session.execute(
                update(ConfigVersion)
                .where(ConfigVersion.active.is_(True))
                .values(active=False)
                .execution_options(synchronize_session=False)
            )
            session.flush()
            if current is None:
                current = ConfigVersion(
                    hash=version,
                    compiled_at=now,
                    source_summary={
                        "teammates": len(config.teammates),
                        "pipelines": [p.name for p in config.pipelines],
                        "templates": len(config.templates),
                        "files": files,
                    },
                )
                session.add(current)
            current.active = True
        session.commit()
    return workspace_id
