"""Settings of the controlling service (env prefix ``SALESFLOW_CONTROLLING_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "controlling"
    default_port: ClassVar[int] = 8107
