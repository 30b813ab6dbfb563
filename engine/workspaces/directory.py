"""The config folders a process serves, one per workspace slug, checked before use.

Each process keeps its own parsed copy, keyed by slug; a folder with errors is
never served (the copy in force stays), and `forget` makes the next use re-read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from dsl.config.loader import load_config
from dsl.config.model import WorkspaceConfig
from dsl.diagnostics import Diagnostic, has_errors
from engine.whatsapp.webhook import WhatsAppSecrets


class ConfigRefused(Exception):
    """The folder has errors; the diagnostics say where and what to do."""

    def __init__(self, folder: Path, diagnostics: list[Diagnostic]) -> None:
        self.folder = folder
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0].headline() if errors else "no config"
        super().__init__(f"{folder}: {len(errors)} error(s), first: {first}")


def read_folder(folder: Path) -> WorkspaceConfig:
    config, diagnostics = load_config(folder)
    if config is None or has_errors(diagnostics):
        raise ConfigRefused(folder, diagnostics)
    return config


class ConfigDirectory:
    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self._env = os.environ if env is None else env
        self._configs: dict[str, WorkspaceConfig] = {}
        self._lock = threading.Lock()

    def config(self, slug: str) -> WorkspaceConfig | None:
        """The workspace's config, or None if it has no folder or the folder is refused."""
        with self._lock:
            if slug not in self._configs:
                folder = self.root / slug
                if not (folder / "workspace.yaml").is_file():
                    return None
                try:
                    self._configs[slug] = read_folder(folder)
                except ConfigRefused:
                    return None
            return self._configs[slug]

    def forget(self, slug: str) -> None:
        with self._lock:
            self._configs.pop(slug, None)

    def whatsapp_secrets(self, slug: str) -> WhatsAppSecrets | None:
        """The WhatsApp app secret and verify token, read from the environment variables
        the workspace's integrations.yaml names; None without a WhatsApp integration."""
        config = self.config(slug)
        if config is None:
            return None
        for integration in config.integrations:
            if integration.kind == "whatsapp":
                return WhatsAppSecrets(
                    app_secret=self._secret(integration.secrets.get("app_secret")),
                    verify_token=self._secret(integration.secrets.get("verify_token")),
                )
        return None

    def _secret(self, variable: str | None) -> str | None:
        return (self._env.get(variable) or None) if variable else None
