"""HTTP API of the fulfillment service — thin: parse, authorise, call, answer."""

from fulfillment.api import fulfillments, shipments, tasks

routers = [fulfillments.router, shipments.router, tasks.router]
