"""HTTP API of the opportunities service — thin: parse, authorise, call, answer."""

from fastapi import APIRouter

from opportunities.api import activities, forecast, opportunities

router = APIRouter()
router.include_router(opportunities.router)
router.include_router(activities.router)
router.include_router(forecast.router)

__all__ = ["router"]
