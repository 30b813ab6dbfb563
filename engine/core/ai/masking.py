"""Masking: what is replaced by placeholders before a thread leaves the machine.

Numbers (phone numbers, amounts, any run of digits) become [N1], [N2] ...; the names
given (the customer's, the teammates') become [NAME1] ... The model answers in
placeholders and `unmask` puts the real values back, on this machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMBER = re.compile(r"\+?\d[\d ,.\-/]*\d|\d")


@dataclass
class Mask:
    """The placeholders of one call, so one value gets one placeholder across messages."""

    numbers: bool = True
    names: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)  # placeholder -> value

    def apply(self, text: str) -> str:
        # Numbers first: a name's placeholder holds a digit that must stay as it is.
        if self.numbers:
            text = _NUMBER.sub(lambda m: self._placeholder("N", m.group(0)), text)
        if self.names:
            for name in sorted({n for n in self.names if len(n) >= 2}, key=len, reverse=True):
                pattern = re.compile(rf"(?<![\w\[]){re.escape(name)}(?!\w)", re.IGNORECASE)
                text = pattern.sub(lambda m: self._placeholder("NAME", m.group(0)), text)
        return text

    def restore(self, text: str) -> str:
        for placeholder, value in sorted(self.values.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(placeholder, value)
        return text

    def _placeholder(self, prefix: str, value: str) -> str:
        own = [p for p in self.values if re.fullmatch(rf"\[{prefix}\d+\]", p)]
        for placeholder in own:
            if self.values[placeholder].casefold() == value.casefold():
                return placeholder
        count = len(own) + 1
        placeholder = f"[{prefix}{count}]"
        self.values[placeholder] = value
        return placeholder
