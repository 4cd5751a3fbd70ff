"""Commands that belong to one service, mounted under ``salesflow`` when that service is
installed: ``controlling rebuild``, ``import companies``, ``simulate logistics``."""

from __future__ import annotations

import importlib

import typer


def _mount(app: typer.Typer, name: str, module: str, attribute: str, help_: str) -> None:
    """Add ``module.attribute`` (a Typer app or a command function) as ``salesflow <name>``."""
    try:
        target = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return  # the service is not installed here: its commands are simply absent
    if isinstance(target, typer.Typer):
        app.add_typer(target, name=name, help=help_)
        return
    group = typer.Typer(help=help_, no_args_is_help=True)
    group.command(attribute.replace("_", "-").split("-", 1)[-1])(target)
    app.add_typer(group, name=name)


def register(app: typer.Typer) -> None:
    from salesflow.demo.run import demo

    app.command()(demo)
    _mount(app, "controlling", "controlling.cli", "app", "Controlling read models (rebuild).")
    _mount(app, "import", "leads.cli", "import_companies", "Bulk imports into leads.")
    _mount(
        app,
        "simulate",
        "fulfillment.simulator",
        "simulate_logistics",
        "External systems for demos and tests.",
    )
