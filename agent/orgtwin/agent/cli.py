"""``orgtwin agent``: serve the mesh extension, start goose from the profile, or simulate goose."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

import typer

from orgtwin.core import logging as core_logging
from orgtwin.core.startup import load_settings

agent_app = typer.Typer(
    help="Agent side: mesh MCP extension, goose entrypoint, simulator.", no_args_is_help=True
)


@agent_app.callback()
def _group() -> None:
    """Keep ``mcp`` a sub-command even while it is the only one."""


class Transport(StrEnum):
    stdio = "stdio"
    http = "http"


@agent_app.command("mcp")
def mcp_command(
    transport: Transport = typer.Option(Transport.stdio, help="stdio (for goose) or http."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on with --transport http."),
    port: int = typer.Option(8765, help="Port to listen on with --transport http."),
) -> None:
    """Serve the mesh MCP extension (env: ORGTWIN_API_URL, ORGTWIN_SESSION_TOKEN[_FILE])."""
    from orgtwin.agent.server import MeshServer
    from orgtwin.agent.settings import AgentSettings

    settings = load_settings(AgentSettings, "agent")
    core_logging.configure(settings.log_level, settings.log_format)
    server = MeshServer(settings)
    if transport is Transport.stdio:
        asyncio.run(server.run_stdio())
        return
    import uvicorn

    uvicorn.run(server.http_app(), host=host, port=port, log_level="warning")


@agent_app.command("entrypoint")
def entrypoint_command() -> None:
    """Install the mounted profile as goose's config in HOME, then exec goose headless.

    Env: ORGTWIN_PROFILE_DIR (default /etc/orgtwin/profile), HOME, ORGTWIN_PROXY_URL,
    ORGTWIN_API_URL, ORGTWIN_SESSION_TOKEN, optional ORGTWIN_RECIPE or ORGTWIN_PROMPT.
    """
    from orgtwin.agent import entrypoint
    from orgtwin.agent.settings import AgentSettings

    settings = load_settings(AgentSettings, "agent")
    core_logging.configure(settings.log_level, settings.log_format)
    try:
        entrypoint.main()
    except entrypoint.EntrypointError as exc:
        typer.echo(f"orgtwin agent entrypoint: {exc}", err=True)
        raise typer.Exit(2) from exc


@agent_app.command("simulate")
def simulate_command(
    prompt: list[str] = typer.Option(
        [], "--prompt", "-p", help="A user prompt to run to a final answer; repeatable."
    ),
    loop: bool = typer.Option(
        False, help="After the prompts, keep working the inbox until SIGTERM."
    ),
    interval: float = typer.Option(2.0, help="Seconds between inbox rounds with --loop."),
    max_turns: int = typer.Option(20, help="Model calls per prompt before giving up."),
    profile_dir: Path | None = typer.Option(
        None, help="Profile folder; default ORGTWIN_PROFILE_DIR or /etc/orgtwin/profile."
    ),
) -> None:
    """Play goose for one session: proxy (OpenAI streaming) + mesh extension over stdio.

    Env: ORGTWIN_SESSION_TOKEN or ORGTWIN_SESSION_TOKEN_FILE, ORGTWIN_PROXY_URL,
    ORGTWIN_API_URL, optional ORGTWIN_TRACE_ID. Prints the transcript as JSON lines.
    """
    import os
    import sys

    from orgtwin.agent import entrypoint, simulate
    from orgtwin.agent.errors import AgentError
    from orgtwin.agent.settings import AgentSettings

    settings = load_settings(AgentSettings, "agent")
    core_logging.configure(settings.log_level, settings.log_format)
    env = dict(os.environ)
    folder = profile_dir or Path(env.get("ORGTWIN_PROFILE_DIR") or entrypoint.DEFAULT_PROFILE_DIR)
    try:
        token = settings.token()
        env["ORGTWIN_SESSION_TOKEN"] = token  # passed to the extension by name, as goose does
        rendered = entrypoint.render(entrypoint.read_profile(folder), env)
        simulator = simulate.Simulator(rendered, env, token, sys.stdout)
    except AgentError as exc:
        typer.echo(f"orgtwin agent simulate: {exc}", err=True)
        raise typer.Exit(2) from exc
    plan = simulate.Plan(
        prompts=prompt,
        loop_prompt=entrypoint.DEFAULT_PROMPT if loop or not prompt else None,
        interval=interval,
        max_turns=max_turns,
    )
    code = asyncio.run(simulate.run_until_signalled(simulator, plan))
    raise typer.Exit(code)
