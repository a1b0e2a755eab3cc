"""The proxy's ASGI app: ``create_app()`` wires settings, state and routes in a lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from orgtwin.proxy import relay
from orgtwin.proxy.errors import ForbiddenError, Protocol, ProxyError, error_response
from orgtwin.proxy.kube import ActivityRecorder, KubeProfiles, api_client
from orgtwin.proxy.metrics import Metrics
from orgtwin.proxy.profiles import EngineCache, ProfileSource, StaticProfiles
from orgtwin.proxy.sessions import SessionCache
from orgtwin.proxy.settings import ProxySettings
from orgtwin.proxy.state import ProxyState
from orgtwin.proxy.transport import AiohttpTransport

# The LLM routes and the protocol each speaks.
_RELAY_ROUTES: dict[str, Protocol] = {
    "/v1/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/v1/responses": "responses",
}


class RelayFastPath:
    """Pure ASGI middleware that hands the LLM routes straight to the relay.

    FastAPI's routing, exception, exit-stack and request-handler layers cost about as
    much CPU per call as the upstream HTTP client; the relay needs none of them (it
    reads the raw body itself and answers its own errors). The same routes are also
    declared on the app, so the API's shape (405 for other methods, OpenAPI) is
    unchanged; a POST to them never gets that far.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            protocol = _RELAY_ROUTES.get(scope["path"])
            if protocol is not None:
                response = await relay.handle(Request(scope, receive), protocol)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def quiet_client_logs() -> None:
    """Drop httpx's INFO line per upstream call: ``proxy.request`` already says it, and more.

    Formatting and writing that line cost more than the rest of the request's logging.
    """
    logging.getLogger("httpx").setLevel(logging.WARNING)


def create_app(
    settings: ProxySettings | None = None,
    *,
    profiles: ProfileSource | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The proxy app. ``profiles`` and ``transport`` are seams for tests and embedding."""
    settings = settings or ProxySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kube: KubeProfiles | None = None
        api = None
        source = profiles
        if source is None and settings.profiles_file is not None:
            source = StaticProfiles.from_yaml(settings.profiles_file)
        if source is None:
            api = api_client(settings.kubeconfig)
            kube = KubeProfiles(api, settings.namespace)
            kube.start()
            source = kube
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_seconds,
            read=settings.read_timeout_seconds,
            write=settings.read_timeout_seconds,
            pool=settings.connect_timeout_seconds,
        )
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
        upstream = transport or AiohttpTransport(limits)
        async with httpx.AsyncClient(timeout=timeout, transport=upstream) as client:
            app.state.proxy = ProxyState(
                settings=settings,
                client=client,
                transport=upstream,
                profiles=source,
                engines=EngineCache(source, settings.masking_secret()),
                sessions=SessionCache(
                    settings.session_cache_sessions, settings.session_cache_entries
                ),
                activity=ActivityRecorder(
                    api, settings.namespace, settings.activity_interval_seconds
                ),
                metrics=Metrics(),
                signing_key=settings.signing_key(),
            )
            try:
                yield
            finally:
                if kube is not None:
                    kube.stop()

    app = FastAPI(title="orgtwin proxy", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(RelayFastPath)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await relay.handle(request, "openai")

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        return await relay.handle(request, "anthropic")

    @app.post("/v1/responses")
    async def responses(request: Request) -> Response:
        return await relay.handle(request, "responses")

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        state: ProxyState = request.app.state.proxy
        try:
            claims = state.authenticate(request.headers)
            spec = state.profiles.profile(claims.profile)
            if spec is None:
                raise ForbiddenError("the session's profile does not exist")
        except ProxyError as err:
            return error_response("openai", err)
        entry: dict[str, Any] = {
            "id": spec.model.name,
            "object": "model",
            "created": 0,
            "owned_by": spec.model.provider,
        }
        return JSONResponse({"object": "list", "data": [entry]})

    @app.get("/healthz")
    async def healthz() -> Response:
        return PlainTextResponse("ok")

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        state: ProxyState | None = getattr(request.app.state, "proxy", None)
        if state is None or not state.profiles.ready():
            return PlainTextResponse("profiles not synced", status_code=503)
        return PlainTextResponse("ok")

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        state: ProxyState = request.app.state.proxy
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def unserved(request: Request) -> Response:
        # Other provider endpoints (stored responses, embeddings, token counts...): a clear
        # error in the caller's protocol rather than a bare 404. The path is not repeated:
        # it may carry a value (an id, an email) that no error may hold.
        path = request.url.path
        err = ProxyError(
            "this endpoint is not served by the orgtwin proxy: it serves POST"
            " /v1/chat/completions, /v1/responses and /v1/messages, and GET /v1/models",
            status=404,
            kind="unsupported_endpoint",
        )
        return error_response("anthropic" if path.startswith("/v1/messages") else "openai", err)

    return app
