"""The JSON log line: one object per record, whatever the fields hold."""

from __future__ import annotations

import json
import logging
import uuid

from orgtwin.core.logging import JsonFormatter


def _record(created: float, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("orgtwin.test", logging.INFO, __file__, 1, "thing.done", (), None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    record.fields = fields
    return record


def test_a_line_is_one_json_object_with_a_utc_millisecond_timestamp() -> None:
    formatter = JsonFormatter()
    first = json.loads(formatter.format(_record(1795332285.0345, status=201, ms=3.21)))
    # The same second again, then the next one: the cached second must not go stale.
    same = json.loads(formatter.format(_record(1795332285.9995)))
    later = json.loads(formatter.format(_record(1795332286.5)))
    assert first == {
        "ts": "2026-11-22T07:24:45.034Z",
        "level": "info",
        "logger": "orgtwin.test",
        "event": "thing.done",
        "status": 201,
        "ms": 3.21,
    }
    assert same["ts"] == "2026-11-22T07:24:45.999Z"
    assert later["ts"] == "2026-11-22T07:24:46.500Z"


def test_values_json_cannot_hold_are_written_as_text_and_big_integers_exactly() -> None:
    formatter = JsonFormatter()
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    line = json.loads(formatter.format(_record(0.0, id=ident, counts={3: 1}, big=2**70)))
    assert line["id"] == str(ident)
    assert line["counts"] == {"3": 1}
    assert line["big"] == 2**70
