"""Payload models of every event type; importing this package registers them in the catalog.

One module per producing service. Besides the registry, two pieces of contract data live here:
the payload field whose value is the message key (and ``ce_subject``) of each topic, and which
event types a consumer handles when it reads only some types of a topic.
"""

from __future__ import annotations

from salesflow.contracts.catalog import EVENT_TYPES, TOPICS
from salesflow.contracts.events import (  # noqa: F401  (importing registers the events)
    aftersales,
    fulfillment,
    leads,
    logistics,
    offers,
    opportunities,
    orders,
)

KEY_FIELDS: dict[str, str] = {
    "leads.lead.v1": "lead_id",
    "leads.import.v1": "import_id",
    "leads.segment.v1": "segment_id",
    "opportunities.opportunity.v1": "opportunity_id",
    "offers.offer.v1": "offer_id",
    "orders.order.v1": "order_id",
    "logistics.status.v1": "order_id",
    "fulfillment.fulfillment.v1": "fulfillment_id",
    "aftersales.account.v1": "account_id",
}
"""Topic -> payload field holding the message key (= aggregate id = ``ce_subject``)."""

CONSUMED_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "leads.lead.v1": {"opportunities": ("lead.converted.v1",)},
    "offers.offer.v1": {"orders": ("offer.accepted.v1",)},
    "orders.order.v1": {
        "fulfillment": ("order.confirmed.v1", "order.cancelled.v1"),
        "logistics": ("order.confirmed.v1", "order.cancelled.v1"),
    },
    "fulfillment.fulfillment.v1": {"aftersales": ("fulfillment.completed.v1",)},
    "aftersales.account.v1": {
        "opportunities": ("followup.identified.v1",),
        "leads": ("account.onboarded.v1",),
    },
}
"""Topic -> consumer -> the event types it handles, for consumers that use only some types.

A consumer of a topic (``TopicSpec.consumers``) not listed here handles every type of it.
"""


def consumed_types(topic: str, consumer: str) -> tuple[str, ...]:
    """Event types of ``topic`` that ``consumer`` handles (empty if it does not consume it)."""
    spec = TOPICS.get(topic)
    if spec is None or consumer not in spec.consumers:
        return ()
    selected = CONSUMED_TYPES.get(topic, {}).get(consumer)
    if selected is not None:
        return selected
    return tuple(t for t, e in EVENT_TYPES.items() if e.topic == topic)
