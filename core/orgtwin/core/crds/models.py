"""Pydantic models of the three custom resources: the single source of the CRD YAML.

Every field carries a description, bounds and defaults; ``orgtwin.core.crds.generate``
turns these models into structural OpenAPI schemas. CEL rules that protect
invariants live next to the field they guard, in ``json_schema_extra``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ROLE_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
EMPLOYEE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DURATION_PATTERN = r"^([0-9]+(s|m|h|d))+$"
QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$"
TIMESTAMP_DESC = "RFC 3339 time"

Provider = Literal["openai", "anthropic", "openrouter", "ollama"]
ExtensionType = Literal["builtin", "stdio", "streamable_http"]
PrivacyMode = Literal["off", "detect", "mask", "strict"]
DesiredState = Literal["Active", "Paused", "Completed"]
Phase = Literal["Pending", "Active", "Paused", "Completed", "Failed", "Expired"]
EntityType = Literal[
    "EMAIL",
    "PHONE",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN",
    "IP_ADDRESS",
    "DATE_OF_BIRTH",
    "ACCOUNT_NUMBER",
    "SECRET",
    "URL_CREDENTIALS",
    "EMPLOYEE_ID",
    "PERSON",
]

TERMINAL_PHASES: frozenset[str] = frozenset({"Completed", "Failed", "Expired"})


def _cel(rule: str, message: str, field_path: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


class CamelModel(BaseModel):
    """Base for CRD parts: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class Condition(CamelModel):
    """A standard Kubernetes condition, so that ``kubectl wait --for=condition=X`` works."""

    type: str = Field(description="Condition type, e.g. Ready.", max_length=316)
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(
        default="",
        description="One CamelCase word explaining the status.",
        max_length=1024,
    )
    message: str = Field(default="", description="Human-readable detail.", max_length=32768)
    observed_generation: int | None = Field(
        default=None, description="Generation of the object this condition was computed for.", ge=0
    )
    last_transition_time: str | None = Field(
        default=None, description=f"{TIMESTAMP_DESC} the status last changed."
    )


# --------------------------------------------------------------------------- AgentProfile


class ModelSpec(CamelModel):
    """Which LLM the agents of this profile use."""

    provider: Provider = Field(description="LLM provider; every call still goes through the proxy.")
    name: str = Field(
        description="Model name as the provider knows it.", min_length=1, max_length=200
    )
    temperature: float = Field(default=0.2, ge=0, le=2, description="Sampling temperature, 0-2.")
    max_tokens: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Upper bound on tokens per answer."
    )


class Extension(CamelModel):
    """A goose extension (MCP server) the agent may use."""

    name: str = Field(
        description="Extension key in goose's config.", pattern=r"^[a-z][a-z0-9_-]{0,62}$"
    )
    type: ExtensionType = Field(
        description="builtin, stdio (needs cmd) or streamable_http (needs uri)."
    )
    cmd: str | None = Field(
        default=None, description="Command for a stdio extension.", max_length=1024
    )
    args: list[str] = Field(
        default_factory=list, description="Arguments for a stdio extension.", max_length=64
    )
    uri: str | None = Field(
        default=None, description="URL of a streamable_http extension.", max_length=2048
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment for the extension process."
    )
    timeout: int = Field(default=300, ge=1, le=3600, description="Tool call timeout in seconds.")


class Recipe(CamelModel):
    """A goose recipe shipped with the profile."""

    name: str = Field(
        description="File name of the recipe, without extension.", pattern=r"^[a-z][a-z0-9-]{0,62}$"
    )
    title: str = Field(description="Recipe title.", min_length=1, max_length=200)
    description: str = Field(default="", description="What the recipe does.", max_length=2000)
    instructions: str = Field(
        default="", description="Instructions for the agent.", max_length=32768
    )
    prompt: str = Field(default="", description="Initial prompt.", max_length=32768)


class CustomPattern(CamelModel):
    """A profile-specific PII pattern, e.g. an employee id format."""

    name: str = Field(
        description="Entity type reported for matches, e.g. EMPLOYEE_ID.",
        pattern=r"^[A-Z][A-Z0-9_]{0,62}$",
    )
    regex: str = Field(description="Python regular expression.", min_length=1, max_length=1024)


class GooseSpec(CamelModel):
    """goose settings rendered into the profile's ConfigMap."""

    image: str = Field(
        default="ghcr.io/orgtwin/goose-agent:0.1.0",
        description="Container image of the goose agent.",
        min_length=1,
        max_length=512,
    )
    instructions: str = Field(
        default="", description="Instructions, rendered as .goosehints.", max_length=65536
    )
    extensions: list[Extension] = Field(
        default_factory=list,
        description="Extensions besides the built-in orgtwin mesh extension.",
        max_length=32,
    )
    recipes: list[Recipe] = Field(default_factory=list, description="Recipes.", max_length=64)


class PrivacySpec(CamelModel):
    """How the proxy treats PII in this profile's LLM calls."""

    mode: PrivacyMode = Field(
        default="mask",
        description="off, detect (count only), mask (mask and restore) or strict (refuse).",
    )
    entities: list[EntityType] = Field(
        default_factory=list,
        description="Entity types to act on; empty means all.",
        max_length=32,
    )
    custom_patterns: list[CustomPattern] = Field(
        default_factory=list, description="Extra patterns for this profile.", max_length=32
    )


class ToolPolicy(CamelModel):
    """Which tools agents of this profile may call, as globs over tool names."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "!has(self.allow) || !has(self.deny) || !self.allow.exists(a, a in self.deny)",
                    "tools.allow and tools.deny must not share an entry",
                    ".allow",
                )
            ]
        }
    )

    allow: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Globs of allowed tool names.",
        max_length=128,
        json_schema_extra={"items": {"type": "string", "maxLength": 256}},
    )
    deny: list[str] = Field(
        default_factory=list,
        description="Globs of denied tool names; deny wins over allow.",
        max_length=128,
        json_schema_extra={"items": {"type": "string", "maxLength": 256}},
    )


class MeshPolicy(CamelModel):
    """Whom agents of this profile may message through the mesh."""

    can_message: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Roles this profile may message; '*' means any.",
        max_length=64,
        json_schema_extra={"items": {"type": "string", "maxLength": 63}},
    )


class SessionDefaults(CamelModel):
    """Session timing defaults; durations like 30m, 8h, 7d."""

    idle_timeout: str = Field(
        default="30m",
        pattern=DURATION_PATTERN,
        description="Expire after this long without activity.",
    )
    max_duration: str = Field(
        default="8h", pattern=DURATION_PATTERN, description="Expire this long after start."
    )
    retention: str = Field(
        default="7d",
        pattern=DURATION_PATTERN,
        description="Delete terminal sessions after this long.",
    )


class ResourceAmounts(CamelModel):
    """CPU and memory quantities."""

    cpu: str = Field(default="100m", pattern=QUANTITY_PATTERN, description="CPU quantity.")
    memory: str = Field(default="256Mi", pattern=QUANTITY_PATTERN, description="Memory quantity.")


class Resources(CamelModel):
    """Resource requests and limits of the agent container."""

    requests: ResourceAmounts = Field(
        default_factory=ResourceAmounts, description="Requested resources."
    )
    limits: ResourceAmounts = Field(
        default_factory=lambda: ResourceAmounts(cpu="1", memory="1Gi"),
        description="Resource limits.",
    )


class AgentProfileSpec(CamelModel):
    """A role profile: model, goose settings and policies."""

    role: str = Field(description="Role name, e.g. finance.", pattern=ROLE_PATTERN)
    display_name: str = Field(default="", description="Human-readable name.", max_length=200)
    description: str = Field(default="", description="What this profile is for.", max_length=2000)
    model: ModelSpec = Field(description="The LLM.")
    goose: GooseSpec = Field(default_factory=GooseSpec, description="goose settings.")
    privacy: PrivacySpec = Field(default_factory=PrivacySpec, description="PII policy.")
    tools: ToolPolicy = Field(default_factory=ToolPolicy, description="Tool policy.")
    mesh: MeshPolicy = Field(default_factory=MeshPolicy, description="Mesh messaging policy.")
    session: SessionDefaults = Field(
        default_factory=SessionDefaults, description="Session timing defaults."
    )
    resources: Resources = Field(default_factory=Resources, description="Agent pod resources.")


class AgentProfileStatus(CamelModel):
    """Observed state of an AgentProfile."""

    conditions: list[Condition] = Field(default_factory=list, description="Ready, or why not.")
    observed_generation: int | None = Field(default=None, description="Last reconciled generation.")
    users_assigned: int = Field(
        default=0, description="OrgUsers whose profileRef names this profile."
    )
    config_hash: str = Field(default="", description="Hash of the rendered goose configuration.")
    config_map_name: str = Field(
        default="", description="ConfigMap holding the rendered configuration."
    )


# --------------------------------------------------------------------------- OrgUser


class OrgUserSpec(CamelModel):
    """An employee, as imported from the org chart."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "self.managerId != self.employeeId",
                    "an employee cannot be their own manager",
                    ".managerId",
                )
            ]
        }
    )

    employee_id: str = Field(description="Unique employee id.", pattern=EMPLOYEE_ID_PATTERN)
    display_name: str = Field(description="Full name.", min_length=1, max_length=200)
    email: str = Field(description="Work email address.", pattern=EMAIL_PATTERN, max_length=254)
    department: str = Field(default="", description="Department.", max_length=200)
    title: str = Field(default="", description="Job title.", max_length=200)
    manager_id: str = Field(
        default="",
        description="Employee id of the manager; empty at the top of the chart.",
        pattern=r"^([A-Za-z0-9][A-Za-z0-9._-]{0,62})?$",
    )
    profile_ref: str = Field(
        default="",
        description="AgentProfile assigned by an admin; empty means none yet.",
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
        max_length=253,
    )
    suspended: bool = Field(default=False, description="A suspended user gets no sessions.")


class OrgUserStatus(CamelModel):
    """Observed state of an OrgUser."""

    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, ProfileResolved, ManagerResolved."
    )
    observed_generation: int | None = Field(default=None, description="Last reconciled generation.")
    profile_generation: int | None = Field(
        default=None, description="Generation of the resolved AgentProfile."
    )
    config_hash: str = Field(default="", description="Config hash of the resolved AgentProfile.")
    role: str = Field(default="", description="Role of the resolved AgentProfile.")


# --------------------------------------------------------------------------- AgentSession


class AgentSessionSpec(CamelModel):
    """One run of a user's agent."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                _cel(
                    "oldSelf.desiredState != 'Completed' || self.desiredState == 'Completed'",
                    "a Completed session cannot be resumed or paused",
                    ".desiredState",
                )
            ]
        }
    )

    user_ref: str = Field(
        description="Name of the OrgUser this session belongs to; immutable.",
        pattern=NAME_PATTERN,
        max_length=253,
        json_schema_extra={
            "x-kubernetes-validations": [_cel("self == oldSelf", "userRef is immutable")]
        },
    )
    desired_state: DesiredState = Field(
        default="Active", description="Active, Paused or Completed."
    )
    purpose: str = Field(default="", description="Why the session exists.", max_length=2000)
    idle_timeout: str | None = Field(
        default=None, pattern=DURATION_PATTERN, description="Overrides the profile's idle timeout."
    )
    max_duration: str | None = Field(
        default=None, pattern=DURATION_PATTERN, description="Overrides the profile's max duration."
    )


class FailureRequest(CamelModel):
    """A request, by the api, to fail the session; the operator honours it."""

    reason: str = Field(description="CamelCase reason.", pattern=r"^[A-Za-z][A-Za-z0-9]{0,62}$")
    message: str = Field(default="", description="Detail.", max_length=2000)
    requested_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} of the request.")


class AgentSessionStatus(CamelModel):
    """Observed state of an AgentSession."""

    phase: Phase | None = Field(default=None, description="Lifecycle phase.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready and others.")
    observed_generation: int | None = Field(default=None, description="Last reconciled generation.")
    profile_ref: str = Field(default="", description="AgentProfile pinned at start.")
    profile_generation: int | None = Field(
        default=None, description="Generation of the profile pinned at start."
    )
    config_hash: str = Field(default="", description="Config hash pinned at start.")
    role: str = Field(default="", description="Role of the pinned profile.")
    pod_name: str = Field(default="", description="Agent Pod, while one exists.")
    token_secret_name: str = Field(default="", description="Secret holding the session token.")
    started_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} it became Active.")
    paused_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} it was last paused.")
    completed_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} it completed.")
    failed_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} it failed.")
    expired_at: str | None = Field(default=None, description=f"{TIMESTAMP_DESC} it expired.")
    last_transition_at: str | None = Field(
        default=None, description=f"{TIMESTAMP_DESC} of the last phase change."
    )
    last_activity_at: str | None = Field(
        default=None, description=f"{TIMESTAMP_DESC} of the last agent activity."
    )
    message: str = Field(default="", description="Human-readable state detail.", max_length=32768)
    failure_request: FailureRequest | None = Field(
        default=None, description="Set by the api to fail the session."
    )
