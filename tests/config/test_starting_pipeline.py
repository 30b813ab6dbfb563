"""Which pipeline a new conversation starts in, by the business number it came to."""

from __future__ import annotations

from pathlib import Path

from dsl.config.loader import load_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_a_number_may_name_its_pipeline_and_the_others_then_start_none() -> None:
    config, _ = load_config(CONFIGS / "distributor")
    assert config is not None
    support = config.starting_pipeline("+254733905121")
    assert support is not None and (support.name, support.initial) == ("support", "new")
    assert config.starting_pipeline("+254733905120") is None  # sales: orders, not tickets


def test_without_named_pipelines_every_number_starts_the_first_conversation_pipeline() -> None:
    config, _ = load_config(CONFIGS / "retail")
    assert config is not None
    started = config.starting_pipeline("+254711502300")
    assert started is not None and started.name == "sales"
