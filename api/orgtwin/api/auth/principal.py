"""Who is calling: a person (OIDC or dev token) or an agent session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orgtwin.core import k8s


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. People have an employee id; agents a session and a role."""

    kind: Literal["person", "agent"]
    subject: str
    role: str
    user_ref: str
    employee_id: str | None = None
    session: str | None = None
    profile: str | None = None

    @property
    def caller(self) -> str:
        """Stable caller key for audit actors and idempotency records."""
        return f"{self.kind}:{self.subject}"

    @property
    def is_admin(self) -> bool:
        return self.kind == "person" and self.role == "admin"

    @classmethod
    def person(cls, employee_id: str, role: str) -> Principal:
        return cls("person", employee_id, role, k8s.user_object_name(employee_id), employee_id)
