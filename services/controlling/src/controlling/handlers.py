"""Controlling consumes every topic of the catalog with its own consumer group."""

from datetime import UTC, datetime

from controlling.tables import JourneyEvent
from salesflow.contracts.catalog import all_events, all_topics
from salesflow.messaging.handlers import Handler, HandlerContext


async def record_journey_event(ctx: HandlerContext) -> None:
    event = ctx.event
    ctx.session.add(
        JourneyEvent(
            event_id=event.id,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            type=event.type,
            source=event.source,
            subject=event.subject,
            occurred_at=event.time,
            recorded_at=datetime.now(UTC),
        )
    )


def _consumed_types() -> list[str]:
    topics = {name for name, spec in all_topics().items() if "controlling" in spec.consumers}
    return [t for t, spec in all_events().items() if spec.topic in topics]


HANDLERS: dict[str, Handler] = dict.fromkeys(_consumed_types(), record_journey_event)
