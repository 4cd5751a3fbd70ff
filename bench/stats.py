"""Pure helpers of the benchmark report: percentiles, ratios, resident memory, CPU time."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when there are none."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("q lies between 0 and 100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``, None when either is unknown or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return ""
    if r >= 100:
        return f"{r:,.0f}×"
    if r >= 0.01:
        return f"{r:.2f}×"
    return f"{r:.2g}×"


def rss_mb(pid: int, proc: Path = Path("/proc")) -> float | None:
    """Resident set size of ``pid`` in MB (VmRSS of /proc/<pid>/status); None once it is gone."""
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_s(pid: int, proc: Path = Path("/proc")) -> float | None:
    """User + system CPU seconds ``pid`` has used (/proc/<pid>/stat); None once it is gone."""
    try:
        fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
