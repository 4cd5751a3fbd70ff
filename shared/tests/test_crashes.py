"""Process crashes at the worst moments, with the probe service as a real process."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from probe.app import MIGRATIONS, ProbeSettings

from salesflow.contracts.envelope import Envelope, new_event
from salesflow.testing.helpers import bearer, eventually, free_port
from salesflow.testing.kafka import read_topic
from salesflow.testing.plugin import migrate
from salesflow.testing.processes import ServiceProcess

pytestmark = pytest.mark.slow
ADMIN = bearer("root", ["admin"])
HERE = Path(__file__).parent


@pytest.fixture
async def probe_process(
    settings_for: Callable, database_url: str, tmp_path: Path
) -> ServiceProcess:
    await migrate(MIGRATIONS, database_url)
    settings = settings_for(ProbeSettings)
    env = {
        "SALESFLOW_PROBE_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "SALESFLOW_PROBE_TOPIC_PREFIX": settings.topic_prefix,
        "SALESFLOW_PROBE_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_PROBE_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_PROBE_RELAY_POLL_INTERVAL_S": "0.2",
    }
    proc = ServiceProcess(
        "probe.app:create_app", free_port(), env, tmp_path / "probe.log", pythonpath=[HERE]
    )
    proc.settings = settings  # type: ignore[attr-defined]
    yield proc
    proc.kill()


async def test_relay_crash_after_commit_publishes_after_restart(
    probe_process: ServiceProcess, broker: str
) -> None:
    settings = probe_process.settings  # type: ignore[attr-defined]
    probe_process.start({"SALESFLOW_CRASHPOINT": "relay.before_publish"})
    probe_process.wait_ready()
    async with httpx.AsyncClient(base_url=probe_process.url) as client:
        resp = await client.post("/items", json={"name": "survivor"}, headers=ADMIN)
        assert resp.status_code == 201
    # the relay picks the row up and the process dies before it reaches the broker
    assert probe_process.wait_exit(15) == -9
    topic = settings.topic("probe.item.v1")
    assert await read_topic(broker, topic, expect=0, timeout=2) == []

    probe_process.start()
    probe_process.wait_ready()
    records = await read_topic(broker, topic, expect=1)
    assert [Envelope.from_record(r.headers, r.value).data["name"] for r in records] == ["survivor"]


async def test_consumer_crash_before_offset_commit_has_one_side_effect(
    probe_process: ServiceProcess, broker: str
) -> None:
    settings = probe_process.settings  # type: ignore[attr-defined]
    item_id = uuid.uuid4().int % 100_000
    event = new_event(
        "probe_item.created.v1", "k", {"item_id": item_id, "name": "once"}, source="/test"
    )
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic("probe.item.v1"), event.value(), key=b"k", headers=event.headers()
        )
    finally:
        await producer.stop()

    probe_process.start({"SALESFLOW_CRASHPOINT": "consumer.after_db_commit"})
    assert probe_process.wait_exit(60) == -9  # died after its DB commit, before the offset commit

    probe_process.start()
    probe_process.wait_ready()
    async with httpx.AsyncClient(base_url=probe_process.url) as client:

        async def duplicate_skipped() -> bool:
            metrics = (await client.get("/metrics")).text
            return any(
                line.startswith("salesflow_events_consumed_total")
                and 'outcome="duplicate"' in line
                and not line.rstrip().endswith(" 0.0")
                for line in metrics.splitlines()
            )

        await eventually(duplicate_skipped, timeout=30, message="redelivery not seen")
        body = (await client.get("/received", headers=ADMIN)).json()
        assert body["item_ids"] == [item_id]
