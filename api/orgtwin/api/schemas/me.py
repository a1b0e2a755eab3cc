"""Wire models of the caller's own view."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from orgtwin.api.schemas.common import ResponseModel
from orgtwin.api.schemas.org import OrgUserRead


class MeRead(ResponseModel):
    """Who the caller is."""

    kind: Literal["person", "agent"]
    subject: str = Field(description="Employee id (people) or session name (agents).")
    role: str = Field(description="admin or user for people; the profile role for agents.")
    user: OrgUserRead | None = None


class ProfileConfigRead(ResponseModel):
    """The rendered goose configuration of the caller's assigned profile."""

    profile: str
    role: str
    generation: int
    config: dict[str, Any] = Field(description="goose config.yaml as JSON.")
    goosehints: str
    recipes: list[dict[str, Any]]
