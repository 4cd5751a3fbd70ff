"""One customer journey through all seven services, step by step, over HTTP only.

Each step returns what it saw so that callers (the demo, the end-to-end tests) can show or
check it. The logistics part is played by the simulator on the public topics."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from salesflow.auth import issue_token
from salesflow.settings import DEV_JWT_SECRET


def _headers(sub: str, roles: list[str], team: str | None = None) -> dict[str, str]:
    token = issue_token(sub=sub, roles=roles, team=team, secret=DEV_JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


ADMIN = _headers("ops", ["admin"])
MARKETING = _headers("mia", ["marketing"])
REP = _headers("alice", ["sales_rep"], "north")
MANAGER = _headers("bob", ["sales_manager"], "north")
ANALYST = _headers("ana", ["analyst"])
AGENT = _headers("sam", ["service_agent"])

SCORING = {
    "mql_threshold": "50",
    "fit_rules": [
        {"field": "nace", "value": "C", "points": "20"},
        {"field": "size_class", "value": "medium", "points": "10"},
    ],
    "engagement": {
        "whitepaper_download": {"points": "15"},
        "demo_request": {"points": "30"},
        "page_visit": {"points": "1", "cap": "3"},
    },
    "half_life_days": "30",
}
ROUTING = {
    "territories": [{"name": "dach-industry", "team": "north", "countries": ["DE", "AT"]}],
    "teams": [{"name": "north", "reps": [{"id": "alice"}]}],
    "default_capacity": 50,
    "fallback_queue": "triage",
}
ADDRESS = {"street": "Werkstraße 5", "postal_code": "70173", "city": "Stuttgart", "country": "DE"}


class StepFailed(AssertionError):
    pass


def ok(resp: httpx.Response, *statuses: int) -> Any:
    if resp.status_code not in (statuses or (200,)):
        raise StepFailed(
            f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text[:500]}"
        )
    return resp.json() if resp.content else None


async def until(probe: Any, *, timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise StepFailed(f"{what} not reached within {timeout}s (last: {last!r})")


@dataclass
class Journey:
    """The ids one journey collects on its way, and a log of its steps."""

    name: str
    company_id: str = ""
    lead_id: str = ""
    opportunity_id: str = ""
    offer_id: str = ""
    order_id: str = ""
    account_id: str = ""
    correlation_id: str = ""
    followup_opportunity_id: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)

    def step(self, what: str) -> None:
        self.steps.append((what, time.monotonic()))


class Driver:
    page_size = 200  # the services' maximum: fewest requests per walk

    def __init__(self, urls: dict[str, str]) -> None:
        self.http = {
            name: httpx.AsyncClient(base_url=url, timeout=30) for name, url in urls.items()
        }

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()

    # --- setup: catalog, scoring, routing --------------------------------------------------------

    async def configure(self) -> None:
        leads = self.http["leads"]
        model = await leads.get("/scoring-model", headers=MARKETING)
        ok(
            await leads.put(
                "/scoring-model",
                json=SCORING,
                headers={**MARKETING, "If-Match": model.headers.get("etag", '"1"')},
            )
        )
        # as ops: the rules are the whole platform's, and may name teams besides the demo's
        rules = await leads.get("/routing-rules", headers=ADMIN)
        ok(
            await leads.put(
                "/routing-rules",
                json=ROUTING,
                headers={**ADMIN, "If-Match": rules.headers.get("etag", '"1"')},
            )
        )
        offers = self.http["offers"]
        for product in (
            {"sku": "PRESS-800", "name": "Hydraulic press 800 t", "unit": "C62", "kind": "goods"},
            {"sku": "COMMISSION-H", "name": "Commissioning", "unit": "HUR", "kind": "service"},
        ):
            ok(await offers.post("/products", json=product, headers=MANAGER), 201, 409)
        book = {
            "name": f"EUR list {date.today().year}",
            "currency": "EUR",
            "valid_from": (date.today() - timedelta(days=1)).isoformat(),
            "entries": [
                {"sku": "PRESS-800", "unit_price": "185000.00"},
                {"sku": "COMMISSION-H", "unit_price": "140.00"},
            ],
        }
        ok(await offers.post("/price-books", json=book, headers=MANAGER), 201)

    async def import_universe(self, companies: list[dict[str, str]]) -> dict:
        header = "name,country,postal_code,city,nace,employees,website,source\n"
        rows = "".join(
            f"{c['name']},{c['country']},{c['postal_code']},{c['city']},{c['nace']},"
            f"{c['employees']},{c['website']},demo\n"
            for c in companies
        )
        return ok(
            await self.http["leads"].post(
                "/companies/import",
                content=(header + rows).encode(),
                headers={**MARKETING, "content-type": "text/csv"},
            )
        )

    async def materialize_segment(self) -> dict:
        leads = self.http["leads"]
        segment = ok(
            await leads.post(
                "/segments",
                json={
                    "name": f"DACH manufacturing {uuid.uuid4().hex[:4]}",
                    "criteria": {
                        "nace": ["C"],
                        "countries": ["DE", "AT"],
                        "size_classes": ["medium"],
                    },
                },
                headers=MARKETING,
            ),
            201,
        )
        return ok(await leads.post(f"/segments/{segment['id']}/materialize", headers=MARKETING))

    # --- phases 2-3 ---------------------------------------------------------------------------------

    async def lead_to_opportunity(self, journey: Journey, website_domain: str, email: str) -> None:
        leads = self.http["leads"]
        now = datetime.now(UTC).isoformat()
        touch = {"channel": "web", "occurred_at": now, "campaign": "press-launch"}
        ok(
            await leads.post(
                "/touchpoints",
                json={**touch, "kind": "page_visit", "domain": website_domain},
                headers=MARKETING,
            ),
            201,
        )
        created = ok(
            await leads.post(
                "/touchpoints",
                json={
                    **touch,
                    "kind": "whitepaper_download",
                    "email": email,
                    "contact_name": "Eva Ek",
                },
                headers=MARKETING,
            ),
            201,
        )
        journey.lead_id = created["lead_id"]
        journey.company_id = created["company_id"]
        journey.step("lead created (whitepaper download)")
        mql = ok(
            await leads.post(
                "/touchpoints",
                json={
                    **touch,
                    "kind": "demo_request",
                    "company_id": journey.company_id,
                },
                headers=MARKETING,
            ),
            201,
        )
        if mql["lead_status"] not in ("mql", "assigned"):
            raise StepFailed(f"lead not MQL after a demo request: {mql}")
        journey.step("MQL, routed to a rep")

        async def assigned() -> dict | None:
            lead = ok(await leads.get(f"/leads/{journey.lead_id}", headers=REP))
            return lead if lead.get("owner") == "alice" else None

        await until(assigned, timeout=30, what="lead routed to alice")
        ok(
            await leads.post(
                f"/leads/{journey.lead_id}/qualify",
                json={
                    "contact": {"name": "Eva Ek", "email": email, "role": "Head of production"},
                    "needs": {
                        "budget": {"amount": "400000", "currency": "EUR"},
                        "authority": "Managing director",
                        "need": "Second press line",
                        "timeline": "this year",
                    },
                    "first_contact_at": now,
                },
                headers=REP,
            )
        )
        journey.step("SQL (needs analysis)")
        converted = ok(
            await leads.post(
                f"/leads/{journey.lead_id}/convert",
                json={
                    "expected_amount": {"amount": "380000", "currency": "EUR"},
                    "expected_close_date": (date.today() + timedelta(days=60)).isoformat(),
                },
                headers=REP,
            )
        )
        journey.correlation_id = converted.get("correlation_id", "")
        journey.step("converted")

        opportunity = await until(
            lambda: self.find_opportunity(journey),
            timeout=60,
            what="opportunity opened from lead.converted",
        )
        journey.opportunity_id = opportunity["id"]
        journey.correlation_id = journey.correlation_id or opportunity.get("correlation_id", "")
        journey.step("opportunity opened")

    # --- phases 4-5 --------------------------------------------------------------------------------

    async def offer_to_acceptance(self, journey: Journey) -> dict:
        offers = self.http["offers"]
        body = {
            "opportunity_id": journey.opportunity_id,
            "lines": [
                {"sku": "PRESS-800", "quantity": "2"},
                {"sku": "COMMISSION-H", "quantity": "40"},
            ],
            "discount_percent": "15",  # above a rep's 10 %: needs a manager's approval
            "terms": {
                "payment_terms": "30 days net",
                "payment_days": 30,
                "incoterms": "DAP",
                "incoterms_place": "Stuttgart",
            },
            "bill_to": ADDRESS,
            "ship_to": ADDRESS,
        }

        async def known() -> dict | None:
            resp = await offers.post("/offers", json=body, headers=REP)
            return None if resp.status_code == 404 else ok(resp, 201)

        offer = await until(known, timeout=60, what="offers knows the opportunity")
        journey.offer_id = offer["id"]
        journey.step("offer created (discount needs approval)")
        if offer["status"] != "approval_pending":
            raise StepFailed(f"a 15 % discount should need approval: {offer['status']}")
        ok(await offers.post(f"/offers/{journey.offer_id}/send", headers=REP), 409)
        ok(
            await offers.post(
                f"/offers/{journey.offer_id}/approve",
                json={"decision": "approve", "comment": "strategic account"},
                headers=MANAGER,
            )
        )
        journey.step("approved by the manager")
        ok(await offers.post(f"/offers/{journey.offer_id}/send", headers=REP))
        journey.step("sent")
        revised = ok(
            await offers.post(
                f"/offers/{journey.offer_id}/revise",
                json={
                    "discount_percent": "8",
                    "terms": {
                        "payment_terms": "45 days net",
                        "payment_days": 45,
                        "incoterms": "DAP",
                        "incoterms_place": "Stuttgart",
                    },
                },
                headers=REP,
            ),
            201,
        )
        journey.step(f"revised to version {revised['offer_version']}")
        ok(await offers.post(f"/offers/{journey.offer_id}/send", headers=REP))
        accepted = ok(
            await offers.post(
                f"/offers/{journey.offer_id}/accept",
                json={
                    "customer_po_number": f"PO-{journey.name}",
                    "accepted_by": "Eva Ek",
                    "accepted_on": date.today().isoformat(),
                },
                headers={**REP, "Idempotency-Key": f"accept-{journey.offer_id}"},
            )
        )
        journey.step("accepted")
        return accepted

    # --- phases 6-7 --------------------------------------------------------------------------------

    async def order_to_delivery(self, journey: Journey, timeout: float = 90) -> dict:
        orders = self.http["orders"]

        async def ordered() -> dict | None:
            page = ok(
                await orders.get("/orders", params={"offer_id": journey.offer_id}, headers=ADMIN)
            )
            return page["items"][0] if page["items"] else None

        order = await until(ordered, timeout=60, what="order from the accepted offer")
        journey.order_id = order["id"]
        journey.step(f"order {order.get('order_number')} received")

        await self.complete_tasks(journey, timeout)
        seen: dict[str, Any] = {}

        async def completed() -> dict | None:
            body = ok(await orders.get(f"/orders/{journey.order_id}", headers=ADMIN))
            seen["status"] = body["status"]
            if body["status"] in ("rejected", "cancelled"):
                raise StepFailed(f"order {body['status']}: {body.get('rejection_reasons', body)}")
            return body if body["status"] == "completed" else None

        try:
            done = await until(completed, timeout=timeout, what="order delivered and completed")
        except StepFailed as exc:
            raise StepFailed(f"{exc}; order status {seen.get('status')}") from None
        journey.correlation_id = journey.correlation_id or done.get("correlation_id", "")
        journey.step("delivered by logistics, fulfilment completed")
        return done

    async def complete_tasks(self, journey: Journey, timeout: float) -> None:
        """Commissioning and training are people's work: the service agent signs them off."""
        fulfillment = self.http["fulfillment"]

        async def planned() -> dict | None:
            page = ok(
                await fulfillment.get(
                    "/fulfillments", params={"order": journey.order_id}, headers=ADMIN
                )
            )
            return page["items"][0] if page["items"] else None

        plan = await until(planned, timeout=timeout, what="fulfilment planned")
        tasks = ok(
            await fulfillment.get("/tasks", params={"fulfillment_id": plan["id"]}, headers=AGENT)
        )["items"]
        for task in tasks:
            ok(
                await fulfillment.post(
                    f"/tasks/{task['id']}/complete", json={"note": "done"}, headers=AGENT
                )
            )
        journey.step(f"{len(tasks)} implementation task(s) completed")

    # --- phase 8 --------------------------------------------------------------------------------

    async def aftersales(self, journey: Journey) -> dict:
        aftersales = self.http["aftersales"]

        account = await until(
            lambda: self.find_account(journey), timeout=60, what="account onboarded"
        )
        journey.account_id = account["id"]
        journey.step(f"account onboarded with {len(account['installed_base'])} assets")
        asset = account["installed_base"][0]
        ticket = ok(
            await aftersales.post(
                "/tickets",
                json={
                    "account_id": journey.account_id,
                    "asset_id": asset["id"],
                    "channel": "phone",
                    "severity": "P2",
                    "description": "Pressure drops under load",
                },
                headers=AGENT,
            ),
            201,
        )
        ok(
            await aftersales.post(
                f"/tickets/{ticket['id']}/resolve",
                json={"resolution": "Valve replaced"},
                headers=AGENT,
            )
        )
        journey.step("ticket opened and resolved")
        ok(
            await aftersales.post(
                "/followups",
                json={
                    "account_id": journey.account_id,
                    "kind": "upsell",
                    "description": "Automation cell for the new press line",
                    "estimated_value": {"amount": "90000", "currency": "EUR"},
                },
                headers=AGENT,
            ),
            201,
        )
        journey.step("follow-up identified")

        opportunity = await until(
            lambda: self.find_followup(journey), timeout=60, what="follow-up opportunity opened"
        )
        journey.followup_opportunity_id = opportunity["id"]
        journey.step("new opportunity for the existing customer (phases 1-2 skipped)")
        return opportunity

    # --- finding what a journey caused ---------------------------------------------------------
    # Lists are sorted oldest first and paged, so what a new journey creates is usually on the
    # last page: narrow the list with the filters the services offer and walk every page.

    async def walk(
        self, service: str, path: str, headers: dict[str, str], **params: str
    ) -> AsyncIterator[dict]:
        """Every item of a paged list, following ``next_cursor`` to the end."""
        query: dict[str, str | int] = {**params, "limit": self.page_size}
        while True:
            page = ok(await self.http[service].get(path, params=query, headers=headers))
            for item in page["items"]:
                yield item
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    async def find_opportunity(self, journey: Journey) -> dict | None:
        """The opportunity the journey's converted lead opened (at most one per lead)."""
        async for opportunity in self.walk(
            "opportunities", "/opportunities", REP, lead_id=journey.lead_id
        ):
            return opportunity
        return None

    async def find_account(self, journey: Journey) -> dict | None:
        """The account (with details) that holds the journey's order; one per company."""
        aftersales = self.http["aftersales"]
        narrow = {"company_id": journey.company_id} if journey.company_id else {}
        async for account in self.walk("aftersales", "/accounts", ADMIN, **narrow):
            detail = ok(await aftersales.get(f"/accounts/{account['id']}", headers=ADMIN))
            if any(o.get("order_id") == journey.order_id for o in detail.get("orders", [])):
                return detail
        return None

    async def find_followup(self, journey: Journey) -> dict | None:
        """The opportunity the journey's after-sales follow-up opened."""
        async for opportunity in self.walk(
            "opportunities",
            "/opportunities",
            ADMIN,
            source="followup",
            account_id=journey.account_id,
        ):
            return opportunity
        return None

    # --- lead controlling -------------------------------------------------------------------------

    async def trace(self, journey: Journey, must_include: tuple[str, ...] = ()) -> dict:
        controlling = self.http["controlling"]

        async def traced() -> dict | None:
            resp = await controlling.get(f"/journeys/{journey.correlation_id}", headers=ANALYST)
            if resp.status_code != 200:
                return None
            body = resp.json()
            types = {s["type"] for s in body["steps"]}
            return body if all(t in types for t in must_include) else None

        return await until(traced, timeout=60, what="journey traced in controlling")

    async def funnel(self) -> dict:
        return ok(await self.http["controlling"].get("/funnel", headers=ANALYST))
