"""The seven services, their dev ports, and lazy access to their specs and settings."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI reads names and ports without importing the service stack
    from salesflow.service import ServiceSpec
    from salesflow.settings import ServiceSettings

PORTS: dict[str, int] = {
    "leads": 8101,
    "opportunities": 8102,
    "offers": 8103,
    "orders": 8104,
    "fulfillment": 8105,
    "aftersales": 8106,
    "controlling": 8107,
}
SERVICES = tuple(PORTS)


@dataclass(frozen=True)
class ServiceModule:
    name: str
    spec: ServiceSpec
    settings_cls: type[ServiceSettings]
    create_app: Any

    @property
    def factory(self) -> str:
        return f"{self.name}.main:create_app"


def load(name: str) -> ServiceModule:
    if name not in PORTS:
        raise KeyError(f"unknown service {name!r}; one of: {', '.join(SERVICES)}")
    main = importlib.import_module(f"{name}.main")
    config = importlib.import_module(f"{name}.config")
    return ServiceModule(name, main.SPEC, config.Settings, main.create_app)
