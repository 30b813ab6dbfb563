"""ai.yaml and knowledge.yaml: the samples load, defaults hold, and the model key is a secret."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from dsl.config import load_config
from dsl.config.secrets import check_secrets
from engine.core.config import AiConfig

HERE = Path(__file__).parent
MINIMAL = HERE.parent / "config" / "minimal"


@pytest.mark.parametrize("name", ["retail", "distributor"])
def test_samples_have_intents_and_knowledge(repo_root: Path, name: str) -> None:
    config, diagnostics = load_config(repo_root / "configs" / name)
    assert config is not None, [d.headline() for d in diagnostics]
    assert config.ai.provider == "offline"
    assert len(config.ai.intents) >= 6
    assert all(i.keywords and i.examples for i in config.ai.intents)
    assert config.knowledge.products and config.knowledge.delivery and config.knowledge.hours
    assert config.ai.monthly_budget is not None and config.ai.masking.numbers


def test_a_folder_without_ai_files_gets_the_offline_defaults(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    shutil.copytree(MINIMAL, folder)
    (folder / "ai.yaml").unlink()
    (folder / "knowledge.yaml").unlink()
    config, diagnostics = load_config(folder)
    assert config is not None and diagnostics == []
    assert config.ai == AiConfig() and config.knowledge.products == ()


def test_model_settings_and_key_variable(tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    shutil.copytree(MINIMAL, folder)
    (folder / "ai.yaml").write_text(
        "provider: openai_compat\n"
        "model:\n"
        "  base_url: http://127.0.0.1:8091/v1/\n"
        "  name: llama3.1:8b\n"
        "  api_key: env:SHOP_AI_KEY\n"
        "  timeout_seconds: 2.5\n"
        "  breaker: {failures: 2, cooldown_seconds: 30}\n"
        "  cost_per_1k_tokens: {input: 0.5, output: 1.5}\n",
        encoding="utf-8",
    )
    config, diagnostics = load_config(folder)
    assert config is not None, [d.headline() for d in diagnostics]
    endpoint = config.ai.endpoint
    assert endpoint is not None
    assert (endpoint.base_url, endpoint.model, endpoint.key_variable) == (
        "http://127.0.0.1:8091/v1",
        "llama3.1:8b",
        "SHOP_AI_KEY",
    )
    assert (endpoint.timeout_seconds, endpoint.breaker_failures) == (2.5, 2)
    assert endpoint.output_cost_per_1k == Decimal("1.5")
    unset = [d for d in check_secrets(config, {}) if d.span.file.endswith("ai.yaml")]
    assert [d.code for d in unset] == ["E080"] and "SHOP_AI_KEY" in unset[0].message
    assert unset[0].span.line == 5
    found = check_secrets(config, {"SHOP_AI_KEY": "k"})
    assert not [d for d in found if d.span.file.endswith("ai.yaml")]
