"""Status reports on ``logistics.status.v1``: routed to the shipments of their order's plan.

Topics are not ordered against each other, so a report may arrive before the ``order.confirmed``
that creates its plan: it waits in ``fulfillment_pending_status`` and is applied when the plan
is made (or by the sweeper, should both commit at the same time). A waiting report that turns
out impossible goes to the dead letters like any report the consumer refuses.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fulfillment import store
from fulfillment.config import Settings
from fulfillment.domain.shipment import ImpossibleTransition
from fulfillment.store import Plan
from fulfillment.tables import FulfillmentRow, PendingStatusRow
from fulfillment.tracking import InvalidReport, Unroutable, record_status, route
from salesflow.contracts.envelope import Envelope, MalformedEvent
from salesflow.contracts.events.logistics import ShipmentStatusReported
from salesflow.db import Database
from salesflow.messaging import dlq
from salesflow.messaging.tables import InboxRow
from salesflow.service import ServiceContext

log = logging.getLogger(__name__)
CONSUMER = "fulfillment"  # the service's consumer (inbox and dead letters)
STATUS_TOPIC = "logistics.status.v1"


async def receive_from_topic(
    session: AsyncSession, settings: Settings, event: Envelope, now: datetime
) -> bool | None:
    """The topic path: True applied, False duplicate, None parked until the plan exists. Raises
    InvalidReport, Unroutable or ImpossibleTransition for reports that can never apply (the
    handler dead-letters them)."""
    payload: ShipmentStatusReported = event.payload()  # type: ignore[assignment]
    plan = await store.lock_plan_by_order(session, payload.order_id)
    if plan is None:
        await _park(session, payload, event, now)
        return None
    if await store.status_seen(session, payload.status_event_id):
        return False
    return await record_status(
        session,
        settings,
        plan,
        route(plan, payload),
        channel="topic",
        actor=None,
        cause=event,
        now=now,
        seen_checked=True,
    )


async def _park(
    session: AsyncSession, payload: ShipmentStatusReported, event: Envelope, now: datetime
) -> None:
    if await store.status_seen(session, payload.status_event_id):
        return
    if await session.get(PendingStatusRow, payload.status_event_id) is not None:
        return
    session.add(
        PendingStatusRow(
            status_event_id=payload.status_event_id,
            order_id=payload.order_id,
            occurred_at=payload.occurred_at,
            headers={k: v.decode() for k, v in event.headers()},
            payload=event.value().decode(),
            received_at=now,
        )
    )
    log.info("status %s for unplanned order %s parked", payload.status_event_id, payload.order_id)


async def apply_pending(
    session: AsyncSession, settings: Settings, plan: Plan, now: datetime
) -> int:
    """Apply the parked reports of the plan's order, in the order they happened. One that can
    never apply is kept in the timeline as ``status_rejected`` with the reason."""
    rows = (
        await session.exec(
            select(PendingStatusRow)
            .where(PendingStatusRow.order_id == plan.row.order_id)
            .order_by(col(PendingStatusRow.occurred_at))
        )
    ).all()
    for row in rows:
        await session.delete(row)
        try:
            event = Envelope.from_record(
                [(k, v.encode()) for k, v in row.headers.items()], row.payload.encode()
            )
            payload: ShipmentStatusReported = event.payload()  # type: ignore[assignment]
            await record_status(
                session,
                settings,
                plan,
                route(plan, payload),
                channel="topic",
                actor=None,
                cause=event,
                now=now,
            )
        except (MalformedEvent, Unroutable, InvalidReport, ImpossibleTransition) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            await _dead_letter(session, settings, row, reason)
            await store.insert_timeline(
                session,
                plan,
                "status_rejected",
                occurred_at=row.occurred_at,
                recorded_at=now,
                channel="topic",
                detail={"status_event_id": row.status_event_id, "reason": reason},
            )
    return len(rows)


async def _dead_letter(
    session: AsyncSession, settings: Settings, row: PendingStatusRow, reason: str
) -> None:
    """A parked report that can never apply goes where the consumer would have sent it: the
    dead letters and ``fulfillment.dlq``, replayable like any other (its inbox entry is moved
    along, so that a replay is processed again)."""
    log.error("parked status %s refused: %s", row.status_event_id, reason)
    headers = [(k, v.encode()) for k, v in row.headers.items()]
    event_id = row.headers.get("ce_id", row.status_event_id)
    await session.execute(
        delete(InboxRow).where(InboxRow.consumer == CONSUMER, InboxRow.event_id == event_id)
    )
    await session.flush()
    record = ConsumerRecord(
        topic=settings.topic(STATUS_TOPIC),
        partition=-1,  # parked: its place in the topic is not kept
        offset=-1,
        timestamp=int(row.received_at.timestamp() * 1000),
        timestamp_type=0,
        key=row.order_id.encode(),
        value=row.payload.encode(),
        checksum=None,
        serialized_key_size=len(row.order_id),
        serialized_value_size=len(row.payload),
        headers=headers,
    )
    dlq.park(
        session,
        consumer=CONSUMER,
        service=settings.service,
        record=record,
        logical_topic=STATUS_TOPIC,
        event_type=row.headers.get("ce_type", "shipment.status.v1"),
        error=f"PermanentError: impossible status transition: {reason}",
        attempts=1,
    )


async def sweep_pending(db: Database, settings: Settings) -> int:
    """Apply parked reports whose plan exists by now (covers a plan committed concurrently with
    the report being parked). One transaction per order: no lock is held across plans."""
    async with db.session() as session:
        order_ids = (
            await session.exec(
                select(PendingStatusRow.order_id)
                .join(FulfillmentRow, col(FulfillmentRow.order_id) == PendingStatusRow.order_id)
                .distinct()
                .limit(100)
            )
        ).all()
    applied = 0
    for order_id in order_ids:
        async with db.session() as session, session.begin():
            plan = await store.lock_plan_by_order(session, order_id)
            if plan is not None:
                applied += await apply_pending(session, settings, plan, datetime.now(UTC))
    return applied


async def pending_sweeper(ctx: ServiceContext) -> None:
    """Background job of the service: sweep parked status reports now and then."""
    settings: Settings = ctx.settings  # type: ignore[assignment]
    while True:
        await asyncio.sleep(settings.pending_sweep_interval_s)
        try:
            await sweep_pending(ctx.db, settings)
        except Exception:  # keep sweeping: the next round may succeed
            log.exception("sweeping parked status reports failed")
