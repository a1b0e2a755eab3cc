"""Authentication: OIDC people, agent session tokens, and dev-mode tokens."""

from orgtwin.api.auth.principal import Principal

__all__ = ["Principal"]
