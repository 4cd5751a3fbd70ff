"""HTTP API of the leads service — thin routers: parse, authorise, call a use case, answer."""

from leads.api import companies, config, contacts, leads, nace, segments, touchpoints

ROUTERS = [
    nace.router,
    companies.router,
    segments.router,
    contacts.router,
    touchpoints.router,
    leads.router,
    config.router,
]
