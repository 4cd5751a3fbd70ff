"""The broker goes away and comes back: relays and consumers reconnect by themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from probe.app import MIGRATIONS, ProbeSettings, create_app

from salesflow import broker as brokers
from salesflow.messaging import outbox
from salesflow.testing.helpers import bearer, eventually, free_port, running
from salesflow.testing.plugin import migrate, test_broker_kind

pytestmark = pytest.mark.slow
ADMIN = bearer("root", ["admin"])


@pytest.fixture
def own_broker(tmp_path) -> Iterator[brokers.BrokerHandle]:
    """A broker of this test's own, so that stopping it disturbs no other test."""
    port = free_port()
    if test_broker_kind() == "kafka":
        handle = brokers.start_kafka(port=port, data_dir=tmp_path / "kafka")
    else:
        handle = brokers.start_embedded(port=port)
    holder = {"handle": handle}
    yield holder  # type: ignore[misc]
    holder["handle"].stop()


async def test_broker_restart_backlog_drains(
    own_broker: dict, settings_for: Callable, database_url: str
) -> None:
    handle: brokers.BrokerHandle = own_broker["handle"]
    await migrate(MIGRATIONS, database_url)
    settings = settings_for(
        ProbeSettings, kafka_bootstrap_servers=handle.bootstrap, kafka_request_timeout_ms=3000
    )
    started = datetime.now(UTC)
    app = create_app(settings)
    async with running(app) as client:

        async def received(n: int) -> Callable:
            async def probe() -> bool:
                body = (await client.get("/received", headers=ADMIN)).json()
                return len(body["item_ids"]) == n and len(set(body["item_ids"])) == n

            return probe

        for i in range(5):
            assert (
                await client.post("/items", json={"name": f"a{i}"}, headers=ADMIN)
            ).status_code == 201
        await eventually(await received(5), message="first batch not consumed")

        handle.stop()
        # the service keeps taking requests; events wait in the outbox
        for i in range(5):
            assert (
                await client.post("/items", json={"name": f"b{i}"}, headers=ADMIN)
            ).status_code == 201

        handle = own_broker["handle"] = handle.restart()
        if handle.kind == "embedded":
            # a memory-only broker lost its log: publish everything again since the start
            async with app.state.db.session() as session, session.begin():
                assert await outbox.replay_since(session, started) >= 5
        await eventually(await received(10), timeout=60, message="backlog not drained")

        ctx = app.state.ctx
        assert not ctx.relay._task.done(), "relay task died"
        assert all(not c._task.done() for c in ctx.consumers), "a consumer task died"
        async with app.state.db.session() as session:
            stats = await outbox.status(session)
        assert stats["unpublished"] == 0
        if handle.kind == "embedded":
            consumer = ctx.consumers[0]
            await eventually(
                lambda: _true(consumer.counts["duplicate"] >= 5),
                message="replayed duplicates not absorbed",
            )
        body = (await client.get("/received", headers=ADMIN)).json()
        assert sorted(body["item_ids"]) == list(range(1, 11))


async def _true(value: bool) -> bool:
    return value
