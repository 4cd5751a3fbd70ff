"""Human-readable order numbers: ``SO-2026-000123``, one gapless series per year."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def series_of(prefix: str, moment: datetime, timezone: str = "UTC") -> str:
    """The numbering series (``SO-2026``) an order received at ``moment`` belongs to."""
    return f"{prefix}-{moment.astimezone(ZoneInfo(timezone)).year}"


def format_number(series: str, value: int, digits: int = 6) -> str:
    if value < 1:
        raise ValueError("order numbers start at 1")
    return f"{series}-{value:0{digits}d}"
