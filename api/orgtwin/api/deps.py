"""Annotated dependency aliases, so route signatures stay plain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from orgtwin.api.auth.principal import Principal
from orgtwin.api.errors import ForbiddenError
from orgtwin.api.runtime import Runtime
from orgtwin.core.errors import TokenError

bearer = HTTPBearer(auto_error=False, description="OIDC JWT, agent session token or dev token.")


# Dependencies are async on purpose: FastAPI runs sync ones in the thread pool.
async def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


def request_session(request: Request) -> AsyncSession:
    """The request's unit of work, opened on first use; the request middleware commits it."""
    state = request.scope["state"]
    session = state.get("db")
    if session is None:
        session = state["db"] = state["db_sessions"]()
    assert isinstance(session, AsyncSession)
    return session


async def get_db(request: Request) -> AsyncSession:
    return request_session(request)


async def trace_id(request: Request) -> str:
    return str(request.state.trace_id)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[AsyncSession, Depends(get_db)]
TraceId = Annotated[str, Depends(trace_id)]


async def current_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenError("a bearer token is required")
    principal = await runtime.auth.authenticate(credentials.credentials)
    request.state.principal = principal
    if principal.session is not None:
        runtime.phases.touch(principal.session)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def admin_principal(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise ForbiddenError("admins only")
    return principal


async def person_principal(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "person":
        raise ForbiddenError("people only; agents use the mesh routes")
    return principal


async def agent_principal(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "agent":
        raise ForbiddenError("agent sessions only")
    return principal


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]
PersonPrincipal = Annotated[Principal, Depends(person_principal)]
AgentPrincipal = Annotated[Principal, Depends(agent_principal)]
