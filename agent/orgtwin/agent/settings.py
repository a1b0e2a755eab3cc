"""What the agent side reads from its environment: api and proxy URLs, token, retry policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from orgtwin.agent.errors import MissingTokenError
from orgtwin.core.settings import BaseServiceSettings

DEFAULT_TOKEN_FILE = Path("/var/run/orgtwin/session/token")


class AgentSettings(BaseServiceSettings):
    """Environment of the mesh extension, the entrypoint and ``simulate`` (prefix ``ORGTWIN_``)."""

    model_config = SettingsConfigDict(env_prefix="ORGTWIN_", extra="ignore", frozen=True)

    api_url: str = Field(
        default="http://orgtwin-api:8080",
        description="Base URL of the orgtwin api; the mesh routes live under /v1/mesh.",
    )
    proxy_url: str = Field(
        default="http://orgtwin-proxy:8080",
        description="Base URL of the privacy proxy; goose's OpenAI provider points here.",
    )
    session_token: SecretStr | None = Field(
        default=None, description="This session's token; wins over the token file when set."
    )
    session_token_file: Path = Field(
        default=DEFAULT_TOKEN_FILE,
        description="File holding the token, re-read on every call so a rotated Secret is seen.",
    )
    trace_id: str | None = Field(
        default=None,
        description="Trace id to pass as X-Trace-Id; unset means one is generated per call chain.",
    )
    request_timeout: float = Field(
        default=10.0, gt=0, description="Seconds per HTTP attempt, besides long-poll waits."
    )
    max_attempts: int = Field(
        default=4,
        ge=1,
        le=10,
        description="Attempts per call, first included; 4 ride out an api restart of seconds.",
    )
    backoff_base: float = Field(
        default=0.2, ge=0, description="Seconds before the first retry; doubles per attempt."
    )
    backoff_max: float = Field(
        default=5.0,
        ge=0,
        description="Cap in seconds on one wait, including a server's Retry-After.",
    )

    def token(self) -> str:
        """The session token, from the environment or the mounted file; never logged."""
        if self.session_token is not None and self.session_token.get_secret_value().strip():
            return self.session_token.get_secret_value().strip()
        try:
            value = self.session_token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MissingTokenError() from exc
        if not value:
            raise MissingTokenError()
        return value
