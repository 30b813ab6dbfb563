"""The config folders a process serves, one per workspace slug, compiled before use.

Each process keeps its own compiled copy, keyed by slug. The database says which
config version is in force (`kazi load` / `kazi reload` switch it); a process
whose copy is of another version compiles the folder again and swaps the copy
in one assignment, so every process follows the switch without restarting. A
folder with errors is never served: the copy in force stays.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dsl.diagnostics import Diagnostic
from dsl.workspace import CompileResult, compile_workspace
from engine.core.config import WorkspaceConfig
from engine.workspaces.installed import INSTALLED

logger = logging.getLogger(__name__)

CONFIG_SUFFIXES = frozenset({".yaml", ".yml", ".kazi"})


@dataclass(frozen=True)
class WhatsAppSecrets:
    """A workspace's WhatsApp app secret and webhook verify token, read from the environment."""

    app_secret: str | None
    verify_token: str | None


class ConfigRefused(Exception):
    """The folder has errors; the diagnostics say where and what to do."""

    def __init__(self, folder: Path, diagnostics: list[Diagnostic]) -> None:
        self.folder = folder
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0].headline() if errors else "no config"
        super().__init__(f"{folder}: {len(errors)} error(s), first: {first}")


def compile_folder(folder: Path) -> CompileResult:
    """The compiled folder, or ConfigRefused with every diagnostic."""
    result = compile_workspace(folder, capabilities=INSTALLED)
    if not result.ok:
        raise ConfigRefused(folder, result.diagnostics)
    return result


def read_folder(folder: Path) -> WorkspaceConfig:
    result = compile_folder(folder)
    assert result.config is not None  # ok implies a config
    return result.config


class ConfigDirectory:
    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self._env = os.environ if env is None else env
        self._compiled: dict[str, CompileResult] = {}
        self._lock = threading.Lock()

    def compiled(
        self,
        slug: str,
        active_version: str | None = None,
        files: Callable[[], Mapping[str, str]] | None = None,
    ) -> CompileResult | None:
        """The workspace's compiled config.

        With `active_version` (the version the database says is in force) and a way to
        read its `files`, the copy held is replaced by a compile of exactly those files when it
        is of another version. Without them, the folder is compiled. None when nothing
        valid can be had.
        """
        with self._lock:
            held = self._compiled.get(slug)
            if held is not None and (active_version is None or held.version == active_version):
                return held
            stored = files() if active_version is not None and files is not None else None
            if active_version is not None and stored:
                fresh = _compile_files(slug, stored)
                if fresh is not None and fresh.version == active_version:
                    self._compiled[slug] = fresh
                    return fresh
                logger.error("stored files of %s do not compile to %s", slug, active_version)
            folder = self.root / slug
            if not (folder / "workspace.yaml").is_file():
                return held
            try:
                fresh = compile_folder(folder)
            except ConfigRefused as refused:
                logger.error("config of %s refused; keeping the one in force: %s", slug, refused)
                return held
            if active_version is not None and fresh.version != active_version:
                logger.warning(
                    "config folder of %s is version %s but %s is in force; run kazi load",
                    slug,
                    fresh.version,
                    active_version,
                )
            self._compiled[slug] = fresh
            return fresh

    def config(self, slug: str) -> WorkspaceConfig | None:
        compiled = self.compiled(slug)
        return compiled.config if compiled is not None else None

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


def _compile_files(slug: str, files: Mapping[str, str]) -> CompileResult | None:
    with tempfile.TemporaryDirectory(prefix="kazi-config-") as scratch:
        folder = Path(scratch) / slug
        for name, text in files.items():
            path = folder / name
            if folder.resolve() not in path.resolve().parents:
                return None  # a stored name that would leave the folder
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        result = compile_workspace(folder, capabilities=INSTALLED)
    return result if result.ok else None
