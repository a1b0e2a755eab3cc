"""JSON in and out of the proxy and the api: orjson's speed with the standard library's
exact results.

The proxy parses and writes every stream event once, and writes every body once; the
standard library spent ~20 us per event each way and ~60 us writing a 4 KB body,
orjson a few us. Where orjson would answer differently, the standard library decides:

- integers beyond 64 bits: orjson reads them as floats and will not write them, so an
  event with a run of 19 or more digits is parsed, and such integers written, by ``json``;
- NaN, Infinity and lone surrogates, which are not JSON but which ``json`` accepts, are
  parsed by ``json`` too. A NaN that got in is written as ``null``, valid JSON (``json``
  wrote ``NaN``, which no provider or client parses).

Request bodies and whole answers are parsed by ``json``: on kilobytes the digit check
costs about what orjson saves.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# bytes.translate with this table turns every ASCII digit into "0" and anything else
# into a space, so a long digit run is a plain substring search (a regex took ~12 us).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_RUN = b"0" * 19


def loads_event(data: str) -> Any:
    """Parse one stream event's JSON; raises ``ValueError`` as ``json.loads`` does."""
    raw = data.encode("utf-8", "surrogatepass")
    if _LONG_RUN not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        # Integers beyond 64 bits, or something orjson does not know how to write.
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
