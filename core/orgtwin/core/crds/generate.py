"""Turn the pydantic CRD models into CustomResourceDefinition objects and YAML files.

Pydantic emits JSON Schema 2020-12 with ``$ref`` and ``anyOf``; Kubernetes wants a
structural OpenAPI v3 schema. ``structural`` inlines references, collapses
optional unions, drops titles and gives nested objects an empty default so that
their own defaults apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, TypeAdapter

from orgtwin.core import k8s
from orgtwin.core.crds import models

_KEEP = {
    "type",
    "description",
    "default",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "format",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "x-kubernetes-validations",
    "nullable",
}


@dataclass(frozen=True)
class Kind:
    """What the generator needs to know about one custom resource."""

    kind: str
    plural: str
    singular: str
    short_names: list[str]
    description: str
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: list[dict[str, Any]] = field(default_factory=list)


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        merged = {**_resolve(target, defs), **node}
        node = merged
    if "anyOf" in node:
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"unsupported union in CRD schema: {options}")
        inner = _resolve(options[0], defs)
        node = {**inner, **{k: v for k, v in node.items() if k != "default" or v is not None}}
        if node.get("default", 0) is None:
            node.pop("default")
    if "const" in node:
        node["enum"] = [node.pop("const")]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {k: _resolve(v, defs) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _resolve(value, defs)
        elif key in _KEEP:
            out[key] = value
    if out.get("default") is None:
        out.pop("default", None)
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def _apply_defaults(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """Write ``default_factory`` values into the schema, which pydantic leaves out.

    Nested objects then get their complete default, so the apiserver fills in
    ``spec.tools`` or ``spec.session`` even when a manifest omits them.
    """
    props = schema.get("properties", {})
    for name, info in model.model_fields.items():
        prop = props.get(info.alias or name)
        if prop is None:
            continue
        if info.default_factory is not None:
            value = info.default_factory()  # type: ignore[call-arg]
            prop["default"] = TypeAdapter(info.annotation or Any).dump_python(
                value, mode="json", by_alias=True
            )
        for arg in (info.annotation, *get_args(info.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                target = prop["items"] if prop.get("type") == "array" else prop
                _apply_defaults(arg, target)


def structural(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of ``model``, camelCase field names."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = _resolve(raw, raw.get("$defs", {}))
    _apply_defaults(model, schema)
    return schema


KINDS: list[Kind] = [
    Kind(
        kind="AgentProfile",
        plural=k8s.PROFILE_PLURAL,
        singular="agentprofile",
        short_names=["agp", "profile"],
        description="A role profile: model, goose settings, privacy and tool policy for agents.",
        spec=models.AgentProfileSpec,
        status=models.AgentProfileStatus,
        columns=[
            {"name": "Role", "type": "string", "jsonPath": ".spec.role"},
            {"name": "Provider", "type": "string", "jsonPath": ".spec.model.provider"},
            {"name": "Model", "type": "string", "jsonPath": ".spec.model.name"},
            {"name": "Privacy", "type": "string", "jsonPath": ".spec.privacy.mode"},
            {"name": "Users", "type": "integer", "jsonPath": ".status.usersAssigned"},
            {
                "name": "Ready",
                "type": "string",
                "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
            },
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    ),
    Kind(
        kind="OrgUser",
        plural=k8s.USER_PLURAL,
        singular="orguser",
        short_names=["ou"],
        description="An employee from the org chart, with the role profile an admin assigned.",
        spec=models.OrgUserSpec,
        status=models.OrgUserStatus,
        columns=[
            {"name": "Employee", "type": "string", "jsonPath": ".spec.employeeId"},
            {"name": "Department", "type": "string", "jsonPath": ".spec.department"},
            {"name": "Profile", "type": "string", "jsonPath": ".spec.profileRef"},
            {
                "name": "Ready",
                "type": "string",
                "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
            },
            {"name": "Manager", "type": "string", "jsonPath": ".spec.managerId", "priority": 1},
            {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspended", "priority": 1},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    ),
    Kind(
        kind="AgentSession",
        plural=k8s.SESSION_PLURAL,
        singular="agentsession",
        short_names=["ags", "session"],
        description="One run of a user's goose agent, with its lifecycle phase.",
        spec=models.AgentSessionSpec,
        status=models.AgentSessionStatus,
        columns=[
            {"name": "User", "type": "string", "jsonPath": ".spec.userRef"},
            {"name": "Profile", "type": "string", "jsonPath": ".status.profileRef"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Desired", "type": "string", "jsonPath": ".spec.desiredState", "priority": 1},
            {"name": "Pod", "type": "string", "jsonPath": ".status.podName", "priority": 1},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ],
    ),
]


def crd(kind: Kind) -> dict[str, Any]:
    """The CustomResourceDefinition object for ``kind``."""
    spec_schema = structural(kind.spec)
    spec_schema["description"] = kind.spec.__doc__ or kind.kind
    status_schema = structural(kind.status)
    status_schema["description"] = kind.status.__doc__ or "Observed state."
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{k8s.GROUP}",
            "labels": {"app.kubernetes.io/part-of": "orgtwin"},
        },
        "spec": {
            "group": k8s.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": kind.short_names,
                "categories": ["orgtwin"],
            },
            "versions": [
                {
                    "name": k8s.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": kind.columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": kind.description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {
                                    "type": "string",
                                    "description": "APIVersion of this object.",
                                },
                                "kind": {"type": "string", "description": "Kind of this object."},
                                # The apiserver owns metadata's schema and refuses any
                                # other keyword here, a description included.
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


HEADER = "# Generated by `orgtwin crds generate` from orgtwin.core.crds.models. Do not edit.\n"


def render(kind: Kind) -> str:
    return HEADER + yaml.safe_dump(crd(kind), sort_keys=False, width=100)


def file_name(kind: Kind) -> str:
    return f"{k8s.GROUP}_{kind.plural}.yaml"


def write_all(out_dir: Path) -> list[Path]:
    """Write every CRD into ``out_dir``; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = out_dir / file_name(kind)
        path.write_text(render(kind), encoding="utf-8")
        written.append(path)
    return written
