"""Settings of the control API, read once from ORGTWIN_API_* at start-up."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from orgtwin.core.settings import BaseServiceSettings


class ApiSettings(BaseServiceSettings):
    """Everything ``orgtwin api serve`` needs; secrets are ``SecretStr``."""

    model_config = SettingsConfigDict(env_prefix="ORGTWIN_API_", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = Field(
        default="production",
        description="production forbids dev mode; development allows it.",
    )
    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8080, ge=1, le=65535, description="Listen port.")
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+psycopg://orgtwin@127.0.0.1:5432/orgtwin"),
        description="SQLAlchemy URL (psycopg 3); may hold a password, hence secret.",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Pooled connections (plus up to 10 in bursts), half of them for the "
        "single-statement mesh writes.",
    )
    session_signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of agent session tokens (Secret orgtwin-session-signing).",
    )
    masking_key: SecretStr | None = Field(
        default=None, description="HMAC key for deterministic PII placeholders in mesh payloads."
    )
    oidc_issuer: str | None = Field(default=None, description="Expected `iss` of people's JWTs.")
    oidc_audience: str | None = Field(default=None, description="Expected `aud`.")
    oidc_jwks_url: str | None = Field(default=None, description="Where the signing keys live.")
    oidc_jwks_cache_seconds: int = Field(
        default=300, ge=0, description="How long fetched JWKS keys are trusted, seconds."
    )
    oidc_jwks_refresh_cooldown_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least time between refetches for an unknown kid, seconds (rate-limits "
        "forged kids; a rotated key is picked up after at most this long).",
    )
    oidc_user_claim: str = Field(
        default="employee_id", description="Claim holding the caller's employee id."
    )
    oidc_role_claim: str = Field(
        default="orgtwin_role", description="Claim (string or list) giving admin or user."
    )
    oidc_admin_value: str = Field(
        default="admin", description="Value of the role claim that makes an admin."
    )
    dev_mode: bool = Field(
        default=False, description="Accept tokens from the local dev key; never in production."
    )
    dev_signing_key: SecretStr | None = Field(
        default=None, description="HMAC key of dev tokens (>= 32 bytes)."
    )
    session_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long an agent session's phase is cached, seconds."
    )
    activity_write_seconds: float = Field(
        default=60.0, ge=0, description="Minimum gap between lastActivityAt writes per session."
    )
    directory_refresh_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest time between two full lists of the org directory; changes "
        "arrive within a second through a watch.",
    )
    k8s_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Timeout of one Kubernetes API call, seconds."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest JSON body accepted (413 above)."
    )
    max_import_bytes: int = Field(
        default=5_242_880, ge=1024, description="Largest CSV upload accepted (413 above)."
    )
    max_import_rows: int = Field(default=10_000, ge=1, description="Most rows one import takes.")
    import_concurrency: int = Field(
        default=16, ge=1, le=64, description="Parallel server-side applies during an import."
    )
    idempotency_ttl_hours: int = Field(default=24, ge=1, description="Idempotency key lifetime.")
    inbox_max_wait_seconds: float = Field(
        default=30.0, ge=0, description="Longest long-poll an inbox request may ask for."
    )
    proxy_url: str = Field(
        default="http://orgtwin-proxy:8080/v1",
        description="LLM proxy URL written into rendered goose configuration.",
    )
    watch_sessions: bool = Field(
        default=True, description="Record AgentSession transitions into session_history."
    )

    @model_validator(mode="after")
    def _dev_mode_only_in_development(self) -> ApiSettings:
        if self.dev_mode and self.environment == "production":
            raise ValueError("dev_mode is refused with environment=production")
        if self.dev_mode and (
            self.dev_signing_key is None or len(self.dev_signing_key.get_secret_value()) < 32
        ):
            raise ValueError("dev_mode needs dev_signing_key of at least 32 bytes")
        return self

    @model_validator(mode="after")
    def _oidc_settings_go_together(self) -> ApiSettings:
        # Any one of them alone would start an api that silently refuses every person.
        names = ("oidc_issuer", "oidc_audience", "oidc_jwks_url")
        missing = [f"ORGTWIN_API_{n.upper()}" for n in names if not getattr(self, n)]
        if 0 < len(missing) < len(names):
            raise ValueError(
                "OIDC needs its issuer, audience and JWKS URL together: set " + ", ".join(missing)
            )
        url = urlsplit(self.oidc_jwks_url or "")
        if self.oidc_jwks_url and (url.scheme not in ("http", "https") or not url.hostname):
            raise ValueError("ORGTWIN_API_OIDC_JWKS_URL must be an http or https URL")
        return self
