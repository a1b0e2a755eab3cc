"""Every protocol, stream and non-stream, over real sockets: masked upstream, restored client.

The protocols: OpenAI chat completions, Anthropic messages, and the OpenAI Responses API.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import PEOPLE, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY, Proxy
from proxy_helpers import call, last_user_text, user

from orgtwin.testing.upstream import Script, ToolCall

pytestmark = pytest.mark.integration

NAME, EMAIL, EMP = PEOPLE[0]
MESSAGE = f"Ask {NAME} ({EMP}) at {EMAIL} or +44 20 7946 0958 about card 4111 1111 1111 1111."
SEEDS = [NAME, EMP, EMAIL, "+44 20 7946 0958", "4111 1111 1111 1111"]
EVERY_WAY = pytest.mark.parametrize(
    ("protocol", "stream"),
    [(p, stream) for p in ("openai", "anthropic", "responses") for stream in (False, True)],
)
EVERY = pytest.mark.parametrize("protocol", ["openai", "anthropic", "responses"])


@EVERY_WAY
def test_round_trip_masks_upstream_and_restores_client(
    proxy: Proxy, protocol: str, stream: bool
) -> None:
    with proxy.client() as client:
        seen = call(protocol, client, user(MESSAGE, protocol, stream=stream))
    assert seen.status == 200
    assert seen.text == MESSAGE
    received = proxy.upstream.requests[-1]
    sent = json.dumps(received.body)
    assert not [s for s in SEEDS if s in sent]
    assert "[PERSON_" in sent
    assert "[EMAIL_" in sent
    assert "[CREDIT_CARD_" in sent
    if protocol != "anthropic":
        assert received.headers["authorization"] == f"Bearer {UPSTREAM_OPENAI_KEY}"
    else:
        assert received.headers["x-api-key"] == UPSTREAM_ANTHROPIC_KEY
        assert "authorization" not in received.headers
    # The session token is for the proxy only; the provider never sees it.
    assert proxy.token() not in str(received.headers)


@EVERY_WAY
def test_tool_call_arguments_are_restored(proxy: Proxy, protocol: str, stream: bool) -> None:
    proxy.upstream.script("tools", Script(text="", tool_calls=(ToolCall("send_mail", "{}"),)))
    with proxy.client() as client:
        # First learn the placeholder the proxy gives the email, from what the upstream saw.
        call(protocol, client, user(f"mail {EMAIL}", protocol, model="probe"))
        masked = last_user_text(protocol, proxy.upstream.requests[-1].body)
        placeholder = masked.removeprefix("mail ")
        args = json.dumps({"to": placeholder, "note": f"hi {placeholder.lower()}"})
        proxy.upstream.script(
            "tools", Script(text="", tool_calls=(ToolCall("send_mail", args),), chunk_size=3)
        )
        seen = call(protocol, client, user(f"mail {EMAIL}", protocol, model="tools", stream=stream))
    assert seen.status == 200
    assert [t["name"] for t in seen.tools] == ["send_mail"]
    assert json.loads(seen.tools[0]["arguments"]) == {"to": EMAIL, "note": f"hi {EMAIL}"}
    assert seen.finish in ("tool_calls", "tool_use")


@pytest.mark.parametrize("field", ["content", "reasoning_content"])
@pytest.mark.parametrize("kind", ["function", "legacy"])
def test_text_before_a_tool_call_is_complete_before_the_call_starts(
    proxy: Proxy, kind: str, field: str
) -> None:
    """goose reads a chunk that starts tool calls for its calls alone, ignoring its text.

    The text (or, from a reasoning model that says nothing else, the reasoning) ends in
    "EMAIL", which could still become a placeholder, so the proxy held it back; it must
    reach the client before the call, in a chunk without calls.
    """
    said = "Mail it to them. Checking the EMAIL"
    call_ = ToolCall("send_mail", json.dumps({"to": "x"}), kind)  # type: ignore[arg-type]
    script = (
        Script(text=said, tool_calls=(call_,), chunk_size=7)
        if field == "content"
        else Script(text="", reasoning=said, tool_calls=(call_,), chunk_size=7)
    )
    proxy.upstream.script("caller", script)
    with proxy.client() as client:
        seen = call("openai", client, user(f"mail {EMAIL}", "openai", model="caller", stream=True))
    deltas = [c["delta"] for e in seen.events for c in e.get("choices") or []]
    first_call = next(
        i for i, d in enumerate(deltas) if d.get("tool_calls") or d.get("function_call")
    )
    assert "".join(d.get(field) or "" for d in deltas[:first_call]) == said
    assert not deltas[first_call].get(field)
    assert seen.tools == [{"name": "send_mail", "arguments": json.dumps({"to": "x"})}]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("kind", ["custom", "legacy"])
def test_custom_tool_input_and_legacy_function_arguments_are_restored(
    proxy: Proxy, kind: str, stream: bool
) -> None:
    """OpenAI's other call shapes: a custom tool's free-text input, a legacy function_call."""
    with proxy.client() as client:
        call("openai", client, user(f"mail {EMAIL}", "openai", model="probe"))
        placeholder = last_user_text("openai", proxy.upstream.requests[-1].body).split()[-1]
        args = f"send to {placeholder}" if kind == "custom" else json.dumps({"to": placeholder})
        script = Script(text="", tool_calls=(ToolCall("send_mail", args, kind),), chunk_size=3)
        proxy.upstream.script("tools", script)
        seen = call("openai", client, user(f"mail {EMAIL}", "openai", model="tools", stream=stream))
    assert seen.status == 200
    assert seen.tools == [
        {
            "name": "send_mail",
            "arguments": f"send to {EMAIL}" if kind == "custom" else json.dumps({"to": EMAIL}),
        }
    ]
    assert seen.finish == ("tool_calls" if kind == "custom" else "function_call")


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_of_openai_compatible_servers_is_restored(
    proxy: Proxy, field: str, stream: bool
) -> None:
    """Reasoning models behind Ollama, OpenRouter and the like; goose shows their reasoning.

    It ends in a placeholder that lost its brackets, so the restorer holds that tail back
    until the answer proper starts, and it must still come first.
    """
    with proxy.client() as client:
        call("openai", client, user(f"mail {EMAIL}", "openai", model="probe"))
        placeholder = last_user_text("openai", proxy.upstream.requests[-1].body).split()[-1]
        script = Script(
            text=f"Writing to {placeholder}.",
            reasoning=f"They want a mail to {placeholder.strip('[]')}",
            reasoning_field=field,  # type: ignore[arg-type]
            chunk_size=3,
        )
        proxy.upstream.script("thinker", script)
        seen = call("openai", client, user("go", "openai", model="thinker", stream=stream))
    assert seen.reasoning == f"They want a mail to {EMAIL}"
    assert seen.text == f"Writing to {EMAIL}."
    if stream:
        deltas = [c["delta"] for e in seen.events for c in e.get("choices") or []]
        last_reasoning = max(i for i, d in enumerate(deltas) if d.get(field))
        first_text = min(i for i, d in enumerate(deltas) if d.get("content"))
        assert last_reasoning <= first_text


def _openai_history() -> dict[str, object]:
    return {
        "model": "echo",
        "messages": [
            {"role": "system", "content": f"You assist {NAME}."},
            {"role": "user", "content": [{"type": "text", "text": f"Reach {EMAIL}"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": json.dumps({"q": EMP})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "phone +44 20 7946 0958"},
            {"role": "user", "content": "thanks"},
        ],
    }


def _anthropic_history() -> dict[str, object]:
    return {
        "model": "echo",
        "max_tokens": 10,
        "system": [{"type": "text", "text": f"You assist {NAME}."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": f"Reach {EMAIL}"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": EMP}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": "phone +44 20 7946 0958"}],
                    },
                    {"type": "text", "text": "thanks"},
                ],
            },
        ],
    }


def _responses_history() -> dict[str, Any]:
    """A Responses request as goose sends it (the system prompt as the first input item,
    parts typed input_text and output_text), plus the fields other callers fill."""
    return {
        "model": "echo",
        "instructions": f"You assist {NAME}.",
        "user": EMAIL,
        "safety_identifier": EMAIL,
        "metadata": {"requester": NAME},
        "prompt": {"id": "pmpt_1", "variables": {"who": EMP}},
        "input": [
            {"role": "system", "content": [{"type": "input_text", "text": f"For {NAME}."}]},
            {"role": "user", "content": [{"type": "input_text", "text": f"Reach {EMAIL}"}]},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": f"Looking up {NAME}"}],
            },
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": f"{NAME} needs {EMP}"}, EMAIL],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "lookup",
                "arguments": json.dumps({"q": EMP}),
            },
            {"type": "function_call_output", "call_id": "c1", "output": "+44 20 7946 0958"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "grep", "input": EMAIL},
            {
                "type": "custom_tool_call_output",
                "call_id": "c2",
                "output": [{"type": "input_text", "text": f"found {NAME}"}],
            },
            {"role": "user", "content": "thanks"},
        ],
    }


_HISTORIES = {
    "openai": ("/v1/chat/completions", _openai_history),
    "anthropic": ("/v1/messages", _anthropic_history),
    "responses": ("/v1/responses", _responses_history),
}


@EVERY
def test_every_slot_of_the_history_is_masked(proxy: Proxy, protocol: str) -> None:
    path, history = _HISTORIES[protocol]
    with proxy.client() as client:
        assert client.post(path, json=history()).status_code == 200
    sent = proxy.upstream.requests[-1].raw.decode()
    assert not [s for s in (NAME, EMAIL, EMP, "+44 20 7946 0958") if s in sent]
    if protocol == "responses":
        # Masked in place: every item still there, in its shape.
        items = proxy.upstream.requests[-1].body["input"]
        assert [i.get("type", "message") for i in items] == [
            i.get("type", "message") for i in _responses_history()["input"]
        ]
        assert json.loads(items[4]["arguments"])["q"].startswith("[EMPLOYEE_ID_")


@EVERY
def test_session_cache_restores_placeholders_from_earlier_turns(
    proxy: Proxy, protocol: str
) -> None:
    with proxy.client(session="s-cache") as client:
        call(protocol, client, user(f"remember {EMAIL}", protocol))
        placeholder = last_user_text(protocol, proxy.upstream.requests[-1].body).split()[-1]
        proxy.upstream.script("recall", Script(text=f"It was {placeholder}."))
        seen = call(protocol, client, user("who was it?", protocol, model="recall"))
    assert seen.text == f"It was {EMAIL}."
    # Another session never gets this session's values.
    with proxy.client(session="s-other") as other:
        seen = call(protocol, other, user("who was it?", protocol, model="recall"))
    assert seen.text == f"It was {placeholder}."


@EVERY
def test_detect_mode_forwards_unchanged_and_counts(proxy: Proxy, protocol: str) -> None:
    with proxy.client("detect") as client:
        seen = call(protocol, client, user(MESSAGE, protocol, stream=True))
        metrics = client.get("/metrics").text
    assert seen.text == MESSAGE
    assert last_user_text(protocol, proxy.upstream.requests[-1].body) == MESSAGE
    assert 'orgtwin_proxy_detections_total{mode="detect",type="EMAIL"}' in metrics


@EVERY
def test_off_mode_forwards_unchanged(proxy: Proxy, protocol: str) -> None:
    with proxy.client("off") as client:
        seen = call(protocol, client, user(MESSAGE, protocol))
    assert seen.text == MESSAGE
    assert last_user_text(protocol, proxy.upstream.requests[-1].body) == MESSAGE


@EVERY
@pytest.mark.parametrize("stream", [False, True])
def test_strict_mode_refuses_naming_types_not_values(
    proxy: Proxy, protocol: str, stream: bool
) -> None:
    with proxy.client("strict") as client:
        seen = call(protocol, client, user(MESSAGE, protocol, stream=stream))
        clean = call(protocol, client, user("what is 2+2?", protocol, stream=stream))
    assert seen.status == 400
    body = json.dumps(seen.error)
    assert "EMAIL" in body
    assert "CREDIT_CARD" in body
    assert "PERSON" in body
    assert not [s for s in SEEDS if s in body]
    if protocol == "anthropic":
        assert seen.error is not None
        assert seen.error["type"] == "error"
    else:
        assert seen.error is not None
        assert seen.error["error"]["code"] == "pii_refused"
    assert len(proxy.upstream.requests) == 1  # only the clean request went upstream
    assert clean.status == 200
    assert clean.text == "what is 2+2?"


def test_models_health_ready_and_metrics(proxy: Proxy) -> None:
    with proxy.client() as client:
        models = client.get("/v1/models").json()
        assert models["data"][0]["id"] == "gpt-test"
        assert client.get("/healthz").text == "ok"
        assert client.get("/readyz").status_code == 200
        call("openai", client, user(MESSAGE, "openai"))
        metrics = client.get("/metrics").text
    for name in (
        "orgtwin_proxy_request_seconds_bucket",
        "orgtwin_proxy_overhead_seconds_bucket",
        "orgtwin_proxy_detections_total",
        "orgtwin_proxy_requests_total",
    ):
        assert name in metrics
    assert not [s for s in SEEDS if s in metrics]
    assert httpx.get(f"{proxy.url}/v1/models").status_code == 401


@pytest.mark.parametrize("stream", [False, True])
def test_responses_reasoning_summary_is_restored(proxy: Proxy, stream: bool) -> None:
    """goose shows a reasoning item's summary; it comes from the model with placeholders."""
    with proxy.client() as client:
        call("responses", client, user(f"mail {EMAIL}", "responses", model="probe"))
        placeholder = last_user_text("responses", proxy.upstream.requests[-1].body).split()[-1]
        script = Script(
            text=f"Sent to {placeholder}.", reasoning=f"Mail {placeholder}", chunk_size=3
        )
        proxy.upstream.script("thinker", script)
        seen = call("responses", client, user("go", "responses", model="thinker", stream=stream))
    assert (seen.reasoning, seen.text) == (f"Mail {EMAIL}", f"Sent to {EMAIL}.")


@pytest.mark.parametrize(
    ("method", "path", "protocol"),
    [
        ("GET", f"/v1/responses/{EMAIL}", "openai"),
        ("POST", "/v1/embeddings", "openai"),
        ("POST", "/v1/messages/count_tokens", "anthropic"),
    ],
)
def test_endpoints_not_served_get_a_clear_error_naming_those_that_are(
    proxy: Proxy, method: str, path: str, protocol: str
) -> None:
    with proxy.client() as client:
        r = client.request(method, path, json={"model": "gpt-test", "input": EMAIL})
    assert r.status_code == 404
    body = r.json()
    message = body["error"]["message"]
    assert "not served" in message
    assert "/v1/responses" in message
    if protocol == "anthropic":
        assert body["type"] == "error"
    else:
        assert body["error"]["code"] == "unsupported_endpoint"
    assert EMAIL not in r.text
    assert not proxy.upstream.requests


def test_responses_body_without_input_gets_a_clear_error(proxy: Proxy) -> None:
    with proxy.client() as client:
        r = client.post("/v1/responses", json={"model": "gpt-test", "input": {"text": EMAIL}})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert "input" in error["message"]
    assert EMAIL not in r.text
    assert not proxy.upstream.requests


def test_anthropic_feature_headers_pass_through_but_credentials_do_not(proxy: Proxy) -> None:
    headers = {"anthropic-version": "2023-06-01", "anthropic-beta": "tools-2024-04-04"}
    with proxy.client() as client:
        body = {**user("hi", "anthropic"), "max_tokens": 5}
        assert client.post("/v1/messages", json=body, headers=headers).status_code == 200
    received = proxy.upstream.requests[-1].headers
    assert received["anthropic-beta"] == "tools-2024-04-04"
    assert received["anthropic-version"] == "2023-06-01"
    assert received["x-api-key"] == UPSTREAM_ANTHROPIC_KEY


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_cookies_are_neither_kept_nor_passed_on(proxy: Proxy, stream: bool) -> None:
    """One session's upstream answer must not shape another's request: the proxy serves
    many tenants over one connection pool."""
    proxy.upstream.script("cookie", Script(text="ok", set_cookie="affinity=tenant-a; Path=/"))
    with proxy.client() as client:
        for _ in range(2):
            body = user("hi", "openai", model="cookie", stream=stream)
            answer = client.post("/v1/chat/completions", json=body)
            assert answer.status_code == 200, answer.text
            assert "set-cookie" not in answer.headers
    assert len(proxy.upstream.requests) >= 2
    assert all("cookie" not in r.headers for r in proxy.upstream.requests)
