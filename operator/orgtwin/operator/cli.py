"""``orgtwin operator run``: start the kopf operator with settings from the environment."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING

import typer

from orgtwin.core.logging import configure
from orgtwin.core.startup import load_settings, startup_errors

if TYPE_CHECKING:
    from orgtwin.operator.settings import OperatorSettings

# kopf and the handlers are imported by the commands that run them: every `orgtwin`
# command imports this module, and they took half a second of each one's start.

app = typer.Typer(help="The orgtwin Kubernetes operator.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """The orgtwin Kubernetes operator (kopf)."""


def _drop_kopf_extras(record: logging.LogRecord) -> bool:
    # kopf attaches its whole settings object to each record; one line per event is enough.
    record.__dict__.pop("settings", None)
    return True


def run_operator(settings: OperatorSettings) -> None:
    """Run until SIGTERM/SIGINT; kopf finishes in-flight handlers and leaves the peering."""
    import kopf

    from orgtwin.operator import kopf_fixes
    from orgtwin.operator.handlers import register

    configure(settings.log_level, settings.log_format)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_drop_kopf_extras)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if settings.log_level != "DEBUG":
        # kopf logs every handler run; our one line per transition is the useful signal.
        logging.getLogger("kopf").setLevel(logging.WARNING)
    kopf_fixes.apply()
    registry = kopf.OperatorRegistry()
    register(registry, settings)
    priority = settings.peering_priority
    if priority is None:
        priority = secrets.randbelow(2**30) + 1
    asyncio.run(
        kopf.operator(
            registry=registry,
            standalone=settings.standalone,
            priority=priority,
            peering_name=settings.peering_name,
            namespaces=settings.watched_namespaces(),
            liveness_endpoint=f"http://{settings.listen_host}:{settings.health_port}/healthz",
        )
    )


@app.command("run")
def run() -> None:
    """Run the operator (configured by ORGTWIN_OPERATOR_* environment variables)."""
    from orgtwin.core.kubeconfig import load_configuration
    from orgtwin.operator.kube import KUBECONFIG_VARIABLE
    from orgtwin.operator.settings import OperatorSettings

    settings = load_settings(OperatorSettings, "operator")
    # Without a cluster kopf would retry its start-up every minute, looking alive.
    with startup_errors("operator"):
        load_configuration(settings.kubeconfig, KUBECONFIG_VARIABLE)
    run_operator(settings)
