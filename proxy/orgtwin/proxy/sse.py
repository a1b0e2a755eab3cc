"""Incremental server-sent-events parsing and writing, exact across arbitrary network reads."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One SSE event: its ``event:`` name (may be empty) and its joined ``data:`` lines."""

    name: str
    data: str


class SSEParser:
    """Feed raw bytes as they arrive; get whole events back."""

    def __init__(self) -> None:
        # Incremental decoding: a multi-byte character split across reads stays intact.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self._buf = ""
        self._name = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[Event]:
        self._buf += self._decoder.decode(chunk)
        events: list[Event] = []
        while True:
            cut = self._buf.find("\n")
            if cut < 0:
                break
            line = self._buf[:cut].rstrip("\r")
            self._buf = self._buf[cut + 1 :]
            if not line:
                if self._data:
                    events.append(Event(self._name, "\n".join(self._data)))
                self._name, self._data = "", []
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                self._data.append(value)
            elif field == "event":
                self._name = value
        return events

    @property
    def has_partial(self) -> bool:
        """True when the stream stopped in the middle of an event."""
        return bool(self._buf.strip() or self._data)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def openai_event(obj: Any) -> bytes:
    return f"data: {dumps(obj)}\n\n".encode()


def anthropic_event(name: str, obj: Any) -> bytes:
    return f"event: {name}\ndata: {dumps(obj)}\n\n".encode()


DONE = b"data: [DONE]\n\n"
