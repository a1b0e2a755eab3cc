"""Entry point of the ``orgtwin`` command: one sub-command group per component."""

from __future__ import annotations

import typer

from orgtwin.agent.cli import agent_app
from orgtwin.api.cli import api_app
from orgtwin.cli.demo import demo_app
from orgtwin.cli.dev import dev_app
from orgtwin.core.cli import crds_app
from orgtwin.core.privacy.cli import privacy_app
from orgtwin.operator.cli import app as operator_app
from orgtwin.proxy.cli import proxy_app

app = typer.Typer(
    name="orgtwin",
    help="orgtwin: an org chart as a team of goose agents on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(crds_app, name="crds")
app.add_typer(privacy_app, name="privacy")
app.add_typer(proxy_app, name="proxy")
app.add_typer(agent_app, name="agent")
app.add_typer(dev_app, name="dev")
app.add_typer(demo_app, name="demo")
app.add_typer(api_app, name="api")
app.add_typer(operator_app, name="operator")


def main() -> None:
    app()
