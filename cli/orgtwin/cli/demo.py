"""`orgtwin demo`: the whole system on this machine, three scenarios, and a readable report."""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import typer

from orgtwin.testing import tools

if TYPE_CHECKING:
    from orgtwin.testing.scenarios import Outcome
    from orgtwin.testing.stack import Stack

# The stack and the scenarios are imported by the commands that use them: every
# `orgtwin` command imports this module.

demo_app = typer.Typer(help="The one-command demo.", no_args_is_help=True)

STATE_DIR = Path(os.environ.get("ORGTWIN_DEMO_DIR", Path.home() / ".cache" / "orgtwin" / "demo"))
ORG_CSV = tools.REPO_ROOT / "manifests" / "samples" / "org-50.csv"
DETECTION = re.compile(r"^orgtwin_proxy_detections_total\{([^}]*)\} ([0-9.e+]+)$", re.M)


def _say(text: str) -> None:
    typer.echo(text, err=True)


@demo_app.command("run")
def run() -> None:
    """Start everything on 127.0.0.1, import the org, run the scenarios, print the report."""
    from orgtwin.testing.scenarios import SCENARIOS, Driver
    from orgtwin.testing.stack import Stack

    started = time.monotonic()
    stack = Stack(STATE_DIR)
    if stack.load() is not None:
        _say("stopping the previous demo first")
        stack.down()
    stack.up(log=lambda m: _say(f"[{time.monotonic() - started:5.1f}s] {m}"))
    driver = Driver(stack, log=_say)
    result = driver.import_org(ORG_CSV)
    _say(
        f"[{time.monotonic() - started:5.1f}s] imported org-50.csv: "
        f"{ {k: result.get(k) for k in ('created', 'updated', 'unchanged', 'suspended')} }"
    )
    driver.wait_users_ready(50)
    _say(f"[{time.monotonic() - started:5.1f}s] all 50 OrgUsers Ready with their profiles")
    outcomes = []
    for sc in SCENARIOS:
        _say(f"[{time.monotonic() - started:5.1f}s] scenario: {sc.title}")
        outcomes.append(driver.run(sc))
    typer.echo(report(stack, outcomes, time.monotonic() - started))


@demo_app.command("down")
def down() -> None:
    """Stop every process and server the demo started."""
    from orgtwin.testing.stack import Stack

    stack = Stack(STATE_DIR)
    if stack.load() is None:
        _say("no demo running")
        return
    stack.down()
    _say("demo stopped")


def _final(transcript: list[dict[str, Any]]) -> str:
    finals = [
        e.get("content", "") for e in transcript if e.get("event") == "assistant" and e.get("final")
    ]
    return str(finals[0]) if finals else ""


def _llm_view(stack: Stack, marker: str) -> str:
    """The first user message the upstream received whose text contains ``marker``."""
    for line in stack.upstream_bodies().splitlines():
        body = json.loads(line)
        for msg in body.get("messages", []):
            content = msg.get("content")
            if msg.get("role") == "user" and isinstance(content, str) and marker in content:
                return content
    return "(not found)"


def _detections(stack: Stack) -> Counter[str]:
    counts: Counter[str] = Counter()
    try:
        text = httpx.get(stack.s.url("proxy") + "/metrics", timeout=5).text
    except httpx.HTTPError:
        return counts
    for labels, value in DETECTION.findall(text):
        kind = dict(re.findall(r'(\w+)="([^"]*)"', labels)).get("type", "?")
        counts[kind] += int(float(value))
    return counts


def report(stack: Stack, outcomes: list[Outcome], seconds: float) -> str:
    lines = ["", "=" * 78, "orgtwin demo report", "=" * 78]
    for out in outcomes:
        sc = out.scenario
        lines += ["", f"## {sc.title}   (trace {out.trace_id})", ""]
        for event in out.audit:
            lines.append(
                f"  {event['at'][11:23]}  {event['action']:<16} {event['subject']:<48} "
                f"{event['outcome']}  by {event['actor']}"
            )
        decision = out.approval.get("details", {}).get("decision", "?")
        verdict = {"approve": "approved", "reject": "rejected"}.get(decision, decision)
        leaked = "LEAKED " + str(len(out.leaked)) if out.leaked else "none"
        lines.append(f"  -> approval {verdict}; seeded PII values that reached the LLM: {leaked}")
        for eid, transcript in out.transcripts.items():
            for event in transcript:
                text = str(event.get("content", ""))
                if event.get("event") == "assistant" and "blocked by this profile" in text:
                    lines.append(f"  -> {eid}'s agent: {text}")
        phases = {
            eid: " -> ".join(h["phase"] for h in s.get("history", []))
            for eid, s in out.sessions.items()
        }
        for eid, path in phases.items():
            lines.append(f"  session of {eid}: {path}")
    first = outcomes[0]
    lines += [
        "",
        "## One prompt, three views",
        "",
        "  the user wrote:",
        f"    {first.scenario.prompt}",
        "  the LLM received:",
        f"    {_llm_view(stack, 'File an expense')}",
        "  the user got back:",
        f"    {_final(first.transcripts[first.scenario.initiator])}",
    ]
    counts = _detections(stack)
    lines += ["", "## PII detections by type (proxy metrics)", ""]
    lines += [f"  {kind:<16} {n}" for kind, n in counts.most_common()] or ["  (none)"]
    lines += ["", "## Audit excerpt (newest last)", ""]
    for event in first.audit[-5:]:
        keep = ("action", "subject", "actor", "outcome", "trace_id")
        lines.append("  " + json.dumps({k: event[k] for k in keep}))
    lines += [
        "",
        "## Look around",
        "",
        f"  export KUBECONFIG={stack.s.kubeconfig}",
        f"  kubectl get agentsessions -o wide -n {stack.namespace}",
        f"  kubectl get orgusers,agentprofiles -n {stack.namespace}",
        f"  api:   {stack.s.url('api')}/openapi.json   (docs/api.md has curl examples)",
        f"  proxy: {stack.s.url('proxy')}/metrics",
        f"  logs:  {stack.dir}/*.log",
        "  stop everything: make demo-down",
        "",
        f"demo finished in {seconds:.0f}s",
        "",
    ]
    return "\n".join(lines)
