"""Masking a request body everywhere PII travels, per protocol, and filtering its tool list.

OpenAI: system/user/assistant/tool messages (string or content parts, refusals
included), an assistant's reasoning, a message's participant ``name``, tool-call
arguments (a JSON string), legacy function calls, a predicted output, and the
caller's end-user identifiers (``user``, ``safety_identifier``, ``metadata``).
Anthropic: the system prompt, message text blocks, tool_use inputs, tool_result
contents, documents (plain-text or content-block sources, titles and context), search
results and ``metadata.user_id``. OpenAI Responses: the instructions, input messages
(string or parts), function and custom tool calls and their outputs, reasoning summaries
and texts, prompt variables and the end-user identifiers. Tool definitions are schemas
written by developers and are left as they are; so are images, files and audio, which
are not text, Anthropic thinking blocks, whose signature covers their exact text, and
Responses reasoning's encrypted content, which the proxy cannot read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from orgtwin.core.privacy import RequestMasker
from orgtwin.proxy.errors import ForbiddenError
from orgtwin.proxy.openai_protocol import CALL_INPUT, REASONING
from orgtwin.proxy.policy import ToolRules
from orgtwin.proxy.responses_protocol import CALL_INPUT as RESPONSES_CALL_INPUT

Mask = Callable[[str], str]


def mask_tree(value: Any, mask: Mask) -> Any:
    """Mask every string leaf of a JSON value; keys stay as they are."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [mask_tree(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: mask_tree(v, mask) for k, v in value.items()}
    return value


def mask_json_text(text: str, mask: Mask) -> str:
    """Mask a JSON document held in a string (tool arguments) leaf by leaf, else as text."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return mask(text)
    return json.dumps(mask_tree(parsed, mask), ensure_ascii=False)


def _mask_fields(obj: dict[str, Any], names: tuple[str, ...], mask: Mask) -> None:
    for name in names:
        if isinstance(obj.get(name), str):
            obj[name] = mask(obj[name])


def _mask_parts(content: Any, mask: Mask) -> Any:
    if isinstance(content, str):
        return mask(content)
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                # Text parts, and an assistant's refusal parts in the history.
                _mask_fields(part, ("text", "refusal"), mask)
    return content


def mask_openai(body: dict[str, Any], masker: RequestMasker) -> None:
    """Mask an OpenAI chat completion request in place."""
    mask = masker.mask
    # End-user identifiers the caller passes for abuse monitoring: often an email.
    _mask_fields(body, ("user", "safety_identifier"), mask)
    if "metadata" in body:
        body["metadata"] = mask_tree(body["metadata"], mask)
    prediction = body.get("prediction")
    if isinstance(prediction, dict) and "content" in prediction:
        prediction["content"] = _mask_parts(prediction["content"], mask)
    for msg in body.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        if "content" in msg:
            msg["content"] = _mask_parts(msg["content"], mask)
        # Reasoning goes back upstream as the answer restored it (REASONING).
        _mask_fields(msg, ("name", "refusal", *REASONING), mask)
        # Calls in the history carry their input as the answer restored it (CALL_INPUT).
        for call in msg.get("tool_calls") or []:
            if isinstance(call, dict):
                _mask_call_input(call, "function", mask)
                _mask_call_input(call, "custom", mask)
        _mask_call_input(msg, "function_call", mask)


def _mask_call_input(holder: dict[str, Any], kind: str, mask: Mask) -> None:
    """The input of the call ``holder[kind]``."""
    _mask_input(holder.get(kind), CALL_INPUT[kind], mask)


def _mask_input(spec: Any, field: str, mask: Mask) -> None:
    """A call's input in ``spec[field]``: JSON ``arguments`` leaf by leaf, else free text."""
    if isinstance(spec, dict) and isinstance(spec.get(field), str):
        is_json = field == "arguments"
        spec[field] = mask_json_text(spec[field], mask) if is_json else mask(spec[field])


def _mask_anthropic_blocks(content: Any, mask: Mask) -> Any:
    if isinstance(content, str):
        return mask(content)
    if not isinstance(content, list):
        return content
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            _mask_fields(block, ("text",), mask)
        elif kind == "tool_use" and "input" in block:
            block["input"] = mask_tree(block["input"], mask)
        elif kind == "tool_result" and "content" in block:
            block["content"] = _mask_anthropic_blocks(block["content"], mask)
        elif kind == "document":
            _mask_document(block, mask)
        elif kind == "search_result":
            _mask_fields(block, ("title", "source"), mask)
            if "content" in block:
                block["content"] = _mask_anthropic_blocks(block["content"], mask)
    return content


def _mask_document(block: dict[str, Any], mask: Mask) -> None:
    """A document's title and context, and its text: plain (``data``) or content blocks.

    Base64 and URL sources (PDFs, files) are not text and go as they are.
    """
    _mask_fields(block, ("title", "context"), mask)
    source = block.get("source")
    if not isinstance(source, dict):
        return
    if source.get("type") == "text":
        _mask_fields(source, ("data",), mask)
    elif source.get("type") == "content" and "content" in source:
        source["content"] = _mask_anthropic_blocks(source["content"], mask)


def mask_anthropic(body: dict[str, Any], masker: RequestMasker) -> None:
    """Mask an Anthropic messages request in place."""
    mask = masker.mask
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        # The caller's end-user id: meant to be opaque, but nothing makes it so.
        _mask_fields(metadata, ("user_id",), mask)
    if "system" in body:
        body["system"] = _mask_anthropic_blocks(body["system"], mask)
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and "content" in msg:
            msg["content"] = _mask_anthropic_blocks(msg["content"], mask)


def mask_responses(body: dict[str, Any], masker: RequestMasker) -> None:
    """Mask an OpenAI Responses request in place."""
    mask = masker.mask
    _mask_fields(body, ("instructions", "user", "safety_identifier"), mask)
    if "metadata" in body:
        body["metadata"] = mask_tree(body["metadata"], mask)
    prompt = body.get("prompt")
    if isinstance(prompt, dict) and "variables" in prompt:
        # A stored prompt's variables: the caller's values, filled into the template.
        prompt["variables"] = mask_tree(prompt["variables"], mask)
    items = body.get("input")
    if isinstance(items, str):
        body["input"] = mask(items)
        return
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if "content" in item:
            # A message: "type" is optional, its content a string or parts; a reasoning
            # item's reasoning_text parts have a "text" too.
            item["content"] = _mask_parts(item["content"], mask)
        if kind in RESPONSES_CALL_INPUT:
            _mask_input(item, RESPONSES_CALL_INPUT[kind], mask)
        elif kind in ("function_call_output", "custom_tool_call_output") and "output" in item:
            item["output"] = _mask_parts(item["output"], mask)
        elif kind == "reasoning" and isinstance(item.get("summary"), list):
            # Summary parts, or plain strings as some servers write them.
            summary = [mask(p) if isinstance(p, str) else p for p in item["summary"]]
            item["summary"] = _mask_parts(summary, mask)


def _openai_tool_name(tool: Any) -> str:
    """A tool's or a tool choice's name: ``{"type": t, t: {"name": ...}}``, function or custom."""
    if not isinstance(tool, dict):
        return ""
    spec = tool.get(str(tool.get("type") or "function"))
    return str(spec.get("name", "")) if isinstance(spec, dict) else ""


def _plain_name(tool: Any) -> str:
    """The name of a tool described as ``{"name": ...}`` (Anthropic; OpenAI's legacy functions)."""
    return str(tool.get("name", "")) if isinstance(tool, dict) else ""


def _keep_allowed(
    body: dict[str, Any], key: str, name: Callable[[Any], str], rules: ToolRules
) -> list[str] | None:
    """Drop the forbidden entries of the tool list ``body[key]`` and return their names.

    An emptied list leaves the request. None when the request has no such list.
    """
    tools = body.get(key)
    if not isinstance(tools, list):
        return None
    kept: list[Any] = []
    removed: list[str] = []
    for tool in tools:
        if rules.allows(name(tool)):
            kept.append(tool)
        else:
            removed.append(name(tool))
    if kept:
        body[key] = kept
    else:
        body.pop(key)
    return removed


def _drop_choice(body: dict[str, Any], key: str, tools: str, removed: list[str], name: str) -> None:
    """A tool choice goes with its tools: when none is left, or when it names a removed one."""
    if tools not in body or (removed and name in removed):
        body.pop(key, None)


def filter_openai_tools(body: dict[str, Any], rules: ToolRules) -> list[str]:
    """Drop forbidden tools from the request; return the names removed.

    Function and custom tools, and the legacy ``functions`` list: each offers the model
    a tool, so each is policed.
    """
    removed: list[str] = []
    found = _keep_allowed(body, "tools", _openai_tool_name, rules)
    if found is not None:
        _drop_choice(
            body, "tool_choice", "tools", found, _openai_tool_name(body.get("tool_choice"))
        )
        removed += found
    found = _keep_allowed(body, "functions", _plain_name, rules)
    if found is not None:
        _drop_choice(
            body, "function_call", "functions", found, _plain_name(body.get("function_call"))
        )
        removed += found
    return removed


def _refuse_remote_mcp(offered: bool, what: str, rules: ToolRules) -> None:
    """A remote MCP server offers tools whose names the proxy cannot know: refused
    unless the profile allows every name."""
    if offered and not rules.allows_every_tool():
        raise ForbiddenError(
            f"{what} is not allowed: this profile's tool policy cannot police the tools"
            " of a remote MCP server",
            kind="tool_policy",
        )


def filter_anthropic_tools(body: dict[str, Any], rules: ToolRules) -> list[str]:
    """Drop forbidden tools from the request; return the names removed.

    Server tools (web search and the like) have a type and a name, and are subject to
    the same rules. Remote MCP servers (``mcp_servers``) offer tools whose names the
    proxy cannot know, so they are refused unless the profile allows every name.
    """
    _refuse_remote_mcp(bool(body.get("mcp_servers")), "mcp_servers", rules)
    found = _keep_allowed(body, "tools", _plain_name, rules)
    if found is None:
        return []
    _drop_choice(body, "tool_choice", "tools", found, _plain_name(body.get("tool_choice")))
    return found


def _responses_tool_name(tool: Any) -> str:
    """A Responses tool's name: function and custom tools have one; a hosted tool
    (web search, file search, code interpreter and the like) is named by its type."""
    if not isinstance(tool, dict):
        return ""
    kind = str(tool.get("type") or "function")
    return str(tool.get("name", "")) if kind in ("function", "custom") else kind


def filter_responses_tools(body: dict[str, Any], rules: ToolRules) -> list[str]:
    """Drop forbidden tools from a Responses request; return the names removed.

    Hosted tools are named by their type (``web_search``, ``code_interpreter``...) and
    policed like any other name. A remote MCP server (an ``mcp`` tool) offers tools whose
    names the proxy cannot know: it is refused unless the profile allows every name.
    """
    tools = body.get("tools")
    mcp = isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("type") == "mcp" for t in tools
    )
    _refuse_remote_mcp(mcp, "an mcp tool", rules)
    found = _keep_allowed(body, "tools", _responses_tool_name, rules)
    if found is None:
        return []
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        # A subset of the tools the model may use: it keeps only allowed ones.
        _keep_allowed(choice, "tools", _responses_tool_name, rules)
        if "tools" not in choice or "tools" not in body:
            body.pop("tool_choice")
    else:
        _drop_choice(body, "tool_choice", "tools", found, _responses_tool_name(choice))
    return found
