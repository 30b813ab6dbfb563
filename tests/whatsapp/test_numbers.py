"""Brazil / Argentina / Mexico number forms name one person."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.whatsapp.numbers import equivalent_wa_ids


@pytest.mark.parametrize(
    ("wa_id", "other"),
    [
        ("5511987654321", "551187654321"),  # Brazil: with and without the ninth digit
        ("5521998765432", "552198765432"),
        ("5491123456789", "541123456789"),  # Argentina: 54 9 ... and 54 ...
        ("5215512345678", "525512345678"),  # Mexico: 52 1 ... and 52 ...
    ],
)
def test_both_forms_find_each_other(wa_id: str, other: str) -> None:
    assert equivalent_wa_ids(wa_id) == {wa_id, other}
    assert equivalent_wa_ids(other) == {wa_id, other}


@pytest.mark.parametrize(
    "wa_id",
    [
        "16505551234",  # United States: one form only
        "254712345678",  # Kenya
        "5511387654321",  # Brazil, 13 digits but no 9 after the area code
        "55118765432",  # Brazil, too short for either form
        "US.13491208655302741918",  # a BSUID
        "",
        "٥٥١١٩٨٧٦٥٤٣٢١",  # non-ASCII digits are not a wa_id
    ],
)
def test_other_numbers_have_only_themselves(wa_id: str) -> None:
    assert equivalent_wa_ids(wa_id) == {wa_id}


@given(st.from_regex(r"\A(55|54|52|1|44|254)[0-9]{8,11}\Z"))
def test_equivalence_is_symmetric_and_contains_itself(wa_id: str) -> None:
    forms = equivalent_wa_ids(wa_id)
    assert wa_id in forms
    assert len(forms) <= 2
    for other in forms:
        assert wa_id in equivalent_wa_ids(other)
