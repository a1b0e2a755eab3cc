"""``orgtwin agent simulate`` as the demo runs it: one host process per session.

It talks to a scripted OpenAI streaming endpoint (``agent_standin.ScriptedLLM``,
127.0.0.1, standing in for the privacy proxy) and runs the model's tool calls
through the real mesh extension over stdio, which calls the stand-in api
(``agent_standin.StandInApi``, standing in for the orgtwin api).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_standin import TOKEN, ScriptedLLM, StandInApi

HINTS = "You are the finance agent of E100."


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        "GOOSE_PROVIDER: openai\nGOOSE_MODEL: gpt-4o-mini\nGOOSE_TEMPERATURE: 0.2\n"
        "extensions:\n  orgtwin:\n    type: stdio\n    cmd: orgtwin\n    args: [agent, mcp]\n"
    )
    (folder / ".goosehints").write_text(HINTS)
    return folder


def env_for(profile: Path, api: StandInApi, llm: ScriptedLLM) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(profile.parent),
        "ORGTWIN_PROFILE_DIR": str(profile),
        "ORGTWIN_API_URL": api.url,
        "ORGTWIN_PROXY_URL": llm.url,
        "ORGTWIN_SESSION_TOKEN": TOKEN,
    }


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM(
        {"tool_calls": [("orgtwin__request_approval", {"title": "Expense 120 EUR"})]},
        {"content": "Your expense is filed as approval a-1."},
    )
    server.start()
    yield server
    server.stop()


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_a_prompt_runs_tool_calls_to_a_final_answer(
    profile: Path, standin: StandInApi, llm: ScriptedLLM
) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "orgtwin.agent", "simulate", "--prompt", "File my expense"],
        env=env_for(profile, standin, llm),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert out.returncode == 0, out.stderr
    seen = events(out.stdout)
    assert [e["event"] for e in seen] == ["user", "tool_call", "tool_result", "assistant"]
    assert seen[1]["arguments"] == {"title": "Expense 120 EUR"}
    assert seen[2]["is_error"] is False
    assert seen[2]["summary"] == "Approval a-1 requested from user:E001: Expense 120 EUR"
    assert seen[3] == {
        "event": "assistant",
        "content": "Your expense is filed as approval a-1.",
        "final": True,
    }

    assert llm.auth == [f"Bearer {TOKEN}"] * 2
    first, second = llm.bodies
    assert first["stream"] is True
    assert first["model"] == "gpt-4o-mini"
    assert first["messages"][0] == {"role": "system", "content": HINTS}
    assert "orgtwin__check_inbox" in {t["function"]["name"] for t in first["tools"]}
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["tool_call_id"] == "call_0"
    assert tool_message["content"].startswith("Approval a-1 requested")

    assert [(r.method, r.path) for r in standin.seen] == [("POST", "/v1/mesh/approvals")]
    assert standin.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in out.stderr


def test_sigterm_stops_a_looping_agent_cleanly(
    profile: Path, standin: StandInApi, llm: ScriptedLLM
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgtwin.agent", "simulate", "--loop", "--interval", "0.2"],
        env=env_for(profile, standin, llm),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(llm.bodies) < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(llm.bodies) >= 3, "the agent did not start working its inbox"
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, stderr
    assert events(stdout)[-1] == {"event": "stopped", "reason": "signal"}
    assert "Traceback" not in stderr


def test_missing_token_exits_with_a_clear_message(
    profile: Path, standin: StandInApi, llm: ScriptedLLM
) -> None:
    env = env_for(profile, standin, llm)
    del env["ORGTWIN_SESSION_TOKEN"]
    env["ORGTWIN_SESSION_TOKEN_FILE"] = str(profile / "absent")
    out = subprocess.run(
        [sys.executable, "-m", "orgtwin.agent", "simulate", "--prompt", "hi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "no session token" in out.stderr
    assert llm.bodies == []


def test_an_anthropic_profile_is_simulated_through_the_same_proxy() -> None:
    from orgtwin.agent.llm import LLMError
    from orgtwin.agent.simulate import chat_url

    assert chat_url({"ANTHROPIC_HOST": "http://proxy:8080/"}) == (
        "http://proxy:8080/v1/chat/completions"
    )
    assert chat_url({"OPENAI_HOST": "http://p", "OPENAI_BASE_PATH": "x/y"}) == "http://p/x/y"
    with pytest.raises(LLMError, match="no OPENAI_HOST or ANTHROPIC_HOST"):
        chat_url({"GOOSE_PROVIDER": "openai"})
