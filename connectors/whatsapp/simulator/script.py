"""Scripted customers, loaded from YAML.

```yaml
templates:                      # the approved templates the simulated API accepts
  - {name: order_update, languages: [en, en_US], body_parameters: 2}
customers:
  - wa_id: "254712345678"
    name: Amina Wanjiru
    steps:
      - text: Habari! Do you deliver to Westlands?
      - wait_for_reply: 120     # until the business answers (at most 120 s)
      - after: 2                # seconds before this step (default: the --pace)
        image: {caption: This one, please}
      - reaction: "👍"           # to the business's last message
  - wa_id: "254722000333"       # a customer who gets a broadcast and answers it
    steps:
      - wait_for_template: 3600 # until the business writes first (at most an hour)
      - text: STOP              # or a reply: "Is it still available?"
```
A step holds one message kind (see `payloads.CONTENT_KEYS`) plus optional `after`,
`forwarded: true`, `reply_to_last: true` and `referral: {...}`, or is `wait_for_reply` or
`wait_for_template`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.whatsapp.policy import ApprovedTemplate
from connectors.whatsapp.simulator.payloads import CONTENT_KEYS

DEMO_SCRIPT = Path(__file__).with_name("demo_script.yaml")


class ScriptError(ValueError):
    """A script that cannot be used; the message says where."""


@dataclass(frozen=True)
class ScriptedCustomer:
    wa_id: str
    name: str
    steps: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Script:
    customers: tuple[ScriptedCustomer, ...]
    templates: tuple[ApprovedTemplate, ...]


def load_script(path: Path) -> Script:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScriptError(f"{path}: {error}") from None
    return script_from_document(document, str(path))


def script_from_document(document: Any, where: str = "script") -> Script:
    if not isinstance(document, dict):
        raise ScriptError(f"{where}: expected a mapping with `customers` and `templates`")
    customers = []
    for index, raw in enumerate(document.get("customers") or []):
        place = f"{where}: customers[{index}]"
        if not isinstance(raw, dict) or not str(raw.get("wa_id", "")).isdigit():
            raise ScriptError(f"{place}: needs a `wa_id` of digits (country code first, no +)")
        steps = raw.get("steps") or []
        if not isinstance(steps, list):
            raise ScriptError(f"{place}: `steps` must be a list")
        for number, step in enumerate(steps):
            _check_step(step, f"{place}.steps[{number}]")
        customers.append(
            ScriptedCustomer(str(raw["wa_id"]), str(raw.get("name") or raw["wa_id"]), tuple(steps))
        )
    templates = []
    for index, raw in enumerate(document.get("templates") or []):
        if not isinstance(raw, dict) or not raw.get("name"):
            raise ScriptError(f"{where}: templates[{index}] needs a `name`")
        languages = raw.get("languages") or ["en"]
        count = raw.get("body_parameters")
        templates.append(
            ApprovedTemplate(
                name=str(raw["name"]),
                languages=frozenset(str(lang) for lang in languages),
                body_parameters=int(count) if count is not None else None,
            )
        )
    return Script(tuple(customers), tuple(templates))


def _check_step(step: Any, place: str) -> None:
    if not isinstance(step, dict):
        raise ScriptError(f"{place}: a step is a mapping, e.g. {{text: hello}}")
    if "wait_for_reply" in step or "wait_for_template" in step:
        return
    kinds = [k for k in CONTENT_KEYS if k in step]
    if len(kinds) != 1:
        raise ScriptError(f"{place}: needs exactly one of {', '.join(CONTENT_KEYS)}")
    after = step.get("after", 0)
    if not isinstance(after, int | float) or after < 0:
        raise ScriptError(f"{place}: `after` is a number of seconds, not {after!r}")
