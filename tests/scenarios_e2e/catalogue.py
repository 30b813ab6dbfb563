"""Every scenario of the three sample workspaces, as `kazi test` reads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsl.scenarios import load_scenarios

SAMPLES = ("retail", "firm", "distributor")
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@dataclass(frozen=True)
class SampleScenario:
    sample: str
    file: str  # relative to the sample folder, e.g. tests/sales.yaml
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec["name"])


def all_scenarios() -> list[SampleScenario]:
    """In sample order, then file order, then the order written in each file."""
    found = []
    for sample in SAMPLES:
        folder = CONFIGS / sample
        for path in sorted((folder / "tests").glob("*.yaml")):
            for spec in load_scenarios(path):
                found.append(SampleScenario(sample, path.relative_to(folder).as_posix(), spec))
    return found
