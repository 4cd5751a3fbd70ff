"""The complete journey through all seven services as real processes, over the public HTTP APIs
only, with the logistics simulator on the public topics: company list → segment → prospects →
touchpoints → lead → MQL → routed → SQL → converted → opportunity → offer needing approval →
approved → sent → revised → accepted → order confirmed → delivered → fulfilment completed →
account onboarded → ticket → follow-up → new opportunity → funnel and journey trace."""

from __future__ import annotations

import asyncio

from fulfillment.simulator import run_simulator
from salesflow.demo.journey import ADMIN, Driver, Journey
from salesflow.stack import DevStack
from salesflow.testing.helpers import eventually

UNIVERSE = [
    {
        "name": "Presswerk Süd GmbH",
        "country": "DE",
        "postal_code": "70173",
        "city": "Stuttgart",
        "nace": "28.41",
        "employees": "180",
        "website": "https://presswerk-sued.example.com",
    },
    {
        "name": "Alpen Metall AG",
        "country": "AT",
        "postal_code": "6020",
        "city": "Innsbruck",
        "nace": "24.10",
        "employees": "90",
        "website": "https://alpen-metall.example.com",
    },
    {
        "name": "Klein Software KG",
        "country": "DE",
        "postal_code": "10115",
        "city": "Berlin",
        "nace": "62.10",
        "employees": "12",
        "website": "https://klein-software.example.com",
    },
]


async def test_complete_journey(stack: DevStack, topic_prefix: str) -> None:
    driver = Driver({name: stack.url(name) for name in stack.procs})
    stop = asyncio.Event()
    simulator = asyncio.create_task(
        run_simulator(
            stack.bootstrap,
            topic_prefix,
            delay_s=0.05,
            partial_ratio=0.0,
            failure_ratio=0.0,
            seed=11,
            stop_event=stop,
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
        )
    )
    journey = Journey("presswerk")
    try:
        # rules stored earlier that name another team: the demo's set-up replaces them as ops (a
        # sales manager may change only their own team's part)
        earlier = {"territories": [], "teams": [{"name": "south", "reps": [{"id": "sam"}]}]}
        stored = await driver.http["leads"].put(
            "/routing-rules", json=earlier, headers={**ADMIN, "If-Match": '"1"'}
        )
        assert stored.status_code == 200, stored.text
        await driver.configure()
        imported = await driver.import_universe(UNIVERSE)
        assert imported["accepted"] == 3 and imported["rejected"] == 0
        segment = await driver.materialize_segment()
        assert segment["added"] == 2  # medium-sized manufacturers in DE and AT

        await driver.lead_to_opportunity(
            journey, "presswerk-sued.example.com", "eva@presswerk-sued.example.com"
        )
        accepted = await driver.offer_to_acceptance(journey)
        assert accepted["status"] == "accepted"
        order = await driver.order_to_delivery(journey)
        statuses = [h["status"] for h in order["history"]]
        assert "confirmed" in statuses and statuses[-1] == "completed"

        followup = await driver.aftersales(journey)
        assert followup["owner"] == "alice"

        trace = await driver.trace(
            journey,
            must_include=(
                "lead.created.v1",
                "lead.mql.v1",
                "lead.assigned.v1",
                "lead.sql.v1",
                "lead.converted.v1",
                "opportunity.opened.v1",
                "offer.approval_requested.v1",
                "offer.approved.v1",
                "offer.sent.v1",
                "offer.revised.v1",
                "offer.accepted.v1",
                "opportunity.won.v1",
                "order.confirmed.v1",
                "fulfillment.planned.v1",
                "shipment.delivered.v1",
                "fulfillment.completed.v1",
                "order.completed.v1",
                "account.onboarded.v1",
            ),
        )
        times = [s["occurred_at"] for s in trace["steps"]]
        assert times == sorted(times)

        counts: dict[str, int | None] = {}

        async def universe_counted() -> bool:
            funnel = await driver.funnel()
            counts.update({s["stage"]: s["count"] for s in funnel["stages"]})
            journey = ("leads", "mql", "sql", "opportunities", "orders")
            return (
                counts["suspects"] == 3
                and counts["prospects"] == 2
                and all((counts[stage] or 0) >= 1 for stage in journey)
            )

        # the three imported companies are suspects; the segment made two of them prospects;
        # the journey's stages are counted (controlling reads each topic at its own pace)
        await eventually(
            universe_counted,
            timeout=30,
            message="controlling counts 3 suspects, 2 prospects and every stage of the journey",
        )
    finally:
        stop.set()
        await asyncio.wait_for(simulator, 30)
        await driver.close()
