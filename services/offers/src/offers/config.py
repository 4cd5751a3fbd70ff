"""Settings of the offers service (env prefix ``SALESFLOW_OFFERS_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "offers"
    default_port: ClassVar[int] = 8103
