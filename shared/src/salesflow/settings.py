"""Service settings: ``SALESFLOW_<SERVICE>_<FIELD>`` overrides ``SALESFLOW_<FIELD>``.

``KAFKA_BOOTSTRAP_SERVERS`` (un-prefixed) is honoured as well: it is the one setting that differs
between the embedded broker, local Apache Kafka and production.
"""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_JWT_SECRET = "salesflow-dev-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESFLOW_", extra="ignore")

    service: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8100

    database_url: str = ""
    kafka_bootstrap_servers: str = Field(
        default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    kafka_enable_idempotence: bool = False  # the embedded broker has no idempotent producer
    kafka_replication_factor: int = 1
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_request_timeout_ms: int = 10_000
    kafka_linger_ms: int = 0  # the relay hands over whole batches: lingering only adds latency
    kafka_compression: str | None = None
    kafka_fetch_max_wait_ms: int = 10  # small: an idle fetch returns quickly, events flow at once
    # After consumer_idle_after_s without records, fetches wait this long instead: idle services
    # then cost next to nothing (the embedded broker answers each short fetch with real work),
    # at the price of up to this delay for the first event after a quiet spell.
    kafka_fetch_idle_wait_ms: int = 250
    consumer_idle_after_s: float = 2.0
    # In a lull (consumer_lull_after_s without records) fetches wait kafka_fetch_lull_wait_ms:
    # fewer empty fetches between the bursts of a loaded system. Off (= the busy wait) by
    # default: with Apache Kafka, longer waits in lulls unsettled groups of two replicas
    # (members dropped and rejoining); `salesflow dev` turns it on for the embedded broker.
    kafka_fetch_lull_wait_ms: int = 10
    consumer_lull_after_s: float = 0.02
    topic_prefix: str = ""  # isolates tests (and tenants) sharing one broker

    relay_enabled: bool = True
    relay_batch_size: int = 500
    relay_poll_interval_s: float = 1.0
    outbox_retention_days: float = 7.0

    consumers_enabled: bool = True
    consumer_batch_size: int = 500
    # Offsets are committed at most this often (after the DB commit, always): a crash redelivers
    # up to this much more, which the inbox skips; stopping and rebalancing commit at once.
    consumer_commit_interval_s: float = 0.05
    consumer_max_retries: int = 3
    consumer_retry_backoff_s: float = 0.2

    jwt_secret: str = DEV_JWT_SECRET
    jwt_audience: str = "salesflow"
    jwt_algorithms: list[str] = ["HS256"]
    jwks_url: str | None = None
    cors_origins: list[str] = ["http://localhost:3000", "http://127.0.0.1:3000"]
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    log_json: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        per_service = EnvSettingsSource(
            settings_cls, env_prefix=f"SALESFLOW_{cls.service.upper()}_", case_sensitive=False
        )
        return init_settings, per_service, env_settings, dotenv_settings, file_secret_settings

    def model_post_init(self, __context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///.data/{self.service}.db"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def source(self) -> str:
        return f"/salesflow/{self.service}"
