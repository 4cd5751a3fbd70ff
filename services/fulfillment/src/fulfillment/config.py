"""Settings of the fulfillment service (env prefix ``SALESFLOW_FULFILLMENT_``)."""

from typing import ClassVar

from pydantic import Field

from fulfillment.domain.planning import (
    DEFAULT_TASK_KEYWORDS,
    DEFAULT_TASK_OFFSET_DAYS,
    PlanningRules,
    SplitRule,
)
from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "fulfillment"
    default_port: ClassVar[int] = 8105

    # planning: how goods lines become shipments and service lines tasks
    shipment_split: SplitRule = SplitRule.REQUESTED_DATE
    default_lead_days: int = Field(14, ge=0, le=730)
    task_keywords: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TASK_KEYWORDS))
    default_task_kind: str = "implementation"
    task_assignees: dict[str, str] = Field(default_factory=dict)  # task kind -> user id
    default_task_assignee: str | None = "implementation-team"
    task_offset_days: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_TASK_OFFSET_DAYS))
    default_task_offset_days: int = Field(7, ge=0, le=365)

    # status reports: how far in the future an occurred_at may lie (clock skew of the sender)
    status_max_future_skew_s: float = Field(900.0, ge=0)
    # status reports that arrived before their order's plan are applied by a sweeper, too
    pending_sweep_interval_s: float = Field(5.0, gt=0)

    def planning_rules(self) -> PlanningRules:
        return PlanningRules(
            split=self.shipment_split,
            default_lead_days=self.default_lead_days,
            task_keywords=self.task_keywords,
            default_task_kind=self.default_task_kind,
            task_assignees=self.task_assignees,
            default_assignee=self.default_task_assignee,
            task_offset_days=self.task_offset_days,
            default_task_offset_days=self.default_task_offset_days,
        )
