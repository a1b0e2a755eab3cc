"""Upstream failures become clear errors in the client's protocol; client disconnects cancel."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import Proxy, proxy_settings, static_profiles
from proxy_helpers import call, user

from orgtwin.proxy.app import create_app
from orgtwin.testing.ports import free_port
from orgtwin.testing.upstream import FakeUpstream, Script, ThreadedServer

pytestmark = pytest.mark.integration

PROTOCOLS = pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])
PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
}
STREAMS = pytest.mark.parametrize("stream", [False, True])


def _kind(protocol: str, error: dict[str, object] | None) -> str:
    assert error is not None
    inner = error["error"]
    assert isinstance(inner, dict)
    if protocol == "anthropic":
        assert error["type"] == "error"
        return str(inner["type"])
    return str(inner["code"])


@pytest.fixture(scope="module")
def impatient(upstream: FakeUpstream) -> Iterator[Proxy]:
    """A proxy with a short upstream read timeout."""
    app = create_app(proxy_settings(upstream, read_timeout_seconds=0.3), profiles=static_profiles())
    with ThreadedServer(app) as server:
        yield Proxy(server, upstream)


@pytest.fixture(scope="module")
def orphan(upstream: FakeUpstream) -> Iterator[Proxy]:
    """A proxy whose upstream address has nothing listening."""
    settings = proxy_settings(
        upstream,
        openai_base_url=f"http://127.0.0.1:{free_port()}/v1",
        anthropic_base_url=f"http://127.0.0.1:{free_port()}/v1",
    )
    with ThreadedServer(create_app(settings, profiles=static_profiles())) as server:
        yield Proxy(server, upstream)


@PROTOCOLS
@STREAMS
def test_connect_error_is_a_502(orphan: Proxy, protocol: str, stream: bool) -> None:
    with orphan.client() as client:
        seen = call(protocol, client, user("hi", protocol, stream=stream))
    assert seen.status == 502
    if protocol != "anthropic":
        assert _kind(protocol, seen.error) == "upstream_unavailable"
    else:
        assert _kind(protocol, seen.error) == "api_error"


@PROTOCOLS
@STREAMS
def test_timeout_is_a_504(impatient: Proxy, protocol: str, stream: bool) -> None:
    impatient.upstream.reset()
    impatient.upstream.script("slow", Script(text="late", delay=1.0))
    with impatient.client() as client:
        seen = call(protocol, client, user("hi", protocol, model="slow", stream=stream))
    if stream:
        # Headers arrive at once, the first event late: the error is an in-stream event.
        assert seen.status == 200
        assert seen.error is not None
        assert "timed out" in str(seen.error)
    else:
        assert seen.status == 504


@PROTOCOLS
def test_stream_that_hangs_midway_ends_with_an_error_event(impatient: Proxy, protocol: str) -> None:
    impatient.upstream.reset()
    impatient.upstream.script("hang", Script(text="abcdefghijkl", fault="hang", fault_after=3))
    with impatient.client() as client:
        seen = call(protocol, client, user("hi", protocol, model="hang", stream=True))
    assert seen.error is not None
    assert "timed out" in str(seen.error)
    assert not seen.done


@PROTOCOLS
@STREAMS
@pytest.mark.parametrize(
    ("upstream_status", "client_status"),
    [(429, 429), (400, 400), (401, 502), (500, 502), (503, 502)],
)
def test_upstream_status_errors(
    proxy: Proxy, protocol: str, stream: bool, upstream_status: int, client_status: int
) -> None:
    secret_echo = {
        "error": {"type": "server_error", "code": "boom", "message": "echo [EMAIL_ABCDEF]"}
    }
    proxy.upstream.script("err", Script(status=upstream_status, error=secret_echo))
    with proxy.client() as client:
        seen = call(protocol, client, user("hi", protocol, model="err", stream=stream))
    assert seen.status == client_status
    assert f"HTTP {upstream_status}" in str(seen.error)
    # The upstream's message may quote the prompt, so it is not passed on.
    assert "echo [EMAIL" not in str(seen.error)


@PROTOCOLS
@pytest.mark.parametrize("fault", ["truncate", "malformed", "error_event"])
def test_broken_streams_end_with_an_error_event(proxy: Proxy, protocol: str, fault: str) -> None:
    # The break comes after a few pieces of text: a Responses stream first announces the
    # response, its message and the message's part.
    after = 4 + (4 if protocol == "responses" else 0)
    proxy.upstream.script(
        fault, Script(text="abcdefghijklmnop", chunk_size=2, fault=fault, fault_after=after)
    )  # type: ignore[arg-type]
    with proxy.client() as client:
        seen = call(protocol, client, user("hi", protocol, model=fault, stream=True))
    assert seen.status == 200
    assert seen.error is not None
    assert not seen.done
    expected = {
        "truncate": "ended before",
        "malformed": "malformed",
        "error_event": "reported an error",
    }
    assert expected[fault] in str(seen.error)
    # What arrived before the break still reached the client, in order.
    assert "abcdefghijklmnop".startswith(seen.text)
    assert seen.text


@PROTOCOLS
def test_malformed_non_stream_answer_is_a_502(proxy: Proxy, protocol: str) -> None:
    proxy.upstream.script("bad", Script(text="x", fault="malformed"))
    with proxy.client() as client:
        seen = call(protocol, client, user("hi", protocol, model="bad"))
    assert seen.status == 502
    assert "malformed" in str(seen.error)


@PROTOCOLS
def test_client_disconnect_cancels_the_upstream_request(proxy: Proxy, protocol: str) -> None:
    proxy.upstream.script("long", Script(text="x" * 400, chunk_size=1, delay=0.02))
    body = {**user("hi", protocol, model="long", stream=True), "max_tokens": 5}
    with proxy.client() as client, client.stream("POST", PATHS[protocol], json=body) as response:
        lines = response.iter_lines()
        for _ in range(6):
            next(lines)
    # The client is gone; the upstream must see its stream cancelled, long before its end.
    deadline = time.monotonic() + 5
    while proxy.upstream.stats.streams_cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proxy.upstream.stats.streams_cancelled == 1
    assert proxy.upstream.stats.streams_completed == 0


def test_proxy_answers_health_while_upstream_is_down(orphan: Proxy) -> None:
    assert httpx.get(f"{orphan.url}/healthz").status_code == 200


@pytest.fixture(scope="module")
def small(upstream: FakeUpstream) -> Iterator[Proxy]:
    """A proxy that accepts request bodies of at most 2 KB."""
    app = create_app(proxy_settings(upstream, max_body_bytes=2048), profiles=static_profiles())
    with ThreadedServer(app) as server:
        yield Proxy(server, upstream)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_a_413_and_never_reaches_upstream(small: Proxy, chunked: bool) -> None:
    small.upstream.reset()
    body = httpx.Request("POST", "/", json=user("x" * 4096, "openai")).content

    def pieces() -> Iterator[bytes]:
        # No Content-Length: the proxy must stop reading once the limit is passed.
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    with small.client() as client:
        r = client.post(
            "/v1/chat/completions",
            content=pieces() if chunked else body,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413
        assert "2048 bytes" in r.json()["error"]["message"]
        # A body within the limit still goes through on the same proxy.
        ok = client.post("/v1/chat/completions", json=user("hello", "openai"))
        assert ok.status_code == 200
    assert len(small.upstream.requests) == 1
