"""Errors of the agent side, each with a message fit to show the model.

AgentError                    base; ``str()`` is safe to show: no token, no body, no trace
├── MissingTokenError         no session token in the environment or the token file
├── MeshRejectedError         4xx: never retried; the model should change its call
│   └── MeshAuthError         401/403: the token is invalid, expired or not allowed this
└── MeshUnavailableError      connect errors, timeouts, 5xx, 429 after every retry
"""

from __future__ import annotations

from orgtwin.core.errors import OrgtwinError


class AgentError(OrgtwinError):
    """Base of every agent-side error; its message is meant for the model and the log."""

    kind = "agent_error"


class MissingTokenError(AgentError):
    """No session token was found."""

    kind = "missing_token"

    def __init__(self) -> None:
        super().__init__(
            "no session token: set ORGTWIN_SESSION_TOKEN or mount the token file "
            "named by ORGTWIN_SESSION_TOKEN_FILE"
        )


class MeshRejectedError(AgentError):
    """The api refused the request (4xx); retrying the same request cannot help."""

    kind = "rejected"

    def __init__(self, status: int, title: str, detail: str = "") -> None:
        self.status = status
        self.title = title
        self.detail = detail
        text = f"the mesh api rejected the request ({status} {title})"
        super().__init__(f"{text}: {detail}" if detail else text)


class MeshAuthError(MeshRejectedError):
    """The session token was refused: expired, revoked, or the session is not Active."""

    kind = "unauthorized"


class MeshUnavailableError(AgentError):
    """The api could not be reached or kept failing after every retry."""

    kind = "unavailable"

    def __init__(self, attempts: int, reason: str) -> None:
        self.attempts = attempts
        self.reason = reason
        super().__init__(
            f"the mesh api is unavailable after {attempts} attempt(s) ({reason}); try again later"
        )
