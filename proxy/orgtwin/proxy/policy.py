"""Tool policy: the profile's allow and deny globs decide which tool names may be used."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from orgtwin.core.crds.models import ToolPolicy


@dataclass(frozen=True)
class ToolRules:
    """Allow and deny globs; deny wins, and a name matching no allow glob is denied."""

    allow: tuple[str, ...] = ("*",)
    deny: tuple[str, ...] = ()

    @classmethod
    def from_policy(cls, policy: ToolPolicy) -> ToolRules:
        return cls(tuple(policy.allow), tuple(policy.deny))

    def allows_every_tool(self) -> bool:
        """True when no name can be denied: nothing to police."""
        return not self.deny and "*" in self.allow

    def allows(self, name: str) -> bool:
        if any(fnmatchcase(name, glob) for glob in self.deny):
            return False
        return any(fnmatchcase(name, glob) for glob in self.allow)


def blocked_notice(name: str) -> str:
    """What the client reads instead of a forbidden tool call."""
    return f"[orgtwin] The tool call '{name}' was blocked by this profile's tool policy."
