"""Where "now" comes from: the system clock, or one a test injects into ``create_app``."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
