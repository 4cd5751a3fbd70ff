"""The benchmarks' lean HTTP client against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from salesflow.testing.helpers import free_port
from salesflow.testing.loadclient import LoadClient


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo", status_code=201)
    async def echo(request: Request) -> dict:
        return {"body": await request.json(), "key": request.headers.get("idempotency-key")}

    @app.get("/chunks")
    async def chunks() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"alpha,", b"beta,", b"gamma"):
                yield part

        return StreamingResponse(parts(), media_type="text/plain")

    return app


@contextlib.asynccontextmanager
async def _serving() -> AsyncIterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def test_requests_share_one_connection_and_answers_are_read_whole() -> None:
    async with _serving() as port, LoadClient("127.0.0.1", port, {"x-who": "bench"}) as client:
        prebuilt = client.encode("POST", "/echo", json_body={"n": 1})
        first = await client.send(prebuilt)
        connection = client._writer
        again = await client.send(prebuilt)
        keyed = await client.request(
            "POST", "/echo", json_body={"n": 2}, headers={"Idempotency-Key": "k-2"}
        )
        streamed = await client.request("GET", "/chunks")
        missing = await client.request("GET", "/nowhere")
        assert client._writer is connection  # keep-alive: one connection for all of them

    assert (first.status_code, first.json()) == (201, {"body": {"n": 1}, "key": None})
    assert again.json() == first.json()
    assert keyed.json() == {"body": {"n": 2}, "key": "k-2"}
    assert streamed.headers.get("transfer-encoding") == "chunked"
    assert (streamed.status_code, streamed.body) == (200, b"alpha,beta,gamma")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
