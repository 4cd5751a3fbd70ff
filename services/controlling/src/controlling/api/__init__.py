"""HTTP API of the controlling service: funnel, lead controlling, journeys, handoffs."""

from controlling.api.funnel import router as funnel_router
from controlling.api.handoffs import router as handoffs_router
from controlling.api.journeys import router as journeys_router
from controlling.api.lead_controlling import router as lead_controlling_router

ROUTERS = [funnel_router, lead_controlling_router, journeys_router, handoffs_router]
