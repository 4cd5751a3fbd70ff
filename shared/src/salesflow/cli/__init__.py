"""The ``salesflow`` command."""

from __future__ import annotations

import typer

from salesflow.cli import dev, ops, services

app = typer.Typer(
    name="salesflow",
    help="Salesflow: run the platform locally, mint dev tokens, operate outboxes and DLQs.",
    no_args_is_help=True,
    add_completion=False,
)
ops.register(app)
dev.register(app)
services.register(app)


def main() -> None:
    app()
