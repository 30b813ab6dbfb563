"""API tokens for integrations and scripts, sent as `Authorization: Bearer <token>`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from engine.auth.bearer import new_secret, parse_secret
from engine.auth.principal import Principal, Role
from engine.db import workspace_session
from engine.models import ApiToken

TOKEN_PREFIX = "kazi_"
TOUCH_EVERY = timedelta(minutes=1)


def create_api_token(
    db: Engine, *, workspace_id: int, role: Role, label: str, now: datetime
) -> str:
    """A new token acting with `role` in the workspace; the secret is returned once."""
    secret, token_hash = new_secret(workspace_id, prefix=TOKEN_PREFIX)
    with workspace_session(db, workspace_id) as session:
        session.add(
            ApiToken(label=label[:200], role=role.label, token_hash=token_hash, created_at=now)
        )
        session.commit()
    return secret


def authenticate_token(db: Engine, bearer: str | None, now: datetime) -> Principal | None:
    parsed = parse_secret(bearer, prefix=TOKEN_PREFIX)
    if parsed is None:
        return None
    with workspace_session(db, parsed.workspace_id) as session:
        token = session.scalars(
            select(ApiToken).where(
                ApiToken.token_hash == parsed.token_hash, ApiToken.revoked_at.is_(None)
            )
        ).first()
        if token is None:
            return None
        if token.last_used_at is None or token.last_used_at + TOUCH_EVERY <= now:
            token.last_used_at = now
            session.commit()
        return Principal(
            workspace_id=parsed.workspace_id,
            role=Role.parse(token.role),
            name=f"API token {token.label}",
            token_id=token.id,
        )


def revoke_api_token(db: Engine, *, workspace_id: int, token_id: int, now: datetime) -> bool:
    with workspace_session(db, workspace_id) as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None:
            return False
        token.revoked_at = now
        session.commit()
        return True
