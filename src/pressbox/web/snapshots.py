"""Snapshots of a game for viewers, read from the store only."""

from __future__ import annotations

from typing import Any

from pressbox.domain.snapshot import GameState
from pressbox.store import Store


async def game_snapshot(store: Store, game_id: str) -> dict[str, Any] | None:
    """The snapshot of docs/protocol.md, consistent at its `seq`; None for an unknown game."""
    events = await store.events_since(game_id, 0, limit=1_000_000)
    game = await store.game(game_id)
    if game is None:
        return None
    state = GameState.fold(events)
    game["seq"] = state.seq
    return {"game": game, **state.to_json()}
