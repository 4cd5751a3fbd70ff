"""The periodic task that expires offers whose validity has passed (⇒ ``offer.expired``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from offers import workflow
from offers.clock import Clock
from offers.config import Settings
from salesflow.db import Database
from salesflow.service import ServiceContext

log = logging.getLogger(__name__)


async def expire_due(db: Database, settings: Settings, clock: Clock) -> int:
    """Expire every open offer past its validity; one transaction per offer. Returns how many."""
    expired = 0
    while True:
        async with db.session() as session:
            due = await workflow.due_for_expiry(session, clock)
        if not due:
            return expired
        progressed = False
        for offer_id in due:
            async with db.session() as session, session.begin():
                if await workflow.expire_one(session, settings, clock, offer_id):
                    expired += 1
                    progressed = True
        if not progressed:
            return expired


def expiry_task(clock: Clock | None = None) -> Callable[[ServiceContext], Awaitable[None]]:
    async def expire_offers(ctx: ServiceContext) -> None:
        settings: Settings = ctx.settings  # type: ignore[assignment]
        the_clock = clock or Clock(settings.business_timezone)
        while True:
            try:
                count = await expire_due(ctx.db, settings, the_clock)
                if count:
                    log.info("expired %d offer(s)", count)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiring offers failed; trying again later")
            await asyncio.sleep(settings.expiry_interval_s)

    return expire_offers
