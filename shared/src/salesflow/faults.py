"""Crash points for fault-injection tests: ``SALESFLOW_CRASHPOINT=<name>`` makes the process
SIGKILL itself when it reaches that point, the way a power cut would. No-op otherwise."""

from __future__ import annotations

import os
import signal


def crashpoint(name: str) -> None:
    if os.environ.get("SALESFLOW_CRASHPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
