"""Incremental server-sent-events parsing and writing, exact across arbitrary network reads."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any

from orgtwin.core import jsonio


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
        # One split per read: a read can carry hundreds of lines, and cutting them off the
        # front of the buffer one at a time copied the rest of it for every line.
        lines = (self._buf + self._decoder.decode(chunk)).split("\n")
        self._buf = lines.pop()
        events: list[Event] = []
        for raw in lines:
            line = raw.rstrip("\r")
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


def openai_event(obj: Any) -> bytes:
    return b"data: " + jsonio.dumps(obj) + b"\n\n"


def named_event(name: str, obj: Any) -> bytes:
    """An event with an ``event:`` line, as Anthropic and the Responses API send them."""
    return b"event: " + name.encode() + b"\ndata: " + jsonio.dumps(obj) + b"\n\n"


DONE = b"data: [DONE]\n\n"
