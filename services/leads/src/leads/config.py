"""Settings of the leads service (env prefix ``SALESFLOW_LEADS_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "leads"
    default_port: ClassVar[int] = 8101
