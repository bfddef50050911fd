"""Event logs compared in game order, which does not depend on timing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.snapshot import GameState


def in_game_order(events: Iterable[StoredEvent]) -> tuple[list[str], list[dict[str, Any]]]:
    """A log's play ids in game order, and its probability points in the order of their plays
    (points of plays the log does not hold last, in log order).

    The default policy may learn a play from the scoreboard before the plays that came out with
    it (they name the play they precede), so log order depends on timing; game order does not.
    """
    events = list(events)
    plays = [p["id"] for p in GameState.fold(events).ordered_plays()]
    order = {play: index for index, play in enumerate(plays)}
    points = [e.data for e in events if e.type is EventType.PROBABILITY]
    return plays, sorted(points, key=lambda p: order.get(p.get("play_id"), len(order)))
