"""Background work of a running leads service: periodic rescoring and queue routing."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal

from leads.app.rescoring import rescore_open_leads, route_queued
from salesflow.service import ServiceContext

log = logging.getLogger(__name__)


async def rescore_periodically(ctx: ServiceContext) -> None:
    settings = ctx.settings
    interval = float(getattr(settings, "rescore_interval_s", 3600.0))
    while True:
        await asyncio.sleep(interval)
        try:
            now = datetime.now(UTC)
            run = await rescore_open_leads(
                ctx.db,
                settings,
                now,
                batch=int(getattr(settings, "rescore_batch", 500)),
                min_delta=Decimal(str(getattr(settings, "rescore_min_delta", "1"))),
            )
            routed = await route_queued(ctx.db, settings, now)
            log.info(
                "rescored %d open leads (%d changed), routed %d queued",
                run.examined,
                run.changed,
                routed,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic rescoring failed; next try in %.0fs", interval)
