"""Running ASGI apps inside an event loop we own (local stack, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the owner of the loop decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bound_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind first, so the port is known and cannot be taken between choosing and listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def start_server(
    app: Any, sock: socket.socket, **config: Any
) -> tuple[EmbeddedServer, asyncio.Task[None]]:
    server = EmbeddedServer(
        uvicorn.Config(
            app, log_level=config.pop("log_level", "warning"), timeout_graceful_shutdown=2, **config
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    return server, task


async def stop_server(server: EmbeddedServer, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
