"""Relaying an upstream SSE stream to the client: parse, transform, re-emit, fail clearly.

Yields bytes for the client, plus two kinds of bookkeeping the caller consumes: a float
(seconds the proxy spent on a network read's worth of events) and, after an error event
was sent, the ProxyError that caused it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from orgtwin.core import jsonio
from orgtwin.core.privacy import RestoreMap
from orgtwin.proxy import anthropic_protocol, openai_protocol, responses_protocol
from orgtwin.proxy.errors import Protocol, ProxyError, UpstreamError, error_event
from orgtwin.proxy.policy import ToolRules
from orgtwin.proxy.sse import DONE, SSEParser, named_event, openai_event

Piece = bytes | float | ProxyError
_BATCH_SECONDS = 0.001


class _MalformedError(Exception):
    """The upstream sent something that is not the protocol's event shape."""


class _UpstreamReportedError(Exception):
    """The upstream sent an error event of its own."""


def _load(data: str) -> dict[str, Any]:
    try:
        obj = jsonio.loads_event(data)
    except ValueError as exc:
        raise _MalformedError from exc
    if not isinstance(obj, dict):
        raise _MalformedError
    return obj


class _OpenAI:
    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: Callable[[str], None]) -> None:
        self.t = openai_protocol.StreamTransformer(rmap, rules, on_block)
        self.done = False

    def event(self, name: str, data: str) -> list[bytes]:
        if data.strip() == "[DONE]":
            self.done = True
            return [*(openai_event(c) for c in self.t.finish()), DONE]
        obj = _load(data)
        if "error" in obj:
            raise _UpstreamReportedError
        return [openai_event(c) for c in self.t.chunk(obj)]

    def tail(self) -> list[bytes]:
        return [openai_event(c) for c in self.t.finish()]

    def error(self, err: ProxyError) -> bytes:
        return error_event("openai", err)


class _Anthropic:
    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: Callable[[str], None]) -> None:
        self.t = anthropic_protocol.StreamTransformer(rmap, rules, on_block)
        self.done = False

    def event(self, name: str, data: str) -> list[bytes]:
        obj = _load(data)
        kind = obj.get("type", name)
        if kind == "error":
            raise _UpstreamReportedError
        if kind == "message_stop":
            self.done = True
        return [named_event(n, o) for n, o in self.t.event(name or str(kind), obj)]

    def tail(self) -> list[bytes]:
        return [named_event(n, o) for n, o in self.t.finish()]

    def error(self, err: ProxyError) -> bytes:
        return error_event("anthropic", err)


class _Responses:
    def __init__(self, rmap: RestoreMap, rules: ToolRules, on_block: Callable[[str], None]) -> None:
        self.t = responses_protocol.StreamTransformer(rmap, rules, on_block)
        self.done = False

    def event(self, name: str, data: str) -> list[bytes]:
        if data.strip() == "[DONE]":
            # Not part of the Responses API, but some compatible servers end with it.
            self.done = True
            return [DONE]
        obj = _load(data)
        kind = str(obj.get("type") or name)
        if kind == "error":
            raise _UpstreamReportedError
        obj["type"] = kind
        if kind in responses_protocol.FINAL:
            self.done = True
        return [named_event(str(o["type"]), o) for o in self.t.event(obj)]

    def tail(self) -> list[bytes]:
        return [named_event(str(o["type"]), o) for o in self.t.finish()]

    def error(self, err: ProxyError) -> bytes:
        return error_event("responses", err, self.t.next_sequence_number())


_HANDLERS: dict[Protocol, type[_OpenAI | _Anthropic | _Responses]] = {
    "openai": _OpenAI,
    "anthropic": _Anthropic,
    "responses": _Responses,
}


async def relay_stream(
    protocol: Protocol,
    upstream: httpx.Response,
    rmap: RestoreMap,
    rules: ToolRules,
    on_block: Callable[[str], None],
) -> AsyncIterator[Piece]:
    handler = _HANDLERS[protocol](rmap, rules, on_block)
    parser = SSEParser()
    failure: ProxyError | None = None
    sent = False
    try:
        async for raw in upstream.aiter_raw():
            t = time.perf_counter()
            out: list[bytes] = []
            try:
                for ev in parser.feed(raw):
                    out.extend(handler.event(ev.name, ev.data))
                    # A read can carry many events. The first output goes at once (time to
                    # first token is what users feel), later ones after at most ~1 ms of work.
                    if out and (not sent or time.perf_counter() - t > _BATCH_SECONDS):
                        yield time.perf_counter() - t
                        yield b"".join(out)
                        out, sent, t = [], True, time.perf_counter()
            except (_MalformedError, _UpstreamReportedError, UnicodeDecodeError) as exc:
                # Good events before the bad one in the same read still go to the client.
                failure = _event_failure(exc)
            yield time.perf_counter() - t
            if out:
                # One ASGI send per read rather than per event.
                yield b"".join(out)
            if failure is not None:
                break
        else:
            if not handler.done:
                failure = UpstreamError(
                    "the upstream stream ended before it was complete", kind="upstream_truncated"
                )
    except httpx.TimeoutException:
        failure = UpstreamError(
            "the upstream provider timed out mid-stream", status=504, kind="upstream_timeout"
        )
    except httpx.HTTPError:
        failure = UpstreamError("the upstream stream was cut off", kind="upstream_truncated")
    if failure is not None:
        # Text already held back is still the client's: send it before the error.
        for piece in handler.tail():
            yield piece
        yield handler.error(failure)
        yield failure


def _event_failure(exc: Exception) -> UpstreamError:
    if isinstance(exc, _UpstreamReportedError):
        return UpstreamError(
            "the upstream provider reported an error mid-stream", kind="upstream_error"
        )
    if isinstance(exc, UnicodeDecodeError):
        return UpstreamError("the upstream provider sent invalid UTF-8", kind="upstream_malformed")
    return UpstreamError(
        "the upstream provider sent a malformed stream event", kind="upstream_malformed"
    )
