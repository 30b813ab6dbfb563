"""Recording who did what from the inbox (DESIGN: stage history, audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.auth.principal import Principal
from engine.core.step import Actor
from engine.models import ActorKind, AuditLog


def actor_of(principal: Principal) -> Actor:
    """Who the engine records for this principal: a teammate, or an API token by its name."""
    if principal.is_teammate:
        return Actor(ActorKind.TEAMMATE, principal.name, principal.teammate_id)
    return Actor(ActorKind.SYSTEM, principal.name)


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    subject_kind: str,
    subject_id: int | None,
    now: datetime,
    **detail: Any,
) -> None:
    session.add(
        AuditLog(
            actor_kind=ActorKind.TEAMMATE if principal.is_teammate else ActorKind.SYSTEM,
            actor_teammate_id=principal.teammate_id,
            actor_name=None if principal.is_teammate else principal.name,
            action=action,
            subject_kind=subject_kind,
            subject_id=subject_id,
            detail=detail,
            at=now,
        )
    )
