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

import orjson

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line: ts, level, logger, event and the record's fields."""

    def __init__(self) -> None:
        super().__init__()
        # The timestamp up to the second, for the second it was last rendered: a request
        # log line per request renders the same second many times over.
        self._second = (-1, "")

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self._timestamp(record.created),
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
        try:
            return orjson.dumps(line, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            # Integers beyond 64 bits.
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
    # Neither format shows the caller's file and line, thread or process: skip collecting
    # them for every record (the logging HOWTO's "Optimization" switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
