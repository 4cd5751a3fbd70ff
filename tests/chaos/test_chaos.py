"""Crashes and broker loss: journeys from an existing customer's opportunity to onboarding run
while services are SIGKILLed/SIGSTOPped or the broker goes away; afterwards every invariant
must hold. Each test prints what it did and fails naming the first broken invariant.

N journeys: SALESFLOW_CHAOS_JOURNEYS (default 300) and SALESFLOW_CHAOS_BROKER_JOURNEYS
(default 30). Faults last at most SALESFLOW_CHAOS_FAULT_S seconds (default 60).
SALESFLOW_CHAOS_REPLICAS=2 (Apache Kafka + PostgreSQL): two processes per service; clients take
them in turn, the fault loop kills any of them (see conftest.py)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from chaos_kit import (
    SESSION_TIMEOUT_MS,
    Clients,
    FaultLog,
    Ledger,
    broken_invariant,
    configure_catalog,
    duplicates_absorbed,
    env_int,
    fault_loop,
    now,
    replay_outboxes,
    run_journeys,
    settle,
    supervised_simulator,
    wait_all_ready,
)

from salesflow.stack import DevStack

pytestmark = pytest.mark.slow


async def test_journeys_survive_service_crashes(chaos_stack: DevStack, topic_prefix: str) -> None:
    stack = chaos_stack
    n = env_int("SALESFLOW_CHAOS_JOURNEYS", 300)
    fault_s = env_int("SALESFLOW_CHAOS_FAULT_S", 60)
    ledger, faults = Ledger(), FaultLog()
    clients = Clients(stack, ledger)
    stop_sim, stop_faults = asyncio.Event(), asyncio.Event()
    simulator = asyncio.create_task(supervised_simulator(stack.bootstrap, topic_prefix, stop_sim))
    chaos = driving = None
    began = time.monotonic()
    try:
        await configure_catalog(clients)
        chaos = asyncio.create_task(
            fault_loop(stack, faults, stop_faults, stop_for_s=SESSION_TIMEOUT_MS / 1000 + 3)
        )
        driving = asyncio.create_task(run_journeys(clients, uuid.uuid4().hex[:6], n))
        await asyncio.wait({driving, chaos}, timeout=fault_s)
        stop_faults.set()
        await chaos  # also raises if the fault loop broke
        fault_phase = time.monotonic() - began
        recovered_s = await wait_all_ready(stack)
        await asyncio.wait_for(driving, 180)  # journeys left over finish without faults
        driven = time.monotonic() - began
        state = await settle(clients, n)
        settled_at = time.monotonic() - began
        problem = await broken_invariant(clients, stack, ledger, n, state)
        print(
            f"\n[chaos] {n} journeys, 4 clients, {stack.replicas} process(es) per service; "
            f"faults for {fault_phase:.0f}s: {faults.summary()}"
            f"; all ready {recovered_s:.1f}s later"
            f"\n[chaos] journeys driven in {driven:.0f}s, settled at {settled_at:.0f}s; "
            f"{len(ledger.ok)} 2xx recorded; client retries: {dict(ledger.retries)}"
            f"\n[chaos] duplicates absorbed (since last restart): "
            f"{await duplicates_absorbed(clients)}; funnel "
            f"{ {s['stage']: s['count'] for s in state.funnel['stages'] if s['count']} }"
        )
        if stack.replicas > 1:
            print(f"[chaos] calls per process: {dict(sorted(clients.served.items()))}")
        assert problem is None, f"broken invariant: {problem}"
    finally:
        stop_faults.set()
        for task in (chaos, driving):
            if task is not None and not task.done():
                task.cancel()
        stop_sim.set()
        try:
            restarts = await asyncio.wait_for(simulator, 30)
            print(f"[chaos] simulator restarts: {restarts}")
        except (TimeoutError, Exception):
            simulator.cancel()
        await clients.close()


async def test_broker_loss(chaos_stack: DevStack, topic_prefix: str) -> None:
    """Kafka: SIGKILL mid-run and restart (same port, same data): no replay needed.
    Embedded: a restart loses everything; ``salesflow outbox replay --since`` in every service."""
    stack = chaos_stack
    n = env_int("SALESFLOW_CHAOS_BROKER_JOURNEYS", 30)
    ledger = Ledger()
    clients = Clients(stack, ledger)
    stop_sim = asyncio.Event()
    simulator = asyncio.create_task(supervised_simulator(stack.bootstrap, topic_prefix, stop_sim))
    began, start = time.monotonic(), now()
    driving = None
    try:
        await configure_catalog(clients)
        driving = asyncio.create_task(run_journeys(clients, uuid.uuid4().hex[:6], n))
        # mid-run: once a third of the journeys got their acceptance
        while sum(s == "accepted" for _, s, _ in ledger.ok) < n // 3 and not driving.done():
            await asyncio.sleep(0.1)
        handle = stack.broker
        assert handle is not None
        lost_at = time.monotonic() - began
        if handle.kind == "kafka":
            handle.kill()
            stack.broker = await asyncio.to_thread(handle.restart)
            replayed: dict[str, int] = {}
        else:
            stack.broker = await asyncio.to_thread(handle.restart)
            replayed = await asyncio.to_thread(replay_outboxes, stack, start)
            # The simulator (the logistics partner) has no outbox: statuses it published that
            # nobody had consumed yet died with the broker, and it never retells a story it
            # told (in-memory `seen`). A fresh one (new group: reads from the start) retells every
            # replayed order; fulfillment
            # must absorb the repeated statuses.
            stop_sim.set()
            await asyncio.wait_for(simulator, 30)
            stop_sim = asyncio.Event()
            simulator = asyncio.create_task(
                supervised_simulator(stack.bootstrap, topic_prefix, stop_sim, "simulator-2")
            )
        back_at = time.monotonic() - began
        await asyncio.wait_for(driving, 180)
        state = await settle(clients, n)
        problem = await broken_invariant(clients, stack, ledger, n, state)
        print(
            f"\n[chaos] {handle.kind} broker lost at {lost_at:.1f}s, back at {back_at:.1f}s; "
            f"{n} journeys; outbox replay: {replayed or 'none'}"
            f"\n[chaos] settled at {time.monotonic() - began:.0f}s; {len(ledger.ok)} 2xx recorded;"
            f" client retries: {dict(ledger.retries)}; duplicates absorbed: "
            f"{await duplicates_absorbed(clients)}"
        )
        assert problem is None, f"broken invariant: {problem}"
    finally:
        if driving is not None and not driving.done():
            driving.cancel()
        stop_sim.set()
        try:
            await asyncio.wait_for(simulator, 30)
        except (TimeoutError, Exception):
            simulator.cancel()
        await clients.close()
