"""Log lines for people on a terminal, JSON lines for log collectors everywhere else."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime

from engine.observability.log_context import LogContextFilter

_STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


# M-Pesa's callback URLs carry the workspace's secret token (docs/mpesa.md): never log it.
_CALLBACK_TOKEN = re.compile(r"(/webhooks/(?:payments|mpesa)/[^/\s\"']+/)[^/\s\"']+")


class RedactCallbackTokens(logging.Filter):
    """Replaces the secret part of payment callback URLs in every line with `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _CALLBACK_TOKEN.sub(r"\1***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Anything passed as `extra=` travels as its own field.
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO, json_lines: bool | None = None) -> None:
    """Send logs to stderr: JSON lines if `json_lines`, else as KAZI_LOG_FORMAT says (json
    or text), else JSON unless stderr is a terminal. Every line carries the ids of the
    work it was written in (engine.observability.log_context)."""
    if json_lines is None:
        chosen = os.environ.get("KAZI_LOG_FORMAT", "")
        json_lines = chosen == "json" if chosen in ("json", "text") else not sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogContextFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactCallbackTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
