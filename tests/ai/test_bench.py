"""bench/ai.py on the samples' labelled sets: it runs, and the offline provider stays good."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dsl.config import load_config
from engine.core.ai import OfflineProvider


def _bench(repo_root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ai", repo_root / "bench" / "ai.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ai"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["retail", "distributor"])
def test_the_offline_provider_on_the_labelled_set(repo_root: Path, name: str) -> None:
    bench = _bench(repo_root)
    folder = repo_root / "configs" / name
    config, _ = load_config(folder)
    assert config is not None
    messages = bench.load_labelled(folder)
    assert len(messages) >= 30
    assert {m.intent for m in messages} >= {i.name for i in config.ai.intents} | {"none"}
    scores = bench.measure(OfflineProvider(config), messages)
    assert scores.accuracy >= 0.85
    assert scores.extraction_precision >= 0.85 and scores.extraction_recall >= 0.85


def test_the_benchmark_prints_per_intent_figures(
    repo_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _bench(repo_root).main(["--workspace", "retail"]) == 0
    printed = capsys.readouterr().out
    assert "classification accuracy" in printed and "warranty" in printed
    assert "extraction precision" in printed
