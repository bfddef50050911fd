"""Operator endpoints (docs/protocol.md): the stream table, and cancel / restart behind a token.

The token is `PRESSBOX_ADMIN_TOKEN`, sent as `Authorization: Bearer <token>` and compared in
constant time. Without a configured token the endpoints refuse every call (403), so a deployment
that never set one cannot be operated on by anyone.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from pressbox.clock import Clock
from pressbox.domain.lifecycle import IllegalTransition
from pressbox.errors import UnknownStream
from pressbox.store import Store, StreamRecord
from pressbox.store.operations import cancel_stream, list_streams, restart_stream, stream_view

router = APIRouter(prefix="/api/streams", tags=["operations"])
Operation = Callable[[Store, str, datetime], Awaitable[StreamRecord]]


def require_admin(request: Request) -> None:
    """Refuse the call unless it carries the configured admin token."""
    token: str = request.app.state.admin_token
    if not token:
        raise HTTPException(403, "admin token not configured")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise HTTPException(
            401, "missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"}
        )


Admin = Annotated[None, Depends(require_admin)]


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


@router.get("", summary="Every stream: status, owner, lease, retries, last poll, health")
async def streams(request: Request) -> dict[str, Any]:
    """`{"streams": [<stream row>, ...]}`, earliest scheduled first (docs/protocol.md)."""
    now = _clock(request).now()
    return {"streams": [view.to_json(now) for view in await list_streams(_store(request))]}


ADMIN_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong admin token"},
    403: {"description": "no admin token configured: nobody may operate"},
    404: {"description": "no stream for the game"},
    409: {"description": "the lifecycle does not allow the move (the reason says why)"},
}


@router.post("/{game_id}/cancel", summary="Cancel a stream (admin token)", responses=ADMIN_REFUSALS)
async def cancel(request: Request, game_id: str, _admin: Admin) -> dict[str, Any]:
    """`{"stream": <stream row>}` now Canceled; its runner loses the lease at its next renewal."""
    return await _operate(request, game_id, cancel_stream)


@router.post(
    "/{game_id}/restart",
    summary="Schedule a stream again, now (admin token)",
    responses=ADMIN_REFUSALS,
)
async def restart(request: Request, game_id: str, _admin: Admin) -> dict[str, Any]:
    """`{"stream": <stream row>}` now Scheduled and due, its failure, retries and health reset."""
    return await _operate(request, game_id, restart_stream)


async def _operate(request: Request, game_id: str, operation: Operation) -> dict[str, Any]:
    store, now = _store(request), _clock(request).now()
    try:
        await operation(store, game_id, now)
    except UnknownStream as exc:
        raise HTTPException(404, str(exc)) from exc
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"stream": (await stream_view(store, game_id)).to_json(now)}
