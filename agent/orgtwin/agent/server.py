"""The mesh MCP server: lists the tools, validates arguments, calls the api, maps errors.

Served over stdio (how goose launches extensions) or streamable HTTP. Every
failure reaches the model as a tool result with ``isError`` and one clear
sentence; stack traces go nowhere, and neither does the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from pydantic import ValidationError

from orgtwin.agent.client import MeshClient
from orgtwin.agent.errors import AgentError, MeshRejectedError, MeshUnavailableError
from orgtwin.agent.settings import AgentSettings
from orgtwin.agent.tools import BY_NAME, TOOLS, Mesh, Tracing

log = logging.getLogger(__name__)

SERVER_NAME = "orgtwin-mesh"
TRACE_META_KEY = "orgtwin.dev/traceId"
INSTRUCTIONS = (
    "Collaborate with the other agents of your organisation: send tasks, ask for approvals "
    "(routed to your manager), decide approvals addressed to you, notify, and check your inbox."
)


def tool_list() -> list[types.Tool]:
    """The tools as MCP advertises them, with each parameter model's JSON schema."""
    return [
        types.Tool(
            name=tool.name,
            description=tool.description,
            input_schema=tool.params.model_json_schema(),
            annotations=types.ToolAnnotations(read_only_hint=tool.read_only),
        )
        for tool in TOOLS
    ]


def error_result(kind: str, message: str, **extra: Any) -> types.CallToolResult:
    """A tool error the model can read and act on."""
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"Error: {message}")],
        structured_content={"error": {"type": kind, "message": message, **extra}},
        is_error=True,
    )


def _validation_message(exc: ValidationError) -> str:
    # Field paths and messages only: pydantic's "input" would echo the model's values back.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
        for err in exc.errors()[:8]
    ]
    return "invalid arguments: " + "; ".join(parts)


class MeshServer:
    """One MCP server bound to one mesh client."""

    def __init__(self, settings: AgentSettings, client: MeshClient | None = None) -> None:
        self.settings = settings
        self._client = client
        self.mesh: Mesh | None = None
        self.server: Server[Any] = Server(
            SERVER_NAME,
            version="0.1.0",
            instructions=INSTRUCTIONS,
            lifespan=self._lifespan,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    @asynccontextmanager
    async def _lifespan(self, _: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        client = self._client or MeshClient(self.settings)
        tracing = Tracing(chain=self.settings.trace_id) if self.settings.trace_id else Tracing()
        self.mesh = Mesh(client=client, tracing=tracing)
        try:
            yield {}
        finally:
            if self._client is None:
                await client.aclose()

    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        meta = ctx.meta or params.meta or {}
        trace = meta.get(TRACE_META_KEY) if isinstance(meta, dict) else None
        return await self.call(
            params.name, params.arguments or {}, trace if isinstance(trace, str) else None
        )

    async def call(
        self, name: str, arguments: dict[str, Any], trace: str | None = None
    ) -> types.CallToolResult:
        """Run one tool and turn every outcome, good or bad, into a CallToolResult."""
        tool = BY_NAME.get(name)
        if tool is None:
            return error_result("unknown_tool", f"no tool named {name!r}; see the tool list")
        assert self.mesh is not None, "call() before the server's lifespan started"
        try:
            args = tool.params.model_validate(arguments)
            outcome = await tool.handler(self.mesh, args, trace)
        except ValidationError as exc:
            return error_result("invalid_arguments", _validation_message(exc))
        except MeshRejectedError as exc:
            log.info("mesh.tool.rejected", extra={"fields": {"tool": name, "status": exc.status}})
            return error_result(exc.kind, str(exc), status=exc.status)
        except MeshUnavailableError as exc:
            log.warning("mesh.tool.unavailable", extra={"fields": {"tool": name}})
            return error_result(exc.kind, str(exc), attempts=exc.attempts)
        except AgentError as exc:
            log.warning(
                "mesh.tool.failed", extra={"fields": {"tool": name, "error": type(exc).__name__}}
            )
            return error_result(exc.kind, str(exc))
        except Exception as exc:  # the model must get a result, never a traceback
            log.exception("mesh.tool.crashed", extra={"fields": {"tool": name}})
            return error_result(
                "internal", f"the {name} tool failed unexpectedly ({type(exc).__name__})"
            )
        log.info("mesh.tool.ok", extra={"fields": {"tool": name}})
        return types.CallToolResult(
            content=[
                types.TextContent(type="text", text=outcome.summary),
                types.TextContent(type="text", text=json.dumps(outcome.data, default=str)),
            ],
            structured_content=outcome.data,
            is_error=False,
        )

    async def run_stdio(self) -> None:
        async with stdio_server() as (read_stream, write_stream):
            await self.server.run(
                read_stream, write_stream, self.server.create_initialization_options()
            )

    def http_app(self, path: str = "/mcp") -> Any:
        """An ASGI app serving the tools over streamable HTTP (stateless, JSON responses)."""
        return self.server.streamable_http_app(
            streamable_http_path=path, json_response=True, stateless_http=True
        )
