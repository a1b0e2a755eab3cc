"""Labels, owner references and content hashes shared by every builder."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec
from orgtwin.operator.settings import OperatorSettings

MANAGED_BY = "orgtwin-operator"
COMPONENT_AGENT = "agent"
COMPONENT_PROFILE = "profile-config"


@dataclass(frozen=True)
class Owner:
    """Enough of an object to reference it as an owner."""

    kind: str
    name: str
    uid: str
    api_version: str = k8s.API_VERSION


@dataclass(frozen=True)
class SessionContext:
    """Everything the per-session builders need: resolved, validated, no I/O left."""

    namespace: str
    session: Owner
    user: str
    profile_name: str
    profile: AgentProfileSpec
    config_hash: str
    profile_generation: int
    settings: OperatorSettings


def owner_reference(owner: Owner) -> dict[str, Any]:
    """A controller owner reference, so garbage collection removes the child with its owner."""
    return {
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def session_labels(ctx: SessionContext) -> dict[str, str]:
    return {
        k8s.LABEL_SESSION: k8s.dns_label(ctx.session.name),
        k8s.LABEL_USER: k8s.dns_label(ctx.user),
        k8s.LABEL_PROFILE: k8s.dns_label(ctx.profile_name),
        k8s.LABEL_COMPONENT: COMPONENT_AGENT,
        k8s.LABEL_MANAGED_BY: MANAGED_BY,
    }


def session_metadata(ctx: SessionContext, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": ctx.namespace,
        "labels": session_labels(ctx),
        "ownerReferences": [owner_reference(ctx.session)],
    }


def config_hash(data: dict[str, str]) -> str:
    """A short, stable hash of rendered configuration: equal content, equal hash."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]
