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

    Plays are in ESPN's game order (`ordered_plays`): a new play goes at the end, or right before
    the play its `before` names when that play is known (a play learnt late, after a later one
    came first from the scoreboard); a correction replaces a play where it stands. ESPN's
    sequence numbers are an edit order for plays and repeat for probability points, so neither
    is sorted by them. `plays` maps ids to plays in arrival order; the game order is a linked
    list beside it, so an insertion costs O(1) and a fold of the log stays linear.

    Probability points follow their plays: a point goes at the end, unless its play stands
    before the plays of the newest points (a play learnt late); then right before those points,
    as the live UI places it. Market points keep their log order, all of them (a game has at
    most a few thousand); `market_status` is the last one.
    """

    seq: int = 0
    situation: dict[str, Any] | None = None
    plays: dict[str, dict[str, Any]] = field(default_factory=dict)
    probabilities: list[dict[str, Any]] = field(default_factory=list)
    market: list[dict[str, Any]] = field(default_factory=list)
    market_status: dict[str, Any] | None = None
    # The game order of `plays`: each play's neighbours (None at either end).
    _prev: dict[str, str | None] = field(default_factory=dict, repr=False)
    _next: dict[str, str | None] = field(default_factory=dict, repr=False)
    _first: str | None = field(default=None, repr=False)
    _last: str | None = field(default=None, repr=False)

    def apply(self, event: StoredEvent) -> None:
        """Fold one event in; events must come in seq order."""
        self.seq = event.seq
        if event.type is EventType.SITUATION:
            self.situation = event.data
        elif event.type in (EventType.PLAY_ADDED, EventType.PLAY_CORRECTED):
            self._put_play(event.data)
        elif event.type is EventType.PLAY_REMOVED:
            self._remove_play(event.data["id"])
        elif event.type is EventType.PROBABILITY:
            self._put_probability(event.data)
        elif event.type is EventType.MARKET:
            self.market.append(event.data)
        elif event.type is EventType.MARKET_STATUS:
            self.market_status = event.data

    def _put_play(self, data: dict[str, Any]) -> None:
        """A known play is replaced where it stands; a new one goes right before the known play
        its `before` names, else at the end. `before` orders the play; it is not kept on it."""
        play_id = data["id"]
        before = data.get("before")
        if "before" in data:
            data = {key: value for key, value in data.items() if key != "before"}
        if play_id in self.plays:
            self.plays[play_id] = data
            return
        following = before if isinstance(before, str) and before in self.plays else None
        preceding = self._last if following is None else self._prev[following]
        self.plays[play_id] = data
        self._prev[play_id] = preceding
        self._next[play_id] = following
        if preceding is None:
            self._first = play_id
        else:
            self._next[preceding] = play_id
        if following is None:
            self._last = play_id
        else:
            self._prev[following] = play_id

    def _put_probability(self, data: dict[str, Any]) -> None:
        """At the end, or before the newest points whose plays come after this point's play.
        O(plays after its play): none for the point of the newest play."""
        points, play_id = self.probabilities, data.get("play_id")
        at = len(points)
        if play_id in self.plays and at and points[-1].get("play_id") != play_id:
            later = set()
            following = self._next[play_id]
            while following is not None:
                later.add(following)
                following = self._next[following]
            while at and points[at - 1].get("play_id") in later:
                at -= 1
        points.insert(at, data)

    def _remove_play(self, play_id: str) -> None:
        if self.plays.pop(play_id, None) is None:
            return
        preceding = self._prev.pop(play_id)
        following = self._next.pop(play_id)
        if preceding is None:
            self._first = following
        else:
            self._next[preceding] = following
        if following is None:
            self._last = preceding
        else:
            self._prev[following] = preceding

    def ordered_plays(self) -> list[dict[str, Any]]:
        """The plays in game order."""
        ordered = []
        play_id = self._first
        while play_id is not None:
            ordered.append(self.plays[play_id])
            play_id = self._next[play_id]
        return ordered

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
            "plays": self.ordered_plays(),
            "probabilities": self.probabilities,
            "market": self.market,
            "market_status": self.market_status,
        }
