"""The builder's simulation: the last week's real customer messages through the rules in
force and through the draft, counted the way a manager reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dsl.edit.folder import FolderDraft
from dsl.edit.preview import write_copy
from dsl.workspace import compile_workspace
from engine.core.rules.graph import RuleGraph
from engine.db import unit_of_work, workspace_session
from engine.models import AuthorKind, Contact, Conversation, Direction, Message
from engine.reports.simulation import simulate
from engine.workspaces.installed import INSTALLED
from engine.workspaces.load import load_folder

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _customer(session: Session, text: str, at: datetime) -> int:
    contact = Contact(profile_name="Achieng Otieno", name="Achieng Otieno")
    session.add(contact)
    session.flush()
    conversation = Conversation(
        contact_id=contact.id, business_number="+254711502300", status="open", opened_at=at
    )
    session.add(conversation)
    session.flush()
    session.add(
        Message(
            conversation_id=conversation.id,
            direction=Direction.INBOUND,
            type="text",
            body=text,
            author_kind=AuthorKind.CONTACT,
            author_contact_id=contact.id,
            provider_timestamp=at,
        )
    )
    return conversation.id


def _graph(folder: Path) -> RuleGraph:
    result = compile_workspace(folder, capabilities=INSTALLED)
    assert result.graph is not None, [d.headline() for d in result.diagnostics]
    return result.graph


def test_a_draft_is_played_over_the_last_weeks_customer_messages(
    db: Engine, retail_copy: tuple[Path, str], tmp_path: Path
) -> None:
    config_dir, slug = retail_copy
    folder = config_dir / slug
    workspace_id = load_folder(db, folder, NOW)
    with unit_of_work(db, workspace_id) as session:
        _customer(session, "Habari, bei ya Samsung A15 ni ngapi?", NOW - timedelta(days=1))
        _customer(session, "How much is the hisense tv?", NOW - timedelta(days=2))
        _customer(session, "Do you deliver to Rongai?", NOW - timedelta(days=3))
        _customer(session, "What is the price of a fridge?", NOW - timedelta(days=10))  # too old

    draft = FolderDraft(folder)
    rules = draft.text("rules/sales.kazi")
    draft.set_text(
        "rules/sales.kazi",
        rules.replace(
            '  create task "Send {contact.first_name} a quote" for team "sales" due in 30m\n',
            '  create task "Send {contact.first_name} a quote" for team "sales" due in 30m\n'
            '  move to stage "quote"\n',
            1,
        ),
    )
    assert draft.changes()
    copy = write_copy(folder, draft.changes(), tmp_path / "draft")

    with workspace_session(db, workspace_id) as session:
        found = simulate(session, _graph(folder), _graph(copy), NOW)

    assert (found.conversations, found.messages, found.capped) == (3, 3, False)
    lines = {line.what: (line.before, line.after) for line in found.lines}
    # The two price questions are tagged and become tasks for sales under both configs.
    assert lines["tags price-asked"] == (2, 2)
    assert lines["tasks for team sales"] == (2, 2)
    # The draft also moves them to quote, which sends the quote.
    assert lines["moves to stage quote"] == (0, 2)
    assert "moves to stage quote: 2 instead of 0" in [line.sentence() for line in found.changed]
    assert found.changed[0].changed and not found.lines[-1].changed  # changes first
