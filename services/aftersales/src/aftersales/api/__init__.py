"""HTTP API of the aftersales service — thin: parse, authorise, call, answer."""

from aftersales.api.accounts import router as accounts_router
from aftersales.api.followups import router as followups_router
from aftersales.api.tickets import router as tickets_router

routers = [accounts_router, tickets_router, followups_router]
