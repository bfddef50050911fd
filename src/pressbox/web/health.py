"""Liveness, readiness and metrics: what a process supervisor, a load balancer and Prometheus
ask a web process.

- `GET /healthz`: the process answers (no dependency checked);
- `GET /readyz`: the database answers and is at the newest migration, and the bus answers;
  503 with what failed otherwise;
- `GET /metrics`: every metric in Prometheus text format (see `pressbox.metrics`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from pressbox.metrics import CONTENT_TYPE, metrics
from pressbox.store import Store
from pressbox.store.migrate import engine_is_current
from pressbox.store.tables import streams, webhooks

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

#: A dependency that does not answer within this many seconds is not ready.
CHECK_TIMEOUT = 3.0


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="Ready: database migrated and reachable, bus reachable",
    responses={503: {"description": "a dependency is not ready (the body says which)"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: database reachable and migrated, bus reachable."""
    state = request.app.state
    checks: dict[str, Any] = {
        "database": await _check(_database(state.store)),
        "bus": await _check(state.bus.ping()),
    }
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Metrics, Prometheus text format", response_class=Response)
async def prometheus(request: Request) -> Response:
    """Metrics in Prometheus text format."""
    registry = metrics()
    try:
        store = request.app.state.store
        registry.set_streams(await asyncio.wait_for(status_counts(store, streams), 3))
        registry.set_webhooks(await asyncio.wait_for(status_counts(store, webhooks), 3))
    except (SQLAlchemyError, TimeoutError) as exc:
        log.warning("metrics: stream and webhook counts not read: %s", exc)
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


async def status_counts(store: Store, table: Table) -> dict[str, int]:
    """How many rows of `table` (streams, webhooks) are in each status (the statuses with none
    are left out)."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(table.c.status, func.count()).group_by(table.c.status))
        return {str(status): int(count) for status, count in rows.all()}


async def _database(store: Store) -> str:
    if not await engine_is_current(store.engine):
        return "migrations pending: run `pressbox migrate`"
    return "ok"


async def _check(probe: Any) -> str:
    try:
        result = await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:  # a readiness probe reports every failure, it never raises
        return f"error: {exc}"[:200]
    if result is True or result == "ok":
        return "ok"
    return str(result) if result else "not reachable"
