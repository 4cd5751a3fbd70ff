"""What the controlling store keeps beside each event, read from its payload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMPANY_FIELDS = ("company", "account", "customer")
RELATED_JOURNEY_FIELDS = ("previous_correlation_ids", "related_correlation_ids")


@dataclass(frozen=True)
class EventAttributes:
    aggregate: str  # aggregate name from the topic: lead, opportunity, offer, order …
    aggregate_id: str | None
    version: int | None
    owner: str | None
    team: str | None
    company_id: str | None
    account_id: str | None
    related_journeys: tuple[str, ...]


def aggregate_of(topic: str) -> str:
    """``offers.offer.v1`` -> ``offer``."""
    parts = topic.split(".")
    return parts[1] if len(parts) >= 3 else topic


def attributes(topic: str, key_field: str | None, data: Mapping[str, Any]) -> EventAttributes:
    company_id = None
    for name in COMPANY_FIELDS:
        snapshot = data.get(name)
        if isinstance(snapshot, Mapping) and isinstance(snapshot.get("company_id"), str):
            company_id = snapshot["company_id"]
            break
    related: list[str] = []
    for name in RELATED_JOURNEY_FIELDS:
        values = data.get(name)
        if isinstance(values, list):
            related += [v for v in values if isinstance(v, str) and v and v not in related]
    version = data.get("version")
    return EventAttributes(
        aggregate=aggregate_of(topic),
        aggregate_id=_text(data.get(key_field)) if key_field else None,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        owner=_text(data.get("owner")),
        team=_text(data.get("team")),
        company_id=company_id,
        account_id=_text(data.get("account_id")),
        related_journeys=tuple(related),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
