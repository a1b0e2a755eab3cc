"""Sub-commands that need only core: CRD generation."""

from __future__ import annotations

from pathlib import Path

import typer

from orgtwin.core.crds import generate

crds_app = typer.Typer(help="Custom resource definitions.", no_args_is_help=True)


@crds_app.command("generate")
def crds_generate(
    out: Path = typer.Option(Path("crds"), help="Directory to write the CRD YAML into."),
) -> None:
    """Write the CRDs generated from orgtwin.core's models."""
    for path in generate.write_all(out):
        typer.echo(f"wrote {path}")
