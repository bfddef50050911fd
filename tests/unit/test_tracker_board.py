"""The tracker over the league scoreboard: each new last play as a preview, its probability, the
score and the situation, then the plays document completing (and ordering) what it previewed.
Boards are built from the real recorded plays of Iowa State at Kansas State (2025-08-23)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from boards import AWAY, COMPETITION, board, items_of
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.scoreboard import BoardGame
from pressbox.domain.snapshot import GameState
from pressbox.domain.tracker import Tracker
from pressbox.replay import Recording, load_recording


@pytest.fixture(scope="module")
def recording(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture(scope="module")
def plays(recording: Recording) -> Document:
    """The last recorded plays document (88 plays, to the end of the first half)."""
    response = recording.history(f"{COMPETITION}/plays")[-1]
    return Document.parse(DocumentKind.PLAYS, response.body, response.recorded_at)


def test_the_board_previews_the_last_play_with_its_probability_score_and_situation(
    plays: Document,
) -> None:
    tracker = Tracker()
    tracker.apply(items_of(plays, 40))
    item = plays.items[40]
    events = tracker.apply_board(board(item, possession=AWAY), plays.fetched_at)
    by_type = {e.type: e for e in events}
    preview = by_type[EventType.PLAY_ADDED].data
    assert preview["id"] == item["id"] and preview["text"] == item["text"]
    assert preview["preview"] is True and preview["wallclock"] is None
    assert (preview["period"], preview["clock"]) == (
        item["period"]["number"],
        item["clock"]["displayValue"],
    )
    point = by_type[EventType.PROBABILITY].data
    assert (point["play_id"], point["home"], point["sequence"]) == (item["id"], 0.6, None)
    assert by_type[EventType.SITUATION].data["possession_team_id"] == AWAY
    assert by_type[EventType.SITUATION].data["last_play_id"] == item["id"]
    # The same board again: nothing new.
    assert tracker.apply_board(board(item, possession=AWAY), plays.fetched_at) == []
    # Without situation (a sport with no situation document): no situation event.
    other = Tracker().apply_board(board(item), plays.fetched_at, situation=False)
    assert EventType.SITUATION not in {e.type for e in other}


def test_the_plays_document_completes_a_preview_quietly_or_with_a_correction(
    plays: Document,
) -> None:
    tracker = Tracker()
    tracker.apply(items_of(plays, 40))
    tracker.apply_board(board(plays.items[40]), plays.fetched_at)
    # Its full record shows nothing a viewer would see differently: no event for it.
    events = tracker.apply(items_of(plays, 41))
    assert [e.type for e in events if e.data.get("id") == plays.items[40]["id"]] == []
    assert tracker.has_play(plays.items[40]["id"])
    # A preview whose clock was the board's (not the play's): the full record is re-sent.
    item = dict(plays.items[41])
    shown = board(item)
    status = shown.status.model_copy(update={"display_clock": "0:01"})
    tracker.apply_board(
        BoardGame(**{**shown.__dict__, "status": status}), plays.fetched_at + timedelta(seconds=5)
    )
    events = tracker.apply(items_of(plays, 42))
    corrected = [e for e in events if e.type is EventType.PLAY_CORRECTED]
    assert len(corrected) == 1
    assert corrected[0].data["completes"] is True
    assert corrected[0].data["clock"] == item["clock"]["displayValue"]
    assert corrected[0].data["wallclock"] == item["wallclock"]


def test_a_play_the_board_skipped_names_the_play_it_comes_before(plays: Document) -> None:
    tracker = Tracker()
    tracker.apply(items_of(plays, 40))
    # Plays 40 and 41 came out together: the board shows only 41.
    tracker.apply_board(board(plays.items[41]), plays.fetched_at)
    events = tracker.apply(items_of(plays, 43))
    added = {e.data["id"]: e.data for e in events if e.type is EventType.PLAY_ADDED}
    assert set(added) == {plays.items[40]["id"], plays.items[42]["id"]}
    assert added[plays.items[40]["id"]]["before"] == plays.items[41]["id"]
    assert "before" not in added[plays.items[42]["id"]]


def test_plays_older_than_the_board_go_before_the_preview_they_do_not_reach(
    plays: Document,
) -> None:
    """The board previews play 42 while the plays document read (older: a cached copy, or the
    first whole read after an outage) ends at 41: 40 and 41 still go before 42."""
    tracker = Tracker()
    logged = list(tracker.apply(items_of(plays, 40)))
    logged += tracker.apply_board(board(plays.items[42]), plays.fetched_at)
    events = tracker.apply(items_of(plays, 42))
    added = {e.data["id"]: e.data for e in events if e.type is EventType.PLAY_ADDED}
    assert added[plays.items[40]["id"]]["before"] == plays.items[42]["id"]
    assert added[plays.items[41]["id"]]["before"] == plays.items[42]["id"]
    logged += events
    logged += tracker.apply(items_of(plays, 44))
    stored = [StoredEvent(i, e.type, e.key, e.at, e.data) for i, e in enumerate(logged, 1)]
    ordered = [p["id"] for p in GameState.fold(stored).ordered_plays()]
    assert ordered == [p["id"] for p in plays.items[:44]]


def test_a_resumed_tracker_still_completes_a_logged_preview(plays: Document) -> None:
    first = Tracker()
    logged = list(first.apply(items_of(plays, 40)))
    shown = board(plays.items[40])
    status = shown.status.model_copy(update={"display_clock": "0:01"})
    logged += first.apply_board(BoardGame(**{**shown.__dict__, "status": status}), plays.fetched_at)
    stored = [
        StoredEvent(seq, e.type, e.key, e.at, e.data) for seq, e in enumerate(logged, start=1)
    ]
    resumed = Tracker()
    resumed.restore(stored)
    events = resumed.apply(items_of(plays, 41))
    assert [(e.type, e.data["id"]) for e in events if e.type.name.startswith("PLAY")] == [
        (EventType.PLAY_CORRECTED, plays.items[40]["id"])
    ]
    # The board's probability is not repeated by the probabilities document's point.
    assert resumed.has_probability(plays.items[40]["id"])


def test_a_plays_document_older_than_the_board_does_not_move_the_score_back(
    plays: Document,
) -> None:
    scoring = next(i for i, item in enumerate(plays.items) if i > 5 and item.get("scoreValue"))
    tracker = Tracker()
    tracker.apply(items_of(plays, scoring))
    before = tracker.score
    events = tracker.apply_board(board(plays.items[scoring]), plays.fetched_at)
    after = (plays.items[scoring]["homeScore"], plays.items[scoring]["awayScore"])
    assert [e.data for e in events if e.type is EventType.SCORE] == [
        {"home": after[0], "away": after[1]}
    ]
    assert after != before
    # A copy of the plays read before the scoring play came out: the score stays, and the
    # play only the board showed is not taken for removed.
    assert tracker.apply(items_of(plays, scoring, copy=1)) == []
    assert tracker.score == after
    assert tracker.has_play(plays.items[scoring]["id"])
    # A board older than the plays seen since does not move it back either.
    tracker.apply(items_of(plays, scoring + 3))
    newer = tracker.score
    assert tracker.apply_board(board(plays.items[scoring]), plays.fetched_at) == []
    assert tracker.score == newer
