"""Delivery guarantees with a real broker and a real database, through the probe service."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from probe.app import MIGRATIONS, ProbeSettings, create_app
from sqlalchemy import func
from sqlmodel import select

from salesflow.contracts.envelope import Envelope, new_event
from salesflow.db import Database
from salesflow.messaging import dlq
from salesflow.messaging.tables import InboxRow, OutboxRow
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.kafka import read_topic
from salesflow.testing.plugin import migrate

ADMIN = bearer("root", ["admin"])


@pytest.fixture
async def probe_settings(settings_for: Callable, database_url: str) -> ProbeSettings:
    await migrate(MIGRATIONS, database_url)
    return settings_for(ProbeSettings, consumer_max_retries=2)


async def count(db: Database, model, *where) -> int:
    async with db.session() as session:
        stmt = select(func.count()).select_from(model)
        for cond in where:
            stmt = stmt.where(cond)
        return (await session.exec(stmt)).one()


async def test_event_flows_from_outbox_to_consumer(probe_settings: ProbeSettings) -> None:
    app = create_app(probe_settings)
    async with running(app) as client:
        resp = await client.post("/items", json={"name": "a"}, headers=ADMIN)
        assert resp.status_code == 201, resp.text
        item_id = resp.json()["id"]

        async def received() -> bool:
            body = (await client.get("/received", headers=ADMIN)).json()
            return body["item_ids"] == [item_id]

        await eventually(received, message="event not consumed")
        db = app.state.db
        assert await count(db, InboxRow) == 1

        async def marked_published() -> bool:
            # the relay records the broker's acknowledgement after the consumer may have read it
            return await count(db, OutboxRow, OutboxRow.published_at.is_not(None)) == 1

        await eventually(marked_published, message="outbox row not marked published")


async def test_failed_transaction_leaves_no_outbox_row_and_publishes_nothing(
    probe_settings: ProbeSettings, broker: str
) -> None:
    app = create_app(probe_settings)
    async with running(app) as client:
        resp = await client.post(
            "/items", json={"name": "x", "fail_after_outbox": True}, headers=ADMIN
        )
        assert resp.status_code == 409
        assert resp.headers["content-type"] == "application/problem+json"
        assert await count(app.state.db, OutboxRow) == 0
        body = (await client.get("/received", headers=ADMIN)).json()
        assert body["items"] == 0
    records = await read_topic(broker, probe_settings.topic("probe.item.v1"), expect=0, timeout=2)
    assert records == []


async def test_relay_keeps_insertion_order_per_key(
    probe_settings: ProbeSettings, broker: str
) -> None:
    app = create_app(probe_settings)
    async with running(app) as client:
        for seq in range(30):
            key = f"agg-{seq % 3}"
            resp = await client.post(
                "/items", json={"name": f"n{seq}", "key": key, "seq": seq}, headers=ADMIN
            )
            assert resp.status_code == 201
    records = await read_topic(broker, probe_settings.topic("probe.item.v1"), expect=30)
    assert len(records) == 30
    by_key: dict[str, list[int]] = {}
    for rec in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = Envelope.from_record(rec.headers, rec.value)
        by_key.setdefault(rec.key.decode(), []).append(event.data["seq"])
    assert set(by_key) == {"agg-0", "agg-1", "agg-2"}
    for seqs in by_key.values():
        assert seqs == sorted(seqs)
        assert len(seqs) == 10


async def test_duplicate_delivery_has_one_side_effect(
    probe_settings: ProbeSettings, broker: str
) -> None:
    app = create_app(probe_settings)
    event = new_event("probe_item.created.v1", "dup", {"item_id": 7, "name": "dup"}, source="/test")
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        for _ in range(3):
            await producer.send_and_wait(
                probe_settings.topic("probe.item.v1"),
                event.value(),
                key=b"dup",
                headers=event.headers(),
            )
    finally:
        await producer.stop()
    async with running(app) as client:
        consumer = app.state.ctx.consumers[0]
        await eventually(
            lambda: _ready(consumer.counts["duplicate"] >= 2), message="duplicates not seen"
        )
        body = (await client.get("/received", headers=ADMIN)).json()
        assert body["item_ids"] == [7]


async def _ready(value: bool) -> bool:
    return value


async def test_poison_event_goes_to_dlq_and_partition_keeps_flowing(
    probe_settings: ProbeSettings, broker: str, tmp_path
) -> None:
    poison_flag = tmp_path / "poison-on"
    poison_flag.write_text("1")
    settings = probe_settings.model_copy(update={"poison_file": str(poison_flag)})
    app = create_app(settings)
    async with running(app) as client:
        # same key ⇒ same partition: the good events queue behind the poison one
        ids = []
        for name in ("poison-1", "good-1", "good-2"):
            resp = await client.post("/items", json={"name": name, "key": "same"}, headers=ADMIN)
            ids.append(resp.json()["id"])

        async def good_ones_arrived() -> bool:
            body = (await client.get("/received", headers=ADMIN)).json()
            return sorted(body["item_ids"]) == sorted(ids[1:])

        await eventually(good_ones_arrived, message="events behind the poison one not processed")
        db = app.state.db
        async with db.session() as session:
            dead = await dlq.list_dead(session)
        assert len(dead) == 1
        assert dead[0].attempts == 2
        assert "cannot digest poison-1" in dead[0].error
        records = await read_topic(broker, settings.topic("probe.dlq"), expect=1)
        assert len(records) == 1
        headers = dict(records[0].headers)
        assert b"cannot digest" in headers["dlq_error"]
        assert headers["dlq_original_topic"] == b"probe.item.v1"

        poison_flag.unlink()  # the bug is fixed: replay delivers it again
        async with db.session() as session, session.begin():
            await dlq.replay(session, dead[0])

        async def all_arrived() -> bool:
            body = (await client.get("/received", headers=ADMIN)).json()
            return sorted(body["item_ids"]) == sorted(ids)

        await eventually(all_arrived, message="replayed event not processed")
        async with db.session() as session:
            assert await dlq.list_dead(session) == []


async def test_malformed_records_go_to_dlq_with_reason(
    probe_settings: ProbeSettings, broker: str
) -> None:
    topic = probe_settings.topic("probe.item.v1")
    good = new_event("probe_item.created.v1", "k", {"item_id": 1, "name": "ok"}, source="/t")
    unknown = new_event("probe_item.created.v1", "k", {"item_id": 2, "name": "x"}, source="/t")
    unknown_headers = [
        (k, b"nobody.knows.v1" if k == "ce_type" else v) for k, v in unknown.headers()
    ]
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"k", headers=[("ce_id", b"lonely-1")])
        await producer.send_and_wait(
            topic,
            b"{not json",
            key=b"k",
            headers=new_event(
                "probe_item.created.v1", "k", {"item_id": 3, "name": "y"}, source="/t"
            ).headers(),
        )
        await producer.send_and_wait(topic, unknown.value(), key=b"k", headers=unknown_headers)
        await producer.send_and_wait(topic, good.value(), key=b"k", headers=good.headers())
    finally:
        await producer.stop()
    app = create_app(probe_settings)
    async with running(app) as client:

        async def good_arrived() -> bool:
            return (await client.get("/received", headers=ADMIN)).json()["item_ids"] == [1]

        await eventually(good_arrived, message="good event behind malformed ones not processed")
        async with app.state.db.session() as session:
            dead = await dlq.list_dead(session)
        reasons = sorted(d.error for d in dead)
        assert len(dead) == 3
        assert any("missing CloudEvents headers" in r for r in reasons)
        assert any("not JSON" in r for r in reasons)
        assert any("unknown event type" in r for r in reasons)


async def test_pagination_cursor_over_utc_timestamps(probe_settings: ProbeSettings) -> None:
    """Keyset pages over an aware-UTC column: the cursor round-trips and pages don't overlap."""
    from datetime import UTC, datetime, timedelta

    from salesflow.api.pagination import PageParams, keyset, page_of

    db = Database(probe_settings.database_url)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        async with db.session() as session, session.begin():
            for i in range(5):
                session.add(
                    OutboxRow(
                        event_id=f"e{i}",
                        topic="t",
                        key="k",
                        type="x",
                        headers={},
                        payload="{}",
                        created_at=base + timedelta(minutes=i % 3),
                    )
                )
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params = PageParams(limit=2, cursor=cursor)
            async with db.session() as session:
                rows = (
                    await session.exec(
                        keyset(select(OutboxRow), params, OutboxRow.created_at, OutboxRow.id)
                    )
                ).all()
            items, cursor = page_of(list(rows), params, lambda r: (r.created_at.isoformat(), r.id))
            assert all(r.created_at.tzinfo is not None for r in items)
            seen += [r.event_id for r in items]
            if cursor is None:
                break
        assert sorted(seen) == [f"e{i}" for i in range(5)]
        assert len(seen) == len(set(seen))
    finally:
        await db.dispose()
