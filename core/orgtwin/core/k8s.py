"""Kubernetes names shared by every component: API group, kinds, labels and object names."""

from __future__ import annotations

import hashlib
import re
from typing import Final

GROUP: Final = "orgtwin.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

PROFILE_PLURAL: Final = "agentprofiles"
USER_PLURAL: Final = "orgusers"
SESSION_PLURAL: Final = "agentsessions"

LABEL_SESSION: Final = f"{GROUP}/session"
LABEL_USER: Final = f"{GROUP}/user"
LABEL_PROFILE: Final = f"{GROUP}/profile"
LABEL_COMPONENT: Final = f"{GROUP}/component"
LABEL_CONFIG_HASH: Final = f"{GROUP}/config-hash"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"

# Secret in each tenant namespace holding the HMAC key that signs session tokens.
SIGNING_SECRET_NAME: Final = "orgtwin-session-signing"
SIGNING_SECRET_KEY: Final = "signing-key"

_DNS_LABEL_BAD = re.compile(r"[^a-z0-9-]+")


def dns_label(value: str, max_len: int = 63) -> str:
    """Lower-case ``value`` into a valid DNS-1123 label, hashing when it must be shortened."""
    label = _DNS_LABEL_BAD.sub("-", value.lower()).strip("-") or "x"
    if len(label) <= max_len and label == value:
        return label
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    head = label[: max_len - len(digest) - 1].rstrip("-") or "x"
    return f"{head}-{digest}"


def user_object_name(employee_id: str) -> str:
    """The OrgUser object name for an employee id: deterministic and DNS-safe."""
    return dns_label(employee_id)


def profile_configmap_name(profile: str) -> str:
    return dns_label(f"orgtwin-profile-{profile}")


def session_pod_name(session: str) -> str:
    return dns_label(f"agent-{session}")


def session_secret_name(session: str) -> str:
    return dns_label(f"agent-{session}-token")


def session_netpol_name(session: str) -> str:
    return dns_label(f"agent-{session}")
