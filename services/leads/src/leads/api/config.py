"""Versioned configuration: GET shows the version in force (ETag), PUT stores the next one
(If-Match with the ETag you read; 412 when someone stored a newer version meanwhile)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from leads.api.roles import INTEREST_WRITERS, READERS, ROUTING_WRITERS, SCORING_WRITERS
from leads.app import configs
from leads.schemas.config import (
    InterestIn,
    InterestOut,
    RoutingRulesIn,
    RoutingRulesOut,
    ScoringModelIn,
    ScoringModelOut,
)
from leads.tables import ConfigRow
from salesflow.api.errors import Problem
from salesflow.api.etag import IF_MATCH_REQUIRED, require_if_match, set_etag
from salesflow.auth import Principal, require

router = APIRouter(tags=["configuration"])


async def _read(
    request: Request, response: Response, kind: str, default: Callable[[], Any]
) -> dict[str, Any]:
    async with request.app.state.db.session() as session:
        row = await configs.latest(session, kind)
    if row is None:
        body, version, by, at = default().model_dump(mode="json"), 1, None, None
    else:
        body, version, by, at = row.body, row.version, row.created_by, row.created_at
    set_etag(response, version)
    return {**body, "version": version, "created_by": by, "created_at": at}


Check = Callable[[ConfigRow | None], None]


async def _write(
    request: Request,
    response: Response,
    kind: str,
    body: Any,
    principal: Principal,
    check: Check | None = None,
) -> dict[str, Any]:
    async with request.app.state.db.session() as session, session.begin():
        row = await configs.latest(session, kind)
        current = row.version if row else 1
        require_if_match(request, current)
        if check is not None:
            check(row)  # against the version the caller read: If-Match made sure of that
        stored = await configs.store(
            session, kind, body, principal.sub, datetime.now(UTC), current + 1
        )
    configs.forget_latest(session)
    set_etag(response, stored.version)
    return {
        **stored.body,
        "version": stored.version,
        "created_by": stored.created_by,
        "created_at": stored.created_at,
    }


def _default_scoring() -> ScoringModelIn:
    from leads.domain.scoring import DEFAULT_MODEL

    return configs.scoring_body(DEFAULT_MODEL)


def _default_routing() -> RoutingRulesIn:
    from leads.domain.routing import DEFAULT_RULES

    return configs.routing_body(DEFAULT_RULES)


def _default_interest() -> InterestIn:
    from leads.domain.interest import DEFAULT_INTEREST

    return configs.interest_body(DEFAULT_INTEREST)


@router.get("/scoring-model", response_model=ScoringModelOut, summary="Scoring model in force")
async def get_scoring_model(
    request: Request, response: Response, principal: Principal = Depends(require(*READERS))
) -> Any:
    return await _read(request, response, configs.SCORING, _default_scoring)


@router.put(
    "/scoring-model",
    response_model=ScoringModelOut,
    summary="Store a new scoring model version",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def put_scoring_model(
    body: ScoringModelIn,
    request: Request,
    response: Response,
    principal: Principal = Depends(require(*SCORING_WRITERS)),
) -> Any:
    return await _write(request, response, configs.SCORING, body, principal)


@router.get("/routing-rules", response_model=RoutingRulesOut, summary="Routing rules in force")
async def get_routing_rules(
    request: Request, response: Response, principal: Principal = Depends(require(*READERS))
) -> Any:
    return await _read(request, response, configs.ROUTING, _default_routing)


@router.put(
    "/routing-rules",
    response_model=RoutingRulesOut,
    summary="Store new routing rules",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def put_routing_rules(
    body: RoutingRulesIn,
    request: Request,
    response: Response,
    principal: Principal = Depends(require(*ROUTING_WRITERS)),
) -> Any:
    def own_team_only(stored: ConfigRow | None) -> None:
        # admins change everything; a manager only what concerns their own team
        if principal.is_admin:
            return
        if not principal.team:
            raise Problem(403, "a sales manager without a team may not change the routing rules")
        touched = configs.routing_teams_touched(stored, body, principal.team)
        if touched:
            raise Problem(
                403,
                f"sales managers change only their own team's routing ({principal.team!r}); "
                f"this change concerns team(s) {', '.join(repr(t) for t in touched)}",
                teams=touched,
            )

    return await _write(request, response, configs.ROUTING, body, principal, own_team_only)


@router.get(
    "/interest-definition", response_model=InterestOut, summary="Which touchpoints create leads"
)
async def get_interest(
    request: Request, response: Response, principal: Principal = Depends(require(*READERS))
) -> Any:
    return await _read(request, response, configs.INTEREST, _default_interest)


@router.put(
    "/interest-definition",
    response_model=InterestOut,
    summary="Store a new interest definition",
    openapi_extra=IF_MATCH_REQUIRED,
)
async def put_interest(
    body: InterestIn,
    request: Request,
    response: Response,
    principal: Principal = Depends(require(*INTEREST_WRITERS)),
) -> Any:
    return await _write(request, response, configs.INTEREST, body, principal)
