"""A scripted "model" for the demo and e2e scenarios: reads the masked conversation, picks a tool.

It plays the LLM behind the fake upstream. It sees only what the proxy forwarded
(placeholders, never raw PII) and answers with tool calls or text that reuse
those placeholders, so the proxy's restoration is exercised for real. The rules
are deliberately plain: each prompt kind maps to one mesh step, and the inbox
prompt handles the first actionable item it finds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from orgtwin.testing.upstream import Script, ToolCall

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*_[0-9A-Z]{4,}\]")
AMOUNT = re.compile(r"\b\d+(?:[.,]\d{2})?\s?(?:EUR|USD|GBP)\b")


@dataclass
class Turn:
    """What has happened so far in one conversation."""

    prompt: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    results: list[tuple[str, Any]] = field(default_factory=list)

    def done(self, tool: str) -> list[Any]:
        return [data for name, data in self.results if name == tool]

    def called(self, tool: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == tool]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _json_in(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except json.JSONDecodeError:
        return None


def read_turn(body: dict[str, Any]) -> Turn:
    """Rebuild the conversation state from an OpenAI chat request."""
    messages = body.get("messages") or []
    users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    turn = Turn(prompt=users[0] if users else "")
    names: dict[str, str] = {}
    for msg in messages:
        for call in msg.get("tool_calls") or []:
            fn = call.get("function", {})
            name = str(fn.get("name", "")).split("__")[-1]
            names[str(call.get("id"))] = name
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {}
            turn.calls.append((name, args))
        if msg.get("role") == "tool":
            name = names.get(str(msg.get("tool_call_id")), "")
            turn.results.append((name, _json_in(_text(msg.get("content")))))
    return turn


def _call(tool: str, **args: Any) -> Script:
    return Script(
        text="", tool_calls=(ToolCall(f"orgtwin__{tool}", json.dumps(args)),), chunk_size=7
    )


def _say(text: str) -> Script:
    return Script(text=text, chunk_size=5)


def _id(result: Any) -> str:
    return str(result.get("id", "?")) if isinstance(result, dict) else "?"


def _masked_summary(prompt: str) -> str:
    """The prompt's placeholders and amount: what the model would repeat back."""
    found = list(dict.fromkeys(PLACEHOLDER.findall(prompt)))
    amount = AMOUNT.search(prompt)
    parts = [*found, amount.group(0)] if amount else found
    return ", ".join(parts) if parts else "the details you gave"


def _initiate(turn: Turn, tool: str, **args: Any) -> Script:
    if not turn.called(tool):
        return _call(tool, **args)
    result = turn.done(tool)[-1] if turn.done(tool) else None
    if not isinstance(result, dict) or "id" not in result:
        return _say("I could not do that; the mesh answered with an error.")
    return _say(
        f"{result.get('kind', 'item').capitalize()} {result['id']} is "
        f"{result.get('status', 'sent')}: {result.get('title', '')}. "
        f"Details: {_masked_summary(turn.prompt + ' ' + str(result.get('body', '')))}."
    )


def _work_inbox(turn: Turn) -> Script:
    inboxes = turn.done("check_inbox")
    if not inboxes:
        return _call("check_inbox", wait_seconds=2)
    items = (inboxes[-1] or {}).get("items", []) if isinstance(inboxes[-1], dict) else []
    decided = {a.get("approval_id") for a in turn.called("decide_approval")}
    replied = {a.get("task_id") for a in turn.called("reply")}
    for item in items:
        kind, status, item_id = item.get("kind"), item.get("status"), str(item.get("id"))
        if kind == "approval" and status == "pending" and item_id not in decided:
            return _call(
                "decide_approval",
                approval_id=item_id,
                decision="approve",
                comment="Approved: within policy and budget.",
            )
        if kind == "task" and status == "open" and item_id not in replied:
            return _handle_task(turn, item)
    reviewed = any(i.get("type") == "review" for i in items if str(i.get("id")) in replied)
    if reviewed and not turn.called("list_agents"):
        # Legal's tool policy denies list_agents: the proxy blocks this call, visibly.
        return _call("list_agents", role="manager")
    outcomes = [
        f"{i.get('kind')} {i.get('title')!r}: "
        f"{'approved' if str(i.get('id')) in decided else 'handled'}"
        for i in items
    ]
    return _say("Inbox handled: " + ("; ".join(outcomes) if outcomes else "nothing new") + ".")


def _handle_task(turn: Turn, item: dict[str, Any]) -> Script:
    """A task addressed to this agent: ask for approval on it, then reply done."""
    item_id = str(item.get("id"))
    mine = [a for a in turn.called("request_approval") if a.get("data", {}).get("task") == item_id]
    if not mine:
        return _call(
            "request_approval",
            type=str(item.get("type", "approval")),
            title=f"Approve: {item.get('title', 'task')}"[:200],
            body=str(item.get("body", ""))[:20000],
            data={"task": item_id},
        )
    approval = turn.done("request_approval")[-1] if turn.done("request_approval") else None
    return _call(
        "reply",
        task_id=item_id,
        status="done",
        body=f"Handled; approval {_id(approval)} requested from my manager.",
    )


def respond(body: dict[str, Any]) -> Script:
    """The next step of the scripted agent for this request."""
    turn = read_turn(body)
    prompt = turn.prompt.lower()
    if "check your inbox" in prompt:
        return _work_inbox(turn)
    if "what is the status of" in prompt:
        match = re.search(r"(?:approval|task) ([0-9a-f-]{36})", turn.prompt)
        if match and not turn.called("fetch_status"):
            return _call("fetch_status", id=match.group(1))
        return _initiate(turn, "fetch_status")
    if "expense" in prompt:
        return _initiate(
            turn,
            "request_approval",
            type="expense",
            title="Expense claim " + _masked_summary(turn.prompt)[:150],
            body=turn.prompt,
            data={"amount": amount.group(0) if (amount := AMOUNT.search(turn.prompt)) else ""},
        )
    if "legal review" in prompt:
        return _initiate(
            turn,
            "send_task",
            to="role:legal",
            type="review",
            title="Legal review of a supplier contract",
            body=turn.prompt,
        )
    if "payroll" in prompt:
        return _initiate(
            turn,
            "send_task",
            to="role:finance",
            type="payroll",
            title="Set up payroll for a new hire",
            body=turn.prompt,
        )
    return _say(f"Noted: {_masked_summary(turn.prompt)}.")
