"""What the demo needs to run locally: secrets for the sample's integrations, sign-ins."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from engine.auth.passwords_admin import find_teammate, generate_password, set_password
from engine.core.config import WorkspaceConfig
from engine.db import unit_of_work


@dataclass(frozen=True)
class DemoSecrets:
    app_secret: str
    access_token: str
    environment: dict[str, str]  # variables to set for the demo's processes


def demo_secrets(
    config: WorkspaceConfig, env: Mapping[str, str], require_whatsapp: bool = True
) -> DemoSecrets:
    """Fill every secret the workspace names but the environment lacks with a fresh
    random value, so the local simulator and Kazi share them and nothing real is used."""
    environment: dict[str, str] = {}
    app_secret = access_token = ""
    for integration in config.integrations:
        for setting, variable in integration.secrets.items():
            value = env.get(variable) or environment.get(variable) or secrets.token_hex(16)
            if variable not in env:
                environment[variable] = value
            if integration.kind == "whatsapp" and setting == "app_secret" and not app_secret:
                app_secret = value
            if integration.kind == "whatsapp" and setting == "access_token" and not access_token:
                access_token = value
    if not app_secret and require_whatsapp:
        raise ValueError(f"workspace {config.slug!r} has no WhatsApp app secret to demo with")
    return DemoSecrets(app_secret=app_secret, access_token=access_token, environment=environment)


@dataclass(frozen=True)
class DemoLogin:
    handle: str
    name: str
    role: str
    password: str


def demo_logins(
    db: Engine, workspace_id: int, config: WorkspaceConfig, now: datetime
) -> list[DemoLogin]:
    """Fresh passwords for a manager and an agent of the demo workspace, for this run."""
    wanted = []
    for role in ("manager", "agent"):
        person = next((t for t in config.teammates if t.role == role), None)
        if person is not None:
            wanted.append(person)
    logins = []
    with unit_of_work(db, workspace_id) as session:
        for person in wanted:
            password = generate_password()
            set_password(session, find_teammate(session, person.handle), password, now)
            logins.append(DemoLogin(person.handle, person.name, person.role, password))
    return logins
