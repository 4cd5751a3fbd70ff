"""The ``salesflow`` command."""

from __future__ import annotations

import sys

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

# The platform's own commands; any other word (or none, or --help) may name a service's command,
# and only then are the installed services' commands imported and mounted - ``salesflow dev``
# starts without importing every service first.
_OWN = frozenset(
    [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if c.callback]
    + [g.name for g in app.registered_groups if g.name]
)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in _OWN:
        services.register(app)
    app(args=args)
