"""The synthetic history (controlling_testkit.sales_history) published through the real broker
to the real app — shuffled, in two waves, with redeliveries and dead letters — gives figures
known by hand; a rebuild from the topics gives the same ones.

Times are hours after T0 (+ seconds). The funnel without filters:

stage          entities (entry time)                                   count
leads          L1 0, L2 1, L3 2, L4 3, L5 200                            5
mql            L1 2, L2 5, L3 8, L5 204                                  4
sql            L1 7, L2 16                                               2
opportunities  O1 8+30s, O2 17+90s, O3 100+60s, O4 50                    4
offers_sent    F1 12, F2 30, F3 110                                      3
orders         R1 39+60s, R2 150                                         2
delivered      R1 60+2s (shipment.delivered, order_delivery=delivered)   1
repeat         R2 (c1 had R1 delivered before)                           1

conversions (durations):
leads->mql   4/5: 2h 4h 6h 4h -> median 4h, p90 at rank 2.7 = 4h + 0.7*2h = 5.4h
mql->sql     2/4: 5h 11h -> median 8h, p90 5h + 0.9*6h = 10.4h
sql->opp     2/2: 3630s 3690s -> median 3660s, p90 3684s
opp->offer   3/4: 14370s 46710s 35940s -> median 35940s, p90 35940 + 0.8*10770 = 44556s
offer->order 1/3: 27h+60s = 97260s
order->deliv 1/2: 21h - 58s = 75542s
deliv->repeat 1/1: 90h - 2s = 323998s
win rate: O1 won, O3 lost -> 0.5; pipeline at 300h: O2 EUR 20000 @50%, O4 USD 3000 @50%.

The company universe (cells nace/size/country/source: count; chunk event times):

suspects   I1#1 -50h  C/small/DE/dnb 40, C/medium/DE/dnb 30, J/large/AT/dnb 20       90
           I1#2 -49h  C/small/DE/dnb 10, J/micro/AT/dnb 15, -/-/DE/dnb 5            30
           I1#2 +50h  the same chunk again under a new id: not counted, not its time
           I2#1  10h  C/small/DE/manual 4, J/large/AT/manual 6, J/micro/AT/manual 10  20
prospects  S1 RUN1#1 -40h  C/small/DE/dnb 20, C/medium/DE/dnb 10                     30
           S1 RUN1#2 -39h  C/small/DE/dnb 5                                            5
           S2 RUN2#1  20h  J/large/AT/dnb 8, J/micro/AT/dnb 2, J/large/AT/manual 3     13

slice             suspects prospects leads  suspects->prospects  prospects->leads
all                    140        48     5  48/140 = 0.3429      5/48 = 0.1042
[0h, 100h)              20        13     4  13/20 = 0.65         4/13 = 0.3077
country AT              51        13     2  13/51 = 0.2549       2/13 = 0.1538
J, large                26        11     1  11/26 = 0.4231       1/11 = 0.0909
source dnb             120        45     0  45/120 = 0.375       null (channels differ)
source webinar           0         0     3  null (nothing to divide by)  null
owner / team / rep    null      null        null (not attributable)
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from controlling_testkit import at, publish, publish_raw, sales_history
from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from controlling.cli import app as cli_app
from controlling.config import Settings
from controlling.main import SPEC, create_app
from controlling.tables import ControllingRecord, JourneyEvent
from salesflow.testing.helpers import bearer, eventually, running
from salesflow.testing.plugin import migrate

ANALYST = bearer("ana", ["analyst"])
MANAGER = bearer("max", ["sales_manager"], team="north")
ALICE = bearer("alice", ["sales_rep"], team="north")
H = 3600


async def count(app, model) -> int:
    async with app.state.db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Play another service's consumer group: commit offsets as it would after consuming.
    Auto-commit off: left on, stopping would commit the position the fetcher may have reset
    to meanwhile (the partition's end), over the offset committed here."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


def stage_counts(funnel: dict) -> dict[str, int | None]:
    return {s["stage"]: s["count"] for s in funnel["stages"]}


def conversions(funnel: dict) -> dict[str, tuple]:
    return {
        c["from_stage"]: (c["base"], c["converted"], c["rate"], c["median_s"], c["p90_s"])
        for c in funnel["conversions"]
    }


async def get(client, path: str, headers=ANALYST, **params: Any) -> dict:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def snapshot(client) -> dict:
    """Every figure the API serves for the history (for comparing with the rebuild)."""
    return {
        "funnel": await get(client, "/funnel"),
        "funnel_web": await get(client, "/funnel", source_channel="webinar"),
        "funnel_q": await get(
            client, "/funnel", **{"from": at(0).isoformat(), "to": at(100).isoformat()}
        ),
        "funnel_dnb": await get(client, "/funnel", source_channel="dnb"),
        "funnel_at": await get(client, "/funnel", country="AT"),
        "lead_controlling": await get(client, "/lead-controlling"),
        "journey_j1": await get(client, "/journeys/J1"),
        "journey_j2": await get(client, "/journeys/J2"),
        "handoffs": await get(client, "/handoffs"),
    }


async def test_synthetic_history_known_figures_and_identical_rebuild(
    settings_for, database_url: str, broker: str, topic_prefix: str, monkeypatch
) -> None:
    await migrate(SPEC.migrations_dir, database_url)
    settings = settings_for(Settings, rep_capacities={"bob": 4}, handoff_metrics_interval_s=3600)
    history, ev = sales_history()
    shuffled = list(history.events)
    random.Random(9).shuffle(shuffled)  # out of order, also within each aggregate
    # chunks out of order: the re-published I1#2 and S1's chunk 2 come before their originals
    early = [ev["i1c2_again"], ev["s1c2"]]
    late = [ev["i1c2"], ev["s1c1"]]
    pinned = {e.id for e in early + late}
    rest = [e for e in shuffled if e.id not in pinned]
    first, second = early + rest[:23], rest[23:] + late
    redelivered = [history.events[0], ev["f1_acc"], ev["r1_conf"], ev["o3_lost"]]
    redelivered += [ev["i1c1"], ev["s2c1"], ev["i1c2_again"]]
    distinct = len(history.events)

    app = create_app(settings)
    app.state.clock = lambda: at(300)
    async with running(app) as client:
        placed = await publish(broker, topic_prefix, first)

        async def stored(n: int):
            return await count(app, JourneyEvent) == n

        await eventually(lambda: stored(len(first)), message="first wave not stored")
        placed += await publish(broker, topic_prefix, second + redelivered)
        # dead letters: orders parked offer.accepted (twice: a redelivery), fulfillment parked a
        # record without CloudEvents headers from the orders topic
        dlq_headers = [
            *ev["f1_acc"].headers(),
            ("dlq_consumer", b"orders"),
            ("dlq_original_topic", b"offers.offer.v1"),
            ("dlq_error", b"boom"),
        ]
        for _ in range(2):
            await publish_raw(
                broker, f"{topic_prefix}orders.dlq", ev["f1_acc"].value(), dlq_headers, b"F1"
            )
        await publish_raw(
            broker,
            f"{topic_prefix}fulfillment.dlq",
            b"garbage",
            [("dlq_consumer", b"fulfillment"), ("dlq_original_topic", b"orders.order.v1")],
            b"R9",
        )
        records = len(history.events) + len(redelivered) + 3

        async def all_in() -> bool:
            return await stored(distinct) and await count(app, ControllingRecord) == records

        await eventually(all_in, timeout=30, message="history not consumed and indexed")

        # other services' consumer groups, as they would have committed
        sent = list(zip(first + second + redelivered, placed, strict=True))
        accepted = next(m for e, m in sent if e.id == ev["f1_acc"].id)
        p_acc = TopicPartition(accepted.topic, accepted.partition)
        end_acc = 1 + max(m.offset for m in placed if (m.topic, m.partition) == p_acc)
        await commit(broker, f"{topic_prefix}salesflow.orders", {p_acc: end_acc})
        r1_first = min((m for e, m in sent if e.id == ev["r1_conf"].id), key=lambda m: m.offset)
        p_conf = TopicPartition(r1_first.topic, r1_first.partition)
        await commit(broker, f"{topic_prefix}salesflow.fulfillment", {p_conf: r1_first.offset + 1})

        before = await snapshot(client)
        await check_funnel(client, before)
        await check_lead_controlling(client, before["lead_controlling"])
        check_journeys(before, ev)
        check_handoffs(before["handoffs"], sent, r1_first, ev, end_acc)
        metrics = (await client.get("/metrics")).text
        assert 'salesflow_handoff_published_events{handoff="offers->opportunities"} 8.0' in metrics
        assert 'salesflow_handoff_in_flight_events{handoff="offers->orders"} 0.0' in metrics
        assert (
            'salesflow_handoff_reaction_latency_p99_seconds{handoff="leads->opportunities"}'
            in metrics
        )
        assert "->controlling" not in metrics
        imports = await get(client, "/journeys/IMP1")
        assert [s["type"] for s in imports["steps"]] == ["companies.imported.v1"] * 3
        assert [s["stage"] for s in imports["steps"]] == [None] * 3

    # rebuild into the same database, the service stopped, through the CLI command
    for name, value in {
        "SALESFLOW_KAFKA_BOOTSTRAP_SERVERS": broker,
        "SALESFLOW_TOPIC_PREFIX": topic_prefix,
        "SALESFLOW_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "SALESFLOW_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "SALESFLOW_LOG_JSON": "false",
    }.items():
        monkeypatch.setenv(name, value)
    rebuilt_at = datetime.now(UTC)
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["--database-url", database_url, "--idle", "1", "--timeout", "60"],
    )
    assert result.exit_code == 0, result.output
    assert f"rebuilt from {distinct} events ({records} records indexed)" in result.output

    app = create_app(settings)
    app.state.clock = lambda: at(300)
    async with running(app) as client:
        async with app.state.db.session() as session:
            oldest = (await session.exec(select(func.min(JourneyEvent.recorded_at)))).one()
        assert oldest >= rebuilt_at  # every row was written by the rebuild
        after = await snapshot(client)
    assert after == before


async def check_funnel(client, snap: dict) -> None:
    funnel = snap["funnel"]
    assert stage_counts(funnel) == {
        "suspects": 140,
        "prospects": 48,
        "leads": 5,
        "mql": 4,
        "sql": 2,
        "opportunities": 4,
        "offers_sent": 3,
        "orders": 2,
        "delivered": 1,
        "repeat_business": 1,
    }
    assert conversions(funnel) == {
        "suspects": (140, 48, 0.3429, None, None),
        "prospects": (48, 5, 0.1042, None, None),
        "leads": (5, 4, 0.8, 4 * H, 5.4 * H),
        "mql": (4, 2, 0.5, 8 * H, 10.4 * H),
        "sql": (2, 2, 1.0, 3660.0, 3684.0),
        "opportunities": (4, 3, 0.75, 35940.0, 44556.0),
        "offers_sent": (3, 1, 0.3333, 97260.0, 97260.0),
        "orders": (2, 1, 0.5, 75542.0, 75542.0),
        "delivered": (1, 1, 1.0, 323998.0, 323998.0),
    }
    assert funnel["win_rate"] == {"won": 1, "lost": 1, "rate": 0.5}
    assert funnel["pipeline"]["by_currency"] == [
        {"currency": "EUR", "open_opportunities": 1, "value": "20000.00", "weighted": "10000.00"},
        {"currency": "USD", "open_opportunities": 1, "value": "3000.00", "weighted": "1500.00"},
    ]
    assert [c["basis"] for c in funnel["conversions"]] == ["counts"] * 2 + ["entities"] * 7
    assert all(s["reason"] is None for s in funnel["stages"])
    # source channel reaches opportunities, offers and orders through their links; for the
    # universe it is the cell's data source
    web = stage_counts(snap["funnel_web"])
    assert (web["leads"], web["opportunities"], web["offers_sent"], web["orders"]) == (3, 2, 2, 1)
    assert (web["suspects"], web["prospects"]) == (0, 0)
    assert conversions(snap["funnel_web"])["suspects"] == (0, 0, None, None, None)
    dnb = snap["funnel_dnb"]
    assert (stage_counts(dnb)["suspects"], stage_counts(dnb)["prospects"]) == (120, 45)
    assert stage_counts(dnb)["leads"] == 0
    assert conversions(dnb)["suspects"] == (120, 45, 0.375, None, None)
    assert conversions(dnb)["prospects"] == (None, None, None, None, None)
    assert "source_channel" in dnb["conversions"][1]["reason"]
    # the period: [0h, 100h); I1#2 counts at -49h, not at its second publication (50h)
    q = snap["funnel_q"]
    assert stage_counts(q)["leads"] == 4 and stage_counts(q)["opportunities"] == 3
    assert (stage_counts(q)["suspects"], stage_counts(q)["prospects"]) == (20, 13)
    assert conversions(q)["suspects"] == (20, 13, 0.65, None, None)
    assert conversions(q)["prospects"] == (13, 4, 0.3077, None, None)
    assert q["win_rate"] == {"won": 1, "lost": 0, "rate": 1.0}  # O3 was lost at 120h
    assert [p["currency"] for p in q["pipeline"]["by_currency"]] == ["EUR", "USD"]
    assert q["pipeline"]["as_of"].startswith("2026-01-09T04:00:00")  # the period's end
    austria = snap["funnel_at"]
    assert stage_counts(austria)["leads"] == 2 and stage_counts(austria)["opportunities"] == 1
    assert (stage_counts(austria)["suspects"], stage_counts(austria)["prospects"]) == (51, 13)
    assert conversions(austria)["suspects"] == (51, 13, 0.2549, None, None)
    assert conversions(austria)["prospects"] == (13, 2, 0.1538, None, None)
    large = await get(client, "/funnel", size_class="large", nace_section="J")
    assert stage_counts(large)["leads"] == 1 and stage_counts(large)["opportunities"] == 1
    assert (stage_counts(large)["suspects"], stage_counts(large)["prospects"]) == (26, 11)
    assert conversions(large)["prospects"] == (11, 1, 0.0909, None, None)
    # a rep sees only their own figures: the universe belongs to no one
    mine = await get(client, "/funnel", headers=ALICE)
    assert mine["filters"]["owner"] == "alice" and mine["filters"]["owner_forced"]
    assert stage_counts(mine)["leads"] == 2 and stage_counts(mine)["opportunities"] == 3
    response = await client.get("/funnel", params={"owner": "bob"}, headers=ALICE)
    assert response.status_code == 403
    bob = await get(client, "/funnel", headers=MANAGER, owner="bob")
    assert stage_counts(bob)["leads"] == 2 and stage_counts(bob)["sql"] == 0
    north = await get(client, "/funnel", headers=MANAGER, team="north")
    for unattributed in (mine, bob, north):
        for row in unattributed["stages"][:2]:
            assert row["count"] is None and row["reason"].startswith("not attributable")
        assert conversions(unattributed)["suspects"] == (None,) * 5
        assert conversions(unattributed)["prospects"] == (None,) * 5


async def check_lead_controlling(client, figures: dict) -> None:
    reps = {r["rep"]: r for r in figures["reps"]}
    assert set(reps) == {"alice", "bob"}
    alice, bob = reps["alice"], reps["bob"]
    assert alice["team"] == "north" and alice["assigned_leads"] == 2
    assert alice["time_to_first_contact"] == {"contacted": 2, "median_s": 3 * H, "p90_s": 3.8 * H}
    assert alice["converted_to_sql"] == {"count": 2, "rate": 1.0}
    assert alice["converted_to_won"] == {"count": 1, "rate": 0.5}
    assert (alice["open_leads"], alice["capacity"], alice["capacity_use"]) == (0, 25, 0.0)
    assert alice["open_pipeline"] == [
        {"currency": "EUR", "open_opportunities": 1, "value": "20000.00", "weighted": "10000.00"}
    ]
    assert bob["assigned_leads"] == 2 and bob["time_to_first_contact"]["contacted"] == 0
    assert bob["converted_to_sql"] == {"count": 0, "rate": 0.0}
    assert (bob["open_leads"], bob["capacity"], bob["capacity_use"]) == (1, 4, 0.25)
    assert bob["open_pipeline"][0]["currency"] == "USD"
    teams = {t["team"]: t for t in figures["teams"]}
    assert teams["north"]["assigned_leads"] == 2 and teams["south"]["capacity"] == 4
    mine = await get(client, "/lead-controlling", headers=ALICE)
    assert [r["rep"] for r in mine["reps"]] == ["alice"] and mine["teams"] == []
    early = await get(client, "/lead-controlling", to=at(20).isoformat())
    bob_early = next(r for r in early["reps"] if r["rep"] == "bob")
    assert bob_early["assigned_leads"] == 1 and bob_early["open_leads"] == 1  # L3 until 30h


def check_journeys(snap: dict, ev: dict) -> None:
    j1 = snap["journey_j1"]
    services = Counter(step["service"] for step in j1["steps"])
    assert set(services) == {
        "leads",
        "opportunities",
        "offers",
        "orders",
        "logistics",
        "fulfillment",
        "aftersales",
    }
    assert len(j1["steps"]) == 19
    times = [step["occurred_at"] for step in j1["steps"]]
    assert times == sorted(times)
    assert [(s["stage"], s["duration_s"]) for s in j1["stages"]] == [
        ("leads", 2 * H),
        ("mql", 5 * H),
        ("sql", 3630.0),
        ("opportunities", 14370.0),
        ("offers_sent", 27 * H + 20),
        ("won", 40.0),
        ("orders", 21 * H - 58),
        ("delivered", 3602.0),
        ("customer", None),
    ]
    handoffs = {
        (s["type"], s["handoff"]["from_service"]): (s["handoff"]["latency_s"], s["handoff"]["first_reaction"])
        for s in j1["steps"]
        if s["handoff"]
    }  # fmt: skip
    assert handoffs == {
        ("opportunity.opened.v1", "leads"): (30.0, True),
        ("opportunity.stage_changed.v1", "offers"): (10.0, True),
        ("opportunity.won.v1", "offers"): (20.0, True),
        ("order.received.v1", "offers"): (45.0, True),
        ("order.confirmed.v1", "offers"): (60.0, False),
        ("fulfillment.planned.v1", "orders"): (10.0, True),
        ("shipment.status.v1", "orders"): (21 * H - 60, True),
        ("shipment.delivered.v1", "logistics"): (2.0, True),
        ("order.completed.v1", "fulfillment"): (3.0, True),
        ("account.onboarded.v1", "fulfillment"): (4.0, True),
    }
    assert [j["correlation_id"] for j in j1["later_journeys"]] == ["J2", "J3"]
    assert j1["later_journeys"][0]["via"] == ["account", "link"]
    assert j1["later_journeys"][1]["via"] == ["account"]
    assert j1["earlier_journeys"] == []
    j2 = snap["journey_j2"]
    assert [j["correlation_id"] for j in j2["earlier_journeys"]] == ["J1"]
    assert [s["stage"] for s in j2["stages"]] == [
        "followup",
        "opportunities",
        "offers_sent",
        "lost",
    ]
    assert j2["steps"][0]["event_id"] == ev["followup"].id


def check_handoffs(figures: dict, sent: list, r1_first, ev: dict, end_acc: int) -> None:
    by = {h["handoff"]: h for h in figures["handoffs"]}
    assert list(by)[:10] == [
        "leads->opportunities",
        "opportunities->offers",
        "offers->opportunities",
        "offers->orders",
        "orders->fulfillment",
        "logistics->fulfillment",
        "fulfillment->orders",
        "fulfillment->aftersales",
        "aftersales->opportunities",
        "aftersales->leads",
    ]

    def row(name: str) -> tuple:
        h = by[name]
        return (
            h["published"],
            h["reacted"],
            h["latency_p50_s"],
            h["latency_p99_s"],
            h["dead_lettered"],
        )

    assert row("leads->opportunities") == (2, 2, 60.0, 89.4, 0)
    assert row("opportunities->offers") == (9, 0, None, None, 0)
    assert row("offers->opportunities") == (8, 5, 10.0, 19.6, 0)
    assert row("offers->orders") == (1, 1, 45.0, 45.0, 1)
    assert row("orders->fulfillment") == (2, 1, 10.0, 10.0, 1)
    assert row("logistics->fulfillment") == (1, 1, 2.0, 2.0, 0)
    assert row("fulfillment->orders") == (3, 1, 3.0, 3.0, 0)
    assert row("fulfillment->aftersales") == (1, 1, 4.0, 4.0, 0)
    assert row("aftersales->opportunities") == (1, 1, 60.0, 60.0, 0)
    assert row("aftersales->leads") == (1, 0, None, None, 0)
    assert row("orders->aftersales") == (5, 0, None, None, 0)
    # the universe topics are read by controlling alone: no handoff between services
    assert {h["topic"] for h in figures["handoffs"]}.isdisjoint(
        {"leads.import.v1", "leads.segment.v1"}
    )

    # consumed / in flight / lag against the groups' committed offsets
    def records_on(topic: str) -> int:
        return sum(1 for _, m in sent if m.topic.endswith(topic))

    offers_orders = by["offers->orders"]
    assert (offers_orders["consumed"], offers_orders["in_flight"]) == (1, 0)
    assert offers_orders["lag"] == records_on("offers.offer.v1") - end_acc
    offers_opps = by["offers->opportunities"]  # opportunities committed nothing
    assert (offers_opps["consumed"], offers_opps["in_flight"]) == (0, 8)
    assert offers_opps["lag"] == records_on("offers.offer.v1")
    first_copies = [
        min((m for e, m in sent if e.id == event.id), key=lambda m: m.offset)
        for event in (ev["r1_conf"], ev["r2_conf"])
    ]
    consumed = sum(
        1 for m in first_copies if m.partition == r1_first.partition and m.offset <= r1_first.offset
    )
    orders_fulfillment = by["orders->fulfillment"]
    assert consumed >= 1
    assert orders_fulfillment["consumed"] == consumed
    assert orders_fulfillment["in_flight"] == 2 - consumed
    assert orders_fulfillment["lag"] == records_on("orders.order.v1") - (r1_first.offset + 1)
    assert by["fulfillment->orders"]["lag"] == 3 and by["fulfillment->orders"]["in_flight"] == 3
