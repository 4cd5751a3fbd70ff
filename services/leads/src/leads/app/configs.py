"""Versioned configuration in ``leads_configs``: the newest version of each kind is in force.

Until something is stored, version 1 is the built-in default of the domain module; the first
``PUT`` stores version 2. Parsed configurations are cached by (database, kind, version):
versions never change once written. Which version is the newest is remembered for
``LATEST_TTL_S`` (a ``PUT`` in this process forgets it at once; other replicas follow within the
TTL), which saves a query on every touchpoint.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from leads.domain.interest import DEFAULT_INTEREST, InterestDefinition
from leads.domain.routing import (
    DEFAULT_RULES,
    Rep,
    RoutingRules,
    Team,
    Territory,
    teams_touched,
)
from leads.domain.scoring import DEFAULT_MODEL, FitRule, KindPoints, ScoringModel
from leads.reference import nace_table
from leads.schemas.config import STORED, InterestIn, RoutingRulesIn, ScoringModelIn
from leads.tables import ConfigRow

SCORING, ROUTING, INTEREST = "scoring", "routing", "interest"
_cache: dict[tuple[str, str, int], Any] = {}
_latest: dict[tuple[str, str], tuple[float, int | None]] = {}
LATEST_TTL_S = 2.0


def _db_key(session: AsyncSession) -> str:
    return str(session.sync_session.get_bind().engine.url)


async def _latest_version(session: AsyncSession, kind: str) -> int | None:
    key = (_db_key(session), kind)
    known = _latest.get(key)
    now = time.monotonic()
    if known is not None and now - known[0] < LATEST_TTL_S:
        return known[1]
    version = (
        await session.execute(select(func.max(ConfigRow.version)).where(ConfigRow.kind == kind))
    ).scalar_one()
    _latest[key] = (now, version)
    return version


async def latest(session: AsyncSession, kind: str) -> ConfigRow | None:
    version = (
        await session.execute(select(func.max(ConfigRow.version)).where(ConfigRow.kind == kind))
    ).scalar_one()
    if version is None:
        return None
    return await session.get(ConfigRow, (kind, version))


async def _current(session: AsyncSession, kind: str, parse: Any, default: Any) -> Any:
    version = await _latest_version(session, kind)
    if version is None:
        return default
    key = (_db_key(session), kind, version)
    cached = _cache.get(key)
    if cached is None:
        row = await session.get(ConfigRow, (kind, version))
        assert row is not None
        cached = _cache[key] = parse(row.body, version)
    return cached


async def scoring_model(session: AsyncSession) -> ScoringModel:
    return await _current(session, SCORING, scoring_from, DEFAULT_MODEL)


async def routing_rules(session: AsyncSession) -> RoutingRules:
    return await _current(session, ROUTING, routing_from, DEFAULT_RULES)


async def interest(session: AsyncSession) -> InterestDefinition:
    return await _current(session, INTEREST, interest_from, DEFAULT_INTEREST)


async def store(
    session: AsyncSession, kind: str, body: BaseModel, by: str, now: datetime, version: int
) -> ConfigRow:
    row = ConfigRow(
        kind=kind, version=version, body=body.model_dump(mode="json"), created_by=by, created_at=now
    )
    session.add(row)
    await session.flush()
    _latest.pop((_db_key(session), kind), None)
    # forget again after the commit, so that no request caches the version before this one
    session.sync_session.info.setdefault("leads_config_kinds", set()).add(kind)
    return row


def forget_latest(session: AsyncSession) -> None:
    """After a PUT committed: the next read finds the new version."""
    for kind in session.sync_session.info.pop("leads_config_kinds", set()):
        _latest.pop((_db_key(session), kind), None)


def scoring_from(body: dict[str, Any], version: int) -> ScoringModel:
    m = ScoringModelIn.model_validate(body, context=STORED)
    return ScoringModel(
        version=version,
        mql_threshold=m.mql_threshold,
        fit_rules=tuple(FitRule(r.field, r.value, r.points) for r in m.fit_rules),
        fit_cap=m.fit_cap,
        engagement={k: KindPoints(v.points, v.cap) for k, v in m.engagement.items()},
        default_points=m.default_points,
        half_life_days=m.half_life_days,
        engagement_cap=m.engagement_cap,
        nace_rev=m.nace_revision,
    )


def scoring_body(model: ScoringModel) -> ScoringModelIn:
    return ScoringModelIn(
        mql_threshold=model.mql_threshold,
        nace_revision=model.nace_rev,  # type: ignore[arg-type]
        fit_rules=[
            {"field": r.field, "value": r.value, "points": r.points}  # type: ignore[misc]
            for r in model.fit_rules
        ],
        fit_cap=model.fit_cap,
        engagement={
            k: {"points": v.points, "cap": v.cap}  # type: ignore[misc]
            for k, v in model.engagement.items()
        },
        default_points=model.default_points,
        half_life_days=model.half_life_days,
        engagement_cap=model.engagement_cap,
    )


def routing_from(body: dict[str, Any], version: int) -> RoutingRules:
    return _routing(RoutingRulesIn.model_validate(body, context=STORED), version)


def _routing(r: RoutingRulesIn, version: int) -> RoutingRules:
    return RoutingRules(
        version=version,
        territories=tuple(
            Territory(
                name=t.name,
                team=t.team,
                countries=tuple(t.countries),
                regions=tuple(t.regions),
                nace=tuple(t.nace),
                size_classes=tuple(s.value for s in t.size_classes),
            )
            for t in r.territories
        ),
        teams={t.name: Team(t.name, tuple(Rep(p.id, p.capacity) for p in t.reps)) for t in r.teams},
        default_capacity=r.default_capacity,
        fallback_queue=r.fallback_queue,
        default_team=r.default_team,
        nace_rev=r.nace_revision,
    )


def routing_body(rules: RoutingRules) -> RoutingRulesIn:
    return RoutingRulesIn(
        nace_revision=rules.nace_rev,  # type: ignore[arg-type]
        territories=[
            {  # type: ignore[misc]
                "name": t.name,
                "team": t.team,
                "countries": list(t.countries),
                "regions": list(t.regions),
                "nace": list(t.nace),
                "size_classes": list(t.size_classes),
            }
            for t in rules.territories
        ],
        teams=[
            {"name": t.name, "reps": [{"id": r.id, "capacity": r.capacity} for r in t.reps]}  # type: ignore[misc]
            for t in (rules.teams or {}).values()
        ],
        default_capacity=rules.default_capacity,
        fallback_queue=rules.fallback_queue,
        default_team=rules.default_team,
    )


def interest_from(body: dict[str, Any], version: int) -> InterestDefinition:
    i = InterestIn.model_validate(body, context=STORED)
    return InterestDefinition(
        version=version, kinds=frozenset(i.kinds), channels=frozenset(i.channels)
    )


def interest_body(definition: InterestDefinition) -> InterestIn:
    return InterestIn(kinds=sorted(definition.kinds), channels=sorted(definition.channels))


def routing_teams_touched(stored: ConfigRow | None, body: RoutingRulesIn, own: str) -> list[str]:
    """The teams other than ``own`` whose routing storing ``body`` over ``stored`` (None: the
    built-in default) may change; see ``domain.routing.teams_touched``."""
    before = routing_from(stored.body, stored.version) if stored else DEFAULT_RULES
    after = _routing(body, before.version + 1)
    return teams_touched(before, after, own, nace_table(after.nace_rev))
