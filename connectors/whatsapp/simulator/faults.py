"""Fault switches: what the simulator does wrong on purpose, in bounded amounts.

Written as a comma-separated spec, the same on the command line and the control
endpoint: `429:3,500:2,timeout:1,failed-after-sent:1,duplicates:3,reorder,delay:200,race`.
Counted faults apply to the next N sends and then switch themselves off; written with
`@` instead (`429@0.3`) they hit that share of sends, at random, until reset (a storm).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

COUNTED = {
    "429": "http_429",
    "500": "http_500",
    "timeout": "timeout",
    "failed-after-sent": "failed_after_sent",
}


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message names the bad part."""


@dataclass
class Faults:
    http_429: int = 0  # next N sends answer 429 / 130429
    http_500: int = 0  # next N sends answer 500 / 131000
    timeout: int = 0  # next N sends are accepted, but the answer comes too late
    failed_after_sent: int = 0  # next N accepted sends get `sent`, then `failed` (131026)
    duplicates: int = 1  # every webhook is delivered this many times, concurrently
    reorder: bool = False  # each send's statuses are delivered newest first
    delay_ms: int = 0  # wait before every webhook delivery
    race: bool = False  # statuses are delivered before the send call answers
    rates: dict[str, float] = field(default_factory=dict)  # counted fault -> share of sends

    def take(self, name: str, rng: random.Random | None = None) -> bool:
        """Use up one of a counted fault, or draw its rate; True if it hits this send."""
        left: int = getattr(self, name)
        if left > 0:
            setattr(self, name, left - 1)
            return True
        rate = self.rates.get(name, 0.0)
        return rate > 0 and (rng or random).random() < rate

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        parts = [f"{k}:{getattr(self, v)}" for k, v in COUNTED.items() if getattr(self, v)]
        parts += [f"{k}@{self.rates[v]:g}" for k, v in COUNTED.items() if self.rates.get(v)]
        if self.duplicates != 1:
            parts.append(f"duplicates:{self.duplicates}")
        if self.reorder:
            parts.append("reorder")
        if self.delay_ms:
            parts.append(f"delay:{self.delay_ms}")
        if self.race:
            parts.append("race")
        return ",".join(parts) or "none"


def parse_faults(spec: str, into: Faults | None = None) -> Faults:
    """Read a spec into `into` (or fresh Faults). Raises FaultSpecError on a bad part."""
    faults = into if into is not None else Faults()
    for part in (p.strip() for p in spec.split(",")):
        if not part or part == "none":
            continue
        if "@" in part:
            _parse_rate(part, faults)
            continue
        name, _, argument = part.partition(":")
        if name in ("reorder", "race"):
            if argument not in ("", "on", "off", "1", "0"):
                raise FaultSpecError(f"{part!r}: {name} takes no count (or on/off)")
            setattr(faults, name, argument not in ("off", "0"))
            continue
        try:
            number = int(argument) if argument else 1
        except ValueError:
            raise FaultSpecError(f"{part!r}: {argument!r} is not a whole number") from None
        if number < 0:
            raise FaultSpecError(f"{part!r}: counts cannot be negative")
        if name in COUNTED:
            setattr(faults, COUNTED[name], number)
        elif name == "duplicates":
            faults.duplicates = max(number, 1)
        elif name == "delay":
            faults.delay_ms = number
        else:
            known = ", ".join([*COUNTED, "duplicates", "reorder", "delay", "race"])
            raise FaultSpecError(f"{part!r}: unknown fault; known: {known}")
    return faults


def _parse_rate(part: str, faults: Faults) -> None:
    name, _, argument = part.partition("@")
    if name not in COUNTED:
        raise FaultSpecError(f"{part!r}: only {', '.join(COUNTED)} take a rate")
    try:
        rate = float(argument)
    except ValueError:
        raise FaultSpecError(f"{part!r}: {argument!r} is not a number") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"{part!r}: a rate is between 0 and 1")
    faults.rates[COUNTED[name]] = rate
