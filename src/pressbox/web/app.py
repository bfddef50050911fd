"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from pressbox.bus import Bus
from pressbox.clock import Clock, SystemClock
from pressbox.store import Store
from pressbox.web import health, live, operations, routes, sse, webhooks
from pressbox.web.hub import Hub
from pressbox.web.limits import LiveSettings

STATIC = Path(__file__).with_name("static")

MISSING_UI = """<!doctype html><title>Pressbox</title>
<p>The web UI is not built. Run <code>make ui</code> (or <code>make demo</code>), then reload.
The API is at <a href="/docs">/docs</a>.</p>"""


class PressboxApp(FastAPI):
    """FastAPI, with the live WebSocket served straight from the ASGI entry: a connection to
    `/ws/live/{game_id}` skips the middleware and routing stack (the same endpoint as the
    router's, `live.live`). Each live connection keeps its ASGI task for as long as it is open,
    and every layer of that stack is a coroutine frame and objects held for its lifetime: ~10 KiB
    of the ~30 KiB a live connection costs otherwise."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        game_id = live.live_game(scope) if scope["type"] == "websocket" else None
        if game_id is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await live.live(WebSocket(scope, receive, send), game_id)


def create_app(
    store: Store,
    bus: Bus,
    clock: Clock | None = None,
    heartbeat: float = 15.0,
    *,
    admin_token: str = "",
    live_settings: LiveSettings | None = None,
) -> FastAPI:
    """The web app over `store` and `bus`; it never talks to a streamer directly. The operator
    endpoints that change streams need `admin_token` (empty: they refuse every call).
    `live_settings` are the live WebSocket's limits (default: the settings' defaults); the app's
    live hub is `app.state.hub`, closed when the app shuts down."""
    clock = clock or SystemClock()
    hub = Hub(store, bus, clock, heartbeat, live_settings or LiveSettings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await hub.close()

    app = PressboxApp(
        title="Pressbox",
        version="0.1.0",
        description="Live sports games: REST snapshots and a WebSocket of ordered events.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.bus = bus
    app.state.clock = clock
    app.state.heartbeat = heartbeat
    app.state.hub = hub
    app.state.admin_token = admin_token
    app.include_router(routes.router)
    app.include_router(operations.router)
    app.include_router(webhooks.router)
    app.include_router(live.router)
    app.include_router(sse.router)
    app.include_router(health.router)
    if (STATIC / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="ui")
    else:

        @app.get("/", include_in_schema=False)
        async def missing_ui() -> HTMLResponse:
            return HTMLResponse(MISSING_UI, status_code=503)

    return app
