"""Event handlers of the leads service, by event type. Types of a consumed topic that
have no handler here are acknowledged and counted, never fatal."""

from salesflow.messaging.handlers import Handler

HANDLERS: dict[str, Handler] = {}
