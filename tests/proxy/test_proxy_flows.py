"""Both protocols, stream and non-stream, over real sockets: masked upstream, restored client."""

from __future__ import annotations

import json

import httpx
import pytest
from conftest import PEOPLE, UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY, Proxy
from proxy_helpers import call, user

from orgtwin.testing.upstream import Script, ToolCall

pytestmark = pytest.mark.integration

NAME, EMAIL, EMP = PEOPLE[0]
MESSAGE = f"Ask {NAME} ({EMP}) at {EMAIL} or +44 20 7946 0958 about card 4111 1111 1111 1111."
SEEDS = [NAME, EMP, EMAIL, "+44 20 7946 0958", "4111 1111 1111 1111"]
BOTH = pytest.mark.parametrize(
    ("protocol", "stream"),
    [("openai", False), ("openai", True), ("anthropic", False), ("anthropic", True)],
)


@BOTH
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
    if protocol == "openai":
        assert received.headers["authorization"] == f"Bearer {UPSTREAM_OPENAI_KEY}"
    else:
        assert received.headers["x-api-key"] == UPSTREAM_ANTHROPIC_KEY
        assert "authorization" not in received.headers
    # The session token is for the proxy only; the provider never sees it.
    assert proxy.token() not in str(received.headers)


@BOTH
def test_tool_call_arguments_are_restored(proxy: Proxy, protocol: str, stream: bool) -> None:
    proxy.upstream.script("tools", Script(text="", tool_calls=(ToolCall("send_mail", "{}"),)))
    with proxy.client() as client:
        # First learn the placeholder the proxy gives the email, from what the upstream saw.
        call(protocol, client, user(f"mail {EMAIL}", protocol, model="probe"))
        masked = proxy.upstream.requests[-1].body["messages"][-1]["content"]
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
        placeholder = proxy.upstream.requests[-1].body["messages"][-1]["content"].split()[-1]
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
        placeholder = proxy.upstream.requests[-1].body["messages"][-1]["content"].split()[-1]
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


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_every_slot_of_the_history_is_masked(proxy: Proxy, protocol: str) -> None:
    body = _openai_history() if protocol == "openai" else _anthropic_history()
    path = "/v1/chat/completions" if protocol == "openai" else "/v1/messages"
    with proxy.client() as client:
        assert client.post(path, json=body).status_code == 200
    sent = proxy.upstream.requests[-1].raw.decode()
    assert not [s for s in (NAME, EMAIL, EMP, "+44 20 7946 0958") if s in sent]


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_session_cache_restores_placeholders_from_earlier_turns(
    proxy: Proxy, protocol: str
) -> None:
    with proxy.client(session="s-cache") as client:
        call(protocol, client, user(f"remember {EMAIL}", protocol))
        placeholder = proxy.upstream.requests[-1].body["messages"][-1]["content"].split()[-1]
        proxy.upstream.script("recall", Script(text=f"It was {placeholder}."))
        seen = call(protocol, client, user("who was it?", protocol, model="recall"))
    assert seen.text == f"It was {EMAIL}."
    # Another session never gets this session's values.
    with proxy.client(session="s-other") as other:
        seen = call(protocol, other, user("who was it?", protocol, model="recall"))
    assert seen.text == f"It was {placeholder}."


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_detect_mode_forwards_unchanged_and_counts(proxy: Proxy, protocol: str) -> None:
    with proxy.client("detect") as client:
        seen = call(protocol, client, user(MESSAGE, protocol, stream=True))
        metrics = client.get("/metrics").text
    assert seen.text == MESSAGE
    assert proxy.upstream.requests[-1].body["messages"][-1]["content"] == MESSAGE
    assert 'orgtwin_proxy_detections_total{mode="detect",type="EMAIL"}' in metrics


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_off_mode_forwards_unchanged(proxy: Proxy, protocol: str) -> None:
    with proxy.client("off") as client:
        seen = call(protocol, client, user(MESSAGE, protocol))
    assert seen.text == MESSAGE
    assert proxy.upstream.requests[-1].body["messages"][-1]["content"] == MESSAGE


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
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


def test_responses_api_gets_a_clear_error_naming_the_endpoint_to_use(proxy: Proxy) -> None:
    """goose would send some OpenAI models to /v1/responses; the proxy serves chat only."""
    with proxy.client() as client:
        r = client.post("/v1/responses", json={"model": "gpt-test", "input": f"mail {EMAIL}"})
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["code"] == "unsupported_endpoint"
    assert "/v1/chat/completions" in error["message"]
    # Nothing was forwarded: the upstream never saw the text.
    assert all(EMAIL not in req.raw.decode() for req in proxy.upstream.requests)


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
