"""The per-session NetworkPolicy: egress to the proxy, the api and DNS, nothing else."""

from __future__ import annotations

from typing import Any

from orgtwin.core import k8s
from orgtwin.operator.builders.meta import SessionContext, session_metadata


def network_policy(ctx: SessionContext) -> dict[str, Any]:
    s = ctx.settings
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": session_metadata(ctx, k8s.session_netpol_name(ctx.session.name)),
        "spec": {
            "podSelector": {"matchLabels": {k8s.LABEL_SESSION: k8s.dns_label(ctx.session.name)}},
            # No ingress rule: nothing may connect to an agent (probes come from the kubelet).
            "policyTypes": ["Ingress", "Egress"],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": dict(s.proxy_pod_labels)}}],
                    "ports": [{"protocol": "TCP", "port": s.proxy_port}],
                },
                {
                    "to": [{"podSelector": {"matchLabels": dict(s.api_pod_labels)}}],
                    "ports": [{"protocol": "TCP", "port": s.api_port}],
                },
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": dns_ports,
                },
            ],
        },
    }
