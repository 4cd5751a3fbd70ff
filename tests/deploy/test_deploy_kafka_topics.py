"""The compose topic-init script (deploy/kafka/create-topics.sh) run with Apache Kafka's own
command-line tools against Apache Kafka: every topic with the catalog's partitions and its
configuration; a second run changes nothing; a topic with other partitions is left alone."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from deploy_support import DEPLOY, TOOLS_BIN, TOOLS_HINT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.kafka_only,
    pytest.mark.skipif(
        os.environ.get("SALESFLOW_TEST_BROKER") != "kafka",
        reason="the Kafka tools' admin requests need Apache Kafka: SALESFLOW_TEST_BROKER=kafka",
    ),
]
KAFKA_BIN = TOOLS_BIN.parent / "kafka/bin"


def run_script(broker: str, prefix: str) -> subprocess.CompletedProcess:
    if not (KAFKA_BIN / "kafka-topics.sh").is_file():
        pytest.skip(f"Kafka command-line tools not installed: {TOOLS_HINT}")
    env = {
        **os.environ,
        "KAFKA_BIN": str(KAFKA_BIN),
        "BOOTSTRAP": broker,
        "REPLICATION_FACTOR": "1",
        "MIN_ISR": "1",
        "TOPIC_PREFIX": prefix,
    }
    return subprocess.run(
        ["bash", str(DEPLOY / "kafka/create-topics.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def describe(broker: str, names: list[str]) -> dict[str, tuple[int, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
        )
        configs: dict[str, dict[str, str]] = {}
        for response in responses:
            for resource in response.resources:
                name, entries = resource[3], resource[4]
                configs[name] = {e[0]: e[1] for e in entries}
        return {n: (partitions[n], configs[n]) for n in names}
    finally:
        await admin.close()


async def create(broker: str, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def test_topic_init_creates_every_topic_and_is_idempotent(
    broker: str, topic_prefix: str, expected_topics: dict[str, int]
) -> None:
    # a topic that exists with other partitions (e.g. created by hand) is left as it is
    await create(broker, f"{topic_prefix}leads.dlq", 3)

    first = await asyncio.to_thread(run_script, broker, topic_prefix)
    assert first.returncode == 0, first.stdout + first.stderr
    created = [line for line in first.stdout.splitlines() if line.startswith("created ")]
    assert len(created) == len(expected_topics) - 1
    assert f"WARNING: {topic_prefix}leads.dlq has 3 partitions" in first.stderr

    names = [f"{topic_prefix}{n}" for n in expected_topics]
    found = await describe(broker, names)
    for name, partitions in expected_topics.items():
        count, config = found[f"{topic_prefix}{name}"]
        assert count == (3 if name == "leads.dlq" else partitions), name
        assert config["retention.ms"] == ("2592000000" if name.endswith(".dlq") else "-1")
        assert config["min.insync.replicas"] == "1"
        assert config["cleanup.policy"] == "delete"

    again = await asyncio.to_thread(run_script, broker, topic_prefix)
    assert again.returncode == 0, again.stderr
    assert not [line for line in again.stdout.splitlines() if line.startswith("created ")]
    assert len([line for line in again.stdout.splitlines() if line.startswith("exists ")]) == len(
        expected_topics
    )
    assert await describe(broker, names) == found
