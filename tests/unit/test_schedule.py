"""Scheduling, pure: real ESPN site scoreboards (and copies mutated in memory) in, writes out.

A small in-memory `apply` stands in for the store here (tests/integration/test_scheduler.py runs
the same plans against SQLite), so runs can follow each other: the second run with the same
boards must plan nothing.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pressbox.config import load_settings
from pressbox.domain.lifecycle import TRANSITIONS, StreamStatus
from pressbox.domain.schedule import (
    Change,
    KnownGame,
    KnownStream,
    Outlook,
    SchedulePlan,
    SchedulePolicy,
    StreamWrite,
    count_changes,
    outlook,
    plan_schedule,
    plan_stream,
    scoreboard_days,
)
from pressbox.domain.scoreboard import BoardGame, parse_scoreboard
from pressbox.errors import ConfigError, UpstreamDataError

S = StreamStatus
LEAD = timedelta(minutes=10)
POLICY = SchedulePolicy(lead=LEAD, tolerance=timedelta(minutes=5))

SITE = ("espn-docs", "site-api")
NBA_FINAL = (*SITE, "nba_scoreboard_20241215.json")
NBA_PREGAME = (*SITE, "generic_basketball_nba_scoreboard.json")
NFL_FINAL = (*SITE, "nfl_scoreboard_20241215.json")
NCAAF_PREGAME = (*SITE, "college_football_scoreboard_week1_sec.json")
MLB_MIXED = ("espn-docs", "EspnBaseballMlb", "Scoreboard.json")
BOARDS = {
    NBA_FINAL: ("basketball", "nba"),
    NBA_PREGAME: ("basketball", "nba"),
    NFL_FINAL: ("football", "nfl"),
    NCAAF_PREGAME: ("football", "college-football"),
    MLB_MIXED: ("baseball", "mlb"),
}

MIZ = "401752674"  # CARK @ MIZ, 2025-08-28T23:30Z, the first game of the SEC week-1 board
UGA = "401752669"  # MRSH @ UGA, 2025-08-30T19:30Z


def status_type(name: str, state: str, detail: str) -> dict[str, Any]:
    return {"id": "0", "name": name, "state": state, "completed": False,
            "description": detail, "detail": detail, "shortDetail": detail}  # fmt: skip


POSTPONED = status_type("STATUS_POSTPONED", "post", "Postponed")
SUSPENDED = status_type("STATUS_SUSPENDED", "post", "Suspended")
CANCELED = status_type("STATUS_CANCELED", "post", "Canceled")
SCHEDULED = status_type("STATUS_SCHEDULED", "pre", "Sat, August 30th at 3:30 PM EDT")

Games = dict[str, KnownGame]
Streams = dict[str, KnownStream]


def real(recordings_dir: Path, parts: tuple[str, ...]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        recordings_dir.joinpath(*parts).read_text(encoding="utf-8-sig")
    )
    return document


def games_of(document: Mapping[str, Any], sport: str, league: str) -> list[BoardGame]:
    board = parse_scoreboard(json.dumps(document).encode(), sport, league)
    assert board.skipped == 0
    return list(board.games)


def mutated(
    document: Mapping[str, Any],
    event_id: str,
    *,
    moved: timedelta | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A deep copy of a scoreboard with one event's start moved and/or its status replaced."""
    copied = copy.deepcopy(dict(document))
    (event,) = [e for e in copied["events"] if e["id"] == event_id]
    competition = event["competitions"][0]
    if moved is not None:
        start = datetime.fromisoformat(event["date"].replace("Z", "+00:00")) + moved
        text = start.strftime("%Y-%m-%dT%H:%MZ")
        event["date"] = competition["date"] = competition["startDate"] = text
    if status is not None:
        event["status"]["type"] = competition["status"]["type"] = dict(status)
    return copied


def apply(plan: SchedulePlan, games: Games, streams: Streams) -> tuple[Games, Streams]:
    """What the store does with a plan, in memory (the conditional stream writes checked)."""
    games, streams = dict(games), dict(streams)
    for write in plan.games:
        g, old = write.game, games.get(write.game.id)
        kept = (old.status, old.home_score, old.away_score) if old else (None, None, None)
        status, home, away = (
            (g.status_json(), g.home_score, g.away_score) if write.with_status else kept
        )
        games[g.id] = KnownGame(g.id, g.sport, g.league, g.name, g.short_name, g.start,
                                g.home.to_json(), g.away.to_json(), status, home, away)  # fmt: skip
    for change in plan.streams:
        if change.expected is None:
            assert change.game_id not in streams
        else:
            current = streams[change.game_id]
            assert (current.status, current.scheduled_at) == (change.expected, change.expected_at)
        retries = streams[change.game_id].retry_count if change.expected else 0
        retries += change.change is Change.STREAM_RESUMED
        streams[change.game_id] = KnownStream(
            change.game_id, change.status, change.scheduled_at, retry_count=retries
        )
    return games, streams


def run(
    board: list[BoardGame], games: Games | None = None, streams: Streams | None = None
) -> tuple[SchedulePlan, Games, Streams]:
    """Plan against the given state and apply; returns the plan and the state after it."""
    plan = plan_schedule(board, games or {}, streams or {}, POLICY)
    return (plan, *apply(plan, games or {}, streams or {}))


def counts(plan: SchedulePlan) -> dict[str, int]:
    return {str(kind): n for kind, n in count_changes(plan.actions).items() if n}


def with_stream(streams: Streams, game_id: str, status: StreamStatus) -> Streams:
    """The streams with one of them moved to `status` (as a runner or streamer would)."""
    return {**streams, game_id: KnownStream(game_id, status, streams[game_id].scheduled_at)}


@pytest.fixture
def ncaaf(recordings_dir: Path) -> dict[str, Any]:
    return real(recordings_dir, NCAAF_PREGAME)


@pytest.fixture
def scheduled(ncaaf: dict[str, Any]) -> tuple[Games, Streams]:
    """The SEC week-1 board scheduled once."""
    _, games, streams = run(games_of(ncaaf, "football", "college-football"))
    return games, streams


def cfb(document: Mapping[str, Any]) -> list[BoardGame]:
    return games_of(document, "football", "college-football")


# -- the real boards ------------------------------------------------------------------------


def test_the_real_scoreboards_parse_with_every_event(recordings_dir: Path) -> None:
    states = {}
    for parts, (sport, league) in BOARDS.items():
        board = games_of(real(recordings_dir, parts), sport, league)
        states[parts[-1]] = sorted(g.status.type.name for g in board)
    assert states["nba_scoreboard_20241215.json"] == ["STATUS_FINAL"] * 7
    assert states["generic_basketball_nba_scoreboard.json"] == ["STATUS_SCHEDULED"]
    assert states["nfl_scoreboard_20241215.json"] == ["STATUS_FINAL"] * 13
    assert states["college_football_scoreboard_week1_sec.json"] == ["STATUS_SCHEDULED"] * 16
    mlb = states["Scoreboard.json"]
    assert (mlb.count("STATUS_FINAL"), mlb.count("STATUS_IN_PROGRESS")) == (1, 2)
    assert mlb.count("STATUS_SCHEDULED") == 12


def test_a_board_game_has_teams_start_status_and_scores(recordings_dir: Path) -> None:
    (finals_game, *_) = games_of(real(recordings_dir, NBA_FINAL), "basketball", "nba")
    assert (finals_game.id, finals_game.short_name) == ("401736810", "NO @ IND")
    assert finals_game.start == datetime(2024, 12, 15, 22, 0, tzinfo=UTC)
    home = {"id": "11", "name": "Indiana Pacers", "abbreviation": "IND"}
    assert finals_game.home.to_json() == home
    assert (finals_game.home_score, finals_game.away_score) == (119, 104)
    assert finals_game.status_json()["phase"] == "final"
    (pregame,) = games_of(real(recordings_dir, NBA_PREGAME), "basketball", "nba")
    # "2025-06-06T00:30:00+00:00": this board writes seconds and an offset, the others "...Z".
    assert pregame.start == datetime(2025, 6, 6, 0, 30, tzinfo=UTC)
    assert (pregame.away.abbreviation, pregame.home.abbreviation) == ("IND", "OKC")
    assert (pregame.home_score, pregame.away_score) == (None, None)  # "0" before tip-off
    assert pregame.status_json()["phase"] == "pregame"


def test_a_pregame_board_gives_each_game_one_stream_at_start_minus_lead(
    ncaaf: dict[str, Any],
) -> None:
    plan, games, streams = run(cfb(ncaaf))
    assert counts(plan) == {"games added": 16, "streams created": 16}
    assert set(streams) == set(games) and len(streams) == 16
    for game in cfb(ncaaf):
        assert streams[game.id] == KnownStream(game.id, S.SCHEDULED, game.start - LEAD)
        assert games[game.id].status and games[game.id].status["name"] == "STATUS_SCHEDULED"


@pytest.mark.parametrize("parts", [NBA_FINAL, NFL_FINAL], ids=["nba", "nfl"])
def test_games_already_final_are_recorded_but_get_no_stream(
    recordings_dir: Path, parts: tuple[str, ...]
) -> None:
    board = games_of(real(recordings_dir, parts), *BOARDS[parts])
    plan, games, streams = run(board)
    assert counts(plan) == {"games added": len(board)}
    assert streams == {}
    assert all(g.home_score is not None and g.status for g in games.values())


def test_a_mixed_board_streams_the_games_not_yet_over(recordings_dir: Path) -> None:
    # MLB is not a league Pressbox schedules (the scheduler refuses it), but its board is the
    # only recorded one with games before, during and after play; the model is league-agnostic.
    board = games_of(real(recordings_dir, MLB_MIXED), "baseball", "mlb")
    plan, _, streams = run(board)
    assert counts(plan) == {"games added": 15, "streams created": 14}
    live = [g for g in board if g.status.type.state == "in"]
    assert len(live) == 2 and all(streams[g.id].scheduled_at == g.start - LEAD for g in live)
    (final,) = [g for g in board if g.status.type.completed]
    assert final.id not in streams
    with pytest.raises(ConfigError, match="PRESSBOX_LEAGUES"):
        load_settings(leagues="nba,mlb")


@pytest.mark.parametrize("parts", list(BOARDS), ids=lambda parts: parts[-1])
def test_running_again_on_the_same_board_changes_nothing(
    recordings_dir: Path, parts: tuple[str, ...]
) -> None:
    board = games_of(real(recordings_dir, parts), *BOARDS[parts])
    first, games, streams = run(board)
    assert len(first) > 0
    second, games_after, streams_after = run(board, games, streams)
    assert second.actions == ()
    assert (games_after, streams_after) == (games, streams)


# -- a start time that moves ----------------------------------------------------------------


def test_a_start_moved_by_three_minutes_leaves_the_stream(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    plan, games, streams = run(cfb(mutated(ncaaf, MIZ, moved=timedelta(minutes=3))), *scheduled)
    assert counts(plan) == {"games updated": 1}
    assert plan.games[0].fields == ("start_time",)
    assert streams[MIZ] == scheduled[1][MIZ]
    assert games[MIZ].start == scheduled[0][MIZ].start + timedelta(minutes=3)


def test_a_start_moved_by_thirty_minutes_moves_the_scheduled_stream(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    board = cfb(mutated(ncaaf, MIZ, moved=timedelta(minutes=30)))
    plan, games, streams = run(board, *scheduled)
    assert counts(plan) == {"games updated": 1, "streams moved": 1}
    (move,) = plan.streams
    assert (move.expected, move.status) == (S.SCHEDULED, S.SCHEDULED)
    assert streams[MIZ].scheduled_at == scheduled[1][MIZ].scheduled_at + timedelta(minutes=30)
    assert run(board, games, streams)[0].actions == ()


def test_small_moves_add_up_against_the_stream_not_the_last_start(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    once = run(cfb(mutated(ncaaf, MIZ, moved=timedelta(minutes=3))), *scheduled)
    twice = run(cfb(mutated(ncaaf, MIZ, moved=timedelta(minutes=6))), once[1], once[2])
    assert counts(twice[0]) == {"games updated": 1, "streams moved": 1}


@pytest.mark.parametrize(
    "status", [S.AWAITING_START, S.ACTIVE, S.PAUSED, S.DELAYED, S.COMPLETED, S.FAILED]
)
def test_a_moved_start_never_touches_a_stream_that_started_or_ended(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams], status: StreamStatus
) -> None:
    games, streams = scheduled[0], with_stream(scheduled[1], MIZ, status)
    plan, _, after = run(cfb(mutated(ncaaf, MIZ, moved=timedelta(minutes=45))), games, streams)
    assert counts(plan) == {"games updated": 1}
    assert plan.games[0].with_status is False  # the streamer's status is fresher than the board
    assert after[MIZ] == streams[MIZ]


# -- postponed, suspended, canceled ---------------------------------------------------------


def test_a_postponed_game_is_postponed_then_scheduled_again_at_its_new_date(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    postponed = cfb(mutated(ncaaf, UGA, status=POSTPONED))
    plan, games, streams = run(postponed, *scheduled)
    assert counts(plan) == {"games updated": 1, "streams postponed": 1}
    assert streams[UGA].status is S.POSTPONED
    assert games[UGA].status and games[UGA].status["phase"] == "postponed"
    assert run(postponed, games, streams)[0].actions == ()
    # ESPN gives the game a new date two days later, scheduled again.
    new_date = cfb(mutated(ncaaf, UGA, moved=timedelta(days=2), status=SCHEDULED))
    plan, games, streams = run(new_date, games, streams)
    assert counts(plan) == {"games updated": 1, "streams rescheduled": 1}
    new_start = scheduled[0][UGA].start + timedelta(days=2)
    assert streams[UGA] == KnownStream(UGA, S.SCHEDULED, new_start - LEAD)
    assert games[UGA].start == new_start
    assert run(new_date, games, streams)[0].actions == ()


def test_a_suspended_game_postpones_a_stream_awaiting_its_start(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    streams = with_stream(scheduled[1], UGA, S.AWAITING_START)
    board = cfb(mutated(ncaaf, UGA, status=SUSPENDED))
    plan, games, after = run(board, scheduled[0], streams)
    (postpone,) = plan.streams
    assert (postpone.change, postpone.expected, postpone.status) == (
        Change.STREAM_POSTPONED, S.AWAITING_START, S.POSTPONED,
    )  # fmt: skip
    # The Postponed stream's game now shows the board's status, in this run already.
    assert games[UGA].status and games[UGA].status["name"] == "STATUS_SUSPENDED"
    assert run(board, games, after)[0].actions == ()


@pytest.mark.parametrize("status", [S.SCHEDULED, S.AWAITING_START, S.POSTPONED])
def test_a_canceled_game_cancels_a_stream_not_yet_started(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams], status: StreamStatus
) -> None:
    streams = with_stream(scheduled[1], UGA, status)
    board = cfb(mutated(ncaaf, UGA, status=CANCELED))
    plan, games, after = run(board, scheduled[0], streams)
    assert counts(plan) == {"games updated": 1, "streams canceled": 1}
    assert after[UGA].status is S.CANCELED
    assert run(board, games, after)[0].actions == ()


@pytest.mark.parametrize("status", [S.ACTIVE, S.PAUSED, S.DELAYED, S.COMPLETED, S.FAILED])
def test_postponing_or_canceling_leaves_streams_that_started_or_ended(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams], status: StreamStatus
) -> None:
    streams = with_stream(scheduled[1], UGA, status)
    for ended in (POSTPONED, CANCELED):
        plan, _, after = run(cfb(mutated(ncaaf, UGA, status=ended)), scheduled[0], streams)
        assert plan.streams == () and after == streams


def test_games_first_seen_postponed_or_canceled(ncaaf: dict[str, Any]) -> None:
    board = cfb(mutated(mutated(ncaaf, MIZ, status=POSTPONED), UGA, status=CANCELED))
    plan, _, streams = run(board)
    assert counts(plan) == {"games added": 16, "streams created": 15}
    assert streams[MIZ].status is S.POSTPONED  # to be scheduled when ESPN gives a date
    assert UGA not in streams  # a canceled game has nothing to follow


def test_a_game_listed_on_two_days_counts_once_the_later_listing_winning(
    ncaaf: dict[str, Any],
) -> None:
    today = cfb(mutated(ncaaf, MIZ, status=POSTPONED))
    tomorrow = cfb(mutated(ncaaf, MIZ, moved=timedelta(days=1), status=SCHEDULED))
    plan, _, streams = run([*today, tomorrow[0]])
    assert counts(plan) == {"games added": 16, "streams created": 16}
    assert streams[MIZ].scheduled_at == tomorrow[0].start - LEAD


def test_every_planned_status_change_is_in_the_lifecycle_table(ncaaf: dict[str, Any]) -> None:
    base = cfb(ncaaf)[0]
    final = status_type("STATUS_FINAL", "post", "Final") | {"completed": True}
    live = status_type("STATUS_IN_PROGRESS", "in", "1st Quarter")
    boards = {
        name: cfb(mutated(ncaaf, base.id, status=kind))[0]
        for name, kind in (("pre", SCHEDULED), ("in", live), ("final", final),
                           ("postponed", POSTPONED), ("canceled", CANCELED))
    }  # fmt: skip
    assert {outlook(g) for g in boards.values()} == set(Outlook)
    at = base.start - timedelta(hours=1)
    for status in StreamStatus:
        for game in boards.values():
            write = plan_stream(game, KnownStream(base.id, status, at), POLICY)
            if write is None:
                continue
            assert isinstance(write, StreamWrite) and write.expected is status
            assert write.status is status or write.status in TRANSITIONS[status]
            assert not status.is_final
            assert status in (S.SCHEDULED, S.AWAITING_START, S.POSTPONED)


# -- resuming streams that ended Failed for the upstream -----------------------------------

LIVE = status_type("STATUS_IN_PROGRESS", "in", "2nd Quarter")


def failed(streams: Streams, game_id: str, cause: str | None, retries: int = 0) -> Streams:
    at = streams[game_id].scheduled_at
    return {**streams, game_id: KnownStream(game_id, S.FAILED, at, cause, retries)}


def test_a_stream_failed_for_the_upstream_is_resumed_while_its_game_is_live(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    """An older database's stream, ended Failed by the budget of failed polls, its game still in
    play on the board: Scheduled again (due at once), one retry counted; then nothing more."""
    games, streams = scheduled[0], failed(scheduled[1], MIZ, "upstream", retries=1)
    board = cfb(mutated(ncaaf, MIZ, status=LIVE))
    plan, games, after = run(board, games, streams)
    assert counts(plan) == {"streams resumed": 1, "games updated": 1}
    (write,) = plan.streams
    assert (write.expected, write.status) == (S.FAILED, S.SCHEDULED)
    game = next(g for g in board if g.id == MIZ)
    assert after[MIZ].scheduled_at == game.start - LEAD  # due: the game is under way
    assert after[MIZ].retry_count == 2 and after[MIZ].failure_cause is None
    again, _, same = run(board, games, after)
    assert len(again) == 0 and same == after


@pytest.mark.parametrize("cause", ["stall", "limit", "takeovers", "operator", None, "future"])
def test_a_stream_failed_for_another_cause_stays_failed(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams], cause: str | None
) -> None:
    games, streams = scheduled[0], failed(scheduled[1], MIZ, cause)
    plan, _, after = run(cfb(mutated(ncaaf, MIZ, status=LIVE)), games, streams)
    assert plan.streams == () and after[MIZ] == streams[MIZ]


@pytest.mark.parametrize("status", ["pre", "final", "postponed"])
def test_a_stream_failed_for_the_upstream_is_resumed_only_while_the_game_is_in_play(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams], status: str
) -> None:
    final = status_type("STATUS_FINAL", "post", "Final") | {"completed": True}
    kind = {"pre": SCHEDULED, "final": final, "postponed": POSTPONED}[status]
    games, streams = scheduled[0], failed(scheduled[1], MIZ, "upstream")
    plan, _, after = run(cfb(mutated(ncaaf, MIZ, status=kind)), games, streams)
    assert plan.streams == () and after[MIZ] == streams[MIZ]


def test_resuming_stops_at_the_maximum_number_of_retries(
    ncaaf: dict[str, Any], scheduled: tuple[Games, Streams]
) -> None:
    board = cfb(mutated(ncaaf, MIZ, status=LIVE))
    at_limit = failed(scheduled[1], MIZ, "upstream", retries=POLICY.max_retries)
    plan, _, _ = run(board, scheduled[0], at_limit)
    assert plan.streams == ()
    below = failed(scheduled[1], MIZ, "upstream", retries=POLICY.max_retries - 1)
    plan, _, after = run(board, scheduled[0], below)
    assert counts(plan)["streams resumed"] == 1
    assert after[MIZ].retry_count == POLICY.max_retries


# -- boundary: malformed events and bodies --------------------------------------------------


def test_malformed_events_are_skipped_with_a_log_line(
    ncaaf: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    document = copy.deepcopy(ncaaf)
    events = document["events"]
    del events[0]["competitions"][0]["competitors"][1]  # no away side
    events[1]["date"] = "next Saturday"
    del events[2]["id"]
    events[3]["competitions"][0]["competitors"][0]["homeAway"] = "neutral"
    del events[4]["status"], events[4]["competitions"][0]["status"]
    events.append("not an event")
    with caplog.at_level(logging.WARNING, logger="pressbox.domain.scoreboard"):
        board = parse_scoreboard(json.dumps(document), "football", "college-football")
    assert (len(board.games), board.skipped) == (11, 6)
    skipped = [r.getMessage() for r in caplog.records]
    assert len(skipped) == 6 and all("skipping malformed" in line for line in skipped)
    assert f"event {MIZ}" in skipped[0] and "date" in skipped[1]


@pytest.mark.parametrize("body", [b"<html>blocked</html>", b"[]", b'{"leagues": []}'])
def test_a_body_that_is_not_a_scoreboard_is_an_upstream_data_error(body: bytes) -> None:
    with pytest.raises(UpstreamDataError):
        parse_scoreboard(body, "football", "nfl")


def test_scoreboard_days_are_us_eastern_dates() -> None:
    # 03:00Z on Dec 16 is 22:00 EST on Dec 15: ESPN's board of the 15th still holds tonight.
    assert scoreboard_days(datetime(2024, 12, 16, 3, 0, tzinfo=UTC), 1) == [
        date(2024, 12, 15), date(2024, 12, 16),
    ]  # fmt: skip
    # In summer Eastern is UTC-4: 03:59Z is still the previous day, 04:00Z the next.
    assert scoreboard_days(datetime(2025, 8, 30, 3, 59, tzinfo=UTC), 0) == [date(2025, 8, 29)]
    assert scoreboard_days(datetime(2025, 8, 30, 4, 0, tzinfo=UTC), 2)[-1] == date(2025, 9, 1)
