"""Event handlers of the fulfillment service, by event type — thin: one unit of work per event.
Types of a consumed topic that have no handler here are acknowledged and counted, never fatal."""

from __future__ import annotations

from datetime import UTC, datetime

from fulfillment import plans, staging, topic_status, tracking
from fulfillment.config import Settings
from fulfillment.domain.shipment import ImpossibleTransition
from salesflow.contracts.events.orders import OrderCancelled, OrderConfirmed
from salesflow.messaging.handlers import Handler, HandlerContext, PermanentError


def _settings(ctx: HandlerContext) -> Settings:
    settings = ctx.settings
    return settings if isinstance(settings, Settings) else Settings(**settings.model_dump())


async def on_order_confirmed(ctx: HandlerContext) -> None:
    order: OrderConfirmed = ctx.payload()
    await plans.create_plan(ctx.session, _settings(ctx), order, ctx.event, datetime.now(UTC))


async def on_order_cancelled(ctx: HandlerContext) -> None:
    cancelled: OrderCancelled = ctx.payload()
    await staging.flush(ctx.session)  # plans of this poll's confirmations first
    await plans.cancel_order(ctx.session, _settings(ctx), cancelled, datetime.now(UTC))


async def on_shipment_status(ctx: HandlerContext) -> None:
    await staging.flush(ctx.session)  # plans of this poll's confirmations first
    try:
        await topic_status.receive_from_topic(
            ctx.session, _settings(ctx), ctx.event, datetime.now(UTC)
        )
    except ImpossibleTransition as exc:  # retrying cannot help: to the DLQ with the reason
        raise PermanentError(f"impossible status transition: {exc.reason}") from None
    except (tracking.Unroutable, tracking.InvalidReport) as exc:
        raise PermanentError(str(exc)) from None


HANDLERS: dict[str, Handler] = {
    "order.confirmed.v1": on_order_confirmed,
    "order.cancelled.v1": on_order_cancelled,
    "shipment.status.v1": on_shipment_status,
}
