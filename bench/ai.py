"""AI quality benchmark: the offline classifier and extractor on each sample's labelled set.

    .venv/bin/python bench/ai.py [--workspace retail] [--base-url URL --model NAME [--key-env VAR]]

Each sample workspace ships `labelled/ai.yaml`: customer messages (English and Swahili)
with the intent and details a person reads in them. For each workspace this prints the
classifier's accuracy, precision and recall per intent ("none" is the messages no intent
fits), and the extractor's precision and recall over (kind, value) pairs. With
`--base-url` it measures an OpenAI-compatible model the same way (for example the
simulator from `kazi simulate-ai`, or a local llama.cpp / Ollama server), masking as the
workspace's ai.yaml says.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.openai_compat import ChatClient, CircuitBreaker, OpenAICompatProvider  # noqa: E402
from dsl.config import load_config  # noqa: E402
from engine.core.ai import (  # noqa: E402
    AiProvider,
    AiUnavailable,
    ClassifyRequest,
    ExtractRequest,
    OfflineProvider,
)
from engine.core.config import WorkspaceConfig  # noqa: E402

SAMPLES = ("retail", "distributor")
NONE = "none"


@dataclass(frozen=True)
class Labelled:
    text: str
    intent: str
    fields: frozenset[tuple[str, str]]


@dataclass
class Scores:
    accuracy: float
    per_intent: dict[str, tuple[float, float, int]]  # intent -> (precision, recall, support)
    extraction_precision: float
    extraction_recall: float
    failures: int
    seconds: float


def load_labelled(folder: Path) -> list[Labelled]:
    document: dict[str, Any] = yaml.safe_load((folder / "labelled" / "ai.yaml").read_text("utf-8"))
    found = []
    for item in document["messages"]:
        fields = frozenset(
            (kind, str(value).casefold())
            for kind, values in (item.get("fields") or {}).items()
            for value in values
        )
        found.append(Labelled(item["text"], item.get("intent") or NONE, fields))
    return found


def measure(provider: AiProvider, messages: list[Labelled]) -> Scores:
    started = time.perf_counter()
    truth_count: Counter[str] = Counter()
    guess_count: Counter[str] = Counter()
    right: Counter[str] = Counter()
    extracted_right = extracted = expected = failures = 0
    for message in messages:
        try:
            guess = provider.classify(ClassifyRequest(message.text)).intent or NONE
            found = frozenset(
                (f.kind.value, f.value.casefold())
                for f in provider.extract(ExtractRequest(message.text)).fields
            )
        except AiUnavailable:
            failures += 1
            guess, found = NONE, frozenset()
        truth_count[message.intent] += 1
        guess_count[guess] += 1
        if guess == message.intent:
            right[guess] += 1
        extracted += len(found)
        expected += len(message.fields)
        extracted_right += len(found & message.fields)
    per_intent = {
        intent: (
            right[intent] / guess_count[intent] if guess_count[intent] else 0.0,
            right[intent] / truth_count[intent] if truth_count[intent] else 0.0,
            truth_count[intent],
        )
        for intent in sorted(set(truth_count) | set(guess_count))
    }
    return Scores(
        accuracy=sum(right.values()) / len(messages),
        per_intent=per_intent,
        extraction_precision=extracted_right / extracted if extracted else 0.0,
        extraction_recall=extracted_right / expected if expected else 0.0,
        failures=failures,
        seconds=time.perf_counter() - started,
    )


def report(title: str, scores: Scores, count: int) -> None:
    print(f"\n{title}: {count} messages in {scores.seconds:.2f}s")
    print(f"  classification accuracy {scores.accuracy:.0%}")
    print(f"  {'intent':<18} {'precision':>9} {'recall':>7} {'messages':>8}")
    for intent, (precision, recall, support) in scores.per_intent.items():
        print(f"  {intent:<18} {precision:>9.0%} {recall:>7.0%} {support:>8}")
    print(
        f"  extraction precision {scores.extraction_precision:.0%}, "
        f"recall {scores.extraction_recall:.0%}"
        + (f"; {scores.failures} calls failed" if scores.failures else "")
    )


def model_provider(config: WorkspaceConfig, arguments: argparse.Namespace) -> AiProvider:
    key = os.environ.get(arguments.key_env) if arguments.key_env else None
    client = ChatClient(arguments.base_url, arguments.model, key, arguments.timeout, retries=1)
    return OpenAICompatProvider(config, client, CircuitBreaker(1000, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", action="append", choices=SAMPLES)
    parser.add_argument("--base-url", help="an OpenAI-compatible API root to measure as well")
    parser.add_argument("--model", default="kazi-sim")
    parser.add_argument("--key-env", help="environment variable holding the API key")
    parser.add_argument("--timeout", type=float, default=20.0)
    arguments = parser.parse_args(argv)
    for name in arguments.workspace or SAMPLES:
        folder = ROOT / "configs" / name
        config, diagnostics = load_config(folder)
        if config is None:
            print(f"{name}: the config does not load", file=sys.stderr)
            for diagnostic in diagnostics:
                print(diagnostic.headline(), file=sys.stderr)
            return 1
        messages = load_labelled(folder)
        report(
            f"{name}, offline provider", measure(OfflineProvider(config), messages), len(messages)
        )
        if arguments.base_url:
            provider = model_provider(config, arguments)
            title = f"{name}, model {arguments.model} at {arguments.base_url}"
            report(title, measure(provider, messages), len(messages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
