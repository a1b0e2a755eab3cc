"""A service that cannot start says why in one line on standard error, not a traceback.

    settings = load_settings(ProxySettings, "proxy")
    with startup_errors("proxy"):
        ...  # checks that raise StartupError

Invalid settings name each environment variable and what is wrong with it, never its
value (it may be a key or a database password); a StartupError names what to configure.
Either way the process exits with status 1, which Kubernetes shows as a failed start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from orgtwin.core.errors import OrgtwinError

S = TypeVar("S", bound=BaseSettings)


class StartupError(OrgtwinError):
    """The service cannot start: the message says what to configure, without secrets."""


def load_settings(cls: type[S], service: str) -> S:
    """``cls()`` from the environment, or exit naming each variable at fault."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix") or "")
        problems = []
        for err in exc.errors():
            field = "__".join(str(p) for p in err["loc"]).upper()
            # A check across fields (a model validator) has no field of its own.
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{prefix}{field}: {message}" if field else message)
        fail(service, "invalid settings: " + "; ".join(problems))


@contextmanager
def startup_errors(service: str) -> Iterator[None]:
    """Turn a StartupError raised inside into the one-line exit."""
    try:
        yield
    except StartupError as exc:
        fail(service, str(exc))


def fail(service: str, message: str) -> NoReturn:
    typer.echo(f"orgtwin {service}: cannot start: {message}", err=True)
    raise typer.Exit(1)
