"""The OpenAPI documents declare the request headers the routes honour: ``Idempotency-Key`` on
the creating POSTs that replay a stored answer, ``If-Match`` where a version is checked (and
whether it is required), so that clients generated from the documents send them."""

from __future__ import annotations

import inspect

import pytest
from fastapi.routing import APIRoute

from salesflow import registry

IDEMPOTENT = {
    "leads": {"POST /contacts", "POST /touchpoints", "POST /segments"},
    "opportunities": {"POST /opportunities", "POST /opportunities/{opportunity_id}/activities"},
    "offers": {
        "POST /products",
        "POST /price-books",
        "POST /offers",
        "POST /offers/{offer_id}/approve",
        "POST /offers/{offer_id}/send",
        "POST /offers/{offer_id}/revise",
        "POST /offers/{offer_id}/accept",
        "POST /offers/{offer_id}/reject",
    },
    "orders": {"POST /orders"},
    "fulfillment": {"POST /tasks/{task_id}/complete"},
    "aftersales": {"POST /tickets", "POST /followups"},
    "controlling": set(),
}
# operation → required?
IF_MATCH = {
    "leads": {
        "PUT /scoring-model": True,
        "PUT /routing-rules": True,
        "PUT /interest-definition": True,
        "PATCH /contacts/{contact_id}": True,
    },
    "opportunities": {
        "PATCH /opportunities/{opportunity_id}": True,
        "POST /opportunities/{opportunity_id}/lose": False,
    },
    "offers": {"PUT /products/{sku}": True, "PUT /price-books/{book_id}": True},
    "orders": {
        "PUT /price-list/{sku}": False,  # required only to replace an existing price
        "PUT /customers/{customer_id}": False,
        "POST /orders/{order_id}/cancel": False,
    },
    "fulfillment": {},
    "aftersales": {
        "POST /tickets/{ticket_id}/transitions": False,
        "POST /tickets/{ticket_id}/resolve": False,
        "POST /tickets/{ticket_id}/comments": False,
    },
    "controlling": {},
}


def _headers(service: str) -> dict[str, dict[str, dict]]:
    """Header parameters by name → {"METHOD /path": parameter}."""
    document = registry.load(service).create_app().openapi()
    found: dict[str, dict[str, dict]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    found.setdefault(parameter["name"], {})[f"{method.upper()} {path}"] = parameter
    return found


@pytest.mark.parametrize("service", registry.SERVICES)
def test_routes_declare_the_headers_they_honour(service: str) -> None:
    headers = _headers(service)
    keyed = headers.get("Idempotency-Key", {})
    assert set(keyed) == IDEMPOTENT[service]
    assert all(p["schema"]["maxLength"] == 200 and not p["required"] for p in keyed.values())
    matched = headers.get("If-Match", {})
    assert {op: p["required"] for op, p in matched.items()} == IF_MATCH[service]


@pytest.mark.parametrize("service", registry.SERVICES)
def test_a_route_that_checks_a_header_itself_declares_it(service: str) -> None:
    """A route calling the platform's idempotency or If-Match check directly documents the
    header (routes reaching them through a helper of their module are in the tables above)."""
    app = registry.load(service).create_app()
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        source = inspect.getsource(route.endpoint)
        declared = {p["name"] for p in (route.openapi_extra or {}).get("parameters", [])}
        if "run_idempotent(" in source:
            assert "Idempotency-Key" in declared, route.path
        if "require_if_match(" in source:
            assert "If-Match" in declared, route.path
