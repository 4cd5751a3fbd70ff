"""HTTP API of the orders service — thin: parse, authorise, call, answer."""

from orders.api.customers import router as customers_router
from orders.api.orders import router as orders_router
from orders.api.prices import router as prices_router

routers = [orders_router, customers_router, prices_router]
