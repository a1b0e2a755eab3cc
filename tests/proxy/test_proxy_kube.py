"""The proxy on a real kube-apiserver: profiles and users from the watch cache, activity patches."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import Proxy, proxy_settings
from kubernetes import client
from proxy_helpers import call, user

from orgtwin.core import k8s
from orgtwin.proxy.app import create_app
from orgtwin.testing.upstream import FakeUpstream, ThreadedServer

pytestmark = pytest.mark.integration

NAME, EMAIL, EMP = "Wilhelmina Oyelaran-Pike", "w.oyelaran@acme.example", "EMP-55001"


def _wait(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _objects(custom: client.CustomObjectsApi, ns: str) -> None:
    def create(plural: str, body: dict[str, Any]) -> None:
        custom.create_namespaced_custom_object(k8s.GROUP, k8s.VERSION, ns, plural, body)

    meta = {"apiVersion": k8s.API_VERSION}
    create(
        k8s.PROFILE_PLURAL,
        {
            **meta,
            "kind": "AgentProfile",
            "metadata": {"name": "finance"},
            "spec": {"role": "finance", "model": {"provider": "openai", "name": "gpt-test"}},
        },
    )
    create(
        k8s.USER_PLURAL,
        {
            **meta,
            "kind": "OrgUser",
            "metadata": {"name": "emp-55001"},
            "spec": {
                "employeeId": EMP,
                "displayName": NAME,
                "email": EMAIL,
                "profileRef": "finance",
            },
        },
    )
    create(
        k8s.SESSION_PLURAL,
        {
            **meta,
            "kind": "AgentSession",
            "metadata": {"name": "s-kube"},
            "spec": {"userRef": "emp-55001", "desiredState": "Active"},
        },
    )


def test_watch_cache_and_activity(
    cluster: Any, k8s_api: client.ApiClient, namespace: str, upstream: FakeUpstream
) -> None:
    custom = client.CustomObjectsApi(k8s_api)
    _objects(custom, namespace)
    settings = proxy_settings(
        upstream,
        namespace=namespace,
        kubeconfig=str(cluster.kubeconfig),
        record_activity=True,
        activity_interval_seconds=3600.0,
    )
    with ThreadedServer(create_app(settings)) as server:
        proxy = Proxy(server, upstream, namespace)
        _wait(lambda: httpx.get(f"{server.url}/readyz").status_code == 200, "readyz")

        def masked_round_trip() -> bool:
            upstream.reset()
            with proxy.client("finance", "s-kube") as c:
                seen = call("openai", c, user(f"mail {NAME} at {EMAIL}", "openai"))
            if seen.status != 200 or not upstream.requests:
                print("round trip", seen.status, seen.error)
                return False
            sent = upstream.requests[-1].raw.decode()
            return seen.text == f"mail {NAME} at {EMAIL}" and NAME not in sent and EMAIL not in sent

        # The directory comes from the OrgUser objects: the name is masked although no
        # regex would find it.
        _wait(masked_round_trip, "the OrgUser in the directory")

        def activity() -> str | None:
            obj = custom.get_namespaced_custom_object(
                k8s.GROUP, k8s.VERSION, namespace, k8s.SESSION_PLURAL, "s-kube"
            )
            return (obj.get("status") or {}).get("lastActivityAt")

        _wait(lambda: activity() is not None, "status.lastActivityAt")
        first = activity()
        # Throttled: more calls within the interval do not patch again.
        with proxy.client("finance", "s-kube") as c:
            for _ in range(3):
                call("openai", c, user("hello", "openai"))
        assert activity() == first
        assert server.app.state.proxy.activity.patches == 1

        # A profile edit reaches the proxy through the watch: strict mode now refuses.
        custom.patch_namespaced_custom_object(
            k8s.GROUP,
            k8s.VERSION,
            namespace,
            k8s.PROFILE_PLURAL,
            "finance",
            {"spec": {"privacy": {"mode": "strict"}}},
        )

        def refused() -> bool:
            with proxy.client("finance", "s-kube") as c:
                return call("openai", c, user(f"mail {EMAIL}", "openai")).status == 400

        _wait(refused, "the profile change")

        # When the session leaves Active its token stops working, though not yet expired.
        custom.patch_namespaced_custom_object_status(
            k8s.GROUP,
            k8s.VERSION,
            namespace,
            k8s.SESSION_PLURAL,
            "s-kube",
            {"status": {"phase": "Completed"}},
        )

        def rejected() -> bool:
            with proxy.client("finance", "s-kube") as c:
                return call("openai", c, user("hello", "openai")).status == 401

        _wait(rejected, "the session to complete")
        with proxy.client("finance", "no-such-session") as c:
            assert call("openai", c, user("hello", "openai")).status == 401
