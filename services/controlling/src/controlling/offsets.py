"""What the broker says about consumer groups: committed offsets and partition ends.

On the embedded broker (Tansu) ``ListOffsets(latest)`` is wrong — measured: after 1000 records
produced in batches it reports 1 — while the high watermark in fetch responses is right. So the
end of a partition is taken as the largest of: ListOffsets, the high watermark the record index
saw in its fetches, and the last offset it indexed + 1. On Apache Kafka all three agree.
Committed offsets (OffsetFetch, partitions named explicitly: Tansu drops the connection on the
"all partitions" form) are exact on both brokers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0

Partitions = dict[tuple[str, int], int]  # (logical topic, partition) -> offset


def group_id(settings: ServiceSettings, consumer: str) -> str:
    """The platform's group id of a service's consumer (``salesflow.<name>``, prefixed)."""
    return settings.topic(f"salesflow.{consumer}")


async def committed_offsets(
    settings: ServiceSettings, groups: Iterable[str], topics: Mapping[str, int]
) -> dict[str, Partitions | None]:
    """Committed offset per group and partition of ``topics`` (logical name -> partitions);
    -1 where the group committed nothing; None for a group whose offsets could not be read."""
    tps = [TopicPartition(settings.topic(t), p) for t, n in topics.items() for p in range(n)]
    result: dict[str, Partitions | None] = {}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=settings.kafka_request_timeout_ms,
    )
    try:
        await asyncio.wait_for(admin.start(), TIMEOUT_S)
    except Exception as exc:
        log.warning("cannot reach the broker for committed offsets: %r", exc)
        await _close(admin)
        return dict.fromkeys(groups)
    try:
        for group in groups:
            try:
                offsets = await asyncio.wait_for(
                    admin.list_consumer_group_offsets(group, partitions=tps), TIMEOUT_S
                )
            except Exception as exc:
                log.warning("committed offsets of %s not readable: %r", group, exc)
                result[group] = None
                continue
            result[group] = {
                (_logical(settings, tp.topic), tp.partition): meta.offset
                for tp, meta in offsets.items()
            }
    finally:
        await _close(admin)
    return result


async def listed_end_offsets(settings: ServiceSettings, topics: Mapping[str, int]) -> Partitions:
    """``ListOffsets(latest)`` per partition; empty when the broker does not answer."""
    tps = [TopicPartition(settings.topic(t), p) for t, n in topics.items() for p in range(n)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=max(settings.kafka_request_timeout_ms, 40_000),
        enable_auto_commit=False,
    )
    try:
        await asyncio.wait_for(consumer.start(), TIMEOUT_S)
        ends = await asyncio.wait_for(consumer.end_offsets(tps), TIMEOUT_S)
    except Exception as exc:
        log.warning("end offsets not readable: %r", exc)
        return {}
    finally:
        await _close(consumer)
    return {(_logical(settings, tp.topic), tp.partition): off for tp, off in ends.items()}


def partition_ends(*sources: Mapping[tuple[str, int], int]) -> Partitions:
    """The largest end any source reports per partition."""
    ends: Partitions = {}
    for source in sources:
        for key, value in source.items():
            ends[key] = max(ends.get(key, 0), value)
    return ends


def _logical(settings: ServiceSettings, topic: str) -> str:
    prefix = settings.topic_prefix
    return topic[len(prefix) :] if prefix and topic.startswith(prefix) else topic


async def _close(client: AIOKafkaAdminClient | AIOKafkaConsumer) -> None:
    try:
        if isinstance(client, AIOKafkaAdminClient):
            await asyncio.wait_for(client.close(), TIMEOUT_S)
        else:
            await asyncio.wait_for(client.stop(), TIMEOUT_S)
    except Exception as exc:
        log.debug("closing a broker client failed: %r", exc)
