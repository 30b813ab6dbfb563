"""Masking: numbers and names leave as placeholders and come back on this machine."""

from __future__ import annotations

from engine.core.ai import Mask


def test_numbers_and_names_are_replaced_and_restored() -> None:
    mask = Mask(numbers=True, names=("Akinyi Otieno", "Akinyi"))
    text = "Akinyi Otieno paid 1,500 from 0712 345 678; Akinyi says the A15 is fine"
    masked = mask.apply(text)
    assert masked == "[NAME1] paid [N1] from [N2]; [NAME2] says the A[N3] is fine"
    assert "0712" not in masked and "Akinyi" not in masked
    assert mask.restore(masked) == text


def test_the_same_value_gets_the_same_placeholder_across_messages() -> None:
    mask = Mask(numbers=True, names=("Juma",))
    assert mask.apply("juma 0712345678") == "[NAME1] [N1]"
    assert mask.apply("Juma again: 0712345678") == "[NAME1] again: [N1]"


def test_masking_switched_off_leaves_text_alone() -> None:
    mask = Mask(numbers=False, names=())
    assert mask.apply("Juma 0712345678") == "Juma 0712345678"
