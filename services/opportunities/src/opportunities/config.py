"""Settings of the opportunities service (env prefix ``SALESFLOW_OPPORTUNITIES_``)."""

from typing import ClassVar

from pydantic import Field, field_validator

from opportunities.domain.probability import stage_defaults
from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "opportunities"
    default_port: ClassVar[int] = 8102

    stale_after_days: float = Field(
        14, gt=0, description="An open deal with no activity for this long is flagged stale"
    )
    default_currency: str = Field(
        "EUR",
        pattern=r"^[A-Z]{3}$",
        description="Currency of an opportunity whose source names no amount or budget",
    )
    stage_probabilities: dict[str, int] = Field(
        default_factory=dict,
        description="Default win probability per open stage, e.g. {'proposal': 40}",
    )

    @field_validator("stage_probabilities")
    @classmethod
    def _valid_probabilities(cls, value: dict[str, int]) -> dict[str, int]:
        stage_defaults(value)  # raises ValueError on an unknown stage or a value outside 0-100
        return value
