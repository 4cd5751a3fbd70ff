"""``salesflow import companies FILE``: stream a CSV to a running leads service.

The lead wires :func:`import_companies` into the ``salesflow`` command; it works on its own too::

    python -c "import typer, leads.cli as c; typer.run(c.import_companies)" companies.csv
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

console = Console()
err = Console(stderr=True)
DEFAULT_URL = "http://127.0.0.1:8101"


def _chunks(path: Path, size: int, progress: Progress, task: object) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            progress.update(task, advance=len(chunk))  # type: ignore[arg-type]
            yield chunk


def import_companies(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file")
    ],
    url: Annotated[
        str, typer.Option(envvar="SALESFLOW_LEADS_URL", help="Base URL of the leads service")
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option(envvar="SALESFLOW_TOKEN", help="Bearer token (marketing or sales_manager)"),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Source of rows without one (dnb, listflix …)")
    ] = "import",
    nace_revision: Annotated[
        str, typer.Option(help="NACE revision of rows without one: 2.1 or 2")
    ] = "2.1",
    charset: Annotated[str, typer.Option(help="Encoding of the file")] = "utf-8",
    report: Annotated[
        Path | None, typer.Option(help="Write the whole answer (every rejected row) as JSON here")
    ] = None,
    show: Annotated[int, typer.Option(help="Rejected rows to print")] = 20,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 3600.0,
) -> None:
    """Import companies from a CSV file (streamed; files of millions of rows are fine)."""
    if token is None:
        from salesflow.auth import issue_token
        from salesflow.settings import ServiceSettings

        # a dev token, as `salesflow token` would mint it
        token = issue_token(
            ServiceSettings(), sub=os.environ.get("USER", "cli"), roles=["marketing"]
        )
    size = file.stat().st_size
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"text/csv; charset={charset}",
    }
    params = {"source": source, "nace_revision": nace_revision}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task(f"upload {file.name}", total=size)
        try:
            with httpx.Client(timeout=httpx.Timeout(timeout, connect=10)) as client:
                resp = client.post(
                    f"{url.rstrip('/')}/companies/import",
                    params=params,
                    headers=headers,
                    content=_chunks(file, 256 * 1024, progress, task),
                )
        except httpx.HTTPError as exc:
            err.print(f"[red]import failed: {exc!r}[/red]")
            raise typer.Exit(1) from None
    if resp.status_code != 200:
        try:
            detail = resp.json().get("detail") or resp.text
        except ValueError:
            detail = resp.text
        err.print(f"[red]{resp.status_code}: {detail}[/red]")
        raise typer.Exit(1)
    body = resp.json()
    if report is not None:
        report.write_text(json.dumps(body, indent=2))
    table = Table(title=f"import {body['import_id']} of {file.name}")
    for name in ("rows", "accepted", "updated", "rejected", "blank_lines", "seconds"):
        table.add_column(name, justify="right")
    table.add_row(
        *(
            str(body[n])
            for n in ("rows", "accepted", "updated", "rejected", "blank_lines", "seconds")
        )
    )
    console.print(table)
    for row in body["rejected_rows"][:show]:
        console.print(f"  line {row['line']}: {row['reason']}")
    if body["rejected"] > show:
        console.print(
            f"  … {body['rejected'] - show} more" + (f" (all in {report})" if report else "")
        )
