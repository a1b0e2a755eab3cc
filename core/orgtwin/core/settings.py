"""The settings base every service extends: read once from the environment at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    """Fields every orgtwin service shares. Subclasses set their own ``env_prefix``."""

    model_config = SettingsConfigDict(env_prefix="ORGTWIN_", extra="ignore", frozen=True)

    namespace: str = Field(
        default="default",
        description="Tenant namespace this service serves (one organisation per namespace).",
    )
    kubeconfig: str | None = Field(
        default=None,
        description="Path to a kubeconfig; unset means in-cluster config, then ~/.kube/config.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log lines written."
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="json for machines (default), text for people at a terminal."
    )
