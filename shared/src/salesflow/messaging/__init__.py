"""Outbox → relay → Kafka → consumer → inbox, and the dead-letter path."""
