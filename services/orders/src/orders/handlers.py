"""Event handlers of the orders service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlmodel import select

from orders import customers, drafts
from orders.config import Settings
from orders.intake import take_in
from orders.progress import on_fulfilment_event
from orders.tables import OrderRow
from salesflow.contracts.events.offers import OfferAccepted
from salesflow.messaging.handlers import Handler, HandlerContext, PermanentError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

FULFILMENT_EVENTS = (
    "fulfillment.planned.v1",
    "shipment.dispatched.v1",
    "shipment.delivered.v1",
    "task.completed.v1",
    "fulfillment.completed.v1",
)


# built once: one per accepted offer (Core columns, bound parameter, cache key computed once)
_ORDERS_OF_OFFER = select(
    OrderRow.__table__.c.offer_version, OrderRow.__table__.c.order_number
).where(OrderRow.__table__.c.offer_id == bindparam("offer_id"))


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_handlers(clock: Clock = utcnow) -> dict[str, Handler]:
    async def on_offer_accepted(ctx: HandlerContext) -> None:
        """Exactly one order per accepted offer version, whatever the redelivery or replay:
        the inbox drops repeated event ids, the business key drops re-emitted acceptances, and
        the unique constraint on (offer_id, offer_version) stops a concurrent twin."""
        offer: OfferAccepted = ctx.payload()
        existing = (await ctx.session.execute(_ORDERS_OF_OFFER, {"offer_id": offer.offer_id})).all()
        if any(version == offer.offer_version for version, _ in existing):
            log.info("offer %s v%s has its order already", offer.offer_id, offer.offer_version)
            return
        if existing:
            # an offer is accepted once; a second accepted version is a contract breach
            raise PermanentError(
                f"offer {offer.offer_id} v{offer.offer_version} accepted, but order "
                f"{existing[0][1]} exists for v{existing[0][0]}"
            )
        now = clock()
        settings: Settings = ctx.settings  # type: ignore[assignment]
        await customers.upsert_from_offer(ctx.session, offer, ctx.event.time, now)
        await take_in(ctx.session, settings, [drafts.from_offer(offer, ctx.event)], now)

    async def on_fulfilment(ctx: HandlerContext) -> None:
        await on_fulfilment_event(ctx, clock())

    return {
        "offer.accepted.v1": on_offer_accepted,
        **dict.fromkeys(FULFILMENT_EVENTS, on_fulfilment),
    }


HANDLERS: dict[str, Handler] = make_handlers()
