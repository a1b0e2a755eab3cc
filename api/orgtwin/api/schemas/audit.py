"""Audit wire models: append-only events, never a raw PII value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orgtwin.api.schemas.common import ResponseModel


class AuditEventRead(ResponseModel):
    """One audited state change."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    outcome: str
    trace_id: str
    details: dict[str, Any]


class AuditPage(ResponseModel):
    """Newest first; pass ``next_before`` as ``before`` for the next page."""

    items: list[AuditEventRead]
    next_before: int | None
