"""Schemathesis runs every check against each service's OpenAPI, with an admin token, against the
service as a real process on a real database and broker: no server error, no schema violation."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from salesflow import registry
from salesflow.testing.helpers import bearer, free_port
from salesflow.testing.plugin import migrate
from salesflow.testing.processes import ServiceProcess

pytestmark = pytest.mark.slow
MAX_EXAMPLES = os.environ.get("SALESFLOW_FUZZ_EXAMPLES", "15")


@pytest.mark.parametrize("service", registry.SERVICES)
async def test_openapi_fuzz(
    service: str, settings_for: Callable, database_url: str, tmp_path: Path
) -> None:
    module = registry.load(service)
    assert module.spec.migrations_dir is not None
    await migrate(module.spec.migrations_dir, database_url)
    settings = settings_for(module.settings_cls)
    prefix = f"SALESFLOW_{service.upper()}_"
    proc = ServiceProcess(
        module.factory,
        free_port(),
        {
            prefix + "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            prefix + "TOPIC_PREFIX": settings.topic_prefix,
        },
        tmp_path / f"{service}.log",
    )
    proc.start()
    try:
        proc.wait_ready()
        token = bearer("fuzzer", ["admin"], team="north")["Authorization"]
        result = await asyncio.to_thread(
            subprocess.run,
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(Path(__file__).with_name("schemathesis.toml")),
                "run",
                f"{proc.url}/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                "20261127",
                "--header",
                f"Authorization: {token}",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        report = result.stdout[-6000:] + result.stderr[-2000:]
        assert result.returncode == 0, f"schemathesis found problems in {service}:\n{report}"
        assert "Server error" not in result.stdout
    finally:
        proc.stop()
        server_log = proc.tail(60)
    assert "Traceback" not in server_log, server_log
