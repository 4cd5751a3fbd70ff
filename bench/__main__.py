"""`make bench`: every benchmark, one table, and bench/results.json.

Figures, not pass/fail: compare them with the targets printed beside them."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import hop

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
TARGETS = {
    "events_per_s": "≥ 5,000",
    "hop_p50_ms": "",
    "hop_p99_ms": "≤ 25",
}


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


def main() -> int:
    console = Console()
    results: dict[str, dict] = {}
    kinds = tuple(sys.argv[1:]) or ("embedded", "kafka")
    started = time.monotonic()
    console.print(f"backbone hop on {', '.join(kinds)} …")
    for kind, figures in hop.main(kinds).items():
        results[f"hop/{kind}"] = figures
    for name, module in _service_benches().items():
        console.print(f"{name} …")
        try:
            takes_argv = "argv" in inspect.signature(module.main).parameters
            results[name] = module.main([]) if takes_argv else module.main()
        except Exception as exc:  # one broken benchmark must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    table = Table(title=f"Salesflow benchmarks ({time.monotonic() - started:.0f}s)")
    table.add_column("benchmark")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target")
    for bench, figures in results.items():
        for key, value in (figures or {}).items():
            table.add_row(bench, key, str(value), TARGETS.get(key, ""))
    console.print(table)
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
