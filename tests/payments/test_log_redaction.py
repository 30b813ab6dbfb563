"""The callback token is the only credential M-Pesa callbacks carry: it never reaches a log."""

from __future__ import annotations

import logging

from engine.logging_setup import RedactCallbackTokens


def test_callback_tokens_are_redacted_from_log_lines() -> None:
    record = logging.makeLogRecord(
        {
            "msg": '%s - "%s %s HTTP/1.1" %d',
            "args": ("196.201.214.200:0", "POST", "/webhooks/payments/retail/s3cr3t/stk", 200),
        }
    )
    assert RedactCallbackTokens().filter(record)
    assert record.getMessage() == (
        '196.201.214.200:0 - "POST /webhooks/payments/retail/***/stk HTTP/1.1" 200'
    )
    plain = logging.makeLogRecord({"msg": "GET /webhooks/whatsapp/retail %s", "args": ("ok",)})
    RedactCallbackTokens().filter(plain)
    assert plain.getMessage() == "GET /webhooks/whatsapp/retail ok"
