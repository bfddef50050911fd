"""The state of one game folded from its event log: what a viewer sees when it connects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pressbox.domain.events import EventType, StoredEvent


@dataclass
class GameState:
    """Situation, plays, probability and market points at `seq`; status and score live on the
    game row.

    Plays and probability points keep their log order, which is ESPN's game order: ESPN's sequence
    numbers are an edit order for plays and repeat for probability points. Market points keep
    theirs too, all of them (a game has at most a few thousand); `market_status` is the last one.
    """

    seq: int = 0
    situation: dict[str, Any] | None = None
    plays: dict[str, dict[str, Any]] = field(default_factory=dict)
    probabilities: list[dict[str, Any]] = field(default_factory=list)
    market: list[dict[str, Any]] = field(default_factory=list)
    market_status: dict[str, Any] | None = None

    def apply(self, event: StoredEvent) -> None:
        """Fold one event in; events must come in seq order."""
        self.seq = event.seq
        if event.type is EventType.SITUATION:
            self.situation = event.data
        elif event.type in (EventType.PLAY_ADDED, EventType.PLAY_CORRECTED):
            self.plays[event.data["id"]] = event.data
        elif event.type is EventType.PLAY_REMOVED:
            self.plays.pop(event.data["id"], None)
        elif event.type is EventType.PROBABILITY:
            self.probabilities.append(event.data)
        elif event.type is EventType.MARKET:
            self.market.append(event.data)
        elif event.type is EventType.MARKET_STATUS:
            self.market_status = event.data

    @classmethod
    def fold(cls, events: Iterable[StoredEvent]) -> GameState:
        """The state after every event of `events`."""
        state = cls()
        for event in events:
            state.apply(event)
        return state

    def to_json(self) -> dict[str, Any]:
        """The snapshot body of docs/protocol.md, without the game summary."""
        return {
            "seq": self.seq,
            "situation": self.situation,
            "plays": list(self.plays.values()),
            "probabilities": self.probabilities,
            "market": self.market,
            "market_status": self.market_status,
        }
