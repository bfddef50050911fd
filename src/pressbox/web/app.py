"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from pressbox.bus import Bus
from pressbox.clock import Clock, SystemClock
from pressbox.store import Store
from pressbox.web import live, operations, routes

STATIC = Path(__file__).with_name("static")

MISSING_UI = """<!doctype html><title>Pressbox</title>
<p>The web UI is not built. Run <code>make ui</code> (or <code>make demo</code>), then reload.
The API is at <a href="/docs">/docs</a>.</p>"""


def create_app(
    store: Store,
    bus: Bus,
    clock: Clock | None = None,
    heartbeat: float = 15.0,
    *,
    admin_token: str = "",
) -> FastAPI:
    """The web app over `store` and `bus`; it never talks to a streamer directly. The operator
    endpoints that change streams need `admin_token` (empty: they refuse every call)."""
    app = FastAPI(
        title="Pressbox",
        version="0.1.0",
        description="Live sports games: REST snapshots and a WebSocket of ordered events.",
    )
    app.state.store = store
    app.state.bus = bus
    app.state.clock = clock or SystemClock()
    app.state.heartbeat = heartbeat
    app.state.admin_token = admin_token
    app.include_router(routes.router)
    app.include_router(operations.router)
    app.include_router(live.router)
    if (STATIC / "index.html").exists():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="ui")
    else:

        @app.get("/", include_in_schema=False)
        async def missing_ui() -> HTMLResponse:
            return HTMLResponse(MISSING_UI, status_code=503)

    return app
