"""The one table: every figure beside its target and the same-run reference it compares with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table

from bench.startup import TARGET_S
from bench.stats import fmt_ratio, ratio
from bench.system import TARGET_FLOWS_PER_S, TARGET_HANDOFF_P99_MS

# targets of the hop and the services' own figures (by figure name)
TARGETS = {
    "events_per_s": "≥ 5,000",
    "hop_p99_ms": "≤ 25",
    "import_rows_per_s": "≥ 100,000",
    "segment_count_p99_ms": "≤ 100",
    "touchpoint_p99_ms": "≤ 10",
    "orders_per_s": "≥ 1,000",
}
ERPNEXT = "ERPNext 15: ~2 flows/s, p50 ~2.1 s (same machine, 4 clients; issue 10, not this run)"
# hop figure → the raw figure on the same broker it compares with
HOP_REFERENCES = {
    "events_per_s": "raw_kafka_msgs_per_s",
    "hop_p50_ms": "raw_kafka_rtt_p50_ms",
    "hop_p99_ms": "raw_kafka_rtt_p99_ms",
}
REFERENCE_LABELS = {
    "raw_kafka_msgs_per_s": "aiokafka {} msgs/s",
    "raw_kafka_rtt_p50_ms": "aiokafka RTT p50 {} ms",
    "raw_kafka_rtt_p99_ms": "aiokafka RTT p99 {} ms",
    "raw_sqlite_commits_per_s": "SQLite {} commits/s",
    "raw_sqlite_indexed_rows_per_s": "sqlite3 alone, same rows and indexes: {} rows/s",
    "reference.requests_per_s": "plain FastAPI + SQLModel insert: {} requests/s",
}
# a service bench's figure → its own same-run reference (a figure of the same bench)
SERVICE_REFERENCES = {
    "import_rows_per_s": "raw_sqlite_indexed_rows_per_s",
    "orders_per_s": "reference.requests_per_s",
}


JSON_ONLY = {"system/handoffs_by_controlling"}  # cross-check, in results.json


@dataclass
class Row:
    bench: str
    figure: str
    value: Any
    target: str = ""
    reference: str = ""
    ratio: str = ""


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested figures (a service bench's {"intake": {"p50_ms": …}}) as "intake.p50_ms" rows."""
    out: list[tuple[str, Any]] = []
    for key, value in figures.items():
        if isinstance(value, dict) and value:
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _ref(refs: dict[str, Any], key: str) -> tuple[str, float | None]:
    value = refs.get(key)
    if value is None:
        return "", None
    return REFERENCE_LABELS.get(key, key + " {}").format(_num(value)), value


def _delivery_ceiling(flows: dict[str, Any], hop: dict[str, Any]) -> Row | None:
    """Flows/s the machine could carry if the services did nothing but hand their events over:
    the hop's deliveries/s (outbox → broker → inbox, both cores busy) / deliveries per flow."""
    per_flow, rate = flows.get("deliveries_per_flow"), hop.get("events_per_s")
    if not per_flow or not rate:
        return None
    what = f"≈ hop {_num(rate)} deliveries/s ÷ {_num(per_flow)} deliveries per flow"
    return Row(
        "system/flows",
        "flows_per_s ceiling, handoffs alone",
        _num(rate / per_flow),
        f"≥ {TARGET_FLOWS_PER_S}",
        what,
        fmt_ratio(ratio(flows.get("flows_per_s"), rate / per_flow)),
    )


def rows(results: dict[str, dict[str, Any]]) -> list[Row]:
    out: list[Row] = []
    system_refs = results.get("system/references", {})
    for bench, figures in results.items():
        if bench in JSON_ONLY:
            continue
        if not isinstance(figures, dict):
            out.append(Row(bench, "", figures))
            continue
        if "error" in figures:
            out.append(Row(bench, "error", figures["error"]))
            continue
        if bench.startswith("hop/"):
            refs = results.get(f"references/{bench.split('/', 1)[1]}", {})
            for key, value in figures.items():
                label, ref = _ref(refs, HOP_REFERENCES.get(key, ""))
                out.append(
                    Row(
                        bench,
                        key,
                        _num(value),
                        TARGETS.get(key, ""),
                        label,
                        fmt_ratio(ratio(value, ref)),
                    )
                )
        elif bench == "system/flows":
            label, ref = _ref(system_refs, "raw_sqlite_commits_per_s")
            for key, value in figures.items():
                row = Row(bench, key, _num(value))
                if key == "flows_per_s":
                    row.target = f"≥ {TARGET_FLOWS_PER_S} (ERPNext ~2)"
                    row.reference, row.ratio = label, fmt_ratio(ratio(value, ref))
                elif key == "flow_p50_ms":
                    row.target = "(ERPNext ~2,100)"
                out.append(row)
            out.append(Row(bench, "(comparison)", "", ERPNEXT))
            ceiling = _delivery_ceiling(figures, results.get("hop/embedded", {}))
            if ceiling is not None:
                out.append(ceiling)
        elif bench == "system/handoffs":
            p50_label, p50_ref = _ref(system_refs, "raw_kafka_rtt_p50_ms")
            p99_label, p99_ref = _ref(system_refs, "raw_kafka_rtt_p99_ms")
            for name, f in figures.items():
                if not f["reacted"]:
                    what = f"{f['published']} events, no reaction events (read model only)"
                    out.append(Row(bench, name, "–", "", what))
                    continue
                n = f"{f['reacted']}/{f['published']} reacted"
                out.append(
                    Row(
                        bench,
                        f"{name} p50 ms ({n})",
                        _num(f["p50_ms"]),
                        "",
                        p50_label,
                        fmt_ratio(ratio(f["p50_ms"], p50_ref)),
                    )
                )
                if f.get("relay_p50_ms") is not None:
                    split = (
                        f"relay {_num(f['relay_p50_ms'])} + consumer {_num(f['consumer_p50_ms'])}"
                    )
                    out.append(Row(bench, f"{name} p50 split ms", split))
                out.append(
                    Row(
                        bench,
                        f"{name} p99 ms",
                        _num(f["p99_ms"]),
                        f"≤ {TARGET_HANDOFF_P99_MS}",
                        p99_label,
                        fmt_ratio(ratio(f["p99_ms"], p99_ref)),
                    )
                )
        elif bench == "system/memory_mb":
            for name, f in figures.items():
                value = f"idle {_mb(f['idle'])} / peak {_mb(f['peak_under_load'])}"
                out.append(Row(bench, f"{name} RSS MB", value))
        elif bench == "system/startup":
            for key, value in figures.items():
                target = f"≤ {TARGET_S:.0f}" if key == "dev_ready_s" else ""
                out.append(Row(bench, key, _num(value), target))
        else:
            flat = dict(_flat(figures))
            for key, value in flat.items():
                label, ref = _ref(flat, SERVICE_REFERENCES.get(key, ""))
                target = TARGETS.get(key, "")
                out.append(
                    Row(bench, key, _num(value), target, label, fmt_ratio(ratio(value, ref)))
                )
    return out


def table(results: dict[str, dict[str, Any]], elapsed_s: float) -> Table:
    t = Table(title=f"Salesflow benchmarks ({elapsed_s:.0f}s)")
    for column, justify in (
        ("benchmark", "left"),
        ("figure", "left"),
        ("value", "right"),
        ("target", "left"),
        ("same-run reference", "left"),
        ("ratio", "right"),
    ):
        t.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in rows(results):
        t.add_row(r.bench, r.figure, str(r.value), r.target, r.reference, r.ratio)
    return t
