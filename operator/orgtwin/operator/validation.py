"""Rules of an AgentProfile that the CRD schema cannot express.

``validate_profile`` returns the parsed spec or raises ``ProfileInvalidError`` (an
``InputValidationError``) naming the fields at fault, never their values.
"""

from __future__ import annotations

import re
from typing import Any, Final, get_args

from pydantic import ValidationError

from orgtwin.core.crds.models import AgentProfileSpec, Provider
from orgtwin.core.errors import FieldProblem, InputValidationError
from orgtwin.operator.builders.goose import MESH_EXTENSION
from orgtwin.operator.fsm import parse_duration

KNOWN_PROVIDERS: Final = frozenset(get_args(Provider))


class ProfileInvalidError(InputValidationError):
    """The profile cannot be rendered; ``reason`` is the condition reason."""

    def __init__(self, reason: str, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems), problems)
        self.reason = reason


def _parse(raw: dict[str, Any]) -> AgentProfileSpec:
    provider = (raw.get("model") or {}).get("provider")
    if provider not in KNOWN_PROVIDERS:
        raise ProfileInvalidError(
            "UnknownProvider",
            [FieldProblem("spec.model.provider", f"must be one of {sorted(KNOWN_PROVIDERS)}")],
        )
    try:
        return AgentProfileSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem("spec." + ".".join(str(p) for p in err["loc"]), err["type"])
            for err in exc.errors()
        ]
        raise ProfileInvalidError("InvalidSpec", problems) from exc


def _extension_problems(spec: AgentProfileSpec) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, ext in enumerate(spec.goose.extensions):
        where = f"spec.goose.extensions[{i}]"
        if ext.name == MESH_EXTENSION:
            problems.append(FieldProblem(f"{where}.name", "is reserved for the mesh extension"))
        if ext.name in seen:
            problems.append(FieldProblem(f"{where}.name", "is a duplicate"))
        seen.add(ext.name)
        if ext.type == "stdio" and not ext.cmd:
            problems.append(FieldProblem(f"{where}.cmd", "is required for a stdio extension"))
        if ext.type == "streamable_http" and not (ext.uri or "").startswith(
            ("http://", "https://")
        ):
            problems.append(
                FieldProblem(f"{where}.uri", "an http(s) URL is required for streamable_http")
            )
        if ext.type != "stdio" and (ext.cmd or ext.args):
            problems.append(FieldProblem(f"{where}.cmd", "only a stdio extension takes cmd/args"))
        if ext.type != "streamable_http" and ext.uri:
            problems.append(FieldProblem(f"{where}.uri", "only streamable_http takes a uri"))
    return problems


def _pattern_problems(spec: AgentProfileSpec) -> list[FieldProblem]:
    problems = []
    for i, pattern in enumerate(spec.privacy.custom_patterns):
        try:
            re.compile(pattern.regex)
        except re.error:
            problems.append(
                FieldProblem(f"spec.privacy.customPatterns[{i}].regex", "does not compile")
            )
    return problems


def _duration_problems(spec: AgentProfileSpec) -> list[FieldProblem]:
    problems = []
    for field in ("idle_timeout", "max_duration", "retention"):
        try:
            if parse_duration(getattr(spec.session, field)).total_seconds() <= 0:
                raise ValueError("zero")
        except ValueError:
            problems.append(FieldProblem(f"spec.session.{field}", "must be a positive duration"))
    return problems


def validate_profile(raw: dict[str, Any]) -> AgentProfileSpec:
    """Parse and check a profile spec; raise ``ProfileInvalidError`` with every problem found."""
    spec = _parse(raw)
    for reason, problems in (
        ("InvalidExtension", _extension_problems(spec)),
        ("InvalidPattern", _pattern_problems(spec)),
        ("InvalidDuration", _duration_problems(spec)),
    ):
        if problems:
            raise ProfileInvalidError(reason, problems)
    return spec
