"""The domain error hierarchy shared by every component.

    OrgtwinError
    ├── InputValidationError   bad input: a 4xx in the api, kopf.PermanentError in the operator
    ├── NotFoundError          a referenced object does not exist
    ├── ConflictError          the request conflicts with current state (409)
    └── TokenError             a session or user token is missing, malformed or expired (401)

Messages name fields, lines and types, never the offending values: a value may be PII.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError


class OrgtwinError(Exception):
    """Base of every orgtwin domain error."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field or line of an input."""

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.message}"


class InputValidationError(OrgtwinError):
    """The input is invalid; ``problems`` names every field or line at fault."""

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NotFoundError(OrgtwinError):
    """A referenced object does not exist."""


class ConflictError(OrgtwinError):
    """The request conflicts with the current state."""


class TokenError(OrgtwinError):
    """A token is missing, malformed, wrongly signed or expired."""


def validation_problems(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Each of pydantic's errors as its field path (below ``prefix``) and message: never
    its ``input``, which echoes the value."""
    return [
        FieldProblem(
            ".".join(filter(None, [prefix, *map(str, err["loc"])])) or "(document)", err["msg"]
        )
        for err in exc.errors()
    ]
