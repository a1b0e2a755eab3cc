"""``python -m orgtwin.agent``: the agent commands without the rest of the orgtwin CLI."""

from __future__ import annotations

from orgtwin.agent.cli import agent_app

if __name__ == "__main__":
    agent_app(prog_name="orgtwin-agent")
