"""Applying a builder save: compile first, write atomically, put in force, audit.

A save carries the folder version its page was read from. If the folder changed
since (another manager, a consultant's `git pull`), it is refused with the diff of
what changed. A draft that does not compile writes nothing. An accepted draft is
written file by file (each with an atomic rename) and put in force through
`reload_folder`, the same all-or-nothing switch as `kazi reload`, so every server
and worker follows; should the reload refuse it after all, the files written are
put back, and the config in force stays.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from dsl.edit.folder import FileChange, config_paths, folder_version, read_text
from dsl.edit.preview import Preview, preview
from engine.core.states import ActorKind
from engine.db import system_session, workspace_session
from engine.models import AuditLog, Workspace
from engine.workspaces.installed import INSTALLED
from engine.workspaces.reload import ReloadOutcome, reload_folder


class StaleDraft(Exception):
    """The folder changed after the page was read; `changed` says how."""

    def __init__(self, current: str, changed: str) -> None:
        self.current = current
        self.changed = changed
        super().__init__(
            "the workspace's files changed since this page was read (another manager or a "
            "git pull); your change was not saved. Reload the page and make it again."
        )


@dataclass(frozen=True)
class Editor:
    """Who saves: the audit log and the git commit name them."""

    teammate_id: int | None
    name: str
    email: str


@dataclass(frozen=True)
class Applied:
    preview: Preview
    reload: ReloadOutcome | None
    written: list[str]

    @property
    def accepted(self) -> bool:
        return self.reload is not None and self.reload.accepted


def snapshot(folder: Path) -> dict[str, str]:
    """Every config file's text by name, to tell a later reader what changed."""
    return {p.relative_to(folder).as_posix(): read_text(p) for p in config_paths(folder)}


def describe_changes(before: dict[str, str], after: dict[str, str]) -> str:
    """A unified diff between two snapshots of a folder."""
    out: list[str] = []
    for name in sorted({*before, *after}):
        old, new = before.get(name, ""), after.get(name, "")
        if old != new:
            out.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), name, name
                )
            )
    return "".join(out)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One save at a time per folder across this machine's processes."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"kazi-builder-{key}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(scratch, path.stat().st_mode & 0o777)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def apply(
    db: Engine,
    folder: Path,
    changes: list[FileChange],
    *,
    read_version: str,
    editor: Editor,
    message: str,
    now: datetime,
    read_files: dict[str, str] | None = None,
) -> Applied:
    """Compile the folder with `changes`; if it compiles, write them and put them in force.

    Raises StaleDraft when the folder is no longer at `read_version`. `read_files`, the
    snapshot the page was read from, lets the refusal show what changed since.
    """
    with _folder_lock(folder):
        current = folder_version(folder)
        if current != read_version:
            raise StaleDraft(current, describe_changes(read_files or {}, snapshot(folder)))
        checked = preview(folder, changes, capabilities=INSTALLED)
        if not checked.ok or not changes:
            return Applied(checked, None, [])
        originals = {
            c.name: (folder / c.name).read_bytes() if c.before is not None else None
            for c in changes
        }
        for change in changes:
            _write_atomically(folder / change.name, change.after)
        outcome = reload_folder(db, folder, now, create=False)
        if not outcome.accepted:
            for name, data in originals.items():
                if data is None:
                    (folder / name).unlink(missing_ok=True)
                else:
                    _write_atomically(folder / name, data.decode("utf-8"))
            return Applied(checked, outcome, [])
        written = [c.name for c in changes]
        _audit(db, outcome.slug, editor, written, outcome.version, message, now)
        _commit_if_git(folder, written, editor, message)
        return Applied(checked, outcome, written)


def _audit(
    db: Engine,
    slug: str,
    editor: Editor,
    written: list[str],
    version: str | None,
    message: str,
    now: datetime,
) -> None:
    with system_session(db) as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if workspace_id is None:
        return
    with workspace_session(db, workspace_id) as session:
        session.add(
            AuditLog(
                actor_kind=ActorKind.TEAMMATE,
                actor_teammate_id=editor.teammate_id,
                actor_name=editor.name,
                action="config_edited",
                subject_kind="workspace",
                subject_id=workspace_id,
                detail={"files": written, "version": version, "message": message},
                at=now,
            )
        )
        session.commit()


def _commit_if_git(folder: Path, written: list[str], editor: Editor, message: str) -> None:
    """When the folder is a git work tree, the save is a commit by the manager."""
    if not (folder / ".git").exists():
        return
    author = f"{editor.name} <{editor.email}>"
    env = {**os.environ, "GIT_COMMITTER_NAME": editor.name, "GIT_COMMITTER_EMAIL": editor.email}
    subprocess.run(["git", "add", "--", *written], cwd=folder, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", f"--author={author}", "-m", message or "Edited in the builder"],
        cwd=folder,
        check=True,
        env=env,
    )
