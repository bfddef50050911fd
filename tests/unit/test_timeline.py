"""Timeline synthesis at chosen instants: status wording, situation, paging, scoreboard, slates.

The game here is built by hand (no recorded game went to overtime): an NFL game with every kind of
period end, a timeout, two drives, and an overtime period.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pressbox.replay.games import ReplayGames, slate
from pressbox.replay.items import page_of
from pressbox.replay.record import (
    DriveRecord,
    GameRecord,
    PlayRecord,
    Position,
    ProbabilityRecord,
    TeamRecord,
)
from pressbox.replay.scoreboard import parse_dates, scoreboard_limit
from pressbox.replay.synthesis import GameDocuments
from pressbox.replay.timeline import (
    FINAL_DELAY,
    HALFTIME_DELAY,
    GameTimeline,
    Moment,
    Stage,
    eastern,
    is_period_end,
    ordinal,
    scheduled_details,
    season_year,
)

START = datetime(2024, 12, 15, 18, 0, tzinfo=UTC)  # 1:00 PM EST
KICKOFF = START + timedelta(minutes=5)
NFL = "/v2/sports/football/leagues/nfl/events/9001/competitions/9001"

# (minutes after kickoff, period, clock, type, text, home, away, position text or None)
SCRIPT = [
    (0, 1, "15:00", "Kickoff", "A.Kicker kicks 65 yards, Touchback.", 0, 0, "1st & 10 at HOM 25"),
    (
        10,
        1,
        "8:29",
        "Rush",
        "B.Back up the middle to HOM 40 for 15 yards.",
        0,
        0,
        "1st & 10 at HOM 40",
    ),
    (20, 1, "0:00", "End Period", "END QUARTER 1", 0, 0, None),
    (
        25,
        2,
        "14:55",
        "Passing Touchdown",
        "C.Arm pass to D.Hands for 60 yards, TOUCHDOWN.",
        7,
        0,
        None,
    ),
    (40, 2, "2:00", "Timeout", "Timeout #1 by AWY at 02:00.", 7, 0, None),
    (60, 2, "0:00", "End of Half", "END QUARTER 2", 7, 0, None),
    (80, 3, "15:00", "Kickoff", "E.Leg kicks 65 yards, Touchback.", 7, 0, "1st & 10 at AWY 25"),
    (100, 3, "0:00", "End Period", "End of 3rd Quarter", 7, 0, None),
    (120, 4, "0:03", "Field Goal Good", "F.Foot 30 yard field goal is GOOD.", 7, 3, None),
    (125, 4, "0:00", "End Period", "END QUARTER 4", 7, 3, None),
    (135, 5, "7:00", "Rush", "G.Run up the middle for 10 yards.", 7, 3, "1st & 10 at AWY 40"),
    (140, 5, "3:10", "Rushing Touchdown", "G.Run 60 yards, TOUCHDOWN.", 7, 9, None),
    (141, 5, "3:10", "End of Game", "END GAME", 7, 9, None),
]


def play(index: int) -> PlayRecord:
    minutes, period, clock, kind, text, home, away, where = SCRIPT[index]
    position = None
    if where is not None:
        team = "2" if "HOM" in where else "1"
        yard = int(where.rsplit(" ", 1)[1])
        position = Position(1, 10, yard, 100 - yard, where, where.split(" at ")[1], team)
    scoring = "Touchdown" in kind or "Field Goal" in kind
    return PlayRecord(
        id=f"9001{index:04d}",
        sequence=100 + index,
        wallclock=KICKOFF + timedelta(minutes=minutes),
        period=period,
        clock=clock,
        text=text,
        home_score=home,
        away_score=away,
        scoring=scoring,
        score_value=(6 if "Touchdown" in kind else 3) if scoring else 0,
        type_id=str(index + 1),
        type_text=kind,
        team_id="2" if index < 6 else "1",
        drive_id="90011" if index < 3 else "90012" if index < 5 else None,
        end=position,
        start=position,
    )


def game(game_id: str = "9001", shift: timedelta = timedelta(0)) -> GameRecord:
    plays = tuple(play(i) for i in range(len(SCRIPT)))
    record = GameRecord(
        id="9001",
        sport="football",
        league="nfl",
        name="Away Team at Home Team",
        short_name="AWY @ HOM",
        start_time=START,
        home=TeamRecord("2", "home", "Home Team", "HOM", 7),
        away=TeamRecord("1", "away", "Away Team", "AWY", 9),
        plays=plays,
        probabilities=tuple(
            ProbabilityRecord(p.id, 0.5 + i / 100, 0.5 - i / 100) for i, p in enumerate(plays)
        ),
        drives=(
            DriveRecord(
                "90011",
                1,
                "2",
                "2 plays, 15 yards",
                "Punt",
                False,
                "HOM 25",
                "HOM 40",
                tuple(p.id for p in plays[:3]),
            ),  # fmt: skip
            DriveRecord(
                "90012",
                2,
                "2",
                "1 play, 60 yards",
                "Touchdown",
                True,
                "AWY 40",
                "AWY 0",
                tuple(p.id for p in plays[3:5]),
            ),  # fmt: skip
        ),
        periods=5,
    )
    return record.renamed(game_id, shift) if (game_id, shift) != ("9001", timedelta(0)) else record


def at_play(index: int, after: timedelta = timedelta(0)) -> datetime:
    return KICKOFF + timedelta(minutes=SCRIPT[index][0]) + after


@pytest.fixture(scope="module")
def docs() -> GameDocuments:
    return GameDocuments(GameTimeline(game()))


def status_at(docs: GameDocuments, moment: datetime) -> dict[str, Any]:
    return docs.status(docs.timeline.moment(moment))


def words(status: dict[str, Any]) -> tuple[str, str, str, str, int, str, float]:
    kind = status["type"]
    return (
        kind["name"],
        kind["state"],
        kind["detail"],
        kind["shortDetail"],
        status["period"],
        status["displayClock"],
        status["clock"],
    )


# -- status -----------------------------------------------------------------------------------


def test_before_the_first_play_the_game_is_scheduled(docs: GameDocuments) -> None:
    status = status_at(docs, START - timedelta(hours=2))
    assert words(status) == (
        "STATUS_SCHEDULED", "pre", "Sun, December 15th at 1:00 PM EST", "12/15 - 1:00 PM EST",
        0, "0:00", 0.0,
    )  # fmt: skip
    assert status["type"]["completed"] is False and status["type"]["id"] == "1"
    # Still scheduled after the scheduled start, until the first play is out.
    assert status_at(docs, KICKOFF - timedelta(seconds=1))["type"]["name"] == "STATUS_SCHEDULED"


def test_mid_period_shows_the_clock_of_the_last_play(docs: GameDocuments) -> None:
    assert words(status_at(docs, at_play(1, timedelta(minutes=3)))) == (
        "STATUS_IN_PROGRESS", "in", "8:29 - 1st Quarter", "8:29 - 1st", 1, "8:29", 509.0,
    )  # fmt: skip
    assert words(status_at(docs, at_play(0)))[2] == "15:00 - 1st Quarter"


@pytest.mark.parametrize(("index", "detail", "short"), [
    (2, "End of 1st Quarter", "End of 1st"),
    (7, "End of 3rd Quarter", "End of 3rd"),
    (9, "End of 4th Quarter", "End of 4th"),
])  # fmt: skip
def test_a_period_end_is_in_progress_at_zero(
    docs: GameDocuments, index: int, detail: str, short: str
) -> None:
    status = status_at(docs, at_play(index, timedelta(minutes=2)))
    name, state, got_detail, got_short, period, display, clock = words(status)
    assert (name, state, got_detail, got_short) == ("STATUS_IN_PROGRESS", "in", detail, short)
    assert (period, display, clock) == (SCRIPT[index][1], "0:00", 0.0)
    assert status["type"]["description"] == "In Progress"


def test_end_of_half_then_halftime_until_the_next_play(docs: GameDocuments) -> None:
    just_after = words(status_at(docs, at_play(5, HALFTIME_DELAY - timedelta(seconds=1))))
    assert just_after[:4] == ("STATUS_IN_PROGRESS", "in", "End of 2nd Quarter", "End of 2nd")
    for moment in (at_play(5, HALFTIME_DELAY), at_play(6, -timedelta(seconds=1))):
        status = status_at(docs, moment)
        assert words(status) == (
            "STATUS_HALFTIME", "in", "Halftime", "Halftime", 2, "0:00", 0.0
        )  # fmt: skip
        assert status["type"]["id"] == "23"
    assert words(status_at(docs, at_play(6)))[2] == "15:00 - 3rd Quarter"
    moments = [docs.timeline.moment(at_play(5, delay)) for delay in (timedelta(0), HALFTIME_DELAY)]
    assert moments == [Moment(6, Stage.LIVE), Moment(6, Stage.HALFTIME)]


def test_overtime_is_named_ot(docs: GameDocuments) -> None:
    assert words(status_at(docs, at_play(10)))[2:6] == ("7:00 - OT", "7:00 - OT", 5, "7:00")
    assert words(status_at(docs, at_play(12)))[2:4] == ("End of OT", "End of OT")


def test_after_the_last_play_and_a_delay_the_game_is_final(docs: GameDocuments) -> None:
    assert status_at(docs, at_play(12, FINAL_DELAY - timedelta(seconds=1)))["type"]["state"] == "in"
    status = status_at(docs, at_play(12, FINAL_DELAY))
    assert words(status) == ("STATUS_FINAL", "post", "Final/OT", "Final/OT", 5, "0:00", 0.0)
    assert status["type"]["completed"] is True
    home, away = docs.competition(docs.timeline.moment(at_play(12, FINAL_DELAY)))["competitors"]
    assert (home["winner"], away["winner"]) == (False, True)
    live = docs.competition(docs.timeline.moment(at_play(11)))["competitors"]
    assert all("winner" not in c for c in live)


def test_second_overtime_and_untimed_college_overtime() -> None:
    record = game()
    later = tuple(replace(p, period=6) if p.period == 5 else p for p in record.plays)
    second = GameDocuments(GameTimeline(replace(record, plays=later, periods=6)))
    assert words(status_at(second, at_play(10)))[2:5] == ("7:00 - 2OT", "7:00 - 2OT", 6)
    assert words(status_at(second, at_play(12, FINAL_DELAY)))[2:4] == ("Final/2OT", "Final/2OT")
    college = GameDocuments(GameTimeline(replace(record, league="college-football")))
    assert words(status_at(college, at_play(10)))[2:4] == ("OT", "OT")


def test_scheduled_wording_and_seasons() -> None:
    summer = datetime(2024, 9, 1, 23, 30, tzinfo=UTC)
    assert scheduled_details(summer) == ("Sun, September 1st at 7:30 PM EDT", "9/1 - 7:30 PM EDT")
    assert eastern(datetime(2025, 3, 9, 6, 59, tzinfo=UTC)).tzname() == "EST"
    assert eastern(datetime(2025, 3, 9, 7, 0, tzinfo=UTC)).tzname() == "EDT"
    assert eastern(datetime(2025, 11, 2, 6, 0, tzinfo=UTC)).tzname() == "EST"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
    ]  # fmt: skip
    record = game()
    assert season_year(record) == 2024
    january = record.renamed("9002", timedelta(days=30))
    assert season_year(january) == 2024
    nba = replace(record, sport="basketball", league="nba")
    assert season_year(nba) == 2025


def test_period_ends_are_recognised_by_type_and_text() -> None:
    assert [is_period_end(play(i)) for i in range(len(SCRIPT))] == [
        False, False, True, False, False, True, False, True, False, True, False, False, True
    ]  # fmt: skip
    assert is_period_end(replace(play(1), type_text="x", text="End of the 1st Quarter"))
    assert not is_period_end(replace(play(1), text="Endicott run for 2 yards"))


def test_wallclocks_that_run_backwards_wait_for_the_plays_before_them() -> None:
    record = game()
    plays = list(record.plays)
    plays[3] = replace(plays[3], wallclock=plays[1].wallclock)
    timeline = GameTimeline(replace(record, plays=tuple(plays)))
    assert timeline.moment(at_play(1)).revealed == 2  # play 3 is not out before play 2
    assert timeline.moment(at_play(2)).revealed == 4


# -- situation, plays, probabilities, drives ---------------------------------------------------


def test_situation_follows_the_last_play(docs: GameDocuments) -> None:
    pregame = docs.situation(docs.timeline.moment(START))
    assert "lastPlay" not in pregame and (pregame["homeTimeouts"], pregame["awayTimeouts"]) == (
        3,
        3,
    )
    situation = docs.situation(docs.timeline.moment(at_play(1)))
    assert situation["lastPlay"]["$ref"].endswith(f"{NFL}/plays/90010001?lang=en&region=us")
    assert situation["downDistanceText"] == "1st & 10 at HOM 40"
    assert situation["shortDownDistanceText"] == "1st & 10"
    assert situation["possessionText"] == "HOM 40"
    assert situation["team"]["$ref"].endswith("/nfl/seasons/2024/teams/2?lang=en&region=us")
    assert (situation["down"], situation["yardLine"], situation["distance"]) == (1, 40, 10)
    assert situation["isRedZone"] is False
    after_score = docs.situation(docs.timeline.moment(at_play(3)))
    assert "team" not in after_score and "down" not in after_score
    # The away team's timeout counts in its half only.
    timeouts = docs.situation(docs.timeline.moment(at_play(4)))
    assert (timeouts["homeTimeouts"], timeouts["awayTimeouts"]) == (3, 2)
    second_half = docs.situation(docs.timeline.moment(at_play(6)))
    assert (second_half["homeTimeouts"], second_half["awayTimeouts"]) == (3, 3)


def test_plays_and_probabilities_come_out_together(docs: GameDocuments) -> None:
    moment = docs.timeline.moment(at_play(4))
    plays = docs.items.plays(moment)
    probabilities = docs.items.probabilities(moment)
    assert [p["id"] for p in plays] == [f"9001{i:04d}" for i in range(5)]
    assert [p["play"]["$ref"].split("/plays/")[1].split("?")[0] for p in probabilities] == [
        p["id"] for p in plays
    ]
    item = plays[3]
    assert item["sequenceNumber"] == "103" and item["type"] == {
        "id": "4", "text": "Passing Touchdown", "abbreviation": "TD"
    }  # fmt: skip
    assert (item["homeScore"], item["awayScore"], item["scoringPlay"], item["scoreValue"]) == (
        7, 0, True, 6
    )  # fmt: skip
    assert item["clock"] == {"value": 895.0, "displayValue": "14:55"}
    assert item["wallclock"] == "2024-12-15T18:30:00Z" and item["modified"] == "2024-12-15T18:30Z"
    assert item["drive"]["$ref"].endswith("/drives/90012?lang=en&region=us")
    probability = probabilities[3]
    assert probability["sequenceNumber"] == "103"
    assert probability["homeWinPercentage"] == 0.53
    assert probability["secondsLeft"] == 2 * 900 + 895  # 2nd quarter, 14:55
    assert docs.items.play(moment, "90010005") is None
    assert docs.items.probability(moment, "90010003") == probability
    assert docs.items.probability(moment, "90010005") is None


def test_drives_come_out_with_their_first_play(docs: GameDocuments) -> None:
    assert docs.items.drives(docs.timeline.moment(START)) == []
    running = docs.items.drives(docs.timeline.moment(at_play(1)))
    assert [d["id"] for d in running] == ["90011"]
    assert "end" not in running[0] and "displayResult" not in running[0]
    assert running[0]["plays"]["count"] == 2 and running[0]["isScore"] is False
    done = docs.items.drives(docs.timeline.moment(at_play(4)))
    assert [d["id"] for d in done] == ["90011", "90012"]
    first = done[0]
    assert first["description"] == "2 plays, 15 yards" and first["displayResult"] == "Punt"
    assert first["start"]["text"] == "HOM 25" and first["end"]["text"] == "HOM 40"
    assert done[1]["isScore"] is True


# -- paging -----------------------------------------------------------------------------------


def test_pages_like_espn() -> None:
    items = list(range(60))
    first = page_of("ref", items, None, None)
    assert {k: v for k, v in first.items() if k != "items"} == {
        "$ref": "ref", "count": 60, "pageIndex": 1, "pageSize": 25, "pageCount": 3
    }  # fmt: skip
    assert first["items"] == list(range(25))
    third = page_of("ref", items, 25, 3)
    assert third["items"] == list(range(50, 60)) and third["pageIndex"] == 3
    assert page_of("ref", items, 25, 4)["items"] == []
    assert page_of("ref", items, 7, 2)["pageCount"] == 9
    capped = page_of("ref", items, 5000, 1)
    assert capped["pageSize"] == 1000 and capped["pageCount"] == 1 and len(capped["items"]) == 60
    empty = page_of("ref", [], None, None)
    assert (empty["count"], empty["pageCount"], empty["items"]) == (0, 1, [])


def test_collections_are_paged_through_the_router() -> None:
    games = ReplayGames([game()])
    now = at_play(12, FINAL_DELAY)
    body = json.loads(_answer(games, f"{NFL}/plays", now, limit=5, page=3))
    assert (body["count"], body["pageIndex"], body["pageSize"], body["pageCount"]) == (13, 3, 5, 3)
    assert [p["id"] for p in body["items"]] == ["90010010", "90010011", "90010012"]
    past = json.loads(_answer(games, f"{NFL}/probabilities", now, limit=5, page=4))
    assert past["items"] == [] and past["pageCount"] == 3
    early = json.loads(_answer(games, f"{NFL}/plays", at_play(1)))
    assert (early["count"], early["pageSize"], len(early["items"])) == (2, 25, 2)


# -- the router, the cache, the scoreboard, slates -------------------------------------------


def _answer(games: ReplayGames, path: str, now: datetime, **kwargs: Any) -> bytes:
    params = kwargs.pop("params", {})
    answer = games.answer(path, params, now, **kwargs)
    assert answer is not None, path
    return answer.body


def test_every_path_of_a_game_is_answered() -> None:
    games = ReplayGames([game()])
    now = at_play(4)
    league = "/v2/sports/football/leagues/nfl"
    for path in (
        f"{league}/events/9001",
        NFL,
        f"{NFL}/status",
        f"{NFL}/situation",
        f"{NFL}/plays",
        f"{NFL}/plays/90010002",
        f"{NFL}/probabilities",
        f"{NFL}/probabilities/90010002",
        f"{NFL}/drives",
        f"{NFL}/competitors/2",
        f"{NFL}/competitors/2/score",
        f"{league}/seasons/2024/teams/1",
    ):
        assert json.loads(_answer(games, path, now)), path
    for missing in (
        f"{league}/events/9999",
        f"{NFL}/leaders",
        f"{NFL}/plays/90010009",  # not out yet
        f"{NFL}/competitors/77/score",
        f"{league}/seasons/2024/teams/77",
        "/v2/sports/basketball/leagues/nba/events/9001",
        f"{league}/events/9001/competitions/9002",
    ):
        assert games.answer(missing, {}, now) is None, missing
    score = json.loads(_answer(games, f"{NFL}/competitors/2/score", now))
    assert (score["value"], score["displayValue"]) == (7.0, "7") and "winner" not in score
    team = json.loads(_answer(games, f"{league}/seasons/2024/teams/1", now))
    assert (team["displayName"], team["location"], team["name"], team["abbreviation"]) == (
        "Away Team", "Away", "Team", "AWY"
    )  # fmt: skip


def test_documents_are_built_once_per_moment() -> None:
    games = ReplayGames([game()])
    first = games.answer(f"{NFL}/plays", {}, at_play(1))
    later = games.answer(f"{NFL}/plays", {}, at_play(1, timedelta(minutes=5)))
    assert first is not None and later is not None and first.body is later.body
    changed = games.answer(f"{NFL}/plays", {}, at_play(2))
    assert changed is not None and changed.body != first.body
    assert games.builds == 2
    tiny = ReplayGames([game()], cache_size=1)
    for path in ("status", "situation", "status"):
        tiny.answer(f"{NFL}/{path}", {}, at_play(1))
    assert tiny.builds == 3  # the first status was evicted by the situation


def test_the_same_game_under_two_ids_with_an_offset() -> None:
    games = slate(game(), 2, timedelta(hours=1))
    assert [g.id for g in games] == ["9001001", "9001002"]
    assert games[1].start_time - games[0].start_time == timedelta(hours=1)
    assert games[1].plays[0].id == "9001002" + "0000"
    replay = ReplayGames(games)
    now = at_play(1)
    base = "/v2/sports/football/leagues/nfl/events/{0}/competitions/{0}/status"
    first = json.loads(_answer(replay, base.format("9001001"), now))
    second = json.loads(_answer(replay, base.format("9001002"), now))
    assert first["type"]["detail"] == "8:29 - 1st Quarter"
    assert second["type"]["name"] == "STATUS_SCHEDULED"
    later = json.loads(_answer(replay, base.format("9001002"), now + timedelta(hours=1)))
    assert later["type"]["detail"] == "8:29 - 1st Quarter"
    with pytest.raises(ValueError, match="twice"):
        ReplayGames([game(), game()])


def test_scoreboard_lists_every_game_of_the_day_in_its_state() -> None:
    records = [game("7001", timedelta(hours=-6)), *slate(game(), 3, timedelta(hours=2))]
    records.append(game("7002", timedelta(days=1)))
    replay = ReplayGames(records)
    now = at_play(4)  # 7001 final, 9001001 live, 9001002 and 9001003 scheduled
    path = "/apis/site/v2/sports/football/nfl/scoreboard"
    board = json.loads(_answer(replay, path, now, params={"dates": "20241215"}))
    assert board["day"] == {"date": "2024-12-15"}
    assert board["leagues"][0]["abbreviation"] == "NFL"
    events = {e["id"]: e for e in board["events"]}
    assert list(events) == ["7001", "9001001", "9001002", "9001003"]
    states = {k: e["status"]["type"]["name"] for k, e in events.items()}
    assert states == {
        "7001": "STATUS_FINAL", "9001001": "STATUS_IN_PROGRESS",
        "9001002": "STATUS_SCHEDULED", "9001003": "STATUS_SCHEDULED",
    }  # fmt: skip
    final = events["7001"]["competitions"][0]
    assert [(c["homeAway"], c["score"], c["winner"]) for c in final["competitors"]] == [
        ("home", "7", False), ("away", "9", True)
    ]  # fmt: skip
    assert "situation" not in final
    live = events["9001001"]["competitions"][0]
    assert [c["score"] for c in live["competitors"]] == ["7", "0"]
    assert live["situation"]["lastPlay"]["id"] == "90010010004"
    assert live["situation"]["lastPlay"]["probability"] == {
        "tiePercentage": 0.0, "homeWinPercentage": 0.54, "awayWinPercentage": 0.46
    }  # fmt: skip
    assert "situation" not in events["9001002"]["competitions"][0]
    # No `dates`: the replay clock's Eastern date; a limit of 600 or more means 25, as ESPN.
    today = json.loads(_answer(replay, path, now + timedelta(days=1), limit=2))
    assert [e["id"] for e in today["events"]] == ["7002"]
    assert scoreboard_limit(600) == 25 and scoreboard_limit(3) == 3
    assert parse_dates("20241214-20241215")[0].day == 14
    with pytest.raises(ValueError, match="YYYYMMDD"):
        replay.answer(path, {"dates": "yesterday"}, now)
    assert replay.answer("/apis/site/v2/sports/basketball/nba/scoreboard", {}, now) is not None


def test_describe_lists_every_game() -> None:
    replay = ReplayGames([game()])
    (described,) = replay.describe(at_play(1))
    assert described["id"] == "9001" and described["stage"] == "live"
    assert described["plays"] == f"2/{len(SCRIPT)}"


def test_a_game_without_plays_is_refused() -> None:
    with pytest.raises(ValueError, match="no plays"):
        GameTimeline(replace(game(), plays=()))
