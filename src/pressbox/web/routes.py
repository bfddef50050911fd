"""REST routes (docs/protocol.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from pressbox.store import Store
from pressbox.web.snapshots import game_snapshot

router = APIRouter(prefix="/api", tags=["games"])
UNKNOWN_GAME: dict[int | str, dict[str, Any]] = {404: {"description": "unknown game"}}


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("/live/games", summary="Every game, live first, then upcoming, then finished")
async def live_games(request: Request) -> dict[str, Any]:
    """`{"games": [<game summary>, ...]}` (docs/protocol.md, "Game summary")."""
    return {"games": await _store(request).games()}


@router.get(
    "/games/{game_id}", summary="A game's snapshot at its latest seq", responses=UNKNOWN_GAME
)
async def game(request: Request, game_id: str) -> dict[str, Any]:
    """Summary, situation, plays and probabilities at `seq` (docs/protocol.md, "Snapshot")."""
    snapshot = await game_snapshot(_store(request), game_id)
    if snapshot is None:
        raise HTTPException(404, f"unknown game {game_id!r}")
    return snapshot


@router.get(
    "/games/{game_id}/events",
    summary="A game's events after a seq, in order",
    responses=UNKNOWN_GAME,
)
async def game_events(
    request: Request,
    game_id: str,
    after: Annotated[int, Query(ge=0, description="Return events with seq > after.")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many events.")] = 500,
) -> dict[str, Any]:
    """`{"events": [<event>, ...], "last_seq": N}`: a page of the game's event log."""
    store = _store(request)
    summary = await store.game(game_id)
    if summary is None:
        raise HTTPException(404, f"unknown game {game_id!r}")
    events = await store.events_since(game_id, after, limit)
    return {"events": [e.to_json() for e in events], "last_seq": summary["seq"]}
