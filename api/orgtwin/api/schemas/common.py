"""Shared wire types: strict request base, pagination and problem details."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

EmployeeId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", max_length=63)
]
Role = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,62}$", max_length=63)]
ObjectName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=253)
]
JsonData = Annotated[
    dict[str, Any],
    Field(
        default_factory=dict,
        description="Free-form JSON object; string values are masked like the body.",
    ),
]


def _storable(value: Any) -> None:
    """Refuse what Postgres cannot store: NUL characters and numbers that are not finite.

    Python's JSON parser reads ``NaN`` and ``Infinity``, and strings may carry ``\\u0000``;
    neither fits a text or jsonb column. The message names the rule, never the value.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain the NUL character (U+0000)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are rejected, strings are stripped, and
    every value, nested ones included, must be storable (see ``_storable``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _check_storable(cls, value: Any) -> Any:
        _storable(value)
        return value


class ResponseModel(BaseModel):
    """Base of every response body."""

    model_config = ConfigDict(from_attributes=True)


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` is a stable URI per kind of error."""

    type: str = Field(description="Stable URI naming the kind of error.")
    title: str = Field(description="Short summary of the kind of error.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(default="", description="What went wrong in this request.")
    instance: str = Field(default="", description="The request path.")
    trace_id: str = Field(default="", description="X-Trace-Id of the request.")
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="Field or line problems: {field, message, line?}."
    )
    allowed_events: list[str] | None = Field(
        default=None, description="For an invalid session event: the events allowed now."
    )
