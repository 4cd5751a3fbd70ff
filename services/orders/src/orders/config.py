"""Settings of the orders service (env prefix ``SALESFLOW_ORDERS_``)."""

from typing import ClassVar

from salesflow.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "orders"
    default_port: ClassVar[int] = 8104
