"""Settings of the opportunities service (env prefix ``SALESFLOW_OPPORTUNITIES_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "opportunities"
    default_port: ClassVar[int] = 8102
