"""Run an ASGI app on a real loopback port inside the test's event loop."""

import asyncio
import socket
from contextlib import asynccontextmanager

import httpx
import uvicorn

from docintake.platform.http_server import server_config


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serving(app, port: int | None = None):
    """Yield the base URL of `app` served by uvicorn, lifespan included."""
    port = port or free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def client(base_url: str, api_key: str = "dev-key") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, headers={"X-API-Key": api_key}, timeout=60)
