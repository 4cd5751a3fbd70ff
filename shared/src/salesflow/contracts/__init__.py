"""The published language: event envelope, payload models, topics."""

from salesflow.contracts.catalog import EVENT_TYPES, TOPICS, EventSpec, TopicSpec, event_spec
from salesflow.contracts.envelope import Envelope, MalformedEvent, new_event

__all__ = [
    "EVENT_TYPES",
    "TOPICS",
    "Envelope",
    "EventSpec",
    "MalformedEvent",
    "TopicSpec",
    "event_spec",
    "new_event",
]
