"""Masking a request body everywhere PII travels, per protocol, and filtering its tool list.

OpenAI: system/user/assistant/tool messages (string or content parts), tool-call
arguments (a JSON string) and legacy function calls. Anthropic: the system prompt,
message text blocks, tool_use inputs and tool_result contents. Tool definitions are
schemas written by developers and are left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from orgtwin.core.privacy import RequestMasker
from orgtwin.proxy.policy import ToolRules

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


def _mask_parts(content: Any, mask: Mask) -> Any:
    if isinstance(content, str):
        return mask(content)
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part["text"] = mask(part["text"])
    return content


def mask_openai(body: dict[str, Any], masker: RequestMasker) -> None:
    """Mask an OpenAI chat completion request in place."""
    mask = masker.mask
    for msg in body.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        if "content" in msg:
            msg["content"] = _mask_parts(msg["content"], mask)
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                fn["arguments"] = mask_json_text(fn["arguments"], mask)
        legacy = msg.get("function_call")
        if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
            legacy["arguments"] = mask_json_text(legacy["arguments"], mask)


def _mask_anthropic_blocks(content: Any, mask: Mask) -> Any:
    if isinstance(content, str):
        return mask(content)
    if not isinstance(content, list):
        return content
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            block["text"] = mask(block["text"])
        elif kind == "tool_use" and "input" in block:
            block["input"] = mask_tree(block["input"], mask)
        elif kind == "tool_result" and "content" in block:
            block["content"] = _mask_anthropic_blocks(block["content"], mask)
    return content


def mask_anthropic(body: dict[str, Any], masker: RequestMasker) -> None:
    """Mask an Anthropic messages request in place."""
    mask = masker.mask
    if "system" in body:
        body["system"] = _mask_anthropic_blocks(body["system"], mask)
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and "content" in msg:
            msg["content"] = _mask_anthropic_blocks(msg["content"], mask)


def filter_openai_tools(body: dict[str, Any], rules: ToolRules) -> list[str]:
    """Drop forbidden tools from the request; return the names removed."""
    removed: list[str] = []
    tools = body.get("tools")
    if isinstance(tools, list):
        kept = []
        for tool in tools:
            fn = tool.get("function") if isinstance(tool, dict) else None
            name = fn.get("name", "") if isinstance(fn, dict) else ""
            if rules.allows(str(name)):
                kept.append(tool)
            else:
                removed.append(str(name))
        body["tools"] = kept
        if not kept:
            body.pop("tools")
            body.pop("tool_choice", None)
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("function", {}).get("name") in removed:
            body.pop("tool_choice")
    return removed


def filter_anthropic_tools(body: dict[str, Any], rules: ToolRules) -> list[str]:
    removed: list[str] = []
    tools = body.get("tools")
    if isinstance(tools, list):
        kept = []
        for tool in tools:
            name = str(tool.get("name", "")) if isinstance(tool, dict) else ""
            # Server tools (web search and the like) have a type and are subject to the same rules.
            if rules.allows(name):
                kept.append(tool)
            else:
                removed.append(name)
        body["tools"] = kept
        if not kept:
            body.pop("tools")
            body.pop("tool_choice", None)
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("name") in removed:
            body.pop("tool_choice")
    return removed
