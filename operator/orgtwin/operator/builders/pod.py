"""The agent Pod: the profile's goose image running the orgtwin entrypoint, locked down.

The only credential is the session token from the session's Secret; no provider
key ever reaches the pod. The root filesystem is read-only, so goose's HOME and
/tmp are emptyDirs; the profile's ConfigMap is mounted read-only.
"""

from __future__ import annotations

from typing import Any

from orgtwin.core import k8s
from orgtwin.operator.builders.goose import CONFIG_KEY
from orgtwin.operator.builders.meta import SessionContext, session_metadata
from orgtwin.operator.builders.secret import TOKEN_KEY

PROFILE_DIR = "/etc/orgtwin/profile"
HOME_DIR = "/home/goose"
AGENT_UID = 1000
ANNOTATION_CONFIG_HASH = f"{k8s.GROUP}/config-hash"
ANNOTATION_PROFILE_GENERATION = f"{k8s.GROUP}/profile-generation"

# The provider key variable goose reads for the provider it is configured with;
# it carries the session token, which the proxy accepts instead of a real key.
_KEY_VARIABLE = {"anthropic": "ANTHROPIC_API_KEY"}


def _env(ctx: SessionContext) -> list[dict[str, Any]]:
    secret_ref = {
        "secretKeyRef": {"name": k8s.session_secret_name(ctx.session.name), "key": TOKEN_KEY}
    }
    key_var = _KEY_VARIABLE.get(ctx.profile.model.provider, "OPENAI_API_KEY")
    return [
        {"name": "HOME", "value": HOME_DIR},
        {"name": "GOOSE_DISABLE_KEYRING", "value": "1"},
        {"name": "ORGTWIN_SESSION", "value": ctx.session.name},
        {"name": "ORGTWIN_USER", "value": ctx.user},
        {"name": "ORGTWIN_PROFILE", "value": ctx.profile_name},
        {"name": "ORGTWIN_NAMESPACE", "value": ctx.namespace},
        {"name": "ORGTWIN_PROFILE_DIR", "value": PROFILE_DIR},
        {"name": "ORGTWIN_API_URL", "value": ctx.settings.api_url},
        {"name": "ORGTWIN_PROXY_URL", "value": ctx.settings.proxy_url},
        {"name": "ORGTWIN_SESSION_TOKEN", "valueFrom": secret_ref},
        {"name": key_var, "valueFrom": secret_ref},
    ]


def pod(ctx: SessionContext) -> dict[str, Any]:
    """The agent Pod of one session."""
    res = ctx.profile.resources
    meta = session_metadata(ctx, k8s.session_pod_name(ctx.session.name))
    meta["annotations"] = {
        ANNOTATION_CONFIG_HASH: ctx.config_hash,
        ANNOTATION_PROFILE_GENERATION: str(ctx.profile_generation),
    }
    container = {
        "name": "agent",
        "image": ctx.profile.goose.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(ctx.settings.agent_command),
        "env": _env(ctx),
        "resources": {
            "requests": {"cpu": res.requests.cpu, "memory": res.requests.memory},
            "limits": {"cpu": res.limits.cpu, "memory": res.limits.memory},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": AGENT_UID,
            "runAsGroup": AGENT_UID,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        # Ready once the entrypoint has installed goose's configuration into HOME.
        "readinessProbe": {
            "exec": {"command": ["test", "-s", f"{HOME_DIR}/.config/goose/{CONFIG_KEY}"]},
            "initialDelaySeconds": 1,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "volumeMounts": [
            {"name": "profile", "mountPath": PROFILE_DIR, "readOnly": True},
            {"name": "home", "mountPath": HOME_DIR},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the host's /tmp
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            # A dead agent is a failed session, not something to restart behind its back.
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "fsGroup": AGENT_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [
                {
                    "name": "profile",
                    "configMap": {"name": k8s.profile_configmap_name(ctx.profile_name)},
                },
                {"name": "home", "emptyDir": {"sizeLimit": "256Mi"}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
        },
    }
