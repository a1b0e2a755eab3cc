"""The aiohttp transport behaves as httpx's own: headers, decoding, streaming, errors, proxies."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from conftest import UPSTREAM_OPENAI_KEY, Proxy
from proxy_helpers import call, user

from orgtwin.proxy.transport import AiohttpTransport, env_proxy
from orgtwin.testing.ports import free_port
from orgtwin.testing.upstream import ThreadedServer

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _upstream(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answers by path: gzipped JSON, a slow answer, or a stream of three pieces."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/gzip":
        body = gzip.compress(json.dumps({"ok": True}).encode())
        headers = [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif path == "/slow":
        await asyncio.sleep(2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"late"})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for piece in (b"a", b"b", b"c"):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b""})


def _run(url: str, work: Callable[[httpx.AsyncClient], Awaitable[Any]], read: float = 5) -> Any:
    async def main() -> Any:
        transport = AiohttpTransport(httpx.Limits(max_connections=4))
        timeout = httpx.Timeout(connect=1, read=read, write=read, pool=1)
        async with httpx.AsyncClient(base_url=url, transport=transport, timeout=timeout) as client:
            return await work(client)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def server() -> Any:
    with ThreadedServer(_upstream, lifespan="off") as srv:
        yield srv


def test_gzip_bodies_are_decoded_by_httpx(server: ThreadedServer) -> None:
    async def work(client: httpx.AsyncClient) -> Any:
        return (await client.get("/gzip")).json()

    assert _run(server.url, work) == {"ok": True}


def test_streamed_pieces_arrive_as_sent(server: ThreadedServer) -> None:
    async def work(client: httpx.AsyncClient) -> list[bytes]:
        async with client.stream("GET", "/stream") as response:
            return [piece async for piece in response.aiter_raw()]

    assert b"".join(_run(server.url, work)) == b"abc"


def test_a_silent_upstream_is_a_read_timeout(server: ThreadedServer) -> None:
    async def work(client: httpx.AsyncClient) -> Any:
        return await client.get("/slow")

    with pytest.raises(httpx.ReadTimeout):
        _run(server.url, work, read=0.2)


def test_a_closed_port_is_a_connect_error() -> None:
    async def work(client: httpx.AsyncClient) -> Any:
        return await client.get("/")

    with pytest.raises(httpx.ConnectError):
        _run(f"http://127.0.0.1:{free_port()}", work)


def test_the_upstream_sees_the_proxys_headers_only(proxy: Proxy) -> None:
    with proxy.client() as client:
        assert call("openai", client, user("hello", "openai")).status == 200
    headers = proxy.upstream.requests[-1].headers
    assert headers["authorization"] == f"Bearer {UPSTREAM_OPENAI_KEY}"
    assert "aiohttp" not in headers.get("user-agent", "")
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("https://api.example/v1", {}, None),
        ("https://api.example/v1", {"https": "http://egress:3128"}, "http://egress:3128"),
        ("http://api.example/v1", {"https": "http://egress:3128"}, None),
        ("https://api.example/v1", {"all": "http://egress:3128"}, "http://egress:3128"),
        ("https://api.example/v1", {"https": "http://e:1", "no": "api.example"}, None),
        ("https://api.example/v1", {"https": "http://e:1", "no": "other.example"}, "http://e:1"),
    ],
)
def test_environment_proxies(url: str, env: dict[str, str], expected: str | None) -> None:
    assert env_proxy(httpx.URL(url), env) == expected
