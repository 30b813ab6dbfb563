"""Who is asking: a signed-in teammate or an API token, always inside one workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Role(IntEnum):
    """Roles in rank order: each can do what the ones below it can."""

    AGENT = 1  # works conversations
    MANAGER = 2  # also reassigns anyone, dashboards, builder
    ADMIN = 3  # also teammates and integrations

    @classmethod
    def parse(cls, name: str | None) -> Role:
        """The role a stored or typed name means; anything unknown is the least (agent)."""
        try:
            return cls[(name or "").strip().upper()]
        except KeyError:
            return cls.AGENT

    @property
    def label(self) -> str:
        return self.name.lower()


ROLE_NAMES = tuple(role.label for role in Role)


@dataclass(frozen=True)
class Principal:
    workspace_id: int
    role: Role
    name: str
    teammate_id: int | None = None  # None for an API token
    team_ids: frozenset[int] = field(default_factory=frozenset)
    session_id: int | None = None
    token_id: int | None = None

    @property
    def is_teammate(self) -> bool:
        return self.teammate_id is not None

    def at_least(self, role: Role) -> bool:
        return self.role >= role
