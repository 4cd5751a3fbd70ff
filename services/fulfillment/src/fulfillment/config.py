"""Settings of the fulfillment service (env prefix ``SALESFLOW_FULFILLMENT_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "fulfillment"
    default_port: ClassVar[int] = 8105
