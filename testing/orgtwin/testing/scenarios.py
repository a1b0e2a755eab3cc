"""The three collaboration scenarios, driven through the real api, operator, proxy and agents.

Each scenario starts AgentSessions through the api, runs one simulated goose
(``orgtwin agent simulate``) per Active session on the host with that session's
token, waits for the approval to be decided, lets the initiator fetch the
status, completes the sessions and collects what a person would check.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client

from orgtwin.core import k8s
from orgtwin.testing.stack import ORGTWIN, Stack, StackError


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    initiator: str
    responders: tuple[str, ...]
    prompt: str
    seeded: tuple[str, ...]


SCENARIOS = (
    Scenario(
        key="expense",
        title="Expense approval: finance -> manager",
        initiator="E010",
        responders=("E009",),
        prompt="File an expense of 420.00 EUR for Oliver Brown (oliver.brown@example.com, "
        "IBAN DE89 3704 0044 0532 0130 00) for the Berlin offsite.",
        seeded=("Oliver Brown", "oliver.brown@example.com", "DE89 3704 0044 0532 0130 00"),
    ),
    Scenario(
        key="legal",
        title="Legal review: finance -> legal -> manager",
        initiator="E010",
        responders=("E018", "E017"),
        prompt="Please arrange a legal review of the supplier contract that Nadia Haddad "
        "(nadia.haddad@example.com, +44 20 7946 0958) negotiated before we sign.",
        seeded=("Nadia Haddad", "nadia.haddad@example.com", "+44 20 7946 0958"),
    ),
    Scenario(
        key="payroll",
        title="Cross-department: hr -> finance -> manager",
        initiator="E023",
        responders=("E010", "E009"),
        prompt="Please set up payroll for our new hire Ruth Adeyemi (ruth.adeyemi@example.com, "
        "IBAN GB82 WEST 1234 5698 7654 32) starting next month.",
        seeded=("Ruth Adeyemi", "ruth.adeyemi@example.com", "GB82 WEST 1234 5698 7654 32"),
    ),
)


@dataclass
class Outcome:
    """What happened in one scenario, as a person would check it."""

    scenario: Scenario
    trace_id: str
    approval: dict[str, Any] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    transcripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaked: list[str] = field(default_factory=list)


class Driver:
    """Runs scenarios against a stack that is up."""

    def __init__(self, stack: Stack, log: Any = print) -> None:
        self.stack = stack
        self.log = log
        self.admin = stack.token("E001", role="admin")
        self.http = httpx.Client(
            base_url=stack.s.url("api"),
            timeout=30,
            headers={"Authorization": f"Bearer {self.admin}"},
        )

    def import_org(self, csv_path: Path) -> dict[str, Any]:
        with csv_path.open("rb") as fh:
            resp = self.http.post(
                "/v1/org/import",
                files={"file": (csv_path.name, fh, "text/csv")},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
        if resp.status_code >= 300:
            raise StackError(f"import failed: {resp.status_code} {resp.text[:500]}")
        result: dict[str, Any] = resp.json()
        return result

    def wait_users_ready(self, count: int, timeout: float = 120) -> None:
        custom = client.CustomObjectsApi(self.stack.k8s())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            listing: Any = custom.list_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, self.stack.namespace, k8s.USER_PLURAL
            )
            users: list[dict[str, Any]] = listing["items"]
            ready = [
                u
                for u in users
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in u.get("status", {}).get("conditions", [])
                )
            ]
            if len(ready) >= count:
                return
            time.sleep(1)
        raise StackError(f"fewer than {count} OrgUsers became Ready")

    # ------------------------------------------------------------- sessions

    def start_session(self, employee_id: str, purpose: str) -> str:
        resp = self.http.post(
            "/v1/sessions",
            json={"user_id": employee_id, "purpose": purpose},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if resp.status_code >= 300:
            raise StackError(f"session for {employee_id}: {resp.status_code} {resp.text[:300]}")
        return str(resp.json()["id"])

    def session(self, name: str) -> dict[str, Any]:
        resp = self.http.get(f"/v1/sessions/{name}")
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def wait_phase(self, name: str, phase: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        data: dict[str, Any] = {}
        while time.monotonic() < deadline:
            data = self.session(name)
            if data.get("phase") == phase:
                return data
            time.sleep(0.5)
        raise StackError(f"session {name} is {data.get('phase')}, not {phase}")

    def event(self, name: str, event: str) -> None:
        resp = self.http.post(
            f"/v1/sessions/{name}/events",
            json={"event": event},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if resp.status_code >= 300:
            raise StackError(f"{event} {name}: {resp.status_code} {resp.text[:300]}")

    def _profile_dir(self, session: str) -> tuple[Path, str]:
        """The session's profile ConfigMap on disk, and its token, as a pod would see them."""
        core = client.CoreV1Api(self.stack.k8s())
        custom = client.CustomObjectsApi(self.stack.k8s())
        obj: Any = custom.get_namespaced_custom_object(
            k8s.GROUP, k8s.VERSION, self.stack.namespace, k8s.SESSION_PLURAL, session
        )
        profile = obj["status"]["profileRef"]
        cm = core.read_namespaced_config_map(
            k8s.profile_configmap_name(profile), self.stack.namespace
        )
        target = self.stack.dir / "agents" / session / "profile"
        target.mkdir(parents=True, exist_ok=True)
        for key, value in (cm.data or {}).items():
            (target / key).write_text(value, encoding="utf-8")
        secret = core.read_namespaced_secret(k8s.session_secret_name(session), self.stack.namespace)
        token = base64.b64decode((secret.data or {})["token"]).decode()
        return target, token

    def start_agent(self, session: str, prompts: list[str], trace_id: str | None = None) -> str:
        """One simulated goose for an Active session; loops on its inbox when no prompt."""
        profile_dir, token = self._profile_dir(session)
        env = self.stack.env_for("ORGTWIN_")
        env.update(
            {
                "ORGTWIN_PROFILE_DIR": str(profile_dir),
                "ORGTWIN_SESSION_TOKEN": token,
                "ORGTWIN_API_URL": self.stack.s.url("api"),
                "ORGTWIN_PROXY_URL": self.stack.s.url("proxy"),
            }
        )
        if trace_id:
            env["ORGTWIN_TRACE_ID"] = trace_id
        args = [ORGTWIN, "agent", "simulate", "--interval", "1"]
        for prompt in prompts:
            args += ["--prompt", prompt]
        name = f"agent-{session}"
        transcript = self.stack.dir / "agents" / session / "transcript.jsonl"
        with transcript.open("ab") as out:
            proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=(transcript.parent / "agent.log").open("ab"),
                env=env,
                start_new_session=True,
            )
        self.stack.s.pids[name] = proc.pid
        self.stack.save()
        return name

    def transcript(self, session: str) -> list[dict[str, Any]]:
        path = self.stack.dir / "agents" / session / "transcript.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_agent_exit(self, name: str, timeout: float = 60) -> None:
        pid = self.stack.s.pids.get(name)
        deadline = time.monotonic() + timeout
        while pid and time.monotonic() < deadline:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done == pid:
                self.stack.s.pids.pop(name, None)
                return
            time.sleep(0.3)
        raise StackError(f"{name} did not finish within {timeout}s")

    # ------------------------------------------------------------- audit

    def audit(self, trace_id: str) -> list[dict[str, Any]]:
        resp = self.http.get("/v1/audit", params={"trace_id": trace_id, "limit": 1000})
        resp.raise_for_status()
        items: list[dict[str, Any]] = resp.json()["items"]
        return sorted(items, key=lambda e: e["id"])

    def wait_decision(self, trace_id: str, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.audit(trace_id):
                if event["action"] == "approval.decide":
                    return event
            time.sleep(0.5)
        raise StackError(f"no approval was decided under trace {trace_id}")

    # ------------------------------------------------------------- scenario

    def run(self, sc: Scenario) -> Outcome:
        trace = f"demo-{sc.key}-{uuid.uuid4().hex[:8]}"
        out = Outcome(scenario=sc, trace_id=trace)
        names = {
            eid: self.start_session(eid, f"{sc.title}") for eid in (sc.initiator, *sc.responders)
        }
        for eid, name in names.items():
            self.wait_phase(name, "Active")
            self.log(f"  session {name} for {eid} is Active")
        agents = [self.start_agent(names[eid], []) for eid in sc.responders]
        first = self.start_agent(names[sc.initiator], [sc.prompt], trace_id=trace)
        self.wait_agent_exit(first)
        decision = self.wait_decision(trace)
        approval_id = decision["subject"].split(":")[-1]
        self.log(f"  approval {approval_id} decided: {decision.get('details', {}).get('decision')}")
        # The initiator asks about what it started: the approval itself, or the task it sent.
        started = next(
            e["data"]
            for e in self.transcript(names[sc.initiator])
            if e.get("event") == "tool_result" and isinstance(e.get("data"), dict)
        )
        status = self.start_agent(
            names[sc.initiator],
            [f"What is the status of {started.get('kind', 'task')} {started.get('id')}?"],
            trace_id=trace,
        )
        self.wait_agent_exit(status)
        for name in names.values():
            self.event(name, "complete")
        for agent in agents:
            self.stack.stop_process(agent)
        for eid, name in names.items():
            out.sessions[eid] = self.wait_phase(name, "Completed")
            out.transcripts[eid] = self.transcript(name)
        out.audit = self.audit(trace)
        out.approval = decision
        bodies = self.stack.upstream_bodies()
        out.leaked = [v for v in sc.seeded if v in bodies]
        return out
