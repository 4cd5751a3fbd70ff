"""Registry of topics and event types: the single place that maps a type to topic and payload."""

from __future__ import annotations

from dataclasses import dataclass

from salesflow.contracts.types import Payload


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    partitions: int
    description: str
    external: bool = False  # produced by systems outside Salesflow (e.g. logistics)
    consumers: tuple[str, ...] = ()  # services (or external systems) that subscribe


@dataclass(frozen=True)
class EventSpec:
    type: str  # CloudEvents type, e.g. "offer.accepted.v1"
    topic: str
    payload: type[Payload]
    description: str

    @property
    def name(self) -> str:
        """Type without the version suffix, as the catalog names it (``offer.accepted``)."""
        return self.type.rsplit(".", 1)[0]


TOPICS: dict[str, TopicSpec] = {}
EVENT_TYPES: dict[str, EventSpec] = {}


def register_topic(spec: TopicSpec) -> TopicSpec:
    TOPICS[spec.name] = spec
    return spec


def register_event(
    type_: str, topic: TopicSpec, description: str
):  # decorator on the payload class
    def wrap(model: type[Payload]) -> type[Payload]:
        if type_ in EVENT_TYPES:
            raise ValueError(f"event type {type_} registered twice")
        EVENT_TYPES[type_] = EventSpec(type_, topic.name, model, description)
        return model

    return wrap


def event_spec(type_: str) -> EventSpec | None:
    _load()
    return EVENT_TYPES.get(type_)


def dlq_topic(service: str) -> str:
    return f"{service}.dlq"


_loaded = False


def _load() -> None:
    """Import the payload modules so that they register themselves."""
    global _loaded
    if not _loaded:
        import salesflow.contracts.events  # noqa: F401

        _loaded = True


def all_topics() -> dict[str, TopicSpec]:
    _load()
    return TOPICS


def all_events() -> dict[str, EventSpec]:
    _load()
    return EVENT_TYPES


def topics_consumed_by(service: str) -> list[str]:
    """Topics whose catalog entry names ``service`` among its consumers."""
    return sorted(name for name, spec in all_topics().items() if service in spec.consumers)


def topics_produced_by(service: str) -> list[str]:
    return sorted(name for name, spec in all_topics().items() if spec.producer == service)
