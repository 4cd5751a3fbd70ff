"""CloudEvents 1.0 envelope in Kafka binary mode: attributes travel as ``ce_*`` headers."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from salesflow.contracts.catalog import event_spec
from salesflow.contracts.types import to_utc

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"

# Header name -> Envelope attribute. Required ones first.
_REQUIRED = ("ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time")


class MalformedEvent(ValueError):
    """A record that is not a valid Salesflow event (bad headers, JSON or payload)."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None
    specversion: str = SPECVERSION
    extra_headers: dict[str, str] = field(default_factory=dict)
    # the validated payload, once asked for: handlers and routers ask more than once
    _payload: BaseModel | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        return self.subject

    def payload(self) -> BaseModel:
        """The validated payload model for a catalog type."""
        if self._payload is not None:
            return self._payload
        spec = event_spec(self.type)
        if spec is None:
            raise MalformedEvent(f"unknown event type {self.type!r}")
        try:
            payload = spec.payload.model_validate(self.data)
        except ValidationError as exc:
            raise MalformedEvent(f"payload of {self.type} invalid: {exc.errors()[:3]}") from exc
        object.__setattr__(self, "_payload", payload)  # frozen: a cache, not a change
        return payload

    def headers(self) -> list[tuple[str, bytes]]:
        hdrs = {
            "ce_id": self.id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_subject": self.subject,
            "ce_time": self.time.isoformat(),
            "ce_specversion": self.specversion,
            "ce_correlationid": self.correlation_id,
            "content-type": CONTENT_TYPE,
        }
        if self.causation_id:
            hdrs["ce_causationid"] = self.causation_id
        if self.traceparent:
            hdrs["traceparent"] = self.traceparent
        hdrs.update(self.extra_headers)
        return [(k, v.encode()) for k, v in hdrs.items()]

    def value(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), default=str).encode()

    @classmethod
    def from_record(cls, headers: list[tuple[str, bytes]] | None, value: bytes | None) -> Envelope:
        """Parse a Kafka record; raises MalformedEvent with the reason."""
        try:
            hdrs = {k: (v.decode() if v is not None else "") for k, v in (headers or [])}
        except UnicodeDecodeError as exc:
            raise MalformedEvent("headers are not UTF-8") from exc
        missing = [h for h in _REQUIRED if not hdrs.get(h)]
        if missing:
            raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
        if hdrs["ce_specversion"] != SPECVERSION:
            raise MalformedEvent(f"unsupported specversion {hdrs['ce_specversion']!r}")
        try:
            time = datetime.fromisoformat(hdrs["ce_time"])
        except ValueError as exc:
            raise MalformedEvent(f"ce_time is not ISO 8601: {hdrs['ce_time']!r}") from exc
        if time.tzinfo is None:
            raise MalformedEvent("ce_time lacks a timezone")
        try:
            time = to_utc(time)
        except ValueError as exc:
            raise MalformedEvent(f"ce_time {hdrs['ce_time']!r}: {exc}") from exc
        try:
            data = json.loads(value or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvent(f"value is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise MalformedEvent("value must be a JSON object")
        known = {*_REQUIRED, "ce_subject", "ce_correlationid", "ce_causationid", "traceparent"}
        return cls(
            id=hdrs["ce_id"],
            type=hdrs["ce_type"],
            source=hdrs["ce_source"],
            subject=hdrs.get("ce_subject", ""),
            time=time,
            data=data,
            correlation_id=hdrs.get("ce_correlationid") or hdrs["ce_id"],
            causation_id=hdrs.get("ce_causationid") or None,
            traceparent=hdrs.get("traceparent") or None,
            extra_headers={k: v for k, v in hdrs.items() if k not in known and k != "content-type"},
        )


def new_traceparent(parent: str | None = None) -> str:
    """W3C trace context: keep the trace id of the parent, new span id."""
    trace_id = parent.split("-")[1] if parent and parent.count("-") == 3 else os.urandom(16).hex()
    return f"00-{trace_id}-{os.urandom(8).hex()}-01"


def new_event(
    type_: str,
    subject: str,
    data: BaseModel | dict[str, Any],
    *,
    source: str,
    correlation_id: str | None = None,
    cause: Envelope | None = None,
    traceparent: str | None = None,
) -> Envelope:
    """Build an envelope; a ``cause`` passes on its correlation id and trace."""
    spec = event_spec(type_)
    if spec is None:
        raise ValueError(f"{type_!r} is not in the event catalog")
    if isinstance(data, BaseModel):
        if not isinstance(data, spec.payload):
            raise TypeError(f"{type_} needs a {spec.payload.__name__}, got {type(data).__name__}")
        body = data.model_dump(mode="json")
    else:
        body = spec.payload.model_validate(data).model_dump(mode="json")
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=type_,
        source=source,
        subject=str(subject),
        time=datetime.now(UTC),
        data=body,
        correlation_id=correlation_id or (cause.correlation_id if cause else event_id),
        causation_id=cause.id if cause else None,
        traceparent=new_traceparent(traceparent or (cause.traceparent if cause else None)),
    )
