"""aiokafka clients configured from settings, and topic creation at start."""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from salesflow.settings import ServiceSettings

log = logging.getLogger(__name__)


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"salesflow-{settings.service}",
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=262_144,
        max_request_size=1_048_576,
        compression_type=settings.kafka_compression,
        request_timeout_ms=settings.kafka_request_timeout_ms,
    )


def make_consumer(settings: ServiceSettings, group_id: str) -> AIOKafkaConsumer:
    """Subscribe it with ``subscribe(topics, listener=...)``."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"salesflow-{settings.service}",
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_partition_fetch_bytes=4_194_304,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        request_timeout_ms=max(settings.kafka_request_timeout_ms, 40_000),
    )


async def subscribe_started(
    consumer: AIOKafkaConsumer,
    topics: list[str],
    listener: ConsumerRebalanceListener | None = None,
) -> None:
    """Subscribe a started consumer: its group is joined in the background and the first poll
    waits for the assignment, so that the caller is ready once the broker answers (a join can
    take half the session timeout). First, as ``start()`` does for a consumer subscribed
    before it, wait until the client's metadata lists every topic: a group assigned while a
    new topic is still unknown would leave that topic unread until the next metadata refresh
    (minutes). The wait is aiokafka's own, a private method; without it, subscribe at once."""
    wait_on_metadata = getattr(getattr(consumer, "_client", None), "_wait_on_metadata", None)
    if wait_on_metadata is not None:
        for topic in topics:
            await wait_on_metadata(topic)
    consumer.subscribe(topics, listener=listener)


class FetchPacer:
    """Fetch waits that follow the traffic: short while records flow, longer in a lull between
    them, long once the consumer has been idle a while.

    Every fetch that comes back empty costs the broker and the client real work (the embedded
    broker re-checks its partitions at half the wait, so a short wait means many fetches).
    Under load a consumer's records arrive in bursts with gaps of tens of milliseconds; waiting
    longer in those gaps saves most of the empty fetches at a small price in latency for the
    first record after a gap. aiokafka reads the wait from its fetcher for every fetch request
    it builds; the attribute is private, so an aiokafka without it keeps the configured wait."""

    def __init__(self, consumer: AIOKafkaConsumer, settings: ServiceSettings) -> None:
        self.fetcher = getattr(consumer, "_fetcher", None)
        self.busy_ms = settings.kafka_fetch_max_wait_ms
        self.idle_ms = max(settings.kafka_fetch_idle_wait_ms, self.busy_ms)
        self.lull_ms = min(max(settings.kafka_fetch_lull_wait_ms, self.busy_ms), self.idle_ms)
        self.lull_after_s = settings.consumer_lull_after_s
        self.idle_after_s = settings.consumer_idle_after_s
        self.last_records = time.monotonic()
        # how long one poll may wait: short enough to notice a lull when it begins
        self.poll_timeout_ms = max(10, min(200, round(self.lull_after_s * 1000)))

    def observe(self, got_records: bool) -> None:
        if self.fetcher is None or not hasattr(self.fetcher, "_fetch_max_wait_ms"):
            return
        now = time.monotonic()
        if got_records:
            self.last_records = now
            wait = self.busy_ms
        elif now - self.last_records > self.idle_after_s:
            wait = self.idle_ms
        elif now - self.last_records > self.lull_after_s:
            wait = self.lull_ms
        else:
            return
        self.fetcher._fetch_max_wait_ms = wait


async def ensure_topics(settings: ServiceSettings, topics: dict[str, int]) -> None:
    """Create topics with explicit partition counts; existing ones are left alone."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        request_timeout_ms=settings.kafka_request_timeout_ms,
    )
    await admin.start()
    try:
        new = [
            NewTopic(name, partitions, settings.kafka_replication_factor)
            for name, partitions in topics.items()
        ]
        try:
            result = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return
        for name, code, *_ in getattr(result, "topic_errors", []) or []:
            if code not in (0, TopicAlreadyExistsError.errno):
                log.warning("topic %s not created: error code %s", name, code)
    except KafkaError as exc:
        log.warning("topic creation failed: %s", exc)
        raise
    finally:
        await admin.close()
