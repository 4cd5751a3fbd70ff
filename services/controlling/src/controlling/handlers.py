"""Controlling consumes every topic of the catalog with its own consumer group: each event is
stored once (its id is the key), and the projection of its aggregate is folded again."""

from datetime import UTC, datetime

from controlling.domain.attributes import attributes
from controlling.domain.universe import CHUNK_EVENTS, chunk_of, fits_columns
from controlling.projector import fit, project, project_chunk
from controlling.tables import ControllingJourneyLink, JourneyEvent
from salesflow.contracts.catalog import all_events, all_topics, event_spec
from salesflow.contracts.envelope import MalformedEvent
from salesflow.contracts.events import KEY_FIELDS
from salesflow.messaging.handlers import Handler, HandlerContext, PermanentError
from salesflow.upserts import PerDialect

CORRELATION_ID_LENGTH = 64


async def record_event(ctx: HandlerContext) -> None:
    event = ctx.event
    spec = event_spec(event.type)
    if spec is None:  # the consumer routes only catalog types here
        raise PermanentError(f"unknown event type {event.type}")
    try:
        ctx.payload()
    except MalformedEvent as exc:
        raise PermanentError(str(exc)) from exc
    session = ctx.session
    attrs = attributes(spec.topic, KEY_FIELDS.get(spec.topic), event.data)
    values = fit(
        JourneyEvent,
        {
            "event_id": event.id,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "occurred_at": event.time,
            "recorded_at": datetime.now(UTC),
            "topic": spec.topic,
            "service": all_topics()[spec.topic].producer,
            "aggregate": attrs.aggregate,
            "aggregate_id": attrs.aggregate_id,
            "version": attrs.version,
            "owner": attrs.owner,
            "team": attrs.team,
            "company_id": attrs.company_id,
            "account_id": attrs.account_id,
            "data": event.data,
        },
    )
    # Core on the session's connection (no ORM objects, no autoflush)
    connection = await session.connection()
    stored = await connection.execute(_STORE_EVENT.of(connection), values)
    if stored.rowcount != 1:
        return  # stored already (a redelivery after the inbox was cleared, e.g. DLQ replay)
    journey = values["correlation_id"]
    links = [
        {"correlation_id": journey, "earlier_correlation_id": earlier, "event_id": event.id}
        for earlier in attrs.related_journeys
        if earlier != journey and len(earlier) <= CORRELATION_ID_LENGTH
    ]
    if links:  # the first event naming an earlier journey links it
        await connection.execute(_LINK_JOURNEYS.of(connection), links)
    if event.type in CHUNK_EVENTS:
        chunk = chunk_of(event.type, event.id, event.time, event.data)
        if not fits_columns(chunk):
            raise PermanentError("chunk number or count beyond 64 bits")
        await project_chunk(session, chunk)
    elif attrs.aggregate_id:
        await project(connection, attrs.aggregate, attrs.aggregate_id)


_EVENTS = JourneyEvent.__table__  # type: ignore[attr-defined]
_LINKS = ControllingJourneyLink.__table__  # type: ignore[attr-defined]
# the event once: a redelivered id inserts nothing (rowcount 0)
_STORE_EVENT = PerDialect(
    lambda insert: insert(_EVENTS).on_conflict_do_nothing(index_elements=["event_id"])
)
# a link once: the first event naming the earlier journey keeps it
_LINK_JOURNEYS = PerDialect(
    lambda insert: insert(_LINKS).on_conflict_do_nothing(
        index_elements=["correlation_id", "earlier_correlation_id"]
    )
)


def _consumed_types() -> list[str]:
    topics = {name for name, spec in all_topics().items() if "controlling" in spec.consumers}
    return [t for t, spec in all_events().items() if spec.topic in topics]


HANDLERS: dict[str, Handler] = dict.fromkeys(_consumed_types(), record_event)
