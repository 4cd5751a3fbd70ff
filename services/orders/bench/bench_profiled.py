"""``uvicorn bench_profiled:create_app --factory``: a service app under cProfile (the bench's
``--profile``). ``BENCH_PROFILE_FACTORY`` names the real factory, ``BENCH_PROFILE_OUT`` the file
the stats are written to when the app starts shutting down (before the consumers' and relay's
grace periods, which may end in a SIGKILL). cProfile sees the event loop's thread only."""

from __future__ import annotations

import contextlib
import cProfile
import importlib
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI


def create_app() -> FastAPI:
    module, name = os.environ["BENCH_PROFILE_FACTORY"].split(":")
    app: FastAPI = getattr(importlib.import_module(module), name)()
    profiler = cProfile.Profile()
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):
            profiler.enable()
            try:
                yield
            finally:
                profiler.disable()
                profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])

    app.router.lifespan_context = lifespan
    return app
