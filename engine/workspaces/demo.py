"""Secrets for the demo: the sample workspace's integrations need values to run locally."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from dsl.config.model import WorkspaceConfig


@dataclass(frozen=True)
class DemoSecrets:
    app_secret: str
    access_token: str
    environment: dict[str, str]  # variables to set for the demo's processes


def demo_secrets(config: WorkspaceConfig, env: Mapping[str, str]) -> DemoSecrets:
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
    if not app_secret:
        raise ValueError(f"workspace {config.slug!r} has no WhatsApp app secret to demo with")
    return DemoSecrets(app_secret=app_secret, access_token=access_token, environment=environment)
