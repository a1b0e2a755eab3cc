"""Unauthenticated probes and metrics: /healthz, /readyz, /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from orgtwin.api import metrics
from orgtwin.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    postgres: str | None = None
    kubernetes: str | None = None


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(runtime: RuntimeDep) -> Response:
    """Postgres and Kubernetes are reachable."""
    checks: dict[str, str] = {}
    for name, probe in (("postgres", runtime.db.ping), ("kubernetes", runtime.kube.ping)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks[name] = type(exc).__name__
    ready = all(v == "ok" for v in checks.values())
    body = Health(status="ok" if ready else "unavailable", **checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def prometheus() -> Response:
    """Prometheus metrics."""
    return Response(metrics.render(), media_type="text/plain; version=0.0.4")
