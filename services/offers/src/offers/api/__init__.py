"""HTTP API of the offers service — thin: parse, authorise, call, answer."""

from offers.api.offers import router as offers_router
from offers.api.price_books import router as price_books_router
from offers.api.products import router as products_router

ROUTERS = [products_router, price_books_router, offers_router]
