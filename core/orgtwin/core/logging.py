"""Structured logging: one JSON object per line, event name plus typed fields, never a PII value.

Callers pass only ids, types and counts as ``extra`` fields, e.g.
``log.info("session.transition", extra={"fields": {"session": name, "to": "Active"}})``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line: ts, level, logger, event and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key != "fields" and not key.startswith("_"):
                line.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: messages of third-party errors may echo input values.
            line["error_type"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, separators=(",", ":"))


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Install the orgtwin log format on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
