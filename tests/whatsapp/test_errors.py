"""Provider codes → retryable or permanent, with a meaning."""

from __future__ import annotations

import pytest

from connectors.whatsapp.errors import ERRORS, classify


@pytest.mark.parametrize("code", [130429, 131056, 131000, 131016, 131057, 80007, 4])
def test_retryable_codes(code: int) -> None:
    verdict = classify(code, 400)
    assert verdict.retryable
    assert verdict.code == str(code)


@pytest.mark.parametrize(
    "code",
    [131026, 131047, 132000, 132001, 132005, 132012, 132015, 132016, 131008, 131009, 190, 368],
)
def test_permanent_codes(code: int) -> None:
    assert not classify(code, 400).retryable


def test_the_24_hour_window_meaning_says_to_send_a_template() -> None:
    meaning = classify(131047).meaning
    assert "24-hour window" in meaning and "template" in meaning


def test_unlisted_template_codes_are_permanent() -> None:
    verdict = classify(132999, 400)
    assert not verdict.retryable and "template" in verdict.meaning


def test_server_errors_without_a_known_code_are_retryable() -> None:
    for status in (500, 502, 503, 429):
        verdict = classify(None, status)
        assert verdict.retryable
        assert verdict.code == f"http_{status}"
    assert classify(987654, 503).retryable


def test_unknown_client_errors_are_permanent() -> None:
    assert not classify(987654, 400).retryable
    assert not classify(None, 404).retryable
    assert classify(None, None).code == "unknown"


def test_every_table_row_has_a_meaning() -> None:
    assert all(row.meaning.endswith(".") for row in ERRORS.values())
