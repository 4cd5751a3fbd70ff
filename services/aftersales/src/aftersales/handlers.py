"""Event handlers of the aftersales service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal."""

from datetime import UTC, datetime

from aftersales.accounts import record_delivery, record_order
from aftersales.config import Settings
from salesflow.contracts.catalog import all_events
from salesflow.messaging.handlers import Handler, HandlerContext


async def on_fulfillment_completed(ctx: HandlerContext) -> None:
    settings: Settings = ctx.settings  # type: ignore[assignment]
    await record_delivery(ctx.session, settings, ctx.event, datetime.now(UTC))


async def on_order_event(ctx: HandlerContext) -> None:
    settings: Settings = ctx.settings  # type: ignore[assignment]
    await record_order(ctx.session, settings, ctx.event, datetime.now(UTC))


HANDLERS: dict[str, Handler] = {
    "fulfillment.completed.v1": on_fulfillment_completed,
    **{t: on_order_event for t, spec in all_events().items() if spec.topic == "orders.order.v1"},
}
