"""Org routes: CSV import, users, tree and profile assignment (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile

from orgtwin.api.deps import AdminPrincipal, RuntimeDep, SessionDep, TraceId
from orgtwin.api.idempotency import Idempotent
from orgtwin.api.routes.common import AUTHED, POSTED
from orgtwin.api.schemas.common import EmployeeId
from orgtwin.api.schemas.org import (
    ImportRead,
    OrgTree,
    OrgTreeNode,
    OrgUserPage,
    OrgUserRead,
    ProfileAssign,
)
from orgtwin.api.services.org import OrgService
from orgtwin.core.crds.models import OrgUserSpec

router = APIRouter(prefix="/v1/org", tags=["org"], responses=AUTHED)


def _service(runtime: RuntimeDep) -> OrgService:
    s = runtime.settings
    return OrgService(runtime.kube, runtime.directory, s.max_import_rows, s.import_concurrency)


def _read(spec: OrgUserSpec) -> OrgUserRead:
    return OrgUserRead(
        employee_id=spec.employee_id,
        name=spec.display_name,
        email=spec.email,
        department=spec.department,
        title=spec.title,
        manager_id=spec.manager_id,
        profile=spec.profile_ref,
        suspended=spec.suspended,
    )


@router.post(
    "/import",
    status_code=201,
    response_model=ImportRead,
    dependencies=[Idempotent],
    responses=POSTED,
)
async def import_org(
    admin: AdminPrincipal,
    runtime: RuntimeDep,
    db: SessionDep,
    trace_id: TraceId,
    file: Annotated[UploadFile, File(description="The org chart CSV.")],
    dry_run: Annotated[bool, Query(description="Validate and plan; write nothing.")] = False,
    suspend_missing: Annotated[
        bool, Query(description="Suspend users missing from this file.")
    ] = False,
) -> ImportRead:
    """Validate the whole CSV, then apply every OrgUser or none (server-side apply)."""
    raw = await file.read()
    run = await _service(runtime).import_csv(
        db, admin, raw, dry_run=dry_run, suspend_missing=suspend_missing, trace_id=trace_id
    )
    return ImportRead.model_validate(run)


@router.get("/users", response_model=OrgUserPage)
async def list_users(
    admin: AdminPrincipal,
    runtime: RuntimeDep,
    department: Annotated[str | None, Query(max_length=200)] = None,
    manager_id: Annotated[EmployeeId | None, Query()] = None,
    profile: Annotated[str | None, Query(max_length=253)] = None,
    suspended: bool | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrgUserPage:
    """Users, filtered and paginated, ordered by employee id."""
    users = sorted((await _service(runtime).existing_users()).values(), key=lambda u: u.employee_id)
    users = [
        u
        for u in users
        if (department is None or u.department == department)
        and (manager_id is None or u.manager_id == manager_id)
        and (profile is None or u.profile_ref == profile)
        and (suspended is None or u.suspended == suspended)
    ]
    return OrgUserPage(
        items=[_read(u) for u in users[offset : offset + limit]],
        total=len(users),
        offset=offset,
        limit=limit,
    )


@router.get("/users/{employee_id}", response_model=OrgUserRead)
async def get_user(
    admin: AdminPrincipal, runtime: RuntimeDep, employee_id: EmployeeId
) -> OrgUserRead:
    """One user."""
    return _read(await _service(runtime).get_user(employee_id))


@router.get("/tree", response_model=OrgTree)
async def tree(admin: AdminPrincipal, runtime: RuntimeDep) -> OrgTree:
    """The reporting tree."""
    users = await _service(runtime).existing_users()
    nodes = {
        u.employee_id: OrgTreeNode(
            employee_id=u.employee_id, name=u.display_name, title=u.title, department=u.department
        )
        for u in sorted(users.values(), key=lambda u: u.employee_id)
    }
    manager = {u.employee_id: u.manager_id for u in users.values() if u.manager_id in nodes}
    roots: list[OrgTreeNode] = []
    for u in sorted(users.values(), key=lambda u: u.employee_id):
        parent = nodes.get(u.manager_id) if not _in_cycle(u.employee_id, manager) else None
        (parent.reports if parent is not None else roots).append(nodes[u.employee_id])
    return OrgTree(roots=roots, total=len(nodes))


def _in_cycle(start: str, manager: dict[str, str]) -> bool:
    """True if the chain from ``start`` loops (objects made outside the api may do that)."""
    seen, node = {start}, manager.get(start)
    while node is not None:
        if node in seen:
            return True
        seen.add(node)
        node = manager.get(node)
    return False


@router.put("/users/{employee_id}/profile", response_model=OrgUserRead)
async def assign_profile(
    admin: AdminPrincipal,
    runtime: RuntimeDep,
    db: SessionDep,
    trace_id: TraceId,
    employee_id: EmployeeId,
    body: ProfileAssign,
) -> OrgUserRead:
    """Assign an AgentProfile to a user."""
    spec = await _service(runtime).assign_profile(db, admin, employee_id, body.profile, trace_id)
    return _read(spec)
