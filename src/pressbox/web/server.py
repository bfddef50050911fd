"""Running ASGI apps (the web server, the replay server) on loopback inside our own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn

from pressbox.errors import PressboxError
from pressbox.web.frames import FramesProtocol


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (several run in one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def running(app: Any, host: str, port: int, **options: Any) -> AsyncIterator[str]:
    """Serve `app` while the context is open; yields its base URL (port 0 picks a free one).

    WebSockets use `FramesProtocol` (uvicorn's default websockets-sansio protocol that also
    lets the live hub write pre-built frames to the connection; web/frames.py), unless
    `options` give another `ws`. permessage-deflate is off: it costs ~316 KiB per WebSocket
    connection (64 KiB without), and pre-built frames need it off. The app's lifespan runs (the
    web app closes its live hub at shutdown).
    """
    options.setdefault("ws", FramesProtocol)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="auto",
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        **options,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise PressboxError(f"server on {host}:{port} did not start (is the port in use?)")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        await task
