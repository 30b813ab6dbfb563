"""A small workspace to test the inbox against: people, teams, customers, messages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engine.auth import passwords
from engine.auth.passwords import hash_password
from engine.auth.principal import Principal, Role
from engine.automation.runner import RulesInForce
from engine.automation.staff import Desk, desk_for
from engine.core.config import WorkspaceConfig
from engine.core.rules.graph import RuleGraph
from engine.db import system_session, workspace_session
from engine.models import (
    AuthorKind,
    Contact,
    Conversation,
    Direction,
    Identity,
    Message,
    Team,
    Teammate,
    TeamMembership,
    Workspace,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@dataclass
class World:
    db: Engine
    workspace_id: int
    slug: str
    people: dict[str, int] = field(default_factory=dict)  # handle -> teammate id
    teams: dict[str, int] = field(default_factory=dict)  # handle -> team id

    def principal(self, handle: str) -> Principal:
        role = {"boss": Role.ADMIN, "manager": Role.MANAGER}.get(handle, Role.AGENT)
        team_ids = frozenset({self.teams["sales"]}) if handle in ("agent", "other") else frozenset()
        return Principal(
            workspace_id=self.workspace_id,
            role=role,
            name=handle.capitalize(),
            teammate_id=self.people[handle],
            team_ids=team_ids,
        )

    def conversation(
        self,
        name: str,
        *,
        phone: str | None = None,
        texts: tuple[str, ...] = ("Hello",),
        last_at: datetime = NOW - timedelta(minutes=5),
        owner: str | None = None,
        team: str | None = None,
        status: str = "waiting_on_us",
        stage: str | None = None,
    ) -> int:
        phone = phone or f"+2547{uuid.uuid4().int % 10**8:08d}"
        with workspace_session(self.db, self.workspace_id) as session:
            contact = Contact(profile_name=name)
            session.add(contact)
            session.flush()
            session.add(
                Identity(
                    contact_id=contact.id,
                    channel="whatsapp",
                    address=phone,
                    valid_from=last_at - timedelta(days=1),
                )
            )
            conversation = Conversation(
                contact_id=contact.id,
                business_number="+254711502300",
                status=status,
                waiting_on={"waiting_on_us": "us", "waiting_on_customer": "customer"}.get(status),
                owner_id=self.people[owner] if owner else None,
                team_id=self.teams[team] if team else None,
                stage=stage,
                pipeline="sales" if stage else None,  # the retail sample's sales pipeline
                opened_at=last_at - timedelta(minutes=len(texts)),
                last_customer_message_at=last_at,
                resolved_at=last_at if status == "resolved" else None,
            )
            session.add(conversation)
            session.flush()
            for n, text in enumerate(texts):
                session.add(
                    Message(
                        conversation_id=conversation.id,
                        direction=Direction.INBOUND,
                        type="text",
                        body=text,
                        provider_message_id=f"wamid.{uuid.uuid4().hex}",
                        author_kind=AuthorKind.CONTACT,
                        author_contact_id=contact.id,
                        provider_timestamp=last_at - timedelta(seconds=len(texts) - n),
                    )
                )
            session.commit()
            return conversation.id


def customer_writes(world: World, conversation_id: int, text: str, at: datetime) -> int:
    """Another process (a worker applying a webhook) stores a customer message."""
    with workspace_session(world.db, world.workspace_id) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        message = Message(
            conversation_id=conversation_id,
            direction=Direction.INBOUND,
            type="text",
            body=text,
            provider_message_id=f"wamid.{uuid.uuid4().hex}",
            author_kind=AuthorKind.CONTACT,
            author_contact_id=conversation.contact_id,
            provider_timestamp=at,
        )
        session.add(message)
        conversation.last_customer_message_at = at
        session.commit()
        return message.id


@contextmanager
def fast_password_hashing() -> Iterator[None]:
    """Argon2id with the smallest cost, for tests only: the same algorithm and format,
    without spending a second of CPU on every sign-in."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", cheap)
        patch.setattr(passwords, "_DUMMY_HASH", cheap.hash("kazi-no-such-teammate-password"))
        yield


def make_world(db: Engine) -> World:
    """A workspace with an admin, a manager, two agents in sales and one elsewhere."""
    slug = f"inbox-{uuid.uuid4().hex[:8]}"
    with system_session(db) as session:
        workspace = Workspace(slug=slug, name=f"Shop {slug}", timezone="Africa/Nairobi")
        session.add(workspace)
        session.commit()
        world = World(db=db, workspace_id=workspace.id, slug=slug)
    password_hash = hash_password(PASSWORD)
    with workspace_session(db, world.workspace_id) as session:
        sales, fulfilment = (
            Team(handle="sales", name="Sales"),
            Team(handle="fulfilment", name="Fulfilment"),
        )
        session.add_all([sales, fulfilment])
        roles = {
            "boss": "admin",
            "manager": "manager",
            "agent": "agent",
            "other": "agent",
            "kevin": "agent",
        }
        people = {}
        for handle, role in roles.items():
            teammate = Teammate(
                handle=handle,
                name=handle.capitalize(),
                email=f"{handle}@{slug}.test",
                role=role,
                password_hash=password_hash,
            )
            session.add(teammate)
            people[handle] = teammate
        session.flush()
        session.add(TeamMembership(team_id=sales.id, teammate_id=people["agent"].id))
        session.add(TeamMembership(team_id=sales.id, teammate_id=people["other"].id))
        session.add(TeamMembership(team_id=fulfilment.id, teammate_id=people["kevin"].id))
        session.commit()
        world.people = {handle: t.id for handle, t in people.items()}
        world.teams = {"sales": sales.id, "fulfilment": fulfilment.id}
    return world


def desk(session: Session, config: WorkspaceConfig | None = None) -> Desk:
    """A staff action's desk: with no config, one whose workspace has none in force (no
    rules, no pipelines); with one, its pipelines and nothing but them (no rules run)."""
    if config is None:
        return desk_for(session, None)
    return Desk(session, RulesInForce(RuleGraph.empty(config), config, None))
