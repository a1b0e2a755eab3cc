"""``orgtwin agent simulate``: play goose's part where real goose cannot run (tests, the demo).

It reads the same rendered configuration as goose (``entrypoint.render``), sends
the conversation to the proxy over the OpenAI streaming protocol with the session
token, runs the tool calls the model returns through the real mesh extension over
stdio (``mcp`` client), feeds the results back, and stops when the model answers
without tool calls. Tools are offered as ``<extension>__<tool>``, goose's naming,
so the proxy's tool policy globs see what they would see with goose.

One process per Active session: SIGTERM or SIGINT ends it cleanly (exit 0).
The transcript goes to stdout as JSON lines: it is what the user sees (restored
by the proxy), so it is output, never a log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TextIO

import httpx
import mcp_types as types
from mcp import ClientSession, StdioServerParameters, stdio_client

from orgtwin.agent.entrypoint import MESH_EXTENSION, Rendered
from orgtwin.agent.llm import LLMError, stream_chat

log = logging.getLogger(__name__)

SEPARATOR = "__"
DEFAULT_MAX_TURNS = 20


@dataclass(frozen=True)
class Plan:
    """What one simulated agent does: prompts to send, then optionally keep polling."""

    prompts: Sequence[str]
    loop_prompt: str | None = None
    interval: float = 5.0
    max_turns: int = DEFAULT_MAX_TURNS


def extension_params(rendered: Rendered, env: Mapping[str, str]) -> StdioServerParameters:
    """How goose would start the mesh extension, with the session token passed by name."""
    ext = rendered.config["extensions"][MESH_EXTENSION]
    cmd, args = str(ext["cmd"]), [str(a) for a in ext.get("args", [])]
    if shutil.which(cmd) is None and cmd == "orgtwin":
        # On a host without the venv on PATH: the same command through this interpreter.
        cmd, args = sys.executable, ["-m", "orgtwin.agent", *args[1:]]
    child_env = {str(k): str(v) for k, v in (ext.get("envs") or {}).items()}
    for key in ext.get("env_keys") or []:
        if key in env:
            child_env[key] = env[key]
    for key in ("ORGTWIN_LOG_LEVEL", "ORGTWIN_LOG_FORMAT", "ORGTWIN_SESSION_TOKEN_FILE"):
        if key in env and key not in child_env:
            child_env[key] = env[key]
    return StdioServerParameters(command=cmd, args=args, env=child_env)


def chat_url(config: Mapping[str, Any]) -> str:
    """The proxy's OpenAI endpoint. The simulator speaks only the OpenAI protocol; for an
    Anthropic profile it uses ANTHROPIC_HOST, the same proxy, which serves both protocols."""
    host = str(config.get("OPENAI_HOST") or config.get("ANTHROPIC_HOST") or "").rstrip("/")
    path = str(config.get("OPENAI_BASE_PATH", "v1/chat/completions")).lstrip("/")
    if not host:
        raise LLMError("the configuration has no OPENAI_HOST or ANTHROPIC_HOST (the proxy URL)")
    return f"{host}/{path}"


def openai_tools(tools: Sequence[types.Tool]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": f"{MESH_EXTENSION}{SEPARATOR}{tool.name}",
                "description": tool.description or "",
                "parameters": tool.input_schema,
            },
        }
        for tool in tools
    ]


def result_text(result: types.CallToolResult) -> str:
    texts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    return "\n".join(texts) if texts else json.dumps(result.structured_content or {})


class Simulator:
    """One simulated goose session: a proxy client plus the mesh extension over stdio."""

    def __init__(self, rendered: Rendered, env: Mapping[str, str], token: str, out: TextIO) -> None:
        self.rendered = rendered
        self.env = env
        self.token = token
        self.out = out
        self.url = chat_url(rendered.config)
        self.hints = rendered.files.get(".config/goose/.goosehints", "")

    def emit(self, event: str, **fields: Any) -> None:
        self.out.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        self.out.flush()

    async def run(self, plan: Plan) -> None:
        async with AsyncExitStack() as stack:
            read, write = await stack.enter_async_context(
                stdio_client(extension_params(self.rendered, self.env))
            )
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            tools = openai_tools((await session.list_tools()).tools)
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=120))
            for prompt in plan.prompts:
                await self.conversation(http, session, tools, prompt, plan.max_turns)
            while plan.loop_prompt is not None:
                await self.conversation(http, session, tools, plan.loop_prompt, plan.max_turns)
                await asyncio.sleep(plan.interval)

    async def conversation(
        self,
        http: httpx.AsyncClient,
        session: ClientSession,
        tools: list[dict[str, Any]],
        prompt: str,
        max_turns: int,
    ) -> str:
        """One user prompt to a final answer, executing tool calls on the way."""
        messages: list[dict[str, Any]] = []
        if self.hints:
            messages.append({"role": "system", "content": self.hints})
        messages.append({"role": "user", "content": prompt})
        self.emit("user", content=prompt)
        body: dict[str, Any] = {"model": self.rendered.config["GOOSE_MODEL"], "tools": tools}
        if "GOOSE_TEMPERATURE" in self.rendered.config:
            body["temperature"] = self.rendered.config["GOOSE_TEMPERATURE"]
        for _ in range(max_turns):
            reply = await stream_chat(http, self.url, self.token, {**body, "messages": messages})
            messages.append(reply.as_message())
            if not reply.tool_calls:
                self.emit("assistant", content=reply.content, final=True)
                return reply.content
            if reply.content:
                self.emit("assistant", content=reply.content, final=False)
            for call in reply.tool_calls:
                text = await self.call_tool(session, call.name, call.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        self.emit("stopped", reason=f"no final answer within {max_turns} turns")
        return ""

    async def call_tool(self, session: ClientSession, name: str, arguments: str) -> str:
        prefix, _, tool = name.partition(SEPARATOR)
        if prefix != MESH_EXTENSION or not tool:
            self.emit("tool_result", name=name, is_error=True, summary="unknown tool")
            return f"Error: no tool named {name!r}"
        try:
            args = json.loads(arguments or "{}")
        except ValueError:
            self.emit("tool_result", name=name, is_error=True, summary="arguments not JSON")
            return "Error: the tool arguments were not valid JSON"
        self.emit("tool_call", name=name, arguments=args)
        result = await session.call_tool(tool, args if isinstance(args, dict) else {})
        text = result_text(result)
        self.emit(
            "tool_result",
            name=name,
            is_error=bool(result.is_error),
            summary=text.splitlines()[0] if text else "",
            data=result.structured_content,
        )
        return text


async def run_until_signalled(simulator: Simulator, plan: Plan) -> int:
    """Run the plan; SIGTERM/SIGINT cancel it and the extension is shut down on the way out."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopping = False

    def stop() -> None:
        nonlocal stopping
        stopping = True
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await simulator.run(plan)
    except asyncio.CancelledError:
        if not stopping:
            raise
        simulator.emit("stopped", reason="signal")
        return 0
    except LLMError as exc:
        simulator.emit("error", message=str(exc))
        log.warning("simulate.llm_failed", extra={"fields": {"error": str(exc)}})
        return 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return 0
