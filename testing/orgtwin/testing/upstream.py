"""A scripted fake LLM provider speaking OpenAI (chat completions and the Responses API)
and Anthropic, streaming in tiny chunks.

    with FakeUpstream() as up:                   # uvicorn in a thread on a free 127.0.0.1 port
        up.script("m1", Script(text="Hi [EMAIL_7K2Q9D]", chunk_size=2))
        ...                                      # point a client or the proxy at up.base_url
        up.requests[-1].body                     # every body received, parsed JSON

Scripts are keyed by the request's ``model`` field, which the caller controls. A model
without a script gets the default: echo the text of the last user message.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Self

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from orgtwin.testing import upstream_responses
from orgtwin.testing.ports import free_port

Fault = Literal["truncate", "malformed", "error_event", "hang"]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes; ``arguments`` is the JSON text of its input.

    ``kind`` picks the OpenAI shape: a function tool call, a custom tool call (free-text
    ``input``) or a legacy ``function_call`` (one per answer; a function call in the
    Responses API). Anthropic answers always carry a tool_use block.
    """

    name: str
    arguments: str = "{}"
    kind: Literal["function", "custom", "legacy"] = "function"


@dataclass(frozen=True)
class Script:
    """What the fake model answers for one model name.

    ``text=None`` echoes the last user message. ``chunks`` and ``arg_chunks`` give exact
    delta boundaries for the text and for every tool call's arguments; otherwise both
    are cut into pieces of ``chunk_size`` characters. ``fault`` breaks the stream on
    purpose after ``fault_after`` events.
    """

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    chunk_size: int = 4
    chunks: tuple[str, ...] | None = None
    arg_chunks: tuple[str, ...] | None = None
    delay: float = 0.0
    # Seconds before a stream's first event, as a model thinks before its first token.
    think: float = 0.0
    status: int = 200
    error: dict[str, Any] | None = None
    fault: Fault | None = None
    fault_after: int = 2
    # OpenAI only: send the last text piece in the chunk that carries finish_reason, as
    # some providers do, instead of in a chunk of its own.
    finish_with_last: bool = False
    # A Set-Cookie header on every answer, as providers behind CDNs send.
    set_cookie: str = ""
    # The model's reasoning, sent before the text, cut like the text unless
    # ``reasoning_chunks`` gives the pieces. Chat completions: in the field that
    # OpenAI-compatible servers use ("reasoning_content"; Ollama and OpenRouter say
    # "reasoning"). Responses API: as a reasoning item's summary. Anthropic: not sent.
    reasoning: str = ""
    reasoning_field: Literal["reasoning_content", "reasoning"] = "reasoning_content"
    reasoning_chunks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Received:
    """One request as the fake provider saw it."""

    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class _Stats:
    streams_started: int = 0
    streams_completed: int = 0
    streams_cancelled: int = 0


def _last_user_text(body: dict[str, Any]) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(
                p.get("text", "")
                for p in content
                if isinstance(p, dict) and p.get("type") == "text"
            )
    return ""


def _pieces(text: str, size: int, explicit: tuple[str, ...] | None) -> list[str]:
    if explicit is not None:
        return list(explicit)
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


class ThreadedServer:
    """Any ASGI app served by uvicorn in a daemon thread on a free 127.0.0.1 port."""

    def __init__(self, app: Any, *, lifespan: Literal["on", "off"] = "on") -> None:
        self.app = app
        self.port = 0
        self._lifespan = lifespan
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan=self._lifespan,
            log_config=None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="asgi-server", daemon=True)
        self._thread.start()
        # Generous: a busy 2-CPU machine can take seconds to run an app's lifespan.
        deadline = time.monotonic() + 60
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeUpstream:
    """The fake provider; a context manager that runs it on 127.0.0.1."""

    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.requests: list[Received] = []
        self.stats = _Stats()
        self.app = self._build()
        self._server = ThreadedServer(self.app, lifespan="off")

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        """Base URL including ``/v1``, as provider base URLs are configured."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, model: str, script: Script) -> None:
        self.scripts[model] = script

    def bodies_text(self) -> str:
        """Every body received, as one string, for leak checks."""
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.requests)

    def start(self) -> FakeUpstream:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget recorded requests, scripts and counters (between tests sharing one server)."""
        self.scripts.clear()
        self.requests.clear()
        self.stats = _Stats()

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            return await self._answer(request, "openai")

        @app.post("/v1/messages")
        async def messages(request: Request) -> Response:
            return await self._answer(request, "anthropic")

        @app.post("/v1/responses")
        async def responses(request: Request) -> Response:
            return await self._answer(request, "responses")

        @app.get("/v1/models")
        async def models() -> Response:
            return JSONResponse({"object": "list", "data": [{"id": "fake", "object": "model"}]})

        return app

    async def _answer(self, request: Request, protocol: str) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        self.requests.append(Received(request.url.path, dict(request.headers), body, raw))
        model = str(body.get("model", ""))
        script = self.scripts.get(model, Script())
        if script.status >= 400:
            error = script.error or {"error": {"type": "server_error", "message": "scripted"}}
            return JSONResponse(error, status_code=script.status)
        echo = upstream_responses.last_user_text if protocol == "responses" else _last_user_text
        text = echo(body) if script.text is None else script.text
        if not body.get("stream"):
            if script.delay:
                await asyncio.sleep(script.delay)
            if script.fault == "malformed":
                return Response(b"{not json", media_type="application/json")
            make = _WHOLE[protocol]
            return JSONResponse(make(model, text, script), headers=_cookie(script))
        return StreamingResponse(
            self._play(_EVENTS[protocol](model, text, script), script),
            media_type="text/event-stream",
            headers=_cookie(script),
        )

    async def _play(self, events: list[bytes], script: Script) -> AsyncIterator[bytes]:
        self.stats.streams_started += 1
        completed = False
        try:
            for i, event in enumerate(events):
                if script.fault and i == script.fault_after:
                    if script.fault == "truncate":
                        completed = True
                        return
                    if script.fault == "malformed":
                        yield b"data: {this is not json\n\n"
                        completed = True
                        return
                    if script.fault == "error_event":
                        yield _sse({"error": {"type": "overloaded", "message": "x"}}, "error")
                        completed = True
                        return
                    if script.fault == "hang":
                        await asyncio.sleep(3600)
                if script.think and i == 0:
                    await asyncio.sleep(script.think)
                if script.delay:
                    await asyncio.sleep(script.delay)
                yield event
            completed = True
        finally:
            if completed:
                self.stats.streams_completed += 1
            else:
                self.stats.streams_cancelled += 1


def _cookie(script: Script) -> dict[str, str] | None:
    return {"set-cookie": script.set_cookie} if script.set_cookie else None


def _arg_pieces(call: ToolCall, script: Script) -> list[str]:
    return _pieces(call.arguments, script.chunk_size, script.arg_chunks)


def _openai_call(call: ToolCall, arguments: str, name: bool = True) -> dict[str, Any]:
    """The part of an OpenAI tool call that carries its name and input, whole or a piece."""
    spec = {"name": call.name} if name else {}
    if call.kind == "custom":
        return {"custom": {**spec, "input": arguments}}
    return {"function": {**spec, "arguments": arguments}}


def _openai_finish(script: Script) -> str:
    if not script.tool_calls:
        return "stop"
    return "function_call" if script.tool_calls[0].kind == "legacy" else "tool_calls"


def _openai_whole(model: str, text: str, script: Script) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if script.reasoning:
        message[script.reasoning_field] = script.reasoning
    if script.tool_calls and script.tool_calls[0].kind == "legacy":
        call = script.tool_calls[0]
        message["function_call"] = {"name": call.name, "arguments": call.arguments}
    elif script.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": c.kind, **_openai_call(c, c.arguments)}
            for i, c in enumerate(script.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": _openai_finish(script),
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _openai_events(model: str, text: str, script: Script) -> list[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    out = [chunk({"role": "assistant", "content": ""})]
    thought = _pieces(script.reasoning, script.chunk_size, script.reasoning_chunks)
    out.extend(chunk({script.reasoning_field: piece}) for piece in thought if piece)
    pieces = _pieces(text, script.chunk_size, script.chunks)
    if script.finish_with_last and pieces and not script.tool_calls:
        out.extend(chunk({"content": piece}) for piece in pieces[:-1])
        out.append(chunk({"content": pieces[-1]}, "stop"))
        out.append(b"data: [DONE]\n\n")
        return out
    out.extend(chunk({"content": piece}) for piece in pieces)
    for i, call in enumerate(script.tool_calls):
        if call.kind == "legacy":
            out.append(chunk({"function_call": {"name": call.name, "arguments": ""}}))
            out.extend(
                chunk({"function_call": {"arguments": piece}})
                for piece in _arg_pieces(call, script)
            )
            continue
        head = {"index": i, "id": f"call_{i}", "type": call.kind, **_openai_call(call, "")}
        out.append(chunk({"tool_calls": [head]}))
        out.extend(
            chunk({"tool_calls": [{"index": i, **_openai_call(call, piece, name=False)}]})
            for piece in _arg_pieces(call, script)
        )
    out.append(chunk({}, _openai_finish(script)))
    out.append(b"data: [DONE]\n\n")
    return out


def _anthropic_whole(model: str, text: str, script: Script) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content.extend(
        {"type": "tool_use", "id": f"toolu_{i}", "name": c.name, "input": json.loads(c.arguments)}
        for i, c in enumerate(script.tool_calls)
    )
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if script.tool_calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _anthropic_events(model: str, text: str, script: Script) -> list[bytes]:
    message = {**_anthropic_whole(model, "", Script()), "content": [], "stop_reason": None}
    out = [_sse({"type": "message_start", "message": message}, "message_start")]
    index = 0
    if text or not script.tool_calls:
        start = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        out.append(_sse(start, "content_block_start"))
        for piece in _pieces(text, script.chunk_size, script.chunks):
            delta = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
            out.append(_sse(delta, "content_block_delta"))
        out.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        index = 1
    for i, call in enumerate(script.tool_calls, start=index):
        block = {"type": "tool_use", "id": f"toolu_{i}", "name": call.name, "input": {}}
        out.append(
            _sse(
                {"type": "content_block_start", "index": i, "content_block": block},
                "content_block_start",
            )
        )
        for piece in _arg_pieces(call, script):
            delta = {
                "type": "content_block_delta",
                "index": i,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            out.append(_sse(delta, "content_block_delta"))
        out.append(_sse({"type": "content_block_stop", "index": i}, "content_block_stop"))
    stop = "tool_use" if script.tool_calls else "end_turn"
    out.append(
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 1},
            },
            "message_delta",
        )
    )
    out.append(_sse({"type": "message_stop"}, "message_stop"))
    return out


def _responses_parts(
    text: str, script: Script
) -> tuple[list[str], list[str], list[upstream_responses.Call]]:
    """The pieces a Responses answer streams: text, reasoning summary, each call's input."""
    calls = [
        upstream_responses.Call(c.name, c.kind, _arg_pieces(c, script)) for c in script.tool_calls
    ]
    thought = _pieces(script.reasoning, script.chunk_size, script.reasoning_chunks)
    return _pieces(text, script.chunk_size, script.chunks), thought, calls


def _responses_whole(model: str, text: str, script: Script) -> dict[str, Any]:
    return upstream_responses.whole(model, *_responses_parts(text, script))


def _responses_events(model: str, text: str, script: Script) -> list[bytes]:
    return upstream_responses.events(model, *_responses_parts(text, script))


_WHOLE = {"openai": _openai_whole, "anthropic": _anthropic_whole, "responses": _responses_whole}
_EVENTS = {"openai": _openai_events, "anthropic": _anthropic_events, "responses": _responses_events}
