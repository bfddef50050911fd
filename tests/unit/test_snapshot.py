"""The snapshot's fold of a game's event log: plays in game order, including plays learnt late."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.snapshot import GameState

T0 = datetime(2025, 8, 23, 16, 10, tzinfo=UTC)


def play(play_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": play_id, "sequence": None, "text": f"Play {play_id}", **extra}


def fold(*changes: tuple[EventType, dict[str, Any]]) -> GameState:
    return GameState.fold(
        StoredEvent(seq, kind, f"k{seq}", T0, data) for seq, (kind, data) in enumerate(changes, 1)
    )


def added(play_id: str, **extra: Any) -> tuple[EventType, dict[str, Any]]:
    return EventType.PLAY_ADDED, play(play_id, **extra)


def removed(play_id: str) -> tuple[EventType, dict[str, Any]]:
    return EventType.PLAY_REMOVED, {"id": play_id, "previous_text": f"Play {play_id}"}


def order(state: GameState) -> list[str]:
    return [p["id"] for p in state.to_json()["plays"]]


def test_plays_without_before_keep_log_order() -> None:
    assert order(fold(added("a"), added("b"), added("c"))) == ["a", "b", "c"]
    assert GameState().to_json()["plays"] == []


def test_a_play_learnt_late_goes_right_before_the_play_it_precedes() -> None:
    state = fold(
        added("a"),
        added("d", preview=True),  # the scoreboard's last play, seen before the plays document
        added("b", before="d"),
        added("c", before="d"),
        added("e"),
    )
    assert order(state) == ["a", "b", "c", "d", "e"]


def test_before_the_first_play_makes_the_new_play_first() -> None:
    state = fold(added("b"), added("a", before="b"), added("c"))
    assert order(state) == ["a", "b", "c"]
    state.apply(StoredEvent(4, EventType.PLAY_ADDED, "k4", T0, play("z", before="a")))
    assert order(state) == ["z", "a", "b", "c"]


def test_before_an_unknown_or_removed_play_appends() -> None:
    assert order(fold(added("a"), added("b", before="nope"))) == ["a", "b"]
    assert order(fold(added("a"), added("c"), removed("c"), added("b", before="c"))) == ["a", "b"]
    assert order(fold(added("a"), added("b", before=None))) == ["a", "b"]


def test_before_is_not_kept_on_the_play() -> None:
    state = fold(added("b"), added("a", before="b"))
    assert state.to_json()["plays"][0] == play("a")
    assert "before" not in state.plays["a"]


def test_a_correction_or_a_re_sent_play_stays_where_it_stands() -> None:
    state = fold(
        added("a"),
        added("c", preview=True),
        added("b", before="c"),
        (
            EventType.PLAY_CORRECTED,
            {**play("c", text="full"), "previous_text": "Play c", "completes": True},
        ),
        added("a", before="c"),  # already known: replaced in place, not moved
    )
    assert order(state) == ["a", "b", "c"]
    assert state.plays["c"]["text"] == "full" and "preview" not in state.plays["c"]


def test_removals_keep_the_order_whole() -> None:
    state = fold(
        added("c"),
        added("a", before="c"),
        added("b", before="c"),
        added("d"),
        removed("b"),  # middle
        removed("a"),  # first
        removed("d"),  # last
        removed("d"),  # already gone: nothing
        added("b", before="c"),
        added("e"),
    )
    assert order(state) == ["b", "c", "e"]
    assert len(state.plays) == 3
    state = fold(added("a"), removed("a"), added("b"), added("a", before="b"))
    assert order(state) == ["a", "b"]


def point(play_id: str | None) -> tuple[EventType, dict[str, Any]]:
    return EventType.PROBABILITY, {"id": f"prob-{play_id}", "play_id": play_id, "home": 0.5}


def points(state: GameState) -> list[str | None]:
    return [p["play_id"] for p in state.to_json()["probabilities"]]


def test_the_point_of_a_play_learnt_late_goes_before_the_points_of_later_plays() -> None:
    state = fold(
        added("a"),
        point("a"),
        added("d", preview=True),  # the board's last play and its point, first
        point("d"),
        added("b", before="d"),  # the plays that came out with it, later
        added("c", before="d"),
        point("b"),
        point("c"),
        added("e"),
        point("e"),
    )
    assert points(state) == ["a", "b", "c", "d", "e"]  # as the live UI places them


def test_a_point_without_a_known_play_goes_at_the_end_and_stays_there() -> None:
    state = fold(
        added("a"),
        added("c"),
        point("c"),
        point("x"),
        point(None),
        added("b", before="c"),
        point("b"),
    )
    # b's point would go before c's, but the points without a known play are newer and stay last
    assert points(state) == ["c", "x", None, "b"]
