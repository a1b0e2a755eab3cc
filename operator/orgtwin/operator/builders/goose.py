"""goose configuration of a profile: ``config.yaml``, ``.goosehints`` and recipes, in a ConfigMap.

goose is always pointed at the privacy proxy. Anthropic profiles use goose's
anthropic provider (``ANTHROPIC_HOST``); every other provider uses goose's
openai provider (``OPENAI_HOST`` + ``OPENAI_BASE_PATH``) against the proxy's
OpenAI-compatible endpoint, and the proxy forwards to the profile's real
provider. Keys follow goose's documented configuration (docs/guides/config-files.md).
"""

from __future__ import annotations

from typing import Any

import yaml

from orgtwin.core import k8s
from orgtwin.core.crds.models import AgentProfileSpec, Extension, Recipe
from orgtwin.operator.builders.meta import (
    COMPONENT_PROFILE,
    MANAGED_BY,
    Owner,
    config_hash,
    owner_reference,
)
from orgtwin.operator.settings import OperatorSettings

MESH_EXTENSION = "orgtwin"
CONFIG_KEY = "config.yaml"
HINTS_KEY = ".goosehints"
RECIPE_PREFIX = "recipe-"


def _extension(ext: Extension) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "enabled": True,
        "name": ext.name,
        "type": ext.type,
        "timeout": ext.timeout,
        "bundled": ext.type == "builtin",
    }
    if ext.type == "stdio":
        entry.update(cmd=ext.cmd, args=list(ext.args), envs=dict(ext.env))
    elif ext.type == "streamable_http":
        entry.update(uri=ext.uri, envs=dict(ext.env))
    return entry


def mesh_extension(settings: OperatorSettings) -> dict[str, Any]:
    """The orgtwin mesh MCP server, a stdio extension every agent gets."""
    cmd, *args = settings.mesh_command
    return {
        "enabled": True,
        "name": MESH_EXTENSION,
        "type": "stdio",
        "cmd": cmd,
        "args": args,
        "envs": {"ORGTWIN_API_URL": settings.api_url},
        "timeout": 300,
        "bundled": False,
        "description": "orgtwin agent mesh: tasks, approvals and notifications",
    }


def render_goose_config(spec: AgentProfileSpec, settings: OperatorSettings) -> dict[str, Any]:
    """goose's config.yaml as a mapping."""
    config: dict[str, Any] = {}
    proxy = settings.proxy_url.rstrip("/")
    if spec.model.provider == "anthropic":
        config["GOOSE_PROVIDER"] = "anthropic"
        config["ANTHROPIC_HOST"] = proxy
    else:
        config["GOOSE_PROVIDER"] = "openai"
        config["OPENAI_HOST"] = proxy
        config["OPENAI_BASE_PATH"] = settings.proxy_openai_base_path
    config["GOOSE_MODEL"] = spec.model.name
    config["GOOSE_TEMPERATURE"] = spec.model.temperature
    if spec.model.max_tokens is not None:
        config["GOOSE_MAX_TOKENS"] = spec.model.max_tokens
    # Agents run unattended; the proxy enforces the tool policy.
    config["GOOSE_MODE"] = "auto"
    config["GOOSE_TELEMETRY_ENABLED"] = False
    extensions = {MESH_EXTENSION: mesh_extension(settings)}
    for ext in spec.goose.extensions:
        extensions[ext.name] = _extension(ext)
    config["extensions"] = extensions
    return config


def _recipe(recipe: Recipe) -> str:
    body = {
        "version": "1.0.0",
        "title": recipe.title,
        "description": recipe.description,
        "instructions": recipe.instructions,
        "prompt": recipe.prompt,
    }
    return yaml.safe_dump({k: v for k, v in body.items() if v}, sort_keys=False)


def configmap_data(spec: AgentProfileSpec, settings: OperatorSettings) -> dict[str, str]:
    data = {
        CONFIG_KEY: yaml.safe_dump(render_goose_config(spec, settings), sort_keys=False),
        HINTS_KEY: spec.goose.instructions,
    }
    for recipe in spec.goose.recipes:
        data[f"{RECIPE_PREFIX}{recipe.name}.yaml"] = _recipe(recipe)
    return data


def configmap(
    namespace: str, profile: Owner, spec: AgentProfileSpec, settings: OperatorSettings
) -> dict[str, Any]:
    """The profile's ConfigMap, labelled with the hash of its content."""
    data = configmap_data(spec, settings)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": k8s.profile_configmap_name(profile.name),
            "namespace": namespace,
            "labels": {
                k8s.LABEL_PROFILE: k8s.dns_label(profile.name),
                k8s.LABEL_COMPONENT: COMPONENT_PROFILE,
                k8s.LABEL_CONFIG_HASH: config_hash(data),
                k8s.LABEL_MANAGED_BY: MANAGED_BY,
            },
            "ownerReferences": [owner_reference(profile)],
        },
        "data": data,
    }
