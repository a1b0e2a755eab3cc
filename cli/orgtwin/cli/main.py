"""Entry point of the ``orgtwin`` command: one sub-command group per component."""

from __future__ import annotations

import typer

from orgtwin.core.cli import crds_app

app = typer.Typer(
    name="orgtwin",
    help="orgtwin: an org chart as a team of goose agents on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(crds_app, name="crds")


def main() -> None:
    app()
