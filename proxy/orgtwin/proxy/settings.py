"""Proxy settings, read once from ``ORGTWIN_PROXY_*`` environment variables at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from orgtwin.core.settings import BaseServiceSettings
from orgtwin.core.startup import StartupError

ProviderName = Literal["openai", "anthropic", "openrouter", "ollama"]


def _secret(value: SecretStr | None, path: Path | None, name: str) -> bytes:
    """The key from ORGTWIN_PROXY_<NAME> or the file ORGTWIN_PROXY_<NAME>_FILE names."""
    variable = f"ORGTWIN_PROXY_{name}"
    if value is not None and value.get_secret_value():
        return value.get_secret_value().encode()
    if path is None:
        raise StartupError(f"set {variable} or {variable}_FILE")
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise StartupError(f"cannot read {variable}_FILE ({path}): {exc.strerror}") from None
    if not key:
        raise StartupError(f"{variable}_FILE ({path}) is empty")
    return key


class ProxySettings(BaseServiceSettings):
    """Everything ``orgtwin proxy`` needs; secrets are SecretStr and never logged."""

    model_config = SettingsConfigDict(env_prefix="ORGTWIN_PROXY_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Listen address; 0.0.0.0 only in a pod.")
    port: int = Field(default=8080, description="Listen port.")
    session_signing_key: SecretStr | None = Field(
        default=None, description="HS256 key that verifies session tokens (the tenant Secret)."
    )
    session_signing_key_file: Path | None = Field(
        default=None, description="File holding the signing key, e.g. a mounted Secret."
    )
    masking_key: SecretStr | None = Field(
        default=None, description="Tenant secret keying the HMAC of placeholders."
    )
    masking_key_file: Path | None = Field(default=None, description="File holding the masking key.")
    openai_base_url: str = Field(default="https://api.openai.com/v1", description="OpenAI API.")
    openai_api_key: SecretStr | None = Field(default=None, description="OpenAI key.")
    anthropic_base_url: str = Field(
        default="https://api.anthropic.com/v1", description="Anthropic."
    )
    anthropic_api_key: SecretStr | None = Field(default=None, description="Anthropic key.")
    anthropic_version: str = Field(
        default="2023-06-01", description="anthropic-version sent when the client sends none."
    )
    openrouter_base_url: str = Field(
        default="https://openrouter.ai/api/v1", description="OpenRouter."
    )
    openrouter_api_key: SecretStr | None = Field(default=None, description="OpenRouter key.")
    ollama_base_url: str = Field(default="http://127.0.0.1:11434/v1", description="Ollama.")
    ollama_api_key: SecretStr | None = Field(default=None, description="Ollama key, usually none.")
    profiles_file: Path | None = Field(
        default=None,
        description="Standalone mode: YAML of AgentProfile (and OrgUser) objects; unset means "
        "a watch cache over the namespace's AgentProfiles and OrgUsers.",
    )
    connect_timeout_seconds: float = Field(
        default=5.0,
        description="Upstream connect timeout; providers answer a SYN in well under 1 s.",
    )
    read_timeout_seconds: float = Field(
        default=300.0,
        description="Longest silence between upstream bytes; long reasoning pauses need minutes.",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, description="Largest request body accepted (16 MiB)."
    )
    session_cache_sessions: int = Field(
        default=4096, description="Sessions whose placeholders are remembered across turns."
    )
    session_cache_entries: int = Field(
        default=1024, description="Placeholders remembered per session, least recently used out."
    )
    activity_interval_seconds: float = Field(
        default=60.0,
        description="At most one lastActivityAt patch per session per interval (seconds); idle "
        "timeouts are minutes long, so a minute of precision is enough.",
    )
    record_activity: bool = Field(
        default=True, description="Patch AgentSession status.lastActivityAt (watch mode only)."
    )

    def signing_key(self) -> bytes:
        return _secret(
            self.session_signing_key, self.session_signing_key_file, "SESSION_SIGNING_KEY"
        )

    def masking_secret(self) -> bytes:
        return _secret(self.masking_key, self.masking_key_file, "MASKING_KEY")

    def provider(self, name: ProviderName) -> tuple[str, SecretStr | None]:
        """Base URL and key of one provider."""
        url: str = getattr(self, f"{name}_base_url")
        key: SecretStr | None = getattr(self, f"{name}_api_key")
        return url.rstrip("/"), key
