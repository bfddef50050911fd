"""The fetch policies' decisions: pure, from a GameView and the time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pressbox.domain.documents import DocumentKind
from pressbox.domain.events import Event, EventType
from pressbox.domain.fetch_policy import (
    EdgePolicy,
    Fetch,
    FetchMode,
    GameView,
    SeedPolicy,
    policy_for,
)
from pressbox.domain.scoreboard import BoardLastPlay
from pressbox.domain.sports import PROFILES

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
PROFILE = PROFILES["college-football"]
PLAYS, PROBS = DocumentKind.PLAYS, DocumentKind.PROBABILITIES
DRIVES, LEADERS, SITUATION = DocumentKind.DRIVES, DocumentKind.LEADERS, DocumentKind.SITUATION


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def situation(last_play: str, possession: str = "66") -> Event:
    data = {"last_play_id": last_play, "possession_team_id": possession}
    return Event(EventType.SITUATION, f"situation:{last_play}", T0, data)


def test_seed_keeps_every_fixed_cadence_and_reads_whole() -> None:
    policy, view = SeedPolicy(PROFILE), GameView()
    for kind, cadence in PROFILE.cadences.items():
        assert policy.plan(kind, view, T0) == Fetch(0.0, FetchMode.WHOLE)
        view.fetched(kind, FetchMode.WHOLE, T0, None)
        assert policy.plan(kind, view, at(1)) == Fetch(cadence - 1, FetchMode.WHOLE)
        assert policy.plan(kind, view, at(cadence)).delay == 0
    view.observe([situation("1")])  # changes mean nothing to the seed
    assert policy.plan(PLAYS, view, at(1)).delay == PROFILE.cadence(PLAYS) - 1


def test_edge_reads_collections_whole_first_then_only_on_a_sentinel_change() -> None:
    policy, view = EdgePolicy(PROFILE), GameView()
    assert policy.plan(PLAYS, view, T0) == Fetch(0.0, FetchMode.WHOLE)
    view.fetched(PLAYS, FetchMode.WHOLE, T0, 40)
    # Nothing changed: the next read is the safety poll, at the edge.
    assert policy.plan(PLAYS, view, at(5)) == Fetch(55.0, FetchMode.EDGE)
    view.observe([situation("41")])
    assert policy.plan(PLAYS, view, at(5)) == Fetch(0.0, FetchMode.EDGE)
    view.fetched(PLAYS, FetchMode.EDGE, at(5), 41)
    assert policy.plan(PLAYS, view, at(6)) == Fetch(59.0, FetchMode.EDGE)
    # The same situation again is no change.
    view.observe([situation("41")])
    assert policy.plan(PLAYS, view, at(6)).delay == 59.0


def test_a_change_the_document_does_not_show_yet_is_chased_a_few_times() -> None:
    policy, view = EdgePolicy(PROFILE, chases=2), GameView()
    view.fetched(PROBS, FetchMode.WHOLE, T0, 10)
    view.observe([situation("11")])
    view.fetched(PROBS, FetchMode.EDGE, at(1), 10, caught_up=False)
    assert policy.plan(PROBS, view, at(2)) == Fetch(9.0, FetchMode.EDGE)  # its max-age on
    view.fetched(PROBS, FetchMode.EDGE, at(11), 11, caught_up=True)
    assert policy.plan(PROBS, view, at(12)).delay == 59.0
    assert policy.chase_limit() == 2


def test_edge_reconciles_whole_every_interval() -> None:
    policy = EdgePolicy(PROFILE, reconcile_every=timedelta(minutes=5))
    view = GameView()
    view.fetched(PLAYS, FetchMode.WHOLE, T0, 40)
    for second in range(10, 300, 10):  # busy: a play every 10 s, read at the edge
        view.observe([situation(str(second))])
        assert policy.plan(PLAYS, view, at(second)).mode is FetchMode.EDGE
        view.fetched(PLAYS, FetchMode.EDGE, at(second), 40 + second // 10)
    assert policy.plan(PLAYS, view, at(300)) == Fetch(0.0, FetchMode.WHOLE)
    view.fetched(PLAYS, FetchMode.WHOLE, at(300), 70)
    view.observe([situation("x")])
    assert policy.plan(PLAYS, view, at(301)).mode is FetchMode.EDGE


def test_drives_and_leaders_wait_for_a_drive_change_or_a_score_and_a_slow_cap() -> None:
    policy, view = EdgePolicy(PROFILE), GameView()
    assert policy.plan(DRIVES, view, T0) == Fetch(0.0, FetchMode.WHOLE)
    assert policy.plan(LEADERS, view, T0) == Fetch(0.0, FetchMode.WHOLE)
    view.fetched(DRIVES, FetchMode.WHOLE, T0, 3)
    view.fetched(LEADERS, FetchMode.WHOLE, T0, None)
    view.observe([situation("1", possession="66")])  # a play: changes, possession set
    slow = view.slow_changes
    view.fetched(DRIVES, FetchMode.EDGE, at(1), 3)
    view.fetched(LEADERS, FetchMode.WHOLE, at(1), None)
    view.observe([situation("2", possession="66")])  # same drive: nothing for them
    assert view.slow_changes == slow
    # Nothing for drives but a look at their edge 10 minutes after the last read...
    assert policy.plan(DRIVES, view, at(30)) == Fetch(571.0, FetchMode.EDGE)
    # ... and their reconciliation 30 minutes after the last whole read (plays: 10).
    view.fetched(DRIVES, FetchMode.EDGE, at(1500), 3)
    assert policy.plan(DRIVES, view, at(1510)) == Fetch(290.0, FetchMode.WHOLE)
    score = Event(EventType.SCORE, "score", T0, {"home": 7, "away": 0})
    view.observe([score])
    assert policy.plan(DRIVES, view, at(1510)) == Fetch(50.0, FetchMode.EDGE)  # capped at 60 s
    assert policy.plan(LEADERS, view, at(61)) == Fetch(0.0, FetchMode.WHOLE)
    view.observe([situation("3", possession="2306")])  # a turnover: a new drive
    assert view.slow_changes == slow + 2


def test_the_sentinel_keeps_its_cadence() -> None:
    policy, view = EdgePolicy(PROFILE), GameView()
    assert policy.plan(SITUATION, view, T0).delay == 0
    view.fetched(SITUATION, FetchMode.WHOLE, T0, None)
    assert policy.plan(SITUATION, view, at(2)) == Fetch(3.0, FetchMode.WHOLE)


def test_a_new_period_or_status_is_a_change() -> None:
    view = GameView()
    status = {"period": 1, "name": "STATUS_IN_PROGRESS", "display_clock": "15:00"}
    view.observe([Event(EventType.STATUS, "s1", T0, status)])
    view.observe([Event(EventType.STATUS, "s2", T0, {**status, "display_clock": "14:00"})])
    assert view.changes == 1  # the clock alone is not one
    view.observe([Event(EventType.STATUS, "s3", T0, {**status, "period": 2})])
    assert view.changes == 2


def test_policies_by_name() -> None:
    assert isinstance(policy_for("seed", PROFILE, timedelta(minutes=1)), SeedPolicy)
    edge = policy_for("edge", PROFILE, timedelta(minutes=3))
    assert isinstance(edge, EdgePolicy) and edge.reconcile_every == timedelta(minutes=3)
    with pytest.raises(ValueError, match="unknown fetch policy"):
        policy_for("fast", PROFILE, timedelta(minutes=1))


def board_play(
    play_id: str, start: tuple[int, str] | None, end: tuple[int, str] | None, value: int = 0
) -> BoardLastPlay:
    """A board's last play starting and ending at (yard line, team id)."""

    def spot(where: tuple[int, str] | None) -> dict[str, object] | None:
        return None if where is None else {"yardLine": where[0], "team": {"id": where[1]}}

    return BoardLastPlay.model_validate(
        {"id": play_id, "scoreValue": value, "start": spot(start), "end": spot(end)}
    )


def test_with_a_league_board_the_situation_document_is_not_read() -> None:
    policy, view = EdgePolicy(PROFILE), GameView()
    view.observe_board(board_play("10", (25, "66"), (30, "66")), (0, 0), T0)
    # The board carries the situation: asked again only when the board would be stale.
    assert policy.plan(SITUATION, view, at(5)) == Fetch(25.0, FetchMode.WHOLE)
    view.observe_board(board_play("11", (30, "66"), (34, "66")), (0, 0), at(5))
    assert policy.plan(SITUATION, view, at(5)).delay == 30.0  # the board was just seen
    # A situation document lagging behind the board does not move the last play back.
    view.observe([situation("10")])
    assert view.last_play_id == "11"
    view.observe_board(board_play("11", (30, "66"), (34, "66")), (7, 0), at(10))
    assert view.slow_changes >= 2  # the score changed
    # A board that stopped showing the game: the situation is polled on its cadence again.
    assert policy.plan(SITUATION, view, at(41)) == Fetch(0.0, FetchMode.WHOLE)
    view.fetched(SITUATION, FetchMode.WHOLE, at(41), None)
    assert policy.plan(SITUATION, view, at(42)) == Fetch(4.0, FetchMode.WHOLE)


def test_behind_a_board_plays_are_read_when_a_play_seems_skipped() -> None:
    policy, view = EdgePolicy(PROFILE), GameView()
    view.observe_board(board_play("10", (25, "66"), (30, "66")), (0, 0), T0)
    assert policy.plan(PLAYS, view, T0) == Fetch(0.0, FetchMode.WHOLE)  # first read: whole
    view.fetched(PLAYS, FetchMode.WHOLE, T0, 10)
    # A play that starts where the last one ended: the board delivered it, no read until
    # the detail poll (5 minutes for football).
    view.observe_board(board_play("11", (30, "66"), (34, "66")), (0, 0), at(20))
    assert view.gaps == 0
    assert policy.plan(PLAYS, view, at(20)) == Fetch(280.0, FetchMode.EDGE)
    # Starts elsewhere (another team, another spot): a play came between; read the edge now.
    view.observe_board(board_play("13", (65, "99"), (70, "99")), (0, 0), at(40))
    assert view.gaps == 1
    assert policy.plan(PLAYS, view, at(40)) == Fetch(0.0, FetchMode.EDGE)
    assert policy.plan(PROBS, view, at(40)).delay == 0.0
    view.fetched(PLAYS, FetchMode.EDGE, at(40), 13)
    assert policy.plan(PLAYS, view, at(41)) == Fetch(559.0, FetchMode.WHOLE)  # reconciliation
    # The score moved by more than the play's value (a touchdown and its extra point).
    view.observe_board(board_play("16", (70, "99"), (100, "99"), value=6), (0, 7), at(60))
    assert view.gaps == 2
    # Without spots, only the score tells: a play worth what the score moved is no gap.
    view.observe_board(board_play("17", None, None, value=3), (3, 7), at(80))
    assert view.gaps == 2
    # Nothing changed since the last read: the next one is the reconciliation.
    view.fetched(PLAYS, FetchMode.EDGE, at(81), 17)
    assert policy.plan(PLAYS, view, at(81)) == Fetch(519.0, FetchMode.WHOLE)
