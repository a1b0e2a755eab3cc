"""Sub-commands that need only core: CRD generation."""

from __future__ import annotations

from pathlib import Path

import typer

from orgtwin.core.crds import generate

crds_app = typer.Typer(help="Custom resource definitions.", no_args_is_help=True)


@crds_app.command("generate")
def crds_generate(
    out: Path = typer.Option(
        Path("crds"),
        file_okay=False,
        help="Directory to write the CRD YAML into; created when missing.",
    ),
) -> None:
    """Write the CRDs generated from orgtwin.core's models."""
    try:
        written = generate.write_all(out)
    except OSError as exc:
        # Exit 2 with a usage error that names the path and the reason, not a traceback.
        where = exc.filename or out
        message = f"cannot write {where}: {exc.strerror}"
        raise typer.BadParameter(message, param_hint="'--out'") from None
    for path in written:
        typer.echo(f"wrote {path}")
