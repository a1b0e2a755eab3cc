"""One LLM call through the proxy: authenticate, police, mask, forward, restore.

The same flow serves every protocol: OpenAI chat completions, Anthropic messages and
the OpenAI Responses API. ``masking`` and the ``*_protocol`` modules supply what differs:
masking, tool filtering, restoring and stream transformation (see _SHAPES).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from orgtwin.core import jsonio
from orgtwin.core.crds.models import AgentProfileSpec, Provider
from orgtwin.core.privacy import RequestMasker, RestoreMap
from orgtwin.core.tokens import SessionClaims
from orgtwin.proxy import anthropic_protocol, masking, openai_protocol, responses_protocol
from orgtwin.proxy.errors import (
    BadRequestError,
    ForbiddenError,
    PolicyRefusedError,
    Protocol,
    ProxyError,
    UpstreamError,
    error_response,
)
from orgtwin.proxy.policy import ToolRules
from orgtwin.proxy.state import ProxyState, UpstreamTarget
from orgtwin.proxy.streams import relay_stream

log = logging.getLogger("orgtwin.proxy")

_OPENAI_COMPATIBLE = ("openai", "openrouter", "ollama")
# Upstream statuses the client can act on are passed through; credential and server
# failures are the proxy's problem and become 502.
_PASS_THROUGH = {400, 404, 408, 409, 413, 422, 429}
_PASSTHROUGH_HEADERS = ("anthropic-version", "anthropic-beta")


@dataclass(frozen=True)
class _Shape:
    """What differs between the protocols: the body's input, the upstream path, the work."""

    input_key: str
    input_types: tuple[type, ...]
    input_needed: str
    path: str
    filter_tools: Callable[[dict[str, Any], ToolRules], list[str]]
    mask: Callable[[dict[str, Any], RequestMasker], None]
    restore: Callable[
        [dict[str, Any], RestoreMap, ToolRules, Callable[[str], None]], dict[str, Any]
    ]


_SHAPES: dict[Protocol, _Shape] = {
    "openai": _Shape(
        "messages",
        (list,),
        "a messages array",
        "chat/completions",
        masking.filter_openai_tools,
        masking.mask_openai,
        openai_protocol.restore_completion,
    ),
    "anthropic": _Shape(
        "messages",
        (list,),
        "a messages array",
        "messages",
        masking.filter_anthropic_tools,
        masking.mask_anthropic,
        anthropic_protocol.restore_message,
    ),
    "responses": _Shape(
        "input",
        (str, list),
        "an input string or array",
        "responses",
        masking.filter_responses_tools,
        masking.mask_responses,
        responses_protocol.restore_response,
    ),
}


@dataclass
class Call:
    """What one request carries through the flow."""

    protocol: Protocol
    claims: SessionClaims
    spec: AgentProfileSpec
    rules: ToolRules
    rmap: RestoreMap
    stream: bool
    started: float
    overhead: float = 0.0
    blocked: list[str] = field(default_factory=list)
    # Client headers that choose protocol features (never credentials) go upstream as-is.
    passthrough: dict[str, str] = field(default_factory=dict)
    # PII counts by type and the privacy mode, logged when the call is done.
    detections: dict[str, int] = field(default_factory=dict)
    mode: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "session": self.claims.session,
            "profile": self.claims.profile,
            "protocol": self.protocol,
            "stream": self.stream,
        }


async def handle(request: Request, protocol: Protocol) -> Response:
    state: ProxyState = request.app.state.proxy
    started = time.perf_counter()
    try:
        call, body = await _prepare(request, state, protocol, started)
    except ProxyError as err:
        state.metrics.requests.labels(protocol, "unknown", str(err.status)).inc()
        log.info(
            "proxy.rejected",
            extra={"fields": {"protocol": protocol, "status": err.status, "kind": err.kind}},
        )
        return error_response(protocol, err)
    try:
        upstream = await _send(state, call, body)
    except ProxyError as err:
        _finish(state, call, err.status, kind=err.kind)
        return error_response(protocol, err)
    if call.stream:
        return StreamingResponse(
            _stream_body(state, call, upstream),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )
    try:
        payload = await _read_json(upstream)
    except ProxyError as err:
        _finish(state, call, err.status, kind=err.kind)
        return error_response(protocol, err)
    t = time.perf_counter()
    payload = _SHAPES[protocol].restore(payload, call.rmap, call.rules, _blocker(state, call))
    call.overhead += time.perf_counter() - t
    # Metrics and log lines after the last byte is sent: off the client's wait, and the
    # latency histogram then measures to the last byte as it says. On the event loop: a
    # plain function would go to a worker thread, and handing it over and back cost more
    # CPU and latency than the work itself (docs/benchmarks.md, "Bookkeeping on the loop").
    return Response(
        jsonio.dumps(payload),
        media_type="application/json",
        background=BackgroundTask(_finish_after, state, call, 200),
    )


async def _prepare(
    request: Request, state: ProxyState, protocol: Protocol, started: float
) -> tuple[Call, dict[str, Any]]:
    claims = state.authenticate(request.headers)
    spec = state.profiles.profile(claims.profile)
    if spec is None:
        raise ForbiddenError("the session's profile does not exist")
    raw = await _read_body(request, state.settings.max_body_bytes)
    t = time.perf_counter()
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequestError("request body is not valid JSON") from exc
    shape = _SHAPES[protocol]
    if not isinstance(body, dict) or not isinstance(body.get(shape.input_key), shape.input_types):
        raise BadRequestError(f"request body must be an object with {shape.input_needed}")
    rules = ToolRules.from_policy(spec.tools)
    removed = shape.filter_tools(body, rules)
    if removed:
        state.metrics.blocks.labels("request").inc(len(removed))
        log.info(
            "proxy.tools_removed",
            extra={
                "fields": {"session": claims.session, "profile": claims.profile, "tools": removed}
            },
        )
    engine = state.engines.engine(spec)
    masker = engine.masker()
    shape.mask(body, masker)
    state.metrics.detected(masker.counts, engine.mode)
    if engine.mode == "strict" and masker.counts:
        _log_detections(claims.session, engine.mode, masker.counts)
        found = ", ".join(sorted(masker.counts))
        raise PolicyRefusedError(f"request refused by the privacy policy: it contains {found}")
    if engine.mode in ("mask", "strict"):
        rmap = masker.restore_map(state.sessions.get(claims.session))
        state.sessions.remember(claims.session, masker.mapping)
    else:
        rmap = RestoreMap({})
    state.touch(claims.session)
    call = Call(protocol, claims, spec, rules, rmap, bool(body.get("stream")), started)
    call.detections, call.mode = dict(masker.counts), engine.mode
    for name in _PASSTHROUGH_HEADERS:
        value = request.headers.get(name)
        if value:
            call.passthrough[name] = value
    call.overhead = time.perf_counter() - t
    return call, body


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed ``limit``: never held whole first."""
    too_large = BadRequestError(
        f"request body larger than {limit} bytes", status=413, kind="too_large"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _target(state: ProxyState, protocol: Protocol, provider: Provider) -> UpstreamTarget:
    """Built once per provider: parsing URLs and merging headers cost on every call."""
    target = state.targets.get((protocol, provider))
    if target is not None:
        return target
    settings = state.settings
    # The client's defaults (user-agent, accept-encoding) first, as build_request merges them.
    headers = dict(state.client.headers)
    headers["content-type"] = "application/json"
    if protocol == "anthropic":
        base, key = settings.provider("anthropic")
        headers["anthropic-version"] = settings.anthropic_version
        if key is not None:
            headers["x-api-key"] = key.get_secret_value()
    else:
        # Both OpenAI APIs go to the profile's OpenAI-compatible provider.
        base, key = settings.provider(provider if provider in _OPENAI_COMPATIBLE else "openai")
        if key is not None:
            headers["authorization"] = f"Bearer {key.get_secret_value()}"
    url = httpx.URL(f"{base}/{_SHAPES[protocol].path}")
    target = state.targets[(protocol, provider)] = UpstreamTarget(url, headers)
    return target


def _upstream_request(state: ProxyState, call: Call, body: dict[str, Any]) -> httpx.Request:
    target = _target(state, call.protocol, call.spec.model.provider)
    headers = dict(target.headers)
    headers["accept"] = "text/event-stream" if call.stream else "application/json"
    if call.protocol == "anthropic":
        headers.update(call.passthrough)
    content = jsonio.dumps(body)
    return httpx.Request(
        "POST",
        target.url,
        headers=headers,
        content=content,
        extensions={"timeout": state.timeouts},
    )


async def _send(state: ProxyState, call: Call, body: dict[str, Any]) -> httpx.Response:
    """The upstream's response, its body not read yet; errors as UpstreamError.

    Straight to the transport: AsyncClient.send would add auth, redirect and cookie
    handling the relay never uses (redirects are not followed and upstream cookies are
    not kept, see transport.py), about a third of the CPU of the upstream call.
    """
    request = _upstream_request(state, call, body)
    try:
        response = await state.transport.handle_async_request(request)
    except httpx.TimeoutException as exc:
        state.metrics.upstream_errors.labels("timeout").inc()
        raise UpstreamError(
            "the upstream provider timed out", status=504, kind="upstream_timeout"
        ) from exc
    except httpx.HTTPError as exc:
        state.metrics.upstream_errors.labels("connect").inc()
        raise UpstreamError(
            "could not reach the upstream provider", kind="upstream_unavailable"
        ) from exc
    if response.status_code >= 400:
        status = response.status_code
        detail = ""
        try:
            data = json.loads(await response.aread())
            err = data.get("error") if isinstance(data, dict) else None
            if isinstance(err, dict):
                # Only the machine-readable type or code: the message may quote the input.
                detail = str(err.get("code") or err.get("type") or "")[:64]
        except (ValueError, httpx.HTTPError):
            pass
        finally:
            await response.aclose()
        state.metrics.upstream_errors.labels("status").inc()
        message = f"the upstream provider answered HTTP {status}" + (
            f" ({detail})" if detail else ""
        )
        raise UpstreamError(
            message, status=status if status in _PASS_THROUGH else 502, kind="upstream_status"
        )
    return response


async def _read_json(response: httpx.Response) -> dict[str, Any]:
    try:
        raw = await response.aread()
    except httpx.TimeoutException as exc:
        raise UpstreamError(
            "the upstream provider timed out", status=504, kind="upstream_timeout"
        ) from exc
    except httpx.HTTPError as exc:
        raise UpstreamError("the upstream response was cut off", kind="upstream_truncated") from exc
    finally:
        await response.aclose()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise UpstreamError(
            "the upstream provider sent malformed JSON", kind="upstream_malformed"
        ) from exc
    if not isinstance(data, dict):
        raise UpstreamError("the upstream provider sent malformed JSON", kind="upstream_malformed")
    return data


def _blocker(state: ProxyState, call: Call) -> Any:
    def on_block(tool: str) -> None:
        call.blocked.append(tool)
        state.metrics.blocks.labels("response").inc()
        # The audit record of a block: who, which profile, which tool; never arguments.
        log.warning(
            "proxy.tool_blocked",
            extra={"fields": {**call.fields(), "user": call.claims.user, "tool": tool}},
        )

    return on_block


def _log_detections(session: str, mode: str, counts: Mapping[str, int]) -> None:
    log.info(
        "proxy.detections",
        extra={"fields": {"session": session, "mode": mode, "counts": dict(counts)}},
    )


async def _finish_after(state: ProxyState, call: Call, status: int) -> None:
    """``_finish`` as a coroutine, so Starlette runs it on the loop, not in a thread."""
    _finish(state, call, status)


def _finish(state: ProxyState, call: Call, status: int, kind: str = "") -> None:
    elapsed = time.perf_counter() - call.started
    if call.detections:
        _log_detections(call.claims.session, call.mode, call.detections)
    stream = "true" if call.stream else "false"
    state.metrics.request_done(call.protocol, stream, status, elapsed, call.overhead)
    log.info(
        "proxy.request",
        extra={
            "fields": {
                **call.fields(),
                "status": status,
                "kind": kind,
                "blocked": len(call.blocked),
                "ms": round(elapsed * 1000, 2),
                "overhead_ms": round(call.overhead * 1000, 3),
            }
        },
    )


async def _stream_body(
    state: ProxyState, call: Call, upstream: httpx.Response
) -> AsyncIterator[bytes]:
    status = 200
    kind = ""
    try:
        async for piece in relay_stream(
            call.protocol, upstream, call.rmap, call.rules, _blocker(state, call)
        ):
            if isinstance(piece, ProxyError):
                status, kind = piece.status, piece.kind
                state.metrics.upstream_errors.labels("stream").inc()
                continue
            if isinstance(piece, float):
                call.overhead += piece
                continue
            yield piece
    finally:
        await upstream.aclose()
        _finish(state, call, status, kind)
