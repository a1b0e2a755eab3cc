"""``orgtwin proxy``: serve the privacy proxy with uvicorn."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import typer

from orgtwin.core import logging as orgtwin_logging
from orgtwin.core.startup import load_settings, startup_errors

if TYPE_CHECKING:
    from orgtwin.proxy.settings import ProxySettings

# The app, uvicorn and the Kubernetes client are imported by the command that serves:
# every `orgtwin` command imports this module.

proxy_app = typer.Typer(help="The LLM privacy proxy.", no_args_is_help=True)


@proxy_app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Listen address (default from settings)."),
    port: int | None = typer.Option(None, help="Listen port (default from settings)."),
) -> None:
    """Serve the OpenAI- and Anthropic-compatible proxy (settings from ORGTWIN_PROXY_*)."""
    from orgtwin.proxy.settings import ProxySettings

    settings = load_settings(ProxySettings, "proxy")
    run(settings, host or settings.host, port or settings.port)


def run(settings: ProxySettings, host: str, port: int) -> None:
    """The proxy process: logging, the app, uvicorn (the bench runs exactly this too).

    What the app needs to start is checked first, so that a missing key, profiles file
    or cluster configuration ends the process with one line saying what to set.
    """
    import uvicorn

    from orgtwin.proxy.app import create_app, quiet_client_logs
    from orgtwin.proxy.kube import cluster_configuration
    from orgtwin.proxy.profiles import StaticProfiles

    profiles = None
    with startup_errors("proxy"):
        settings.masking_secret()
        settings.signing_key()
        if settings.profiles_file is not None:
            profiles = StaticProfiles.from_yaml(settings.profiles_file)
        else:
            cluster_configuration(settings.kubeconfig)
    orgtwin_logging.configure(settings.log_level, settings.log_format)
    quiet_client_logs()
    app = create_app(settings, profiles=profiles)
    # What is imported by now (modules, classes, pydantic schemas) lives as long as the
    # process: out of the collector's sight, a full collection no longer walks it in the
    # middle of a request.
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
