"""Org wire models: users, the tree, profile assignment and import runs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from orgtwin.api.schemas.common import ObjectName, RequestModel, ResponseModel


class OrgUserRead(ResponseModel):
    """An employee as the OrgUser object says."""

    employee_id: str
    name: str
    email: str
    department: str
    title: str
    manager_id: str
    profile: str
    suspended: bool


class OrgUserPage(ResponseModel):
    """One page of users."""

    items: list[OrgUserRead]
    total: int
    offset: int
    limit: int


class OrgTreeNode(ResponseModel):
    """An employee with their direct reports."""

    employee_id: str
    name: str
    title: str
    department: str
    reports: list[OrgTreeNode] = Field(default_factory=list)


class OrgTree(ResponseModel):
    """The reporting tree; roots have no manager."""

    roots: list[OrgTreeNode]
    total: int


class ProfileAssign(RequestModel):
    """Assign an AgentProfile to a user."""

    profile: ObjectName = Field(description="Name of an existing AgentProfile.")


class ImportRowProblem(ResponseModel):
    """One validation problem, by line (1 is the header) and column."""

    line: int | None
    field: str
    message: str


class ImportRead(ResponseModel):
    """An import run: what changed, or what would change for a dry run."""

    id: int
    dry_run: bool
    outcome: Literal["applied", "dry_run", "invalid", "failed"]
    rows: int
    created: int
    updated: int
    unchanged: int
    suspended: int
    missing: list[str] = Field(
        description="Employee ids present in the cluster but not in this file."
    )
    problems: list[ImportRowProblem] = Field(default_factory=list)
    trace_id: str
    created_at: datetime


OrgTreeNode.model_rebuild()
