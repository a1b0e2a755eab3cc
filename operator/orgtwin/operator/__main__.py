"""``python -m orgtwin.operator run`` (the same as ``orgtwin operator run``)."""

from orgtwin.operator.cli import app

app()
