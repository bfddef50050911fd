"""Replayed games through the replay server (in-process ASGI, a clock the test moves).

Fidelity: synthesized documents have the keys and JSON types of the real recorded ones (the
Postman capture, the USC at LSU core-API documents, the site-API scoreboards), and USC at LSU
replayed to its end gives the tracker the same plays, probabilities and drives as ESPN's own
documents.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FixedClock
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.tracker import Tracker
from pressbox.replay import Recording, create_replay_app, load_recording
from pressbox.replay.games import slate
from pressbox.replay.loaders import load_game_record
from pressbox.replay.record import GameRecord
from pressbox.replay.server import http_date
from pressbox.replay.timeline import FINAL_DELAY, HALFTIME_DELAY, GameTimeline, is_period_end
from pressbox.sources.budget import RequestBudget
from pressbox.sources.espn import EspnClient
from pressbox.sources.http import HttpClient
from pressbox.streaming.discovery import discover

USC = "401628334"
LEAGUE = "/v2/sports/football/leagues/college-football"
COMPETITION = f"{LEAGUE}/events/{USC}/competitions/{USC}"
NBA_GAME = "401772994"
NBA = f"/v2/sports/basketball/leagues/nba/events/{NBA_GAME}/competitions/{NBA_GAME}"

# Real keys we do not synthesize (no source for them in a GameRecord, or not read by a client).
PLAY_NOT_SYNTHESIZED = {
    "alternativeText", "shortAlternativeText", "participants", "statYardage", "scoringType",
    "pointAfterAttempt", "valid", "shootingPlay", "coordinate",
}  # fmt: skip
PROBABILITY_NOT_SYNTHESIZED = {
    "spreadCoverProbHome", "spreadPushProb", "totalOverProb", "totalPushProb",
}  # fmt: skip
COMPETITION_NOT_SYNTHESIZED = {
    "guid", "attendance", "type", "dateValid", "neutralSite", "divisionCompetition",
    "conferenceCompetition", "previewAvailable", "recapAvailable", "boxscoreAvailable",
    "lineupAvailable", "gamecastAvailable", "playByPlayAvailable", "conversationAvailable",
    "commentaryAvailable", "pickcenterAvailable", "summaryAvailable", "liveAvailable",
    "ticketsAvailable", "shotChartAvailable", "timeoutsAvailable", "possessionArrowAvailable",
    "onWatchESPN", "recent", "bracketAvailable", "wallclockAvailable", "highlightsAvailable",
    "gameSource", "boxscoreSource", "playByPlaySource", "linescoreSource", "statsSource",
    "venue", "notes", "odds", "broadcasts", "leaders", "links", "predictor", "powerIndexes",
    "hasDefensiveStats", "groups",
}  # fmt: skip
COMPETITOR_NOT_SYNTHESIZED = {
    "linescores", "roster", "statistics", "leaders", "record", "ranks", "curatedRank",
}  # fmt: skip
EVENT_NOT_SYNTHESIZED = {"seasonType", "week", "links", "venues"}
SCOREBOARD_EVENT_NOT_SYNTHESIZED = {"links", "week", "weather", "competitions"}
SCOREBOARD_COMPETITION_NOT_SYNTHESIZED = {
    "attendance", "broadcast", "broadcasts", "conferenceCompetition", "dateValid", "format",
    "geoBroadcasts", "headlines", "highlights", "leaders", "neutralSite", "notes", "odds",
    "playByPlayAvailable", "recent", "series", "tickets", "type", "venue",
}  # fmt: skip

# The keys a client reads, compared key by key for their JSON types.
STATUS_KEYS = [
    "$ref", "clock", "displayClock", "period", "type.id", "type.name", "type.state",
    "type.completed", "type.description", "type.detail", "type.shortDetail",
]  # fmt: skip
COMPETITION_KEYS = [
    "$ref", "id", "uid", "date", "timeValid", "status.$ref", "situation.$ref", "details.$ref",
    "probabilities.$ref", "drives.$ref", "format.regulation.periods", "format.regulation.clock",
    *(f"competitors.{i}.{k}" for i in (0, 1) for k in (
        "$ref", "id", "uid", "type", "order", "homeAway", "winner", "team.$ref", "score.$ref",
    )),
]  # fmt: skip
EVENT_KEYS = [
    "$ref", "id", "uid", "date", "name", "shortName", "timeValid", "season.$ref", "league.$ref",
    "competitions.0.$ref", "competitions.0.id", "competitions.0.date",
    "competitions.0.competitors.0.id", "competitions.0.competitors.0.homeAway",
]  # fmt: skip
PLAY_KEYS = [
    "$ref", "id", "sequenceNumber", "type.id", "type.text", "text", "shortText", "awayScore",
    "homeScore", "period.number", "clock.value", "clock.displayValue", "scoringPlay", "priority",
    "scoreValue", "modified", "team.$ref", "probability.$ref", "wallclock", "drive.$ref",
    "start.down", "start.distance", "start.yardLine", "start.yardsToEndzone", "start.team.$ref",
    "end.down", "end.distance", "end.yardLine", "end.yardsToEndzone", "end.downDistanceText",
    "end.shortDownDistanceText", "end.possessionText", "end.team.$ref",
]  # fmt: skip
PROBABILITY_KEYS = [
    "$ref", "competition.$ref", "play.$ref", "homeTeam.$ref", "awayTeam.$ref", "tiePercentage",
    "homeWinPercentage", "awayWinPercentage", "lastModified", "sequenceNumber", "secondsLeft",
    "source.id",
]  # fmt: skip
SCOREBOARD_KEYS = [
    "id", "uid", "date", "name", "shortName", "season.year", "season.type", "season.slug",
    "status.clock", "status.displayClock", "status.period", "status.type.id", "status.type.name",
    "status.type.state", "status.type.completed", "status.type.detail", "status.type.shortDetail",
    "competitions.0.id", "competitions.0.uid", "competitions.0.date", "competitions.0.startDate",
    "competitions.0.timeValid", "competitions.0.status.type.name",
    *(f"competitions.0.competitors.{i}.{k}" for i in (0, 1) for k in (
        "id", "uid", "type", "order", "homeAway", "winner", "score", "team.id", "team.uid",
        "team.location", "team.name", "team.abbreviation", "team.displayName",
        "team.shortDisplayName", "team.isActive",
    )),
]  # fmt: skip


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def shape(document: Any, keys: Iterable[str]) -> dict[str, str]:
    """The JSON type at each dotted key ("type.name", "competitors.0.id"); "absent" if none."""
    found = {}
    for key in keys:
        value = document
        for part in key.split("."):
            if isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                value = _ABSENT
                break
        found[key] = "absent" if value is _ABSENT else json_type(value)
    return found


_ABSENT = object()


def real(recordings_dir: Path, *parts: str) -> Any:
    return json.loads(recordings_dir.joinpath(*parts).read_text(encoding="utf-8-sig"))


def usc_real(recordings_dir: Path, document: str) -> Any:
    """A real USC at LSU core-API document: `usc_real(dir, "Plays")`."""
    name = f"EspnFootballNcaaEvent{document}.json"
    return real(recordings_dir, "espn-docs", "EspnFootballNcaa", name)


@pytest.fixture(scope="module")
def usc(recordings_dir: Path) -> GameRecord:
    return load_game_record(recordings_dir / "espn-docs" / "EspnFootballNcaa")


@pytest.fixture(scope="module")
def nba(recordings_dir: Path) -> GameRecord:
    return load_game_record(recordings_dir / "games" / f"nba-{NBA_GAME}" / "summary.json")


@pytest.fixture(scope="module")
def postman(ncaaf_postman: Path) -> Recording:
    return load_recording(ncaaf_postman)


@pytest.fixture
def clock(usc: GameRecord) -> FixedClock:
    return FixedClock(usc.start_time - timedelta(hours=1))


@pytest.fixture
async def client(
    usc: GameRecord, nba: GameRecord, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_replay_app(None, clock, [usc, nba])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        yield client


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params={"lang": "en", "region": "us", **params})
    assert response.status_code == 200, (path, response.text)
    return response.json()


def play_wallclock(record: GameRecord, text: str) -> datetime:
    return next(p.wallclock for p in record.plays if p.text == text)


def after_a_score(record: GameRecord) -> datetime:
    """The first instant after a score whose newest play ends without down-and-distance texts
    (ESPN's situation then has no `team` and no texts, like the recorded "TD" snapshot)."""
    timeline = GameTimeline(record)
    for play in record.plays:
        moment = timeline.moment(play.wallclock)
        last = timeline.last_play(moment)
        if (
            last is not None
            and last.end is not None
            and last.end.down_distance_text is None
            and not is_period_end(last)
            and any(p.scoring for p in timeline.plays(moment))
        ):
            return play.wallclock
    raise AssertionError("no such instant")


# -- the server ----------------------------------------------------------------------------


async def test_headers_are_espns(client: httpx.AsyncClient, clock: FixedClock) -> None:
    for path in ("", "/status", "/situation", "/plays", "/probabilities", "/drives"):
        response = await client.get(COMPETITION + path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json;charset=utf-8"
        assert response.headers["date"] == http_date(clock.moment)
        cache = re.fullmatch(
            r"max-age=(\d+), stale-while-revalidate=7200", response.headers["cache-control"]
        )
        assert cache is not None and 1 <= int(cache[1]) <= 10, path


async def test_status_walks_through_the_game(
    client: httpx.AsyncClient, clock: FixedClock, usc: GameRecord
) -> None:
    half = play_wallclock(usc, "End of 2nd Quarter")
    instants = [
        (usc.start_time, "STATUS_SCHEDULED", "Sun, September 1st at 7:30 PM EDT"),
        (usc.plays[5].wallclock, "STATUS_IN_PROGRESS", f"{usc.plays[5].clock} - 1st Quarter"),
        (play_wallclock(usc, "End of 1st Quarter"), "STATUS_IN_PROGRESS", "End of 1st Quarter"),
        (half, "STATUS_IN_PROGRESS", "End of 2nd Quarter"),
        (half + HALFTIME_DELAY, "STATUS_HALFTIME", "Halftime"),
        (play_wallclock(usc, "End of 4th Quarter"), "STATUS_IN_PROGRESS", "End of 4th Quarter"),
        (usc.last_wallclock + FINAL_DELAY, "STATUS_FINAL", "Final"),
    ]
    for moment, name, detail in instants:
        clock.moment = moment
        status = await get(client, f"{COMPETITION}/status")
        assert (status["type"]["name"], status["type"]["detail"]) == (name, detail), moment
    clock.moment = usc.last_wallclock + FINAL_DELAY
    home, away = (await get(client, COMPETITION))["competitors"]
    assert (home["id"], home["winner"], away["id"], away["winner"]) == ("99", False, "30", True)
    score = await get(client, f"{COMPETITION}/competitors/30/score")
    assert (score["value"], score["displayValue"], score["winner"]) == (27.0, "27", True)


async def test_errors_are_shaped_like_espns(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{COMPETITION}/plays", params={"limit": "0"})
    assert response.status_code == 400 and response.json()["error"]["code"] == 400
    missing = await client.get(f"{COMPETITION}/leaders")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404
    assert (await client.get(f"{LEAGUE}/events/1")).status_code == 404


async def test_replay_status_lists_the_games(client: httpx.AsyncClient, clock: FixedClock) -> None:
    body = (await client.get("/_replay/status")).json()
    assert body["now"] == clock.moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(g["id"], g["stage"]) for g in body["games"]] == [(USC, "pre"), (NBA_GAME, "pre")]
    assert "responses" not in body


async def test_recorded_responses_answer_first(postman: Recording, usc: GameRecord) -> None:
    shift = postman.start - usc.start_time
    clock = FixedClock(datetime(2025, 8, 23, 16, 30, tzinfo=UTC))
    app = create_replay_app(postman, clock, [usc.renamed("401756846", shift)])
    base = "/v2/sports/football/leagues/college-football/events/401756846/competitions/401756846"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        recorded = await client.get(f"{base}/status")
        assert "x-pressbox-recorded-at" in recorded.headers
        assert recorded.json()["$ref"].endswith("/status?lang=en")  # the recorded body
        drives = await client.get(f"{base}/drives")  # recorded only from 17:54: synthesized now
        assert drives.status_code == 200 and "x-pressbox-recorded-at" not in drives.headers
        assert drives.json()["count"] >= 1
        status = (await client.get("/_replay/status")).json()
        assert status["responses"] == len(postman) and status["games"][0]["id"] == "401756846"


# -- fidelity: keys and JSON types of the real documents -----------------------------------


async def test_status_has_the_shape_of_real_status_documents(
    client: httpx.AsyncClient,
    clock: FixedClock,
    usc: GameRecord,
    postman: Recording,
    recordings_dir: Path,
) -> None:
    reals = [json.loads(r.body) for r in postman.responses if r.path.endswith("/status")]
    assert len(reals) == 18
    for moment in (usc.start_time, usc.plays[20].wallclock, usc.last_wallclock + FINAL_DELAY):
        clock.moment = moment
        ours = await get(client, f"{COMPETITION}/status")
        assert set(ours) == set(reals[0]) and set(ours["type"]) == set(reals[0]["type"])
        for document in reals:
            assert shape(ours, STATUS_KEYS) == shape(document, STATUS_KEYS)
    final = usc_real(recordings_dir, "CompetitionStatus")
    ours = await get(client, f"{COMPETITION}/status")  # the clock is after the final now
    assert {k: v for k, v in ours.items() if k != "$ref"} == {
        k: v for k, v in final.items() if k != "$ref"
    }


async def test_situation_has_the_shape_of_real_situations(
    client: httpx.AsyncClient,
    clock: FixedClock,
    usc: GameRecord,
    postman: Recording,
    recordings_dir: Path,
) -> None:
    situations = {r.name: json.loads(r.body) for r in postman.responses if "situation" in r.path}
    cases = [
        (usc.plays[10].wallclock, situations["FirstAndGoal"]),  # a down with its texts
        (after_a_score(usc), situations["TD"]),
        (
            usc.last_wallclock + FINAL_DELAY,
            usc_real(recordings_dir, "CompetitionSituation"),
        ),
    ]  # fmt: skip
    for moment, expected in cases:
        clock.moment = moment
        ours = await get(client, f"{COMPETITION}/situation")
        assert set(ours) == set(expected), moment
        assert shape(ours, expected) == shape(expected, expected)
    final = await get(client, f"{COMPETITION}/situation")
    assert (final["down"], final["yardLine"], final["distance"]) == (2, 43, 13)
    assert final["lastPlay"]["$ref"].split("/plays/")[1].startswith("401628334104999503")


async def test_items_have_the_shape_of_real_items(
    client: httpx.AsyncClient, clock: FixedClock, usc: GameRecord, recordings_dir: Path
) -> None:
    real_plays = {p["id"]: p for p in usc_real(recordings_dir, "CompetitionPlays")}
    real_probabilities = usc_real(recordings_dir, "CompetitionProbabilities")
    clock.moment = usc.last_wallclock + FINAL_DELAY
    plays = (await get(client, f"{COMPETITION}/plays", limit=1000))["items"]
    compared = 0
    for ours in plays:
        theirs = real_plays[ours["id"]]
        if "wallclock" not in theirs:
            continue  # the coin toss: ESPN has no wall time, the loader interpolated one
        assert set(ours) == set(theirs) - PLAY_NOT_SYNTHESIZED, ours["id"]
        keys = [k for k in PLAY_KEYS if k in _flat(theirs) or k.split(".")[0] not in theirs]
        assert shape(ours, keys) == shape(theirs, keys), ours["id"]
        compared += 1
    assert compared == 173
    probabilities = (await get(client, f"{COMPETITION}/probabilities", limit=1000))["items"]
    for ours, theirs in zip(probabilities, real_probabilities["items"], strict=True):
        assert set(ours) == set(theirs) - PROBABILITY_NOT_SYNTHESIZED
        assert shape(ours, PROBABILITY_KEYS) == shape(theirs, PROBABILITY_KEYS)
    single = await get(client, f"{COMPETITION}/probabilities/401628334101849902")
    expected = usc_real(recordings_dir, "CompetitionProbability")
    assert shape(single, PROBABILITY_KEYS) == shape(expected, PROBABILITY_KEYS)
    assert single["homeWinPercentage"] == expected["homeWinPercentage"]


async def test_basketball_plays_have_the_shape_of_real_nba_plays(
    client: httpx.AsyncClient, clock: FixedClock, nba: GameRecord, recordings_dir: Path
) -> None:
    theirs = real(recordings_dir, "espn-docs", "core-api", "nba_plays_401584793.json")["items"][1]
    clock.moment = nba.last_wallclock + FINAL_DELAY
    plays = (await get(client, f"{NBA}/plays", limit=1000))["items"]
    assert len(plays) == len(nba.plays)
    ours = next(p for p in plays if "team" in p)
    assert set(ours) == set(theirs) - PLAY_NOT_SYNTHESIZED
    keys = [*_flat(theirs)]
    keys = [k for k in keys if k.split(".")[0] not in PLAY_NOT_SYNTHESIZED]
    assert shape(ours, keys) == shape(theirs, keys)
    situation = await get(client, f"{NBA}/situation")
    assert set(situation) == {"$ref", "lastPlay"}
    competition = await get(client, NBA)
    assert "drives" not in competition


async def test_competition_and_event_have_the_shape_of_real_ones(
    client: httpx.AsyncClient, clock: FixedClock, usc: GameRecord, recordings_dir: Path
) -> None:
    real_competition = usc_real(recordings_dir, "Competition")
    real_event = usc_real(recordings_dir, "")
    clock.moment = usc.last_wallclock + FINAL_DELAY
    competition = await get(client, COMPETITION)
    assert set(competition) == set(real_competition) - COMPETITION_NOT_SYNTHESIZED
    pairs = zip(competition["competitors"], real_competition["competitors"], strict=True)
    for ours, theirs in pairs:
        assert set(ours) == set(theirs) - COMPETITOR_NOT_SYNTHESIZED
        read = ("id", "homeAway", "winner", "order")
        assert [ours[k] for k in read] == [theirs[k] for k in read]
    assert shape(competition, COMPETITION_KEYS) == shape(real_competition, COMPETITION_KEYS)
    event = await get(client, f"{LEAGUE}/events/{USC}")
    assert set(event) == set(real_event) - EVENT_NOT_SYNTHESIZED
    assert shape(event, EVENT_KEYS) == shape(real_event, EVENT_KEYS)
    assert (event["name"], event["shortName"], event["date"]) == (
        real_event["name"], real_event["shortName"], real_event["date"],
    )  # fmt: skip
    team = await get(client, f"{LEAGUE}/seasons/2024/teams/99")
    assert (team["displayName"], team["abbreviation"]) == ("LSU Tigers", "LSU")
    # Before kickoff ESPN's competition has no plays or probabilities yet.
    clock.moment = usc.start_time
    early = await get(client, COMPETITION)
    assert "details" not in early and "probabilities" not in early and "drives" in early


async def test_scoreboard_events_have_the_shape_of_real_ones(
    client: httpx.AsyncClient, clock: FixedClock, usc: GameRecord, recordings_dir: Path
) -> None:
    site = ("espn-docs", "site-api")
    final_board = real(recordings_dir, *site, "nfl_scoreboard_20241215.json")
    pregame_board = real(recordings_dir, *site, "college_football_scoreboard_week1_sec.json")
    live_board = real(recordings_dir, "espn-docs", "EspnBaseballMlb", "Scoreboard.json")
    path = "/apis/site/v2/sports/football/college-football/scoreboard"
    for moment, theirs in (
        (usc.last_wallclock + FINAL_DELAY, final_board["events"][0]),
        (usc.start_time, pregame_board["events"][0]),
    ):
        clock.moment = moment
        board = await get(client, path, dates="20240901")
        (ours,) = board["events"]
        assert set(ours) == set(theirs) - SCOREBOARD_EVENT_NOT_SYNTHESIZED | {"competitions"}
        competition, their_competition = ours["competitions"][0], theirs["competitions"][0]
        assert set(competition) == set(their_competition) - SCOREBOARD_COMPETITION_NOT_SYNTHESIZED
        assert shape(ours, SCOREBOARD_KEYS) == shape(theirs, SCOREBOARD_KEYS)
    assert set(board) >= {"leagues", "day", "events"}
    clock.moment = usc.plays[60].wallclock
    (live,) = (await get(client, path, dates="20240901", limit="10"))["events"]
    situation = live["competitions"][0]["situation"]
    their_last = next(
        e["competitions"][0]["situation"]["lastPlay"]
        for e in live_board["events"]
        if "situation" in e["competitions"][0]
    )
    keys = ["id", "type.id", "type.text", "text", "scoreValue", "team.id"]
    assert shape(situation["lastPlay"], keys) == shape(their_last, keys)
    probability = situation["lastPlay"]["probability"]
    assert set(probability) == {"homeWinPercentage", "awayWinPercentage", "tiePercentage"}
    assert live["competitions"][0]["competitors"][0]["score"].isdigit()
    other_day = await get(client, path, dates="20240902")
    assert other_day["events"] == []


# -- fidelity: the same event data as ESPN's own documents ----------------------------------


async def test_usc_at_lsu_gives_the_tracker_the_same_plays_probabilities_and_drives(
    usc: GameRecord, recordings_dir: Path
) -> None:
    now = usc.last_wallclock + FINAL_DELAY
    expected = Tracker()
    real_plays = {"items": usc_real(recordings_dir, "CompetitionPlays")}
    real_documents = {
        DocumentKind.PLAYS: real_plays,
        DocumentKind.PROBABILITIES: usc_real(recordings_dir, "CompetitionProbabilities"),
        DocumentKind.DRIVES: usc_real(recordings_dir, "CompetitionDrives"),
    }
    want = []
    for kind, document in real_documents.items():
        want += expected.apply(Document.parse(kind, json.dumps(document).encode(), now))
    clock = FixedClock(now)
    app = create_replay_app(None, clock, [usc])
    http = HttpClient(
        "http://replay.test", clock, RequestBudget(clock, 1000.0, 100),
        transport=httpx.ASGITransport(app=app),
    )  # fmt: skip
    espn = EspnClient(http)
    try:
        _, documents = await discover(espn, "football", "college-football", USC)
        got, events = Tracker(), []
        for kind in real_documents:
            events += got.apply(await espn.collection(kind, documents.refs[kind]))
    finally:
        await http.aclose()
    assert [e.key for e in events] == [e.key for e in want]
    assert Counter(str(e.type) for e in events) == {
        "play_added": 174, "probability": 174, "drive": 21, "score": 1
    }  # fmt: skip
    by_key = {e.key: e.data for e in want}
    for event in events:
        theirs, ours = by_key[event.key], event.data
        differing = {k for k in ours if ours[k] != pytest.approx(theirs[k], abs=1e-9)}
        # `modified` is ESPN's later edit stamp (ours: the wall time); the coin toss has no wall
        # time at ESPN, so its play time and its probability's time are the loader's.
        allowed = {"modified"}
        if not theirs.get("wallclock") and event.type == "play_added":
            allowed |= {"wallclock"}
        if event.type == "probability" and theirs.get("play_id") == usc.plays[0].id:
            allowed |= {"time"}
        assert differing <= allowed, (event.key, {k: (ours[k], theirs[k]) for k in differing})


# -- many games ------------------------------------------------------------------------------


async def test_sixty_games_polled_often_stay_cheap(usc: GameRecord, nba: GameRecord) -> None:
    start = usc.start_time
    games = slate(usc, 40, timedelta(minutes=4)) + slate(nba, 20, timedelta(minutes=6), start)
    clock = FixedClock(start + timedelta(hours=2))
    app = create_replay_app(None, clock, games)
    transport = httpx.ASGITransport(app=app)
    paths = [
        f"/v2/sports/{g.sport}/leagues/{g.league}/events/{g.id}/competitions/{g.id}/{doc}"
        for g in games
        for doc in ("status", "situation", "plays", "probabilities")
    ]
    started = time.perf_counter()
    async with httpx.AsyncClient(transport=transport, base_url="http://replay.test") as client:
        for _ in range(3):  # three polls 5 s apart
            for path in paths:
                response = await client.get(path, params={"limit": "1000"})
                assert response.status_code == 200, path
            clock.moment += timedelta(seconds=5)
        board = await client.get("/apis/site/v2/sports/football/college-football/scoreboard")
    assert len(board.json()["events"]) == 40
    assert time.perf_counter() - started < 20


def _flat(document: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a JSON object (not into arrays)."""
    keys = []
    for key, value in document.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys.extend(_flat(value, f"{prefix}{key}."))
    return keys
