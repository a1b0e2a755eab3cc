"""An httpx transport over aiohttp: the proxy keeps httpx's API, the wire work runs in C.

httpx's own transport (httpcore, h11 and anyio, all pure Python) cost about 1 ms of CPU
per upstream call on the bench machine; aiohttp's C parser and connection pool do the
same work in about a third of that. The client still sees an ``httpx.Response`` and
httpx's exceptions, so the relay, its error handling and ``httpx.MockTransport`` in
tests are unchanged.

aiohttp errors map to httpx errors as follows:

ConnectionTimeoutError                     -> httpx.ConnectTimeout
ServerTimeoutError, TimeoutError           -> httpx.ReadTimeout
ClientConnectorError                       -> httpx.ConnectError
ClientPayloadError, ServerDisconnectedError -> httpx.RemoteProtocolError
ClientOSError                              -> httpx.ReadError
any other ClientError                      -> httpx.TransportError
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Mapping

import aiohttp
import httpx

# httpx sets every header the request needs; aiohttp must not add its own defaults.
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def _httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    # ConnectionTimeoutError is also a ServerTimeoutError, so it is checked first.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("upstream connect timed out", request=request)
    if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
        return httpx.ReadTimeout("upstream read timed out", request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError("could not connect upstream", request=request)
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        return httpx.RemoteProtocolError("upstream response cut off", request=request)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError("upstream connection failed", request=request)
    return httpx.TransportError(f"upstream transport error: {type(exc).__name__}")


def env_proxy(url: httpx.URL, env: Mapping[str, str]) -> str | None:
    """As httpx does by default: the proxy for ``url`` from HTTP(S)_PROXY, ALL_PROXY, NO_PROXY.

    ``env`` is ``urllib.request.getproxies_environment()``: lower-case scheme names.
    """
    # proxy_bypass_environment is public in urllib but missing from typeshed.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if "no" in env and bypass(url.host, dict(env)):
        return None
    return env.get(url.scheme) or env.get("all")


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp receives it: each network read is yielded at once."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        # A body read to the end returns its connection to the pool; one cut short
        # closes it, so a half-read response never poisons the next request.
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session with a keep-alive pool; create it inside the running loop."""

    def __init__(self, limits: httpx.Limits) -> None:
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=limits.keepalive_expiry or 5.0,
            # httpx's default: certifi's CA bundle, honouring SSL_CERT_FILE and SSL_CERT_DIR.
            ssl=httpx.create_ssl_context(trust_env=True),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # httpx decodes content-encoding itself; the relay reads raw SSE bytes.
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            # Upstream cookies are not kept: the proxy serves many tenants over one session.
            cookie_jar=aiohttp.DummyCookieJar(),
            # Environment proxies are looked up once per origin below: aiohttp's own
            # trust_env reads the environment again on every request, in a thread.
            trust_env=False,
        )
        self._env = urllib.request.getproxies_environment()
        self._proxies: dict[tuple[bytes, str, int | None], str | None] = {}

    def _proxy(self, url: httpx.URL) -> str | None:
        origin = (url.raw_scheme, url.host, url.port)
        if origin not in self._proxies:
            self._proxies[origin] = env_proxy(url, self._env)
        return self._proxies[origin]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        pool = timeouts.get("pool")
        connect = timeouts.get("connect")
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's connect covers waiting for a pooled connection and opening one.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=timeouts.get("read"),
        )
        try:
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=await request.aread(),
                timeout=timeout,
                allow_redirects=False,
                compress=None,
                proxy=self._proxy(request.url) if self._env else None,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _httpx_error(exc, request) from exc
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response, request),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("ascii", "replace"),
            },
        )

    async def aclose(self) -> None:
        await self._session.close()
        # Lets the SSL transports finish closing before the loop goes away.
        await asyncio.sleep(0)
