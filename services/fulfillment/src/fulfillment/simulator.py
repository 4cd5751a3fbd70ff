"""A production and logistics system, simulated — for demos and end-to-end tests.

It behaves like an external system and speaks ONLY the public topics: it consumes
``order.confirmed`` (and ``order.cancelled``) from ``orders.order.v1`` with its own consumer
group and plain aiokafka, and answers with ``shipment.status`` events on ``logistics.status.v1``,
keyed by order id, carrying the journey's correlation id and the order event as their cause.
It knows nothing of fulfillment's shipment ids: it ships one consignment per requested delivery
date (its own ``external_shipment_id``) and names the order lines of every status.

Per consignment: in_production → ready → picked → dispatched (carrier, tracking number) →
delivered (proof of delivery, serial numbers per piece), with configurable delays, partial
deliveries (part now, the backorder dispatched and delivered later), failed deliveries
(redelivered, or returned to the warehouse and shipped again) and deliveries reported before
their dispatch (``reorder_ratio``). Randomness is seeded per order, so a seed replays the same
story for the same order whatever the arrival order. Every story ends delivered.

In-flight stories live in memory: offsets are committed once an order's story is scheduled, so
a simulator that is stopped mid-story does not resume it (fine for a simulator, not for a real
system).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from salesflow.contracts.catalog import all_topics
from salesflow.contracts.envelope import Envelope, MalformedEvent, new_event
from salesflow.contracts.events.common import DeliveredLine, LineKind, ProofOfDelivery
from salesflow.contracts.events.logistics import ShipmentStatus, ShipmentStatusReported
from salesflow.contracts.events.orders import OrderCancelled, OrderConfirmed, OrderLine

log = logging.getLogger(__name__)

ORDERS_TOPIC = "orders.order.v1"
STATUS_TOPIC = "logistics.status.v1"
STATUS_TYPE = "shipment.status.v1"
SOURCE = "/logistics/simulator"
CARRIERS = ("DHL Freight", "DB Schenker", "DACHSER", "UPS", "Kühne+Nagel")
FAILURES = ("recipient absent", "goods receipt closed", "address not found", "refused: damaged")
PIECE = "C62"


@dataclass(frozen=True)
class SimulatorConfig:
    delay_s: float = 1.0  # mean pause between two statuses of a consignment
    partial_ratio: float = 0.2  # share of consignments delivered in two drops
    failure_ratio: float = 0.1  # share of consignments whose first delivery fails
    reorder_ratio: float = 0.0  # share of deliveries reported before their dispatch
    seed: int | None = None
    report_production: bool = True  # also report in_production, ready, picked


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the order reached the simulator
    status: ShipmentStatusReported


@dataclass
class _Story:
    """One consignment's statuses as they happen (occurred_at strictly increasing)."""

    order: OrderConfirmed
    consignment: str
    rng: random.Random
    config: SimulatorConfig
    start: datetime
    steps: list[Step] = field(default_factory=list)
    clock: float = 0.0

    def add(self, status: ShipmentStatus, lines: list[DeliveredLine], **extra: Any) -> None:
        self.clock += max(self.config.delay_s * self.rng.uniform(0.5, 1.5), 0.001)
        payload = ShipmentStatusReported(
            status_event_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            external_shipment_id=self.consignment,
            order_id=self.order.order_id,
            order_number=self.order.order_number,
            status=status,
            occurred_at=self.start + timedelta(seconds=self.clock),
            lines=lines,
            **extra,
        )
        self.steps.append(Step(self.clock, payload))


def script(order: OrderConfirmed, config: SimulatorConfig, *, start: datetime) -> list[Step]:
    """Every status the simulator will report for ``order``, in emission order."""
    rng = (
        random.Random(f"{config.seed}:{order.order_id}")
        if config.seed is not None
        else random.Random()
    )
    groups: dict[date | None, list[OrderLine]] = {}
    for line in sorted(order.lines, key=lambda ln: ln.line_no):
        if line.kind is LineKind.GOODS:
            when = line.requested_delivery_date or order.requested_delivery_date
            groups.setdefault(when, []).append(line)
    steps: list[Step] = []
    for n, (_, lines) in enumerate(sorted(groups.items(), key=lambda g: (g[0] is None, g[0])), 1):
        story = _Story(order, f"SIM-{order.order_number}-{n}", rng, config, start)
        _consignment(story, lines)
        steps += story.steps
    return sorted(steps, key=lambda s: s.at)


def _consignment(story: _Story, lines: list[OrderLine]) -> None:
    rng, config = story.rng, story.config
    whole = [_line(ln, ln.quantity) for ln in lines]
    serials = {ln.line_no: _serials(rng, ln) for ln in lines}
    if config.report_production:
        for status in (ShipmentStatus.IN_PRODUCTION, ShipmentStatus.READY, ShipmentStatus.PICKED):
            story.add(status, whole)
    story.add(ShipmentStatus.DISPATCHED, whole, **_carrier(rng))
    if rng.random() < config.failure_ratio:
        story.add(ShipmentStatus.DELIVERY_FAILED, whole, reason=rng.choice(FAILURES))
        if rng.random() < 0.5:
            story.add(ShipmentStatus.RETURNED, whole, reason="undeliverable: back at the warehouse")
        story.add(ShipmentStatus.DISPATCHED, whole, **_carrier(rng))
    first, rest = _split(lines) if rng.random() < config.partial_ratio else (lines, [])
    drops = [(first, {n: s[: _count(first, n)] for n, s in serials.items()})]
    if rest:
        drops.append((rest, {n: s[_count(first, n) :] for n, s in serials.items()}))
    for i, (drop, drop_serials) in enumerate(drops):
        if i:  # the backorder goes out on its own
            story.add(
                ShipmentStatus.DISPATCHED, [_line(ln, ln.quantity) for ln in drop], **_carrier(rng)
            )
        delivered = [_line(ln, ln.quantity, drop_serials.get(ln.line_no, [])) for ln in drop]
        story.add(ShipmentStatus.DELIVERED, delivered, proof_of_delivery=_pod(rng, story))
        if rng.random() < config.reorder_ratio:  # the carrier reports delivery before dispatch
            last, before = story.steps[-1], story.steps[-2]
            story.steps[-2:] = [Step(before.at, last.status), Step(last.at, before.status)]


def _split(lines: list[OrderLine]) -> tuple[list[OrderLine], list[OrderLine]]:
    """Half of every line (pieces: whole units) now, the rest later."""
    first, rest = [], []
    for line in lines:
        now = _half(line)
        if now > 0:
            first.append(line.model_copy(update={"quantity": now}))
        if line.quantity - now > 0:
            rest.append(line.model_copy(update={"quantity": line.quantity - now}))
    if first and rest:
        return first, rest
    if len(lines) > 1:  # single pieces: line by line
        return lines[:1], lines[1:]
    return lines, []  # nothing to split


def _half(line: OrderLine) -> Decimal:
    half = line.quantity / 2
    if line.unit == PIECE:
        return half.to_integral_value(rounding=ROUND_FLOOR)
    return half.quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)


def _count(drop: list[OrderLine], line_no: int) -> int:
    return next((int(ln.quantity) for ln in drop if ln.line_no == line_no), 0)


def _serials(rng: random.Random, line: OrderLine) -> list[str]:
    """Pieces get serial numbers; other units (hours, kilograms) do not."""
    if line.unit != PIECE or line.quantity != line.quantity.to_integral_value():
        return []
    return [f"SN-{line.sku}-{rng.getrandbits(40):010X}" for _ in range(int(line.quantity))]


def _line(line: OrderLine, quantity: Decimal, serials: list[str] | None = None) -> DeliveredLine:
    return DeliveredLine(
        line_no=line.line_no, sku=line.sku, quantity=quantity, serial_numbers=serials or []
    )


def _carrier(rng: random.Random) -> dict[str, str]:
    carrier = rng.choice(CARRIERS)
    number = f"{carrier[:3].upper()}{rng.randrange(10**10):010d}"
    return {
        "carrier": carrier,
        "tracking_number": number,
        "tracking_url": f"https://track.example.com/{number}",
    }


def _pod(rng: random.Random, story: _Story) -> ProofOfDelivery:
    signer = rng.choice(("M. Meier", "A. Schulz", "K. Nowak", "J. Weber", "goods receipt"))
    return ProofOfDelivery(
        signed_by=signer,
        received_at=(story.start + timedelta(seconds=story.clock)).date(),
        reference=f"POD-{rng.randrange(10**8):08d}",
    )


class LogisticsSimulator:
    """Consumes orders, schedules their stories, publishes the statuses when they are due."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic_prefix: str = "",
        config: SimulatorConfig,
        group_id: str | None = None,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bootstrap = bootstrap
        self.prefix = topic_prefix
        self.config = config
        self.group_id = group_id or f"{topic_prefix}logistics-simulator"
        self.session_timeout_ms = session_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.clock = clock
        self.max_age = max_age
        self.seen: set[str] = set()  # orders whose story was told or is being told
        self.stories: dict[str, asyncio.Task[None]] = {}  # stories being told
        self.dispatched: set[str] = set()  # orders with goods on the road: cancel comes too late
        self.counts = {"orders": 0, "statuses": 0, "cancelled": 0}
        self._producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> dict[str, int]:
        await self._ensure_topics()
        consumer = AIOKafkaConsumer(
            self.prefix + ORDERS_TOPIC,
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id="logistics-simulator",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms,
            fetch_max_wait_ms=50,
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="logistics-simulator",
            acks="all",
            enable_idempotence=False,  # the embedded broker has no idempotent producer
            linger_ms=2,
        )
        await self._producer.start()
        await consumer.start()
        try:
            while not stop.is_set():
                try:
                    batches = await consumer.getmany(timeout_ms=200, max_records=500)
                    for records in batches.values():
                        for record in records:
                            self._receive(record.headers, record.value)
                    if batches:
                        await consumer.commit()
                except KafkaError as exc:  # e.g. a rebalance: redelivered orders are known
                    log.warning("simulator consumer: %r; going on", exc)
                    await asyncio.sleep(0.5)
        finally:
            stories = list(self.stories.values())
            for task in stories:
                task.cancel()
            await asyncio.gather(*stories, return_exceptions=True)
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await self._producer.stop()
        return dict(self.counts)

    def _receive(self, headers: Any, value: bytes | None) -> None:
        try:
            event = Envelope.from_record(headers, value)
            if self.max_age is not None and event.time < self.clock() - self.max_age:
                return  # history from before this simulator was started
            if event.type == "order.confirmed.v1":
                order = OrderConfirmed.model_validate(event.data)
                if order.order_id not in self.seen:  # redelivered: the story is told already
                    self.seen.add(order.order_id)
                    self.counts["orders"] += 1
                    task = asyncio.create_task(self._tell(order, event))
                    self.stories[order.order_id] = task
                    task.add_done_callback(lambda t, oid=order.order_id: self._told(oid, t))
            elif event.type == "order.cancelled.v1":
                self._cancel(OrderCancelled.model_validate(event.data))
        except (MalformedEvent, ValueError) as exc:  # not ours to fix: skip it
            log.warning("simulator skips an order event: %s", exc)

    def _told(self, order_id: str, task: asyncio.Task[None]) -> None:
        self.stories.pop(order_id, None)
        self.dispatched.discard(order_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("story of order %s failed: %r", order_id, task.exception())

    def _cancel(self, cancelled: OrderCancelled) -> None:
        story = self.stories.get(cancelled.order_id)
        if story is not None and cancelled.order_id not in self.dispatched:
            story.cancel()
            self.counts["cancelled"] += 1

    async def _tell(self, order: OrderConfirmed, cause: Envelope) -> None:
        started = asyncio.get_running_loop().time()
        for step in script(order, self.config, start=self.clock()):
            pause = step.at - (asyncio.get_running_loop().time() - started)
            if pause > 0:
                await asyncio.sleep(pause)
            if step.status.status is ShipmentStatus.DISPATCHED:
                self.dispatched.add(order.order_id)
            await self._publish(step.status, cause)

    async def _publish(self, status: ShipmentStatusReported, cause: Envelope) -> None:
        event = new_event(STATUS_TYPE, status.order_id, status, source=SOURCE, cause=cause)
        assert self._producer is not None
        while True:
            try:
                await self._producer.send_and_wait(
                    self.prefix + STATUS_TOPIC,
                    event.value(),
                    key=status.order_id.encode(),
                    headers=event.headers(),
                )
                self.counts["statuses"] += 1
                log.info(
                    "%s %s: %s%s",
                    status.order_number,
                    status.external_shipment_id,
                    status.status,
                    f" ({status.reason})" if status.reason else "",
                )
                return
            except KafkaError as exc:  # broker away: a real system retries too
                log.warning("simulator could not publish, retrying: %r", exc)
                await asyncio.sleep(0.5)

    async def _ensure_topics(self) -> None:
        catalog = all_topics()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            topics = [
                NewTopic(self.prefix + name, catalog[name].partitions, 1)
                for name in (ORDERS_TOPIC, STATUS_TOPIC)
            ]
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(topics)
        finally:
            await admin.close()


async def run_simulator(
    bootstrap: str,
    topic_prefix: str = "",
    delay_s: float = 1.0,
    partial_ratio: float = 0.2,
    failure_ratio: float = 0.1,
    seed: int | None = None,
    stop_event: asyncio.Event | None = None,
    *,
    reorder_ratio: float = 0.0,
    report_production: bool = True,
    group_id: str | None = None,
    session_timeout_ms: int = 10_000,
    heartbeat_interval_ms: int = 3_000,
    max_age_s: float | None = None,
) -> dict[str, int]:
    """Run until ``stop_event`` is set (forever without one); returns what it did.
    ``max_age_s``: ignore order events older than this (history of a platform that ran before)."""
    for name, ratio in (
        ("partial_ratio", partial_ratio),
        ("failure_ratio", failure_ratio),
        ("reorder_ratio", reorder_ratio),
    ):
        if not 0 <= ratio <= 1:
            raise ValueError(f"{name} must lie between 0 and 1")
    if delay_s < 0:
        raise ValueError("delay_s must not be negative")
    config = SimulatorConfig(
        delay_s=delay_s,
        partial_ratio=partial_ratio,
        failure_ratio=failure_ratio,
        reorder_ratio=reorder_ratio,
        seed=seed,
        report_production=report_production,
    )
    simulator = LogisticsSimulator(
        bootstrap,
        topic_prefix=topic_prefix,
        config=config,
        group_id=group_id,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
        max_age=None if max_age_s is None else timedelta(seconds=max_age_s),
    )
    return await simulator.run(stop_event or asyncio.Event())


def simulate_logistics(
    bootstrap: Annotated[
        str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")
    ] = "127.0.0.1:9092",
    topic_prefix: Annotated[
        str, typer.Option(envvar="SALESFLOW_TOPIC_PREFIX", help="prefix of every topic name")
    ] = "",
    delay: Annotated[
        float, typer.Option(min=0.0, help="mean seconds between two statuses of a consignment")
    ] = 1.0,
    partial_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of consignments delivered in two drops")
    ] = 0.2,
    failure_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of first deliveries that fail")
    ] = 0.1,
    reorder_ratio: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="share of deliveries reported before their dispatch"),
    ] = 0.0,
    production: Annotated[
        bool, typer.Option(help="report in_production, ready and picked as well")
    ] = True,
    seed: Annotated[int | None, typer.Option(help="replay the same stories")] = None,
    group_id: Annotated[str | None, typer.Option(help="consumer group")] = None,
    max_age: Annotated[
        float,
        typer.Option(min=0.0, help="ignore orders confirmed more than this many seconds ago"),
    ] = 3600.0,
) -> None:
    """Play an external production and logistics system: consume order.confirmed, report
    shipment statuses on logistics.status.v1 (Ctrl-C stops)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

    async def main() -> dict[str, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_simulator(
            bootstrap,
            topic_prefix,
            delay_s=delay,
            partial_ratio=partial_ratio,
            failure_ratio=failure_ratio,
            seed=seed,
            stop_event=stop,
            reorder_ratio=reorder_ratio,
            report_production=production,
            group_id=group_id,
            max_age_s=max_age,
        )

    typer.echo(f"logistics simulator on {bootstrap} (Ctrl-C stops)", err=True)
    counts = asyncio.run(main())
    typer.echo(
        f"orders {counts['orders']}, statuses sent {counts['statuses']}, "
        f"stories cancelled {counts['cancelled']}",
        err=True,
    )
