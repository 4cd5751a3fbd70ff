"""Settings of the aftersales service (env prefix ``SALESFLOW_AFTERSALES_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "aftersales"
    default_port: ClassVar[int] = 8106
