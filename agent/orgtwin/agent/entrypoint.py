"""``orgtwin agent entrypoint``: install the profile's goose configuration into HOME, exec goose.

The operator mounts the profile's ConfigMap (``config.yaml``, ``.goosehints`` and
``recipe-<name>.yaml`` keys, or a ``recipes/`` folder) at ORGTWIN_PROFILE_DIR and
sets the session's environment. ``render`` is a pure function from those to the
files goose reads (``~/.config/goose/config.yaml``, the global ``.goosehints``,
``recipes/``) and the goose command line; ``main`` writes them and execs goose.

No credential is ever written: the session token stays in the environment, and the
mesh extension is told its *name* through ``env_keys``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from orgtwin.agent.errors import AgentError

log = logging.getLogger(__name__)

DEFAULT_PROFILE_DIR = Path("/etc/orgtwin/profile")
GOOSE_DIR = Path(".config/goose")
MESH_EXTENSION = "orgtwin"
MESH_COMMAND = ("orgtwin", "agent", "mcp")
TOKEN_ENV = "ORGTWIN_SESSION_TOKEN"
# As the operator writes it (OperatorSettings.proxy_openai_base_path): goose's default
# spelling, so goose picks chat completions or the Responses API per model, as it would
# talking to OpenAI; the proxy serves both.
OPENAI_BASE_PATH = "v1/chat/completions"
DEFAULT_PROMPT = (
    "You are this employee's agent. Check your inbox with check_inbox (wait_seconds 30), "
    "handle every task, approval and notification in it with the mesh tools, and repeat "
    "until no new items arrive."
)
# Keys that would put a credential into a file; goose must get them from the environment.
_CREDENTIAL_KEY = re.compile(r"(API_KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
# Session settings passed on to the mesh extension when present.
_PASSED_TO_EXTENSION = ("ORGTWIN_API_URL", "ORGTWIN_TRACE_ID", "ORGTWIN_SESSION_TOKEN_FILE")


class EntrypointError(AgentError):
    """The mounted profile cannot be turned into a goose configuration."""

    kind = "entrypoint"


@dataclass(frozen=True)
class Profile:
    """The mounted profile ConfigMap, as text."""

    config_yaml: str
    hints: str = ""
    recipes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """What goose gets: files relative to HOME, and the command to exec."""

    files: Mapping[str, str]
    argv: tuple[str, ...]
    config: Mapping[str, Any]


def read_profile(directory: Path) -> Profile:
    """Read the profile folder; a missing config.yaml is an error, the rest is optional."""
    config = directory / "config.yaml"
    if not config.is_file():
        raise EntrypointError(f"no config.yaml in the profile directory {directory}")
    hints = directory / ".goosehints"
    recipes: dict[str, str] = {}
    for path in sorted(directory.glob("recipe-*.yaml")):
        recipes[path.name.removeprefix("recipe-")] = path.read_text(encoding="utf-8")
    for path in sorted((directory / "recipes").glob("*.yaml")):
        recipes[path.name] = path.read_text(encoding="utf-8")
    return Profile(
        config_yaml=config.read_text(encoding="utf-8"),
        hints=hints.read_text(encoding="utf-8") if hints.is_file() else "",
        recipes=recipes,
    )


def _mesh_extension(config: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    extensions = config.setdefault("extensions", {})
    if not isinstance(extensions, dict):
        raise EntrypointError("config.yaml: extensions must be a mapping")
    cmd, *args = MESH_COMMAND
    mesh = extensions.setdefault(
        MESH_EXTENSION,
        {"name": MESH_EXTENSION, "type": "stdio", "cmd": cmd, "args": args, "timeout": 300},
    )
    mesh.setdefault("enabled", True)
    envs = mesh.setdefault("envs", {})
    for key in _PASSED_TO_EXTENSION:
        if env.get(key):
            envs[key] = env[key]
    keys = list(mesh.get("env_keys") or [])
    if TOKEN_ENV not in keys:
        keys.append(TOKEN_ENV)
    mesh["env_keys"] = keys
    return config


def _check_no_credentials(config: Mapping[str, Any], where: str = "config.yaml") -> None:
    for key, value in config.items():
        if isinstance(value, Mapping):
            _check_no_credentials(value, f"{where}: {key}")
        elif _CREDENTIAL_KEY.search(str(key)) and key != "env_keys":
            raise EntrypointError(
                f"{where}: {key} looks like a credential; credentials come from the "
                "environment, never from the profile"
            )


def render(profile: Profile, env: Mapping[str, str]) -> Rendered:
    """Turn the mounted profile and the session's environment into goose's files and argv."""
    try:
        loaded = yaml.safe_load(profile.config_yaml) or {}
    except yaml.YAMLError as exc:
        raise EntrypointError("config.yaml is not valid YAML") from exc
    if not isinstance(loaded, dict):
        raise EntrypointError("config.yaml must be a mapping")
    config: dict[str, Any] = dict(loaded)
    _check_no_credentials(config)
    proxy = env.get("ORGTWIN_PROXY_URL", "").rstrip("/")
    provider = config.setdefault("GOOSE_PROVIDER", "openai")
    if proxy and provider == "anthropic":
        config.setdefault("ANTHROPIC_HOST", proxy)
    elif proxy:
        config.setdefault("OPENAI_HOST", proxy)
        config.setdefault("OPENAI_BASE_PATH", OPENAI_BASE_PATH)
    if "GOOSE_MODEL" not in config:
        raise EntrypointError("config.yaml: GOOSE_MODEL is missing")
    config.setdefault("GOOSE_MODE", "auto")
    config.setdefault("GOOSE_TELEMETRY_ENABLED", False)
    _mesh_extension(config, env)

    files = {str(GOOSE_DIR / "config.yaml"): yaml.safe_dump(config, sort_keys=False)}
    if profile.hints.strip():
        files[str(GOOSE_DIR / ".goosehints")] = profile.hints
    for name, text in profile.recipes.items():
        files[str(GOOSE_DIR / "recipes" / name)] = text

    token = env.get(TOKEN_ENV, "")
    if token and any(token in text for text in files.values()):
        raise EntrypointError("the profile contains the session token; refusing to write it")
    return Rendered(files=files, argv=_argv(profile, env), config=config)


def _argv(profile: Profile, env: Mapping[str, str]) -> tuple[str, ...]:
    goose = env.get("ORGTWIN_GOOSE_BIN", "goose")
    recipe = env.get("ORGTWIN_RECIPE", "")
    if recipe:
        name = recipe if recipe.endswith(".yaml") else f"{recipe}.yaml"
        if name not in profile.recipes:
            raise EntrypointError(f"ORGTWIN_RECIPE names a recipe the profile lacks: {recipe}")
        home = env.get("HOME", "~")
        return (goose, "run", "--recipe", f"{home}/{GOOSE_DIR}/recipes/{name}")
    return (goose, "run", "-t", env.get("ORGTWIN_PROMPT") or DEFAULT_PROMPT)


def install(rendered: Rendered, home: Path) -> list[Path]:
    """Write the rendered files under ``home``; owner-only, since HOME is the pod's own."""
    written = []
    for relative, text in rendered.files.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        written.append(path)
    return written


def main(env: Mapping[str, str] | None = None) -> NoReturn:
    """Render, install, then replace this process with goose (signals then reach goose)."""
    env = dict(os.environ if env is None else env)
    profile_dir = Path(env.get("ORGTWIN_PROFILE_DIR") or DEFAULT_PROFILE_DIR)
    home = Path(env.get("HOME") or Path.home())
    rendered = render(read_profile(profile_dir), env)
    paths = install(rendered, home)
    log.info(
        "entrypoint.installed",
        extra={"fields": {"files": len(paths), "model": rendered.config.get("GOOSE_MODEL")}},
    )
    os.execvpe(rendered.argv[0], list(rendered.argv), env)  # noqa: S606 - argv is ours
