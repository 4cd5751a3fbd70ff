"""The import command streams a file to a running service (a real uvicorn process)."""

import json
from collections.abc import Callable
from pathlib import Path

import typer
from typer.testing import CliRunner

from leads.cli import import_companies
from leads.config import Settings
from leads.main import SPEC
from leads.sample_data import company_csv
from salesflow.testing.helpers import bearer, free_port
from salesflow.testing.kafka import envelopes, read_topic
from salesflow.testing.plugin import migrate
from salesflow.testing.processes import ServiceProcess


async def test_cli_streams_a_file_and_reports(
    settings_for: Callable[..., Settings], database_url: str, tmp_path: Path
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings)
    path = tmp_path / "companies.csv"
    path.write_bytes(b"".join(company_csv(2000)) + b"Broken,XX,,,,,,,,,,,\n")
    proc = ServiceProcess(
        "leads.main:create_app",
        free_port(),
        {
            "SALESFLOW_LEADS_DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "SALESFLOW_LEADS_TOPIC_PREFIX": settings.topic_prefix,
        },
        tmp_path / "leads.log",
    )
    proc.start()
    try:
        proc.wait_ready()
        app = typer.Typer()
        app.command()(import_companies)
        token = bearer("mia", ["marketing"])["Authorization"].split()[1]
        report = tmp_path / "report.json"
        result = CliRunner().invoke(
            app,
            [
                str(path),
                "--url",
                proc.url,
                "--token",
                token,
                "--source",
                "dnb",
                "--report",
                str(report),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "line 2002: unknown country 'XX'" in result.output
        body = json.loads(report.read_text())
        assert (body["accepted"], body["rejected"]) == (2000, 1)
        # the service published the suspects: one chunk (20,000 rows per chunk by default)
        topic = settings.topic("leads.import.v1")
        [event] = envelopes(await read_topic(settings.kafka_bootstrap_servers, topic, expect=1))
        payload = event.payload()
        assert (payload.import_id, payload.chunk) == (str(body["import_id"]), 1)
        assert sum(c.count for c in payload.suspects) == 2000
        assert {c.source for c in payload.suspects} == {"bench"}  # the file names its source
        assert (payload.rows_updated, payload.rows_rejected) == (0, 1)

        refused = CliRunner().invoke(app, [str(path), "--url", proc.url, "--token", "nonsense"])
        assert refused.exit_code == 1 and "401" in refused.output
    finally:
        proc.stop()
