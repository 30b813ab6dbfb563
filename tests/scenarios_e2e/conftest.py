"""Fixtures for playing the sample workspaces' scenarios through the real engine."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.workspaces.directory import ConfigDirectory

SampleCopy = Callable[[str], tuple[Path, str]]


@pytest.fixture(scope="session")
def scenario_configs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenario-configs")


@pytest.fixture(scope="session")
def scenario_configs(scenario_configs_dir: Path) -> ConfigDirectory:
    """One compiled-config cache for the run, like a long-lived worker's.

    The schedule loop (`run_due_schedules`) looks at every workspace in the database;
    sharing the cache compiles each of the run's other workspaces once, not per test.
    """
    return ConfigDirectory(scenario_configs_dir)


@pytest.fixture()
def sample_copy(scenario_configs_dir: Path, repo_root: Path) -> SampleCopy:
    """Copies `configs/<sample>` under a slug of this test's own: (config dir, slug).

    The run shares one database, and a scenario's scheduled rules and sweeps act on a
    whole workspace, so every scenario gets a workspace nobody else touches.
    """
    config_dir = scenario_configs_dir

    def copy(sample: str) -> tuple[Path, str]:
        slug = f"{sample}_{uuid.uuid4().hex[:8]}"
        shutil.copytree(repo_root / "configs" / sample, config_dir / slug)
        workspace_file = config_dir / slug / "workspace.yaml"
        text = workspace_file.read_text(encoding="utf-8")
        assert f"\nslug: {sample}\n" in text
        workspace_file.write_text(text.replace(f"\nslug: {sample}\n", f"\nslug: {slug}\n"), "utf-8")
        return config_dir, slug

    return copy
