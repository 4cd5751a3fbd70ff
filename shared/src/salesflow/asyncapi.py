"""Generate the AsyncAPI 3.0 document of every Salesflow topic and event from the contracts.

The pydantic payload models in ``salesflow.contracts.events`` are the published contract; this
document is derived from them (``salesflow asyncapi`` writes ``docs/asyncapi.yaml``, a test checks
that the committed file is current). Output is deterministic: no timestamps, fixed ordering.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from salesflow import __version__
from salesflow.contracts.catalog import EventSpec, TopicSpec, all_events, all_topics
from salesflow.contracts.envelope import CONTENT_TYPE, SPECVERSION
from salesflow.contracts.events import KEY_FIELDS, consumed_types

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.4.0"
DEFAULT_PATH = Path("docs") / "asyncapi.yaml"
HEADERS_SCHEMA = "CloudEventsHeaders"
_SCHEMA_REF = "#/components/schemas/{model}"

# Producers in the order of the sales process; channels and operations follow it.
PROCESS_ORDER = (
    "leads",
    "opportunities",
    "offers",
    "orders",
    "logistics",
    "fulfillment",
    "aftersales",
    "controlling",
)

DESCRIPTION = """\
Every handoff between Salesflow services is one event on one Kafka topic.

- Envelope: CloudEvents 1.0 in Kafka binary mode. The attributes travel as `ce_*` headers \
(see the message headers); the value is the JSON payload (`content-type: application/json`).
- `ce_id` is unique per event and is the consumers' deduplication key: an event may be \
delivered more than once.
- `ce_correlationid` is one id per customer journey, carried through every stage; \
`ce_causationid` is the `ce_id` of the event that caused this one; `traceparent` is W3C trace \
context.
- Topics are named `<service>.<aggregate>.v<major>`. The message key (and `ce_subject`) is the \
aggregate id, so events of one aggregate are ordered; payloads carry the aggregate's `version` \
and consumers drop stale versions.
- Money is `{amount, currency}` with the amount as a decimal string and an ISO 4217 currency; \
quantities are decimal strings; timestamps are RFC 3339 in UTC.
- Evolution: only additive changes inside a topic version, consumers ignore unknown fields; \
a breaking change gets a new topic and event type version (`v2`).
- Events a consumer cannot process go to that consumer's dead-letter topic `<service>.dlq`.
"""


class _SchemaGenerator(GenerateJsonSchema):
    """Pydantic's JSON Schema without the noise of a generated title on every property."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


PUBLISHERS = frozenset(
    {"leads", "opportunities", "offers", "orders", "fulfillment", "aftersales", "logistics"}
)


def _ordered_topics() -> list[TopicSpec]:
    def rank(topic: TopicSpec) -> tuple[int, str]:
        order = PROCESS_ORDER.index(topic.producer) if topic.producer in PROCESS_ORDER else 99
        return order, topic.name

    # only the published catalog: topics registered by tests or plugins stay out
    published = [t for t in all_topics().values() if t.producer in PUBLISHERS]
    return sorted(published, key=rank)


def _events_of(topic: str) -> list[EventSpec]:
    return [spec for spec in all_events().values() if spec.topic == topic]


def _payload_schemas(events: list[EventSpec]) -> tuple[dict[str, str], dict[str, Any]]:
    """JSON Schemas (serialization mode) of every payload with all definitions hoisted.

    Returns the schema name of each event type's payload and the sorted schema components.
    """
    models = list(dict.fromkeys(spec.payload for spec in events))
    refs, top = models_json_schema(
        [(model, "serialization") for model in models],
        ref_template=_SCHEMA_REF,
        schema_generator=_SchemaGenerator,
    )
    defs: dict[str, Any] = top.get("$defs", {})
    prefix = _SCHEMA_REF.format(model="")
    names = {
        spec.type: refs[(spec.payload, "serialization")]["$ref"].removeprefix(prefix)
        for spec in events
    }
    return names, {name: defs[name] for name in sorted(defs)}


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary mode, plus correlation, "
        "causation and trace context. Header values are UTF-8 strings.",
        "required": ["ce_id", "ce_type", "ce_source", "ce_specversion", "ce_time"],
        "properties": {
            "ce_id": {
                "type": "string",
                "format": "uuid",
                "description": "Event id, unique per event; consumers deduplicate on it.",
            },
            "ce_type": {
                "type": "string",
                "description": "Event type with its major version.",
                "examples": ["offer.accepted.v1"],
            },
            "ce_source": {
                "type": "string",
                "format": "uri-reference",
                "description": "Producer of the event.",
                "examples": ["/salesflow/offers"],
            },
            "ce_subject": {
                "type": "string",
                "description": "Aggregate id; equal to the message key.",
            },
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event was recorded (RFC 3339 with offset; UTC).",
            },
            "ce_specversion": {"type": "string", "const": SPECVERSION},
            "ce_correlationid": {
                "type": "string",
                "description": "One id per customer journey, copied from the causing event.",
            },
            "ce_causationid": {
                "type": "string",
                "description": "`ce_id` of the event that caused this one, if any.",
            },
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C Trace Context `traceparent`.",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
        },
    }


def _message(spec: EventSpec, topic: TopicSpec, schema_name: str) -> dict[str, Any]:
    own: dict[str, Any] = {"ce_type": {"const": spec.type}}
    if not topic.external:
        own["ce_source"] = {"const": f"/salesflow/{topic.producer}"}
    key = KEY_FIELDS[topic.name]
    return {
        "name": spec.type,
        "title": spec.name,
        "summary": spec.description,
        "description": f"Published by `{topic.producer}` on `{topic.name}`; "
        f"key and `ce_subject`: `{key}`.",
        "contentType": CONTENT_TYPE,
        "headers": {
            "allOf": [
                {"$ref": _SCHEMA_REF.format(model=HEADERS_SCHEMA)},
                {
                    "type": "object",
                    "required": ["ce_subject", "ce_correlationid"],
                    "properties": own,
                },
            ]
        },
        "payload": {"$ref": _SCHEMA_REF.format(model=schema_name)},
        "correlationId": {"$ref": "#/components/correlationIds/journey"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": f"`{key}` of the payload"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel(topic: TopicSpec, events: list[EventSpec]) -> dict[str, Any]:
    who = "external production and logistics systems" if topic.external else topic.producer
    consumers = ", ".join(topic.consumers) or "none"
    channel: dict[str, Any] = {
        "address": topic.name,
        "title": topic.name,
        "description": f"{topic.description}\n\nProducer: {who}. Consumers: {consumers}. "
        f"Partitions: {topic.partitions}.",
        "messages": {spec.type: {"$ref": f"#/components/messages/{spec.type}"} for spec in events},
        "bindings": {
            "kafka": {"partitions": topic.partitions, "bindingVersion": KAFKA_BINDING_VERSION}
        },
    }
    if topic.external:
        channel["tags"] = [{"name": "external"}]
    return channel


def _operation(action: str, service: str, topic: TopicSpec, types: list[str]) -> dict[str, Any]:
    verb = "publishes" if action == "send" else "consumes"
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic.name}"},
        "title": f"{service} {verb} {topic.name}",
        "summary": f"{service} {verb} " + ", ".join(types),
        "messages": [{"$ref": f"#/channels/{topic.name}/messages/{t}"} for t in types],
    }


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as plain data."""
    topics = _ordered_topics()
    events = [spec for topic in topics for spec in _events_of(topic.name)]
    schema_names, payload_schemas = _payload_schemas(events)
    if HEADERS_SCHEMA in payload_schemas:
        raise ValueError(f"a payload model must not be called {HEADERS_SCHEMA}")

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in topics:
        topic_events = _events_of(topic.name)
        channels[topic.name] = _channel(topic, topic_events)
        all_types = [spec.type for spec in topic_events]
        operations[f"{topic.producer}.send.{topic.name}"] = _operation(
            "send", topic.producer, topic, all_types
        )
        for consumer in topic.consumers:
            types = list(consumed_types(topic.name, consumer))
            operations[f"{consumer}.receive.{topic.name}"] = _operation(
                "receive", consumer, topic, types
            )
        for spec in topic_events:
            messages[spec.type] = _message(spec, topic, schema_names[spec.type])

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Salesflow events",
            "version": __version__,
            "description": DESCRIPTION,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "title": "Production Apache Kafka",
                "description": "Apache Kafka (KRaft) of docker-compose or the Strimzi cluster on "
                "Kubernetes; services read the address from `KAFKA_BOOTSTRAP_SERVERS`.",
            },
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "title": "Local broker",
                "description": "The embedded Kafka-compatible broker (`salesflow broker`) or a "
                "local Apache Kafka (`salesflow broker --kind kafka`) on loopback.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {HEADERS_SCHEMA: _headers_schema(), **payload_schemas},
            "messages": messages,
            "correlationIds": {
                "journey": {
                    "description": "The customer journey, carried through every stage.",
                    "location": "$message.header#/ce_correlationid",
                }
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors or aliases, block style for multi-line strings."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_yaml() -> str:
    """The document as deterministic YAML."""
    return yaml.dump(
        build_document(),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def default_path() -> Path:
    """``docs/asyncapi.yaml`` in the repository (or the working directory if not in one)."""
    root = Path(__file__).resolve().parents[3]
    if (root / "shared" / "pyproject.toml").is_file():
        return root / DEFAULT_PATH
    return Path.cwd() / DEFAULT_PATH


def write(path: str | Path | None = None) -> Path:
    """Write the document; returns the path written."""
    target = Path(path) if path is not None else default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_yaml(), encoding="utf-8")
    return target


def is_current(path: str | Path | None = None) -> bool:
    """True if the file at ``path`` equals what would be generated now."""
    target = Path(path) if path is not None else default_path()
    return target.is_file() and target.read_text(encoding="utf-8") == render_yaml()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="salesflow asyncapi", description=__doc__)
    parser.add_argument("path", nargs="?", help=f"output file (default {DEFAULT_PATH})")
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        if is_current(args.path):
            return 0
        sys.stderr.write("AsyncAPI document is out of date: run `salesflow asyncapi`\n")
        return 1
    sys.stdout.write(f"{write(args.path)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
