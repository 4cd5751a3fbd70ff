"""Settings of the controlling service (env prefix ``SALESFLOW_CONTROLLING_``)."""

from typing import ClassVar

from pydantic import Field

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "controlling"
    default_port: ClassVar[int] = 8107

    # Capacity is configuration, not a fact any event carries: open leads a rep can work.
    rep_capacity: int = Field(25, ge=1, description="Default capacity in open leads per rep")
    rep_capacities: dict[str, int] = Field(
        default_factory=dict, description='Per-rep capacity, e.g. {"alice": 40} (JSON in env)'
    )
    handoff_metrics_interval_s: float = Field(
        15.0, gt=0, description="How often the handoff gauges on /metrics are refreshed"
    )

    def capacity_of(self, rep: str) -> int:
        return self.rep_capacities.get(rep, self.rep_capacity)
