"""Journeys that survive crashes, the fault loop, and the invariants checked after the storm.

Only public HTTP APIs are used to drive and to check; the dead letters are read from each
service's own database (what ``salesflow dlq list`` shows) and the outbox is replayed with the
``salesflow outbox replay`` command, each with the service's environment."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from salesflow import registry
from salesflow.db import Database
from salesflow.messaging import dlq
from salesflow.stack import DevStack
from salesflow.testing.helpers import bearer

ADMIN = bearer("ops", ["admin"])
REP = bearer("alice", ["sales_rep"], team="north")
MANAGER = bearer("bob", ["sales_manager"], team="north")
ANALYST = bearer("ana", ["analyst"])
ADDRESS = {"street": "Werkstraße 5", "postal_code": "70173", "city": "Stuttgart", "country": "DE"}
TERMS = {"payment_terms": "30 days net", "payment_days": 30, "incoterms": "DAP"}
CLOSED_ORDER = {"completed", "rejected", "cancelled"}
SESSION_TIMEOUT_MS = 2000  # the services' Kafka session timeout (a SIGSTOP outlasts it)


class Unexpected(AssertionError):
    """A request got an answer that no retry can change (a 4xx where a 2xx was due)."""


# --------------------------------------------------------------------------- resilient clients


@dataclass
class Ledger:
    """Every request that got a 2xx, and what the retries absorbed."""

    ok: list[tuple[str, str, str]] = field(default_factory=list)  # (journey, step, object id)
    retries: Counter = field(default_factory=Counter)  # by reason
    failures: list[str] = field(default_factory=list)


class Clients:
    """One HTTP client per process. With several replicas per service, calls to a service take
    its replicas in turn, so a retry after a failure goes to the other replica."""

    def __init__(self, stack: DevStack, ledger: Ledger) -> None:
        self.ledger = ledger
        self.http = {  # by instance (process)
            name: httpx.AsyncClient(base_url=stack.url(name), timeout=10) for name in stack.procs
        }
        self.replicas = {s: stack.instances(s) for s in registry.SERVICES}
        self.served: Counter = Counter()  # calls per instance
        self._turn: Counter = Counter()

    def instance(self, service: str) -> str:
        replicas = self.replicas[service]
        self._turn[service] += 1
        return replicas[self._turn[service] % len(replicas)]

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        retry_statuses: tuple[int, ...] = (),
        timeout: float = 120,
        **kw: Any,
    ) -> httpx.Response:
        """Retry on connection errors, 5xx (and ``retry_statuses``) until ``timeout``; the
        Idempotency-Key in the headers makes a retried POST get the first answer."""
        deadline = time.monotonic() + timeout
        while True:
            instance = self.instance(service)
            self.served[instance] += 1
            try:
                resp = await self.http[instance].request(method, path, **kw)
                # 409 "in progress": a crashed request's Idempotency-Key reservation, taken
                # over once stale (60 s)
                in_progress = resp.status_code == 409 and "in progress" in resp.text
                if (
                    resp.status_code < 500
                    and resp.status_code not in retry_statuses
                    and not in_progress
                ):
                    return resp
                reason = f"{instance} {resp.status_code}"
            except httpx.TransportError as exc:
                reason = f"{instance} {type(exc).__name__}"
            self.ledger.retries[reason] += 1
            if time.monotonic() > deadline:
                raise Unexpected(
                    f"{method} {service}{path}: still failing ({reason}) after {timeout}s"
                )
            await asyncio.sleep(0.2 + random.random() * 0.3)

    async def get_all(self, service: str, path: str, **params: Any) -> list[dict]:
        """Every item of a paginated list."""
        items: list[dict] = []
        cursor = None
        while True:
            query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            resp = await self.call(service, "GET", path, params=query, headers=ADMIN, timeout=60)
            body = expect(resp, 200)
            items += body["items"]
            cursor = body.get("next_cursor")
            if not cursor:
                return items


def expect(resp: httpx.Response, *statuses: int) -> Any:
    if resp.status_code not in statuses:
        raise Unexpected(
            f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text[:400]}"
        )
    return resp.json()


# --------------------------------------------------------------------------------- journeys


async def configure_catalog(clients: Clients) -> None:
    product = {"sku": "PRESS-800", "name": "Hydraulic press 800 t", "unit": "C62", "kind": "goods"}
    expect(await clients.call("offers", "POST", "/products", json=product, headers=MANAGER), 201)
    book = {
        "name": "EUR list",
        "currency": "EUR",
        "valid_from": (date.today() - timedelta(days=1)).isoformat(),
        "entries": [{"sku": "PRESS-800", "unit_price": "185000.00"}],
    }
    expect(await clients.call("offers", "POST", "/price-books", json=book, headers=MANAGER), 201)


async def journey(clients: Clients, run: str, i: int) -> None:
    """Existing customer → opportunity → offer (no discount, no approval) → sent → accepted;
    order, fulfilment, delivery (simulator) and onboarding follow by events."""
    name = f"{run}-{i}"
    ledger = clients.ledger

    def key(step: str) -> dict[str, str]:
        return {**REP, "Idempotency-Key": f"{step}-{name}"}

    opportunity = {
        "account_id": f"acct-{name}",
        "account": {
            "company_id": f"co-{name}",
            "name": f"Chaos {name} GmbH",
            "country": "DE",
            "city": "Stuttgart",
            "postal_code": "70173",
        },
        "currency": "EUR",
    }
    resp = await clients.call(
        "opportunities", "POST", "/opportunities", json=opportunity, headers=key("opp")
    )
    opportunity_id = expect(resp, 201)["id"]
    ledger.ok.append((name, "opportunity", opportunity_id))

    offer = {
        "opportunity_id": opportunity_id,
        "lines": [{"sku": "PRESS-800", "quantity": "1"}],
        "terms": TERMS,
        "bill_to": ADDRESS,
        "ship_to": ADDRESS,
    }
    # 404 until offers has consumed opportunity.opened
    resp = await clients.call(
        "offers", "POST", "/offers", json=offer, headers=key("offer"), retry_statuses=(404,)
    )
    created = expect(resp, 201)
    if created["status"] == "approval_pending":
        raise Unexpected(f"offer without discount needs approval: {created}")
    offer_id = created["id"]
    ledger.ok.append((name, "offer", offer_id))

    resp = await clients.call("offers", "POST", f"/offers/{offer_id}/send", headers=key("send"))
    expect(resp, 200)
    ledger.ok.append((name, "sent", offer_id))

    acceptance = {
        "customer_po_number": f"PO-{name}",
        "accepted_by": "Eva Ek",
        "accepted_on": date.today().isoformat(),
    }
    resp = await clients.call(
        "offers", "POST", f"/offers/{offer_id}/accept", json=acceptance, headers=key("accept")
    )
    expect(resp, 200)
    ledger.ok.append((name, "accepted", offer_id))


async def run_journeys(clients: Clients, run: str, n: int, workers: int = 4) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                await journey(clients, run, i)
            except Unexpected as exc:
                clients.ledger.failures.append(f"journey {run}-{i}: {exc}")

    await asyncio.gather(*(worker() for _ in range(workers)))


# ------------------------------------------------------------------------------- fault loop


@dataclass
class FaultLog:
    kills: Counter = field(default_factory=Counter)  # by instance
    stopped: list[tuple[str, float]] = field(default_factory=list)  # (instance, seconds)
    # replicas: kills of the replica that held the relay's publisher lock / led the jobs
    leader_kills: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        stops = ", ".join(f"{s} for {d:.1f}s" for s, d in self.stopped) or "none"
        kills = ", ".join(f"{s}×{n}" for s, n in sorted(self.kills.items()))
        text = f"{sum(self.kills.values())} SIGKILLs ({kills}); SIGSTOP/SIGCONT: {stops}"
        if self.leader_kills:
            text += (
                f"; killed while holding the relay lock: {self.leader_kills['relay']}, "
                f"while leading the jobs: {self.leader_kills['jobs']}"
            )
        return text


async def roles_of(stack: DevStack, instance: str) -> dict[str, str]:
    """What the instance's /readyz says it does among its twins ({} when it does not answer)."""
    try:
        async with httpx.AsyncClient(timeout=0.5) as client:
            return (await client.get(f"{stack.url(instance)}/readyz")).json().get("roles", {})
    except (httpx.HTTPError, ValueError):
        return {}


async def fault_loop(
    stack: DevStack,
    log: FaultLog,
    stop: asyncio.Event,
    *,
    period_s: float = 2.0,
    stop_for_s: float = 5.0,
    seed: int = 0,
) -> None:
    """SIGKILL a random service process every ~period_s and start it again at once; once (the
    third round) SIGSTOP another one for ``stop_for_s`` (longer than its Kafka session) and
    SIGCONT it. With replicas, any replica is a victim; kills of lock holders are counted."""
    rng = random.Random(seed)
    rounds = 0
    instances = stack.instances()
    while not stop.is_set():
        rounds += 1
        victim = rng.choice(instances)
        if stack.replicas > 1:
            roles = await roles_of(stack, victim)
            log.leader_kills["relay"] += roles.get("relay") == "publisher"
            log.leader_kills["jobs"] += roles.get("jobs") == "leader"
        stack.kill(victim, signal.SIGKILL)
        log.kills[victim] += 1
        stack.start_service(victim)
        if rounds == 3:
            frozen = rng.choice([s for s in instances if s != victim])
            proc = stack.procs[frozen]
            proc.send_signal(signal.SIGSTOP)
            began = time.monotonic()
            try:
                await asyncio.sleep(stop_for_s)
            finally:
                proc.send_signal(signal.SIGCONT)
            log.stopped.append((frozen, time.monotonic() - began))
        try:
            await asyncio.wait_for(stop.wait(), period_s * (0.75 + rng.random() * 0.5))
        except TimeoutError:
            pass


async def wait_all_ready(stack: DevStack, timeout: float = 90) -> float:
    """Every service answers /readyz with 200 again; returns how long that took."""
    began = time.monotonic()
    for name, proc in stack.procs.items():
        if proc.poll() is not None:  # died by itself: that is a finding, but bring it back
            print(f"[chaos] {name} had exited with {proc.returncode}; restarting")
            stack.start_service(name)
    missing = await asyncio.to_thread(stack.wait_ready, timeout)
    if missing:
        async with httpx.AsyncClient(timeout=3) as client:
            said = {}
            for name in missing:
                try:
                    said[name] = (await client.get(f"{stack.url(name)}/readyz")).text
                except httpx.HTTPError as exc:
                    said[name] = repr(exc)
        raise AssertionError(f"services not ready {timeout}s after the faults: {said}")
    return time.monotonic() - began


# ------------------------------------------------------------------------ simulator supervisor


async def supervised_simulator(
    bootstrap: str, prefix: str, stop: asyncio.Event, group: str = "logistics-simulator"
) -> int:
    """The logistics simulator, started again whenever it ends with an error (broker loss)."""
    from fulfillment.simulator import run_simulator

    restarts = 0
    while not stop.is_set():
        try:
            await run_simulator(
                bootstrap,
                prefix,
                delay_s=0.02,
                partial_ratio=0.0,
                failure_ratio=0.0,
                seed=7 + restarts,
                stop_event=stop,
                session_timeout_ms=2000,
                heartbeat_interval_ms=300,
                group_id=prefix + group,
            )
        except Exception as exc:
            restarts += 1
            print(f"[chaos] simulator ended ({type(exc).__name__}: {exc}); restarting")
            await asyncio.sleep(1)
    return restarts


# -------------------------------------------------------------------------- observed state


@dataclass
class State:
    opportunities: list[dict]
    offers: list[dict]
    orders: list[dict]
    fulfillments: list[dict]
    accounts: list[dict]
    funnel: dict

    def stage(self, name: str) -> int:
        return next(s["count"] for s in self.funnel["stages"] if s["stage"] == name)

    def fingerprint(self) -> tuple:
        return (
            len(self.opportunities),
            sorted(o["status"] for o in self.offers),
            sorted(o["status"] for o in self.orders),
            sorted(f["status"] for f in self.fulfillments),
            len(self.accounts),
            tuple(s["count"] for s in self.funnel["stages"]),
        )


async def observe(clients: Clients) -> State:
    funnel = expect(
        await clients.call("controlling", "GET", "/funnel", headers=ANALYST, timeout=60), 200
    )
    return State(
        opportunities=await clients.get_all("opportunities", "/opportunities"),
        offers=await clients.get_all("offers", "/offers"),
        orders=await clients.get_all("orders", "/orders"),
        fulfillments=await clients.get_all("fulfillment", "/fulfillments"),
        accounts=await clients.get_all("aftersales", "/accounts"),
        funnel=funnel,
    )


def settled(state: State, journeys: int) -> bool:
    accepted = [o for o in state.offers if o["status"] == "accepted"]
    completed = [o for o in state.orders if o["status"] == "completed"]
    return (
        len(accepted) >= journeys
        and len(state.orders) >= len(accepted)
        and all(o["status"] in CLOSED_ORDER for o in state.orders)
        and len(state.accounts) >= len(completed)
        and state.stage("delivered") >= len(completed)
    )


async def settle(clients: Clients, journeys: int, timeout: float = 150) -> State:
    """Poll until everything has flowed through and two looks in a row agree (bounded)."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        state = await observe(clients)
        done = settled(state, journeys)
        if done and previous is not None and previous.fingerprint() == state.fingerprint():
            return state
        if time.monotonic() > deadline:
            print(f"[chaos] not settled within {timeout}s: {state.fingerprint()[1:]!s:.600}")
            return state
        previous = state if done else None
        await asyncio.sleep(2.0 if done else 1.0)


# ------------------------------------------------------------------------------- invariants


async def broken_invariant(
    clients: Clients, stack: DevStack, ledger: Ledger, journeys: int, state: State
) -> str | None:
    """The first invariant that does not hold, named; None when all hold."""
    if ledger.failures:
        return f"journeys failed: {len(ledger.failures)}; first: {ledger.failures[0]}"

    # no request that got a 2xx lost
    opportunities = {o["id"] for o in state.opportunities}
    offers = {o["id"]: o for o in state.offers}
    for name, step, object_id in ledger.ok:
        if step == "opportunity" and object_id not in opportunities:
            return f"2xx lost: opportunity {object_id} of journey {name} is gone"
        if step != "opportunity" and object_id not in offers:
            return f"2xx lost: offer {object_id} of journey {name} ({step}) is gone"
        if step == "accepted" and offers[object_id]["status"] != "accepted":
            return f"2xx lost: offer {object_id} accepted but now {offers[object_id]['status']}"
    accepted_ids = [o for n, s, o in ledger.ok if s == "accepted"]
    if len(accepted_ids) != journeys:
        return f"only {len(accepted_ids)} of {journeys} journeys got their acceptance"

    # every accepted offer exactly one order (asked the orders API per offer)
    orders_by_offer: dict[str, list[dict]] = {}
    for o in state.orders:
        orders_by_offer.setdefault(o.get("offer_id") or "", []).append(o)
    for offer in (o for o in state.offers if o["status"] == "accepted"):
        mine = orders_by_offer.get(offer["id"], [])
        if len(mine) != 1:
            page = expect(
                await clients.call(
                    "orders", "GET", "/orders", params={"offer_id": offer["id"]}, headers=ADMIN
                ),
                200,
            )
            return (
                f"accepted offer {offer['id']} has {len(page['items'])} orders "
                f"(want exactly 1): {[(x['id'], x['status']) for x in page['items']]}"
            )
    not_completed = [(o["id"], o["status"]) for o in state.orders if o["status"] != "completed"]
    if not_completed:
        return f"{len(not_completed)} orders not completed; first: {not_completed[:3]}"

    # every confirmed order exactly one fulfilment plan
    plans_by_order: dict[str, list[dict]] = {}
    for f in state.fulfillments:
        plans_by_order.setdefault(f["order_id"], []).append(f)
    for order in state.orders:
        plans = plans_by_order.get(order["id"], [])
        if len(plans) != 1:
            return (
                f"confirmed order {order['id']} has {len(plans)} fulfilment plans "
                f"(want exactly 1): {[(p['id'], p['status']) for p in plans]}"
            )
    completed_plans = [f for f in state.fulfillments if f["status"] == "completed"]
    if len(completed_plans) != len(state.orders):
        open_ = [(f["id"], f["status"]) for f in state.fulfillments if f["status"] != "completed"]
        return f"{len(open_)} fulfilments not completed; first: {open_[:3]}"

    # every completed fulfilment exactly one onboarding (an account holding the order once)
    # and one installed-base entry per delivered unit (1 press per order)
    holders: dict[str, list[str]] = {}
    assets: Counter = Counter()
    for account in state.accounts:
        resp = await clients.call(
            "aftersales", "GET", f"/accounts/{account['id']}", headers=ADMIN, timeout=60
        )
        detail = expect(resp, 200)
        for o in detail["orders"]:
            holders.setdefault(o["order_id"], []).append(account["id"])
        for a in detail["installed_base"]:
            assets[a["order_id"]] += 1
    for plan in completed_plans:
        accounts = holders.get(plan["order_id"], [])
        if len(accounts) != 1:
            return (
                f"completed fulfilment {plan['id']} (order {plan['order_id']}) onboarded "
                f"{len(accounts)} times (want exactly 1): accounts {accounts}"
            )
        if assets[plan["order_id"]] != 1:
            return (
                f"order {plan['order_id']} has {assets[plan['order_id']]} installed-base "
                "entries (want exactly 1: one press delivered)"
            )

    # the controlling funnel matches the services' own data
    sent = [o for o in state.offers if o["status"] in ("sent", "accepted")]
    confirmed = [o for o in state.orders if o["status"] not in ("received", "rejected")]
    completed = [o for o in state.orders if o["status"] == "completed"]
    for stage, own, source in (
        ("opportunities", len(state.opportunities), "opportunities"),
        ("offers_sent", len(sent), "offers (sent or accepted)"),
        ("orders", len(confirmed), "orders (confirmed or later)"),
        ("delivered", len(completed), "orders (completed)"),
    ):
        if state.stage(stage) != own:
            return f"funnel stage {stage} counts {state.stage(stage)}, {source} hold {own}"

    # no event in any DLQ
    dead = await dead_letters(stack)
    for service, rows in dead.items():
        if rows:
            first = rows[0]
            return (
                f"{len(rows)} dead letter(s) in {service}; first: {first.consumer} "
                f"{first.event_type} {first.event_id}: {first.error[:300]}"
            )
    return None


async def dead_letters(stack: DevStack) -> dict[str, list]:
    """What ``salesflow dlq list --service X`` shows, for every service."""
    found = {}
    for name in registry.SERVICES:
        db = Database(stack.db_url(name))
        try:
            async with db.session() as session:
                found[name] = list(await dlq.list_dead(session))
        finally:
            await db.dispose()
    return found


# ----------------------------------------------------------------------------- operations


def salesflow_cli(stack: DevStack, service: str, *args: str) -> str:
    """Run the ``salesflow`` command with the service's environment (its database URL)."""
    exe = Path(sys.executable).with_name("salesflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "salesflow.cli"]
    env = stack.env(service, stack.bootstrap)
    env["COLUMNS"] = "200"
    # generous: the command imports every service (~3 s of CPU), and the broker-loss test runs
    # seven at once beside the platform; on a loaded 2-core machine that took ~55 s
    done = subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"salesflow {' '.join(args)} failed: {done.stdout}{done.stderr}"
    return done.stdout


def replay_outboxes(stack: DevStack, since: datetime) -> dict[str, int]:
    """``salesflow outbox replay --service X --since <start>`` for every service, in parallel."""

    def one(name: str) -> int:
        out = salesflow_cli(
            stack, name, "outbox", "replay", "--service", name, "--since", since.isoformat()
        )
        match = re.search(r"(\d+) event\(s\)", out)
        return int(match.group(1)) if match else -1

    with ThreadPoolExecutor(len(registry.SERVICES)) as pool:
        return dict(zip(registry.SERVICES, pool.map(one, registry.SERVICES), strict=True))


DUPLICATE = re.compile(r"^salesflow_events_consumed_total\{([^}]*)\}\s+([0-9.e+]+)$", re.M)


async def duplicates_absorbed(clients: Clients) -> dict[str, int]:
    """Duplicates the inboxes dropped, per service, since each process last started."""
    found = {}
    for name, client in clients.http.items():
        try:
            text = (await client.get("/metrics", headers=ADMIN)).text
        except httpx.HTTPError:
            continue
        found[name] = int(
            sum(
                float(v) for labels, v in DUPLICATE.findall(text) if 'outcome="duplicate"' in labels
            )
        )
    return found


def now() -> datetime:
    return datetime.now(UTC)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))
