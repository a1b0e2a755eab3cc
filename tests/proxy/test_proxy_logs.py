"""Grep-style test: proxy flows with seeded PII, then no seeded value in any captured log line.

Covers the in-process proxy (caplog, rendered with the JSON formatter so structured
fields are searched too) and a real ``orgtwin proxy serve`` process (its stderr).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import (
    MASKING_KEY,
    NAMESPACE,
    PEOPLE,
    PROFILES,
    SIGNING_KEY,
    UPSTREAM_ANTHROPIC_KEY,
    UPSTREAM_OPENAI_KEY,
    Proxy,
)
from proxy_helpers import call
from seeds import ALL_SEEDS, phrase

from orgtwin.core.logging import JsonFormatter
from orgtwin.testing.ports import free_port, is_listening
from orgtwin.testing.upstream import FakeUpstream, Script, ToolCall

pytestmark = pytest.mark.integration

TEXT = " and ".join(phrase(s) for s in ALL_SEEDS)
SECRETS = [
    *ALL_SEEDS,
    UPSTREAM_OPENAI_KEY,
    UPSTREAM_ANTHROPIC_KEY,
    MASKING_KEY,
    SIGNING_KEY.decode(),
]
TokenFn = Callable[[str, str], str]


def run_flows(base_url: str, upstream: FakeUpstream, token: TokenFn) -> list[str]:
    """Every kind of call, with PII everywhere; returns the session tokens used."""
    args = json.dumps({"to": PEOPLE[0][1], "body": TEXT})
    upstream.script("tools", Script(text=TEXT, tool_calls=(ToolCall("send_mail", args),)))
    upstream.script("blocked", Script(text="", tool_calls=(ToolCall("shell__run", args),)))
    upstream.script("err", Script(status=500, error={"error": {"message": TEXT}}))
    upstream.script("broken", Script(text=TEXT, fault="malformed", fault_after=3))
    tokens = []
    for profile in ("masked", "detect", "strict", "off"):
        tok = token(profile, f"log-{profile}")
        tokens.append(tok)
        with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {tok}"}) as client:
            for protocol in ("openai", "anthropic", "responses"):
                for stream in (False, True):
                    for model in ("echo", "tools", "blocked", "err", "broken"):
                        messages = [
                            {"role": "system", "content": TEXT},
                            {"role": "user", "content": TEXT},
                        ]
                        key = "input" if protocol == "responses" else "messages"
                        call(protocol, client, {"model": model, "stream": stream, key: messages})
    bad = httpx.post(
        f"{base_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {TEXT}"},
        json={"model": "echo", "messages": [{"role": "user", "content": TEXT}]},
    )
    assert bad.status_code == 401
    return tokens


def _leaks(haystack: str, tokens: list[str]) -> list[str]:
    return sorted({s for s in [*SECRETS, *tokens] if s in haystack})


def test_no_seeded_value_in_in_process_logs(proxy: Proxy, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        tokens = run_flows(proxy.url, proxy.upstream, lambda p, s: proxy.token(p, s))
    formatter = JsonFormatter()
    rendered = "\n".join(formatter.format(r) for r in caplog.records)
    assert "proxy.request" in rendered
    assert "proxy.tool_blocked" in rendered
    assert "proxy.detections" in rendered
    assert _leaks(rendered + caplog.text, tokens) == []


def _profiles_yaml(path: Path) -> None:
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "orgtwin.dev/v1alpha1",
            "kind": "AgentProfile",
            "metadata": {"name": name},
            "spec": spec.model_dump(by_alias=True, mode="json"),
        }
        for name, spec in PROFILES.items()
    ]
    docs.extend(
        {
            "apiVersion": "orgtwin.dev/v1alpha1",
            "kind": "OrgUser",
            "metadata": {"name": emp.lower()},
            "spec": {"employeeId": emp, "displayName": name, "email": email},
        }
        for name, email, emp in PEOPLE
    )
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")


SERVE = (
    "import typer; from orgtwin.proxy.cli import proxy_app; "
    "app = typer.Typer(); app.add_typer(proxy_app, name='proxy'); app()"
)


def test_no_seeded_value_in_proxy_process_stderr(
    proxy: Proxy, upstream: FakeUpstream, tmp_path: Path
) -> None:
    profiles = tmp_path / "profiles.yaml"
    _profiles_yaml(profiles)
    port = free_port()
    env = {
        **os.environ,
        "ORGTWIN_PROXY_NAMESPACE": NAMESPACE,
        "ORGTWIN_PROXY_SESSION_SIGNING_KEY": SIGNING_KEY.decode(),
        "ORGTWIN_PROXY_MASKING_KEY": MASKING_KEY,
        "ORGTWIN_PROXY_OPENAI_BASE_URL": upstream.base_url,
        "ORGTWIN_PROXY_OPENAI_API_KEY": UPSTREAM_OPENAI_KEY,
        "ORGTWIN_PROXY_ANTHROPIC_BASE_URL": upstream.base_url,
        "ORGTWIN_PROXY_ANTHROPIC_API_KEY": UPSTREAM_ANTHROPIC_KEY,
        "ORGTWIN_PROXY_PROFILES_FILE": str(profiles),
        "ORGTWIN_PROXY_LOG_LEVEL": "DEBUG",
        "ORGTWIN_PROXY_RECORD_ACTIVITY": "false",
    }
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, "proxy", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 30
            while not is_listening(port):
                assert process.poll() is None, stderr_path.read_text()
                assert time.monotonic() < deadline, "proxy did not start"
                time.sleep(0.1)
            tokens = run_flows(f"http://127.0.0.1:{port}", upstream, lambda p, s: proxy.token(p, s))
        finally:
            # Only the process this test started, by its PID.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    log = stderr_path.read_text(encoding="utf-8")
    assert '"event":"proxy.request"' in log
    assert '"event":"proxy.tool_blocked"' in log
    assert _leaks(log, tokens) == []
