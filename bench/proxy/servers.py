"""Bench servers, each in its own process so client, proxy and upstream do not share a GIL.

python servers.py upstream PORT
python servers.py proxy PORT UPSTREAM_BASE_URL PROFILES_YAML
python servers.py relay PORT UPSTREAM_ORIGIN
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import uvicorn
from pydantic import SecretStr

SIGNING_KEY = "b" * 32
MASKING_KEY = "bench-masking-key-0123456789abcd"


def upstream(port: int) -> None:
    from orgtwin.testing.upstream import FakeUpstream, Script

    fake = FakeUpstream()
    # Echo the (masked) last user message; streamed in 4-character events, as fast as
    # the upstream can write them, or paced: 5 ms before the first event (a model's
    # time to first token is far longer), then one event per millisecond.
    fake.script("bench-stream", Script(text=None, chunk_size=4))
    fake.script("bench-paced", Script(text=None, chunk_size=4, think=0.005, delay=0.001))
    # Requests are recorded by default; a long bench run must not grow without bound.
    fake.requests = _Discard()  # type: ignore[assignment]
    uvicorn.run(
        fake.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        # asyncio keeps sub-millisecond timers; uvloop rounds them to whole milliseconds,
        # which put up to 1 ms of jitter into the paced stream's time to first token.
        loop="asyncio",
    )


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        return None


def proxy(port: int, upstream_url: str, profiles: str) -> None:
    from orgtwin.proxy.cli import run
    from orgtwin.proxy.settings import ProxySettings

    settings = ProxySettings(
        namespace="bench",
        session_signing_key=SecretStr(SIGNING_KEY),
        masking_key=SecretStr(MASKING_KEY),
        openai_base_url=upstream_url,
        openai_api_key=SecretStr("bench-upstream-key"),
        anthropic_base_url=upstream_url,
        anthropic_api_key=SecretStr("bench-upstream-key"),
        profiles_file=profiles,
        record_activity=False,
        # Production logging: one JSON line per request at INFO, written to stderr.
        log_level="INFO",
        log_format="json",
    )
    # As `orgtwin proxy serve` runs it.
    run(settings, "127.0.0.1", port)


def relay(port: int, upstream_origin: str) -> None:
    """The floor: a bare relay built from the proxy's own parts, doing none of its work.

    uvicorn (same settings as the proxy), a pure ASGI app and an httpx request sent
    straight to the proxy's aiohttp transport, as the proxy sends it. It forwards the
    request bytes and streams the response bytes back as they arrive: no auth, parsing,
    masking, restoring, policy, logging or metrics. Proxied minus floor is what
    orgtwin's own work adds to a request.
    """
    import httpx

    from orgtwin.proxy.transport import AiohttpTransport

    transports: list[AiohttpTransport] = []
    # As the proxy does (relay._target): URLs parsed once, not on every request.
    urls: dict[str, httpx.URL] = {}
    timeouts = httpx.Timeout(30).as_dict()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                limits = httpx.Limits(max_connections=100)
                transports.append(AiohttpTransport(limits))
                await send({"type": "lifespan.startup.complete"})
            await transports[0].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        url = urls.get(path)
        if url is None:
            url = urls[path] = httpx.URL(upstream_origin + path)
        request = httpx.Request(
            "POST",
            url,
            content=body,
            headers={"content-type": "application/json"},
            extensions={"timeout": timeouts},
        )
        # As the proxy sends (relay._send): straight to the transport.
        response = await transports[0].handle_async_request(request)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(b"content-type", response.headers["content-type"].encode())],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    gc.freeze()  # as the proxy does
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    role = sys.argv[1]
    if role == "upstream":
        upstream(int(sys.argv[2]))
    elif role == "relay":
        relay(int(sys.argv[2]), sys.argv[3])
    else:
        proxy(int(sys.argv[2]), sys.argv[3], sys.argv[4])
