"""The caller's own view: who am I, and my profile's rendered goose configuration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from orgtwin.api.deps import CurrentPrincipal, PersonPrincipal, RuntimeDep
from orgtwin.api.routes.common import AUTHED
from orgtwin.api.routes.org import _read
from orgtwin.api.schemas.me import MeRead, ProfileConfigRead
from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec, OrgUserSpec
from orgtwin.core.errors import NotFoundError

router = APIRouter(prefix="/v1/me", tags=["me"], responses=AUTHED)


@router.get("", response_model=MeRead)
async def me(principal: CurrentPrincipal, runtime: RuntimeDep) -> MeRead:
    """Who the caller is, with their OrgUser when there is one."""
    snap = await runtime.directory.get(max_age=runtime.settings.directory_refresh_seconds)
    user = snap.by_object.get(principal.user_ref)
    return MeRead(
        kind=principal.kind,
        subject=principal.subject,
        role=principal.role,
        user=_read(user) if user else None,
    )


def render(name: str, generation: int, spec: AgentProfileSpec, proxy_url: str) -> ProfileConfigRead:
    """The goose configuration a desktop goose loads for this profile."""
    extensions: dict[str, Any] = {
        e.name: {
            "type": e.type,
            "enabled": True,
            "timeout": e.timeout,
            **({"cmd": e.cmd, "args": e.args} if e.cmd else {}),
            **({"uri": e.uri} if e.uri else {}),
            **({"envs": e.env} if e.env else {}),
        }
        for e in spec.goose.extensions
    }
    config: dict[str, Any] = {
        "GOOSE_PROVIDER": "openai",
        "GOOSE_MODEL": spec.model.name,
        "GOOSE_TEMPERATURE": spec.model.temperature,
        "OPENAI_HOST": proxy_url,
        "ORGTWIN_UPSTREAM_PROVIDER": spec.model.provider,
        "extensions": extensions,
    }
    if spec.model.max_tokens:
        config["GOOSE_MAX_TOKENS"] = spec.model.max_tokens
    return ProfileConfigRead(
        profile=name,
        role=spec.role,
        generation=generation,
        config=config,
        goosehints=spec.goose.instructions,
        recipes=[r.model_dump(by_alias=True) for r in spec.goose.recipes],
    )


@router.get("/profile", response_model=ProfileConfigRead)
async def my_profile(principal: PersonPrincipal, runtime: RuntimeDep) -> ProfileConfigRead:
    """The rendered goose configuration of the caller's assigned profile."""
    user = OrgUserSpec.model_validate(
        (await runtime.kube.get(k8s.USER_PLURAL, principal.user_ref)).get("spec") or {}
    )
    if not user.profile_ref:
        raise NotFoundError("no profile is assigned to you yet")
    obj = await runtime.kube.get(k8s.PROFILE_PLURAL, user.profile_ref)
    spec = AgentProfileSpec.model_validate(obj.get("spec") or {})
    generation = int((obj.get("metadata") or {}).get("generation", 0))
    return render(user.profile_ref, generation, spec, runtime.settings.proxy_url)
