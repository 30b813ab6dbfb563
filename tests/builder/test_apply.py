"""A builder save on a real database: refused drafts write nothing, accepted ones
write only their lines and go in force through the all-or-nothing reload."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from dsl.edit import operations as op
from dsl.edit.folder import FolderDraft, folder_version, read_text
from engine.db import system_session
from engine.models import AuditLog, ConfigVersion, Workspace
from engine.workspaces.builder import Editor, StaleDraft, apply, snapshot
from engine.workspaces.load import load_folder

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
EDITOR = Editor(None, "Wanjiru Kamau", "wanjiru@dukabora.co.ke")


@pytest.fixture()
def shop(db: Engine, retail_copy: tuple[Path, str]) -> Path:
    config_dir, slug = retail_copy
    load_folder(db, config_dir / slug, NOW)
    return config_dir / slug


def _active(db: Engine, slug: str) -> str | None:
    with system_session(db) as session:
        return session.scalar(
            select(ConfigVersion.hash)
            .join(Workspace, Workspace.id == ConfigVersion.workspace_id)
            .where(Workspace.slug == slug, ConfigVersion.active.is_(True))
        )


def test_a_refused_draft_writes_nothing_and_keeps_the_config_in_force(
    db: Engine, shop: Path
) -> None:
    before, version, in_force = snapshot(shop), folder_version(shop), _active(db, shop.name)
    draft = FolderDraft(shop)
    op.remove_stage(draft, "sales", "payment")  # fulfilment and after become unreachable
    result = apply(
        db, shop, draft.changes(), read_version=version, editor=EDITOR, message="x", now=NOW
    )
    assert not result.accepted and result.written == []
    assert any(d.code == "E033" and d.span.file == "pipelines.yaml" for d in result.preview.errors)
    assert snapshot(shop) == before
    assert _active(db, shop.name) == in_force


def test_a_valid_save_writes_only_its_lines_and_goes_in_force(db: Engine, shop: Path) -> None:
    original = read_text(shop / "pipelines.yaml")
    in_force = _active(db, shop.name)
    draft = FolderDraft(shop)
    op.add_stage(draft, "sales", "returned", "Returned by the customer")
    op.set_moves(draft, "sales", "delivery", ["completed", "fulfilment", "returned"])
    result = apply(
        db,
        shop,
        draft.changes(),
        read_version=folder_version(shop),
        editor=EDITOR,
        message="A stage for returns",
        now=NOW,
    )
    assert result.accepted, [d.headline() for d in result.preview.errors]
    assert result.written == ["pipelines.yaml"]
    saved = read_text(shop / "pipelines.yaml").splitlines()
    old = original.splitlines()
    changed = [line for line in saved if line not in old]
    assert changed == [
        "      - name: returned",
        "        label: Returned by the customer",
        "      delivery: [completed, fulfilment, returned]",
    ]
    assert len(saved) == len(old) + 2
    assert _active(db, shop.name) == result.reload.version != in_force  # type: ignore[union-attr]
    with system_session(db) as session:
        audit = session.scalars(
            select(AuditLog)
            .join(Workspace, Workspace.id == AuditLog.workspace_id)
            .where(Workspace.slug == shop.name, AuditLog.action == "config_edited")
        ).one()
    assert audit.detail["files"] == ["pipelines.yaml"]
    assert audit.detail["message"] == "A stage for returns"


def test_a_save_over_a_newer_folder_is_refused_with_what_changed(db: Engine, shop: Path) -> None:
    read_files, version = snapshot(shop), folder_version(shop)
    draft = FolderDraft(shop)
    op.add_stage(draft, "sales", "returned", "Returned")
    changes = draft.changes()
    # Meanwhile a consultant pulls a change of the same file.
    path = shop / "pipelines.yaml"
    path.write_text(read_text(path).replace("label: Lost", "label: Lost for good"), "utf-8")
    after_pull = snapshot(shop)
    with pytest.raises(StaleDraft) as refused:
        apply(
            db,
            shop,
            changes,
            read_version=version,
            editor=EDITOR,
            message="x",
            now=NOW,
            read_files=read_files,
        )
    assert "+        label: Lost for good" in refused.value.changed
    assert snapshot(shop) == after_pull


def test_a_git_folder_gets_a_commit_by_the_manager(db: Engine, shop: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=shop, check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q")
    git("-c", "user.name=Consultant", "-c", "user.email=c@example.com", "add", ".")
    git("-c", "user.name=Consultant", "-c", "user.email=c@example.com", "commit", "-qm", "start")
    draft = FolderDraft(shop)
    op.set_workspace_field(draft, "name", "Duka Bora Electronics Ltd")
    result = apply(
        db,
        shop,
        draft.changes(),
        read_version=folder_version(shop),
        editor=EDITOR,
        message="Our registered name",
        now=NOW,
    )
    assert result.accepted
    assert git("log", "-1", "--format=%an <%ae>|%s").strip() == (
        "Wanjiru Kamau <wanjiru@dukabora.co.ke>|Our registered name"
    )
    assert git("status", "--porcelain").strip() == ""
