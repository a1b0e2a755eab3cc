"""Sample inputs shared by the builder and validation tests."""

from __future__ import annotations

from typing import Any

from orgtwin.core.crds.models import AgentProfileSpec
from orgtwin.operator.builders.meta import Owner, SessionContext
from orgtwin.operator.settings import OperatorSettings

SETTINGS = OperatorSettings(
    proxy_url="http://orgtwin-proxy.acme.svc:8080",
    api_url="http://orgtwin-api.acme.svc:8080",
)

RAW_PROFILE: dict[str, Any] = {
    "role": "finance",
    "displayName": "Finance analyst",
    "model": {"provider": "openai", "name": "gpt-4o-mini", "temperature": 0.3, "maxTokens": 4096},
    "goose": {
        "image": "ghcr.io/orgtwin/goose-agent:0.1.0",
        "instructions": "You help the finance team close the books.",
        "extensions": [
            {"name": "developer", "type": "builtin"},
            {
                "name": "ledger",
                "type": "stdio",
                "cmd": "ledger-mcp",
                "args": ["--ro"],
                "env": {"LEDGER_MODE": "read"},
            },
            {"name": "wiki", "type": "streamable_http", "uri": "https://wiki.acme.test/mcp"},
        ],
        "recipes": [
            {
                "name": "month-end",
                "title": "Month-end close",
                "description": "Close the month",
                "instructions": "Reconcile accounts.",
                "prompt": "Start the month-end close.",
            }
        ],
    },
    "privacy": {"mode": "mask", "customPatterns": [{"name": "EMPLOYEE_ID", "regex": "E-[0-9]{6}"}]},
    "session": {"idleTimeout": "30m", "maxDuration": "8h", "retention": "7d"},
}

PROFILE = AgentProfileSpec.model_validate(RAW_PROFILE)
PROFILE_OWNER = Owner("AgentProfile", "finance", "11111111-2222-3333-4444-555555555555")


def session_ctx(profile: AgentProfileSpec = PROFILE) -> SessionContext:
    return SessionContext(
        namespace="acme",
        session=Owner("AgentSession", "alice-20260101", "66666666-7777-8888-9999-000000000000"),
        user="alice",
        profile_name="finance",
        profile=profile,
        config_hash="0123456789abcdef",
        profile_generation=3,
        settings=SETTINGS,
    )
