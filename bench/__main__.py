"""`make bench`: every benchmark, one table, and bench/results.json.

Figures, not pass/fail: compare them with the targets and the same-run references printed
beside them.

    python -m bench                    everything (hop on embedded + kafka, services, system)
    python -m bench system             only the whole system (startup, flows, handoffs, memory)
    python -m bench hop [embedded|kafka]   only the backbone hop (with its references)
    python -m bench services           only the services' own benchmarks
    python -m bench embedded           as before: the hop on the embedded broker only
Options: --duration S (flow window, 30), --warmup S (10), --clients N (4)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import references, report
from bench import system as system_bench
from bench.startup import main as startup_main

ROOT = Path(__file__).resolve().parents[1]
SERVICES = (
    "leads",
    "opportunities",
    "offers",
    "orders",
    "fulfillment",
    "aftersales",
    "controlling",
)
PARTS = ("hop", "services", "system")
KINDS = ("embedded", "kafka")


def _service_benches() -> dict[str, object]:
    found = {}
    for name in SERVICES:
        path = ROOT / "services" / name / "bench" / f"bench_{name}.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found[name] = module
    return found


def _error(exc: BaseException) -> dict[str, str]:
    return {"error": f"{type(exc).__name__}: {exc}"[:500]}


def run_hop(kinds: tuple[str, ...], console: Console) -> dict[str, dict[str, Any]]:
    """Per broker kind: the raw references on a fresh broker, then the hop on the same one."""
    from bench import hop
    from salesflow import broker as brokers
    from salesflow.testing.helpers import free_port

    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        console.print(f"backbone hop and raw references on {kind} …")
        try:
            extra = (
                {"data_dir": Path(tempfile.mkdtemp(prefix="bench-kafka-"))}
                if kind == "kafka"
                else {}
            )
            handle = brokers.start(kind, port=free_port(), **extra)
        except Exception as exc:  # e.g. no Java for Apache Kafka: the other kinds still run
            results[f"hop/{kind}"] = _error(exc)
            continue
        try:
            results[f"references/{kind}"] = references.measure(handle.bootstrap)
            results[f"hop/{kind}"] = asyncio.run(hop.run_hop(handle.bootstrap))
        except Exception as exc:
            results.setdefault(f"hop/{kind}", _error(exc))
        finally:
            handle.stop()
    return results


def run_services(console: Console) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, module in _service_benches().items():
        console.print(f"{name} …")
        try:
            takes_argv = "argv" in inspect.signature(module.main).parameters
            results[name] = module.main([]) if takes_argv else module.main()
        except Exception as exc:  # one broken benchmark must not hide the others
            results[name] = _error(exc)
    return results


def run_system(args: argparse.Namespace, console: Console) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    console.print("salesflow dev: start to all seven ready …")
    try:
        results["system/startup"] = startup_main()
    except Exception as exc:
        results["system/startup"] = _error(exc)
    console.print(
        f"complete flows: {args.clients} clients, {args.warmup:.0f}s warm-up, "
        f"{args.duration:.0f}s measured …"
    )
    try:
        results.update(
            system_bench.main(clients=args.clients, warmup_s=args.warmup, duration_s=args.duration)
        )
    except Exception as exc:
        results["system/flows"] = _error(exc)
    return results


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="*", help=f"any of {', '.join((*PARTS, *KINDS))}")
    parser.add_argument("--duration", type=float, default=30.0, help="measured flow window (s)")
    parser.add_argument("--warmup", type=float, default=10.0, help="flow warm-up (s)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent flow clients")
    args = parser.parse_args(argv)
    what = set(args.what)
    unknown = what - {*PARTS, *KINDS}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}; choose from {PARTS + KINDS}")
    kinds = tuple(k for k in KINDS if k in what)
    parts = {p for p in PARTS if p in what}
    if kinds and not parts:
        parts = {"hop"}  # `python -m bench embedded`: the hop alone, as it always was
    args.parts = parts or set(PARTS)
    args.kinds = kinds or KINDS
    return args


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # `timeout`, CI and Ctrl-\ send SIGTERM: unwind, so that every `finally` stops the services
    # and brokers this run started (they live in sessions of their own and would outlive us)
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    console = Console()
    if not console.is_terminal:  # piped or logged: room for the six columns
        console = Console(width=180)
    results: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    elapsed: dict[str, float] = {}
    for part, run in (
        ("hop", lambda: run_hop(args.kinds, console)),
        ("services", lambda: run_services(console)),
        ("system", lambda: run_system(args, console)),
    ):
        if part in args.parts:
            began = time.monotonic()
            results.update(run())
            elapsed[part] = round(time.monotonic() - began, 1)
    results["elapsed_s"] = elapsed
    console.print(report.table(results, time.monotonic() - started))
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
