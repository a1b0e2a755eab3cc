"""Operator settings, read once from ``ORGTWIN_OPERATOR_*`` environment variables at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from orgtwin.core.settings import BaseServiceSettings


class OperatorSettings(BaseServiceSettings):
    """Everything the operator needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="ORGTWIN_OPERATOR_", extra="ignore", frozen=True)

    namespaces: list[str] = Field(
        default_factory=list,
        description=(
            "Namespaces (globs allowed) to watch; empty means the single ``namespace`` field. "
            "One namespace holds one tenant."
        ),
    )
    proxy_url: str = Field(
        default="http://orgtwin-proxy:8080",
        description="Base URL of the privacy proxy Service; goose sends every LLM call here.",
    )
    proxy_openai_base_path: str = Field(
        # goose's own default spelling: goose then sends the OpenAI models it picks (gpt-5
        # codex and the like, some served only there) to the Responses API and the rest to
        # chat completions, and the proxy serves both. "/v1/chat/completions", with the
        # slash, keeps every model on chat completions.
        default="v1/chat/completions",
        description="goose's OPENAI_BASE_PATH for the proxy's OpenAI endpoints.",
    )
    api_url: str = Field(
        default="http://orgtwin-api:8080",
        description="Base URL of the orgtwin api Service; the mesh extension talks to it.",
    )
    proxy_port: int = Field(default=8080, description="TCP port the proxy pods listen on.")
    api_port: int = Field(default=8080, description="TCP port the api pods listen on.")
    proxy_pod_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "orgtwin-proxy"},
        description="Labels of the proxy pods; the NetworkPolicy allows egress to them only.",
    )
    api_pod_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "orgtwin-api"},
        description="Labels of the api pods; the NetworkPolicy allows egress to them only.",
    )
    agent_command: list[str] = Field(
        default_factory=lambda: ["orgtwin", "agent", "entrypoint"],
        description="Command of the agent container (the goose image's orgtwin entrypoint).",
    )
    mesh_command: list[str] = Field(
        default_factory=lambda: ["orgtwin", "agent", "mcp"],
        description="Command goose runs for the orgtwin mesh extension (stdio MCP server).",
    )
    session_timer_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds between drift checks of each session (expiry, activity, failure requests). "
            "Expiry is detected at most this late; 10 s keeps the API load of thousands "
            "of sessions low."
        ),
    )
    profile_timer_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between recounts of each profile's assigned users.",
    )
    retry_delay_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Back-off before retrying a transient API failure (never a tight loop).",
    )
    max_workers: int = Field(
        default=16,
        ge=1,
        description="Threads running the (blocking) handlers; bounds concurrent API calls.",
    )
    object_workers: int = Field(
        default=128,
        ge=1,
        description=(
            "Objects kopf processes at once; a burst beyond it waits on the watch stream "
            "instead of in memory."
        ),
    )
    peering_name: str = Field(
        default="orgtwin",
        description="KopfPeering object the replicas share; only the highest priority acts.",
    )
    peering_priority: int | None = Field(
        default=None,
        description=(
            "Priority among replicas; unset draws a random one so that two replicas never tie "
            "(a tie freezes all of them)."
        ),
    )
    standalone: bool = Field(
        default=False, description="Run without peering (a single replica, tests, development)."
    )
    peering_lifetime_seconds: int = Field(
        default=60,
        ge=5,
        description="How long a silent replica counts as alive before another takes over.",
    )
    health_port: int = Field(
        default=8081, description="Port of the liveness/readiness endpoint (/healthz)."
    )
    metrics_port: int = Field(default=9090, description="Port of the Prometheus /metrics endpoint.")
    listen_host: str = Field(
        default="127.0.0.1",
        description="Address the health and metrics servers bind; 0.0.0.0 only inside a Pod.",
    )

    def watched_namespaces(self) -> list[str]:
        return self.namespaces or [self.namespace]
