"""SQLAlchemy models of the api's Postgres tables."""

from orgtwin.api.models.base import Base
from orgtwin.api.models.records import (
    AuditEvent,
    IdempotencyKey,
    OrgImport,
    SessionTransition,
    Task,
    TaskReply,
)

__all__ = [
    "AuditEvent",
    "Base",
    "IdempotencyKey",
    "OrgImport",
    "SessionTransition",
    "Task",
    "TaskReply",
]
