"""Event handlers of the leads service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal."""

from datetime import UTC, datetime

from leads.app.accounts import onboard
from salesflow.messaging.handlers import Handler, HandlerContext


async def on_account_onboarded(ctx: HandlerContext) -> None:
    await onboard(ctx.session, ctx.settings, ctx.payload(), datetime.now(UTC), ctx.event)


HANDLERS: dict[str, Handler] = {"account.onboarded.v1": on_account_onboarded}
