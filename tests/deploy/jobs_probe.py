"""The probe service of shared/tests with two background jobs, for the leader-only jobs tests:
``leader_tick`` (leader-only, the default for a background job) and ``replica_tick`` (marked
``every_replica``) each write a ``probe_items`` row every ``TICK_S`` named after the replica
(``SALESFLOW_PROBE_REPLICA``), with ``key`` "leader" or "replica"."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from fastapi import FastAPI
from probe.app import SPEC, ProbeItem, ProbeSettings

from salesflow.leadership import every_replica
from salesflow.service import ServiceContext, build_app

log = logging.getLogger(__name__)

TICK_S = 0.2


class JobsProbeSettings(ProbeSettings):
    replica: str = "?"


async def _tick(ctx: ServiceContext, key: str) -> None:
    replica = getattr(ctx.settings, "replica", "?")
    seq = 0
    while True:
        seq += 1
        try:
            async with ctx.db.session() as session, session.begin():
                session.add(ProbeItem(name=replica, key=key, seq=seq))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tick failed")
        await asyncio.sleep(TICK_S)


async def leader_tick(ctx: ServiceContext) -> None:
    await _tick(ctx, "leader")


@every_replica
async def replica_tick(ctx: ServiceContext) -> None:
    await _tick(ctx, "replica")


JOBS_SPEC = dataclasses.replace(SPEC, background=[leader_tick, replica_tick])


def create_app(settings: JobsProbeSettings | None = None) -> FastAPI:
    return build_app(JOBS_SPEC, settings or JobsProbeSettings())
