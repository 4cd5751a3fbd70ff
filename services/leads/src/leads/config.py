"""Settings of the leads service (env prefix ``SALESFLOW_LEADS_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "leads"
    default_port: ClassVar[int] = 8101

    # rows per transaction of a CSV import: bigger batches amortise rewriting the same index
    # pages (SQLite writes whole pages per commit); smaller ones block other writers less long
    import_batch_rows: int = 20_000
    # companies per transaction (and per prospects.materialized event) of a materialization
    materialize_batch_rows: int = 20_000
    import_max_reported_errors: int = 100_000  # rejected rows listed in one import's answer
    rescore_interval_s: float = 3600.0  # how often decay and model changes are applied
    rescore_min_delta: str = "1"  # time-decay rescoring emits lead.scored from this change on
    rescore_batch: int = 500  # leads rescored per transaction by the background task
