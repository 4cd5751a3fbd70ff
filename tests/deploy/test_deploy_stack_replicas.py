"""``DevStack(replicas=N)``, the local scale-out the chaos test runs: N processes per service on
distinct ports with one database per service; refused on SQLite (one process per file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesflow import registry
from salesflow.stack import DevStack, stack_ports

PG = "postgresql+asyncpg://u:p@127.0.0.1:5432/{}"


def pg_env() -> dict[str, str]:
    return {f"SALESFLOW_{s.upper()}_DATABASE_URL": PG.format(s) for s in registry.SERVICES}


def test_replicas_share_their_service_database_on_distinct_ports(tmp_path: Path) -> None:
    stack = DevStack(tmp_path, port_offset=1000, extra_env=pg_env(), replicas=2)
    assert stack.instances("orders") == ["orders", "orders-2"]
    assert len(stack.instances()) == 2 * len(registry.SERVICES)
    ports = [stack.port(i) for i in stack.instances()]
    assert len(set(ports)) == len(ports)
    assert sorted(ports) == sorted(p + 1000 for p in stack_ports(2))
    for instance in stack.instances():
        service = stack.service_of(instance)
        env = stack.env(instance, "127.0.0.1:9092")
        assert env[f"SALESFLOW_{service.upper()}_DATABASE_URL"] == PG.format(service)


def test_one_replica_keeps_the_service_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SALESFLOW_LEADS_DATABASE_URL", raising=False)
    stack = DevStack(tmp_path)
    assert stack.instances() == list(registry.SERVICES)
    assert [stack.port(s) for s in registry.SERVICES] == list(registry.PORTS.values())
    assert stack.db_url("leads").startswith("sqlite+aiosqlite:///")


def test_replicas_on_sqlite_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for service in registry.SERVICES:
        monkeypatch.delenv(f"SALESFLOW_{service.upper()}_DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="need PostgreSQL"):
        DevStack(tmp_path, replicas=2)
