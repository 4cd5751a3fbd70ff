"""Background tasks: the SLA breach scan and the renewal scan. Each reads "now" from an
injectable clock, loops forever, logs and survives errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aftersales.clock import Clock
from aftersales.config import Settings
from aftersales.followups import raise_renewals, refresh_all_health
from aftersales.tickets import scan_sla
from salesflow.db import Database
from salesflow.service import Background, ServiceContext

log = logging.getLogger(__name__)


def _periodic(
    name: str,
    interval: Callable[[Settings], float],
    step: Callable[[Database, Settings, datetime], Awaitable[object]],
    clock: Clock,
) -> Background:
    async def run(ctx: ServiceContext) -> None:
        settings: Settings = ctx.settings  # type: ignore[assignment]
        while True:
            try:
                await step(ctx.db, settings, clock())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; next try in %.0fs", name, interval(settings))
            await asyncio.sleep(interval(settings))

    run.__name__ = name
    return run


async def _renewals_and_health(db: Database, settings: Settings, now: datetime) -> None:
    await raise_renewals(db, settings, now)
    await refresh_all_health(db, settings, now)


def background_tasks(clock: Clock) -> list[Background]:
    return [
        _periodic("sla_watch", lambda s: s.sla_scan_interval_s, scan_sla, clock),
        _periodic(
            "renewal_watch", lambda s: s.renewal_scan_interval_s, _renewals_and_health, clock
        ),
    ]
