"""Finished-game loaders on the real recordings: five games in three ESPN formats -> `GameRecord`.

Where ESPN's own data is not monotonic in game order (wall clocks that step back, NBA sequence
numbers that are an edit order, scores that dip on a penalty item), the record keeps ESPN's game
order and lists the places in `extra`; these tests pin every such place.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from pressbox.errors import RecordingError
from pressbox.replay.loaders import (
    is_game_file,
    load_game_record,
    record_from_core_documents,
    record_from_gamepackage,
    record_from_site_summary,
)
from pressbox.replay.record import GameRecord

NCAAF_DIR = "espn-docs/EspnFootballNcaa"
NCAAF_PREFIX = "EspnFootballNcaa"


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    abbreviation: str
    score: int
    winner: bool


@dataclass(frozen=True)
class Game:
    """What the recordings README and the files say about one game."""

    path: str
    id: str
    league: str
    home: Team
    away: Team
    plays: int
    probabilities: int
    first_wallclock: str
    last_wallclock: str
    drives: int = 0
    #: play id -> seconds its wallclock lies before an earlier play's (ESPN's data, kept as is)
    wallclock_regressions: dict[str, float] = field(default_factory=dict)
    #: plays whose sequenceNumber is below the previous play's (NBA: an edit order)
    sequence_inversions: tuple[str, ...] = ()
    #: plays whose home or away score is below the previous play's
    score_regressions: tuple[str, ...] = ()
    dropped_probabilities: int = 0
    interpolated: tuple[str, ...] = ()

    @property
    def sport(self) -> str:
        return "basketball" if self.league == "nba" else "football"


GAMES = [
    Game(
        "games/nba-401772994/summary.json",
        "401772994",
        "nba",
        home=Team("11", "Indiana Pacers", "IND", 125, True),
        away=Team("18", "New York Knicks", "NY", 108, False),
        plays=472,
        probabilities=472,
        first_wallclock="2025-06-01T00:05:55Z",
        last_wallclock="2025-06-01T02:35:22Z",
        wallclock_regressions={
            "401772994432": 5.0,
            "401772994433": 4.0,
            "401772994565": 1.0,
            "401772994674": 1.0,
        },
        sequence_inversions=("401772994695",),
    ),
    Game(
        "games/nba-401468642/summary.json",
        "401468642",
        "nba",
        home=Team("10", "Houston Rockets", "HOU", 106, False),
        away=Team("6", "Dallas Mavericks", "DAL", 112, True),
        plays=469,
        probabilities=469,
        first_wallclock="2022-12-24T01:11:02Z",
        last_wallclock="2022-12-24T03:31:06Z",
        wallclock_regressions={"401468642356": 4.0, "401468642465": 12.0},
        sequence_inversions=("401468642327", "401468642461", "401468642659"),
        score_regressions=("401468642417",),
    ),
    Game(
        "games/nfl-401547417/summary.json",
        "401547417",
        "nfl",
        home=Team("1", "Atlanta Falcons", "ATL", 25, True),
        away=Team("9", "Green Bay Packers", "GB", 24, False),
        plays=186,
        probabilities=186,
        first_wallclock="2023-09-17T17:02:21Z",
        last_wallclock="2023-09-17T20:14:56Z",
        drives=20,
        wallclock_regressions={"4015474171695": 675.0, "4015474172077": 505.0},
        dropped_probabilities=1,
    ),
    Game(
        "games/nfl-401547602/game_gamepackage.json",
        "401547602",
        "nfl",
        home=Team("30", "Jacksonville Jaguars", "JAX", 7, False),
        away=Team("33", "Baltimore Ravens", "BAL", 23, True),
        plays=186,
        probabilities=186,
        first_wallclock="2023-12-18T01:22:44Z",
        last_wallclock="2023-12-18T04:24:57Z",
        drives=20,
        wallclock_regressions={"4015476022028": 63.0, "4015476024221": 90.0},
    ),
    Game(
        NCAAF_DIR,
        "401628334",
        "college-football",
        home=Team("99", "LSU Tigers", "LSU", 20, False),
        away=Team("30", "USC Trojans", "USC", 27, True),
        plays=174,
        probabilities=174,
        first_wallclock="2024-09-01T23:44:27Z",
        last_wallclock="2024-09-02T03:14:52Z",
        drives=21,
        # A stale stamp: these plays carry the kickoff's 23:44:27 or a repeated 00:14:24.
        wallclock_regressions={
            "401628334101998101": 1525.0,
            "401628334102929501": 1282.0,
            "401628334102929503": 1282.0,
            "401628334102929504": 1282.0,
            "401628334102995801": 3123.0,
            "401628334102995802": 3123.0,
            "401628334102998101": 3288.0,
            "401628334102998102": 3288.0,
        },
        # Penalty items after a touchdown carry the score before the touchdown.
        score_regressions=("401628334102929503", "401628334103965703"),
        interpolated=("401628334101849901",),
    ),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module", params=GAMES, ids=lambda game: f"{game.league}-{game.id}")
def game(request: pytest.FixtureRequest) -> Game:
    expected: Game = request.param
    return expected


@pytest.fixture(scope="module")
def record(game: Game, recordings_dir: Path) -> GameRecord:
    """Each game is loaded once per module (tests never mutate a frozen record)."""
    return load_game_record(recordings_dir / game.path)


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


# --- what every game must satisfy ----------------------------------------------------------------


def test_identity_league_and_start(game: Game, record: GameRecord, recordings_dir: Path) -> None:
    assert (record.id, record.league, record.sport) == (game.id, game.league, game.sport)
    assert record.period_seconds == (720 if game.league == "nba" else 900)
    assert record.start_time.tzinfo is not None and record.start_time.utcoffset() == timedelta(0)
    assert record.source == str(recordings_dir / game.path)


def test_teams_and_final_score(game: Game, record: GameRecord) -> None:
    for expected, team, side in (
        (game.home, record.home, "home"),
        (game.away, record.away, "away"),
    ):
        assert team.home_away == side
        assert (team.id, team.name, team.abbreviation) == (
            expected.id,
            expected.name,
            expected.abbreviation,
        )
        assert (team.score, team.winner) == (expected.score, expected.winner)
    assert record.name == f"{game.away.name} at {game.home.name}"
    assert (
        game.away.abbreviation in record.short_name and game.home.abbreviation in record.short_name
    )


def test_last_play_scores_are_the_final_score(record: GameRecord) -> None:
    last = record.plays[-1]
    assert (last.home_score, last.away_score) == (record.home.score, record.away.score)
    assert "final_score_mismatch" not in record.extra


def test_play_count_and_every_play_timed_in_utc(game: Game, record: GameRecord) -> None:
    assert len(record.plays) == game.plays
    assert len({play.id for play in record.plays}) == game.plays
    assert all(play.wallclock.utcoffset() == timedelta(0) for play in record.plays)
    assert record.first_wallclock == at(game.first_wallclock)
    assert max(play.wallclock for play in record.plays) == at(game.last_wallclock)
    assert record.extra["skipped_plays"] == 0
    assert record.extra["interpolated_wallclocks"] == list(game.interpolated)


def test_plays_are_in_game_order(record: GameRecord) -> None:
    """Periods never go back and, within one, the game clock never goes up: ESPN's order is kept."""
    for before, after in pairwise(record.plays):
        assert after.period >= before.period, after.id
        if after.period == before.period:
            assert before.clock_seconds is not None and after.clock_seconds is not None
            assert after.clock_seconds <= before.clock_seconds, after.id


def test_sequence_numbers_ascend_except_where_espn_reordered(
    game: Game, record: GameRecord
) -> None:
    inversions = [b.id for a, b in pairwise(record.plays) if b.sequence < a.sequence]
    assert inversions == list(game.sequence_inversions)
    assert record.extra["sequence_inversions"] == list(game.sequence_inversions)


def test_wallclocks_never_go_back_except_where_espn_says_so(game: Game, record: GameRecord) -> None:
    latest = record.plays[0].wallclock
    behind: dict[str, float] = {}
    for play in record.plays[1:]:
        if play.wallclock < latest:
            behind[play.id] = (latest - play.wallclock).total_seconds()
        latest = max(latest, play.wallclock)
    assert behind == game.wallclock_regressions
    assert record.extra["wallclock_regressions"] == game.wallclock_regressions


def test_scores_never_go_back_except_where_espn_says_so(game: Game, record: GameRecord) -> None:
    assert record.extra["score_regressions"] == list(game.score_regressions)


def test_probabilities_belong_to_plays_in_play_order(game: Game, record: GameRecord) -> None:
    assert len(record.probabilities) == game.probabilities
    assert record.extra["dropped_probabilities"] == game.dropped_probabilities
    assert record.extra["skipped_probabilities"] == 0
    position = {play.id: index for index, play in enumerate(record.plays)}
    indexes = [position[point.play_id] for point in record.probabilities]
    assert indexes == sorted(indexes)
    for point in record.probabilities:
        assert 0 <= point.home <= 1 and 0 <= point.away <= 1 and 0 <= point.tie <= 1
        assert point.home + point.away + point.tie == pytest.approx(1.0, abs=1e-6)
        assert point.sequence == record.plays[position[point.play_id]].sequence


def test_drives_hold_the_plays(game: Game, record: GameRecord) -> None:
    assert len(record.drives) == game.drives
    if not game.drives:
        assert all(play.drive_id is None for play in record.plays)
        return
    assert [drive.sequence for drive in record.drives] == list(range(1, game.drives + 1))
    in_drives = {pid: drive.id for drive in record.drives for pid in drive.play_ids}
    outside = [play.id for play in record.plays if play.id not in in_drives]
    assert outside == list(game.interpolated)  # only the NCAAF coin toss is in no drive
    assert all(play.drive_id == in_drives.get(play.id) for play in record.plays)
    assert all(drive.team_id in (game.home.id, game.away.id) for drive in record.drives)


def test_periods_and_final_status(record: GameRecord) -> None:
    assert record.periods == 4
    assert record.final_status == "STATUS_FINAL"


def test_football_plays_carry_positions(game: Game, record: GameRecord) -> None:
    if game.sport != "football":
        assert all(play.start is None for play in record.plays)
        return
    assert all(play.start is not None and play.end is not None for play in record.plays)
    texts = [play.start.down_distance_text for play in record.plays if play.start]
    assert any(text and " & " in text for text in texts)
    scoring = [play for play in record.plays if play.scoring]
    assert scoring and all(play.score_value > 0 for play in scoring)
    assert sum(play.score_value for play in scoring) <= record.home.score + record.away.score


def test_is_game_file_says_yes(game: Game, recordings_dir: Path) -> None:
    assert is_game_file(recordings_dir / game.path)


def test_renamed_shifts_every_wallclock_and_rewrites_ids(record: GameRecord) -> None:
    shift = timedelta(hours=1)
    copy_ = record.renamed("900000001", shift)
    assert copy_.id == "900000001" and copy_.start_time == record.start_time + shift
    assert [p.wallclock for p in copy_.plays] == [p.wallclock + shift for p in record.plays]
    assert all(p.id.startswith("900000001") for p in copy_.plays)
    assert [p.id[9:] for p in copy_.plays] == [p.id[len(record.id) :] for p in record.plays]
    ids = {p.id for p in copy_.plays}
    assert all(point.play_id in ids for point in copy_.probabilities)
    assert all(pid in ids for drive in copy_.drives for pid in drive.play_ids)
    assert all(drive.id.startswith("900000001") for drive in copy_.drives)
    assert not ids & {p.id for p in record.plays}
    assert record.plays[0].id.startswith(record.id)  # the original is untouched


# --- format details ----------------------------------------------------------------------------


def test_ncaaf_missing_wallclock_is_interpolated_from_its_neighbour(recordings_dir: Path) -> None:
    record = load_game_record(recordings_dir / NCAAF_DIR)
    coin_toss, kickoff = record.plays[0], record.plays[1]
    assert coin_toss.text.startswith("LSU wins the coin toss")
    assert coin_toss.wallclock == kickoff.wallclock == at("2024-09-01T23:44:27Z")
    assert record.extra["interpolated_wallclocks"] == [coin_toss.id]
    assert record.name == "USC Trojans at LSU Tigers" and record.short_name == "USC VS LSU"


def test_missing_wallclock_between_two_plays_lands_between_them(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[0].path)
    del summary["plays"][10]["wallclock"]
    record = record_from_site_summary(summary)
    before, play, after = record.plays[9:12]
    assert before.wallclock <= play.wallclock <= after.wallclock
    assert play.wallclock.microsecond == 0
    assert record.extra["interpolated_wallclocks"] == [play.id]


def test_a_malformed_play_is_skipped_and_counted(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[1].path)
    del summary["plays"][5]["homeScore"]
    summary["plays"][6]["wallclock"] = "not a time"
    record = record_from_site_summary(summary, source="mangled")
    assert len(record.plays) == GAMES[1].plays - 2
    assert record.extra["skipped_plays"] == 2
    assert len(record.probabilities) == GAMES[1].probabilities - 2
    assert record.extra["dropped_probabilities"] == 2


def test_core_documents_accept_paged_wrappers(recordings_dir: Path) -> None:
    directory = recordings_dir / NCAAF_DIR
    plays = read_json(directory / f"{NCAAF_PREFIX}EventCompetitionPlays.json")
    documents = {
        kind: read_json(directory / f"{NCAAF_PREFIX}{suffix}.json")
        for kind, suffix in (
            ("event", "Event"),
            ("competition", "EventCompetition"),
            ("status", "EventCompetitionStatus"),
            ("probabilities", "EventCompetitionProbabilities"),
        )
    }
    documents["plays"] = {"count": len(plays), "pageIndex": 1, "pageCount": 1, "items": plays}
    record = record_from_core_documents(documents)
    assert len(record.plays) == 174 and len(record.probabilities) == 174
    assert record.drives == () and record.plays[1].drive_id == "4016283341"  # the play's own link


def test_gamepackage_and_summary_loaders_agree_on_shape(recordings_dir: Path) -> None:
    package = read_json(recordings_dir / GAMES[3].path)
    record = record_from_gamepackage(package)
    inner = record_from_site_summary(package["gamepackageJSON"])
    assert record.plays == inner.plays and record.probabilities == inner.probabilities
    assert record.extra["format"] == "gamepackage" and inner.extra["format"] == "site-summary"


def test_league_argument_overrides_a_missing_slug(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[2].path)
    del summary["header"]["league"]
    with pytest.raises(RecordingError, match="league"):
        record_from_site_summary(summary, source="no-league")
    assert record_from_site_summary(summary, league="nfl").league == "nfl"


# --- is_game_file says no ------------------------------------------------------------------------


def test_is_game_file_says_no_to_other_files(
    recordings_dir: Path, ncaaf_postman: Path, tmp_path: Path
) -> None:
    assert not is_game_file(ncaaf_postman)
    assert not is_game_file(recordings_dir / "games/nba-401772994/summary_pregame.json")
    assert not is_game_file(
        recordings_dir / NCAAF_DIR / f"{NCAAF_PREFIX}EventCompetitionPlays.json"
    )
    assert not is_game_file(recordings_dir / "README.md")
    assert not is_game_file(tmp_path / "missing.json")
    assert not is_game_file(tmp_path)  # an empty directory


# --- clear errors -------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"not found: .*nope\.json"):
        load_game_record(tmp_path / "nope.json")


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "game.json"
    path.write_text("<html>rate limited</html>")
    with pytest.raises(RecordingError, match=r"game\.json: not a JSON file .*supported: ESPN site"):
        load_game_record(path)


def test_json_of_an_unknown_shape(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('{"events": []}')
    with pytest.raises(
        RecordingError, match=r"odd\.json: a JSON object with keys \[events\] is not"
    ):
        load_game_record(path)


def test_a_postman_recording_is_named_as_such(ncaaf_postman: Path) -> None:
    with pytest.raises(RecordingError, match="a Postman collection .*use load_recording"):
        load_game_record(ncaaf_postman)


def test_a_summary_with_no_plays(recordings_dir: Path) -> None:
    path = recordings_dir / "games/nba-401772994/summary_pregame.json"
    with pytest.raises(RecordingError, match=r"summary_pregame\.json: the summary holds no plays"):
        load_game_record(path)


def test_a_summary_without_a_header(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[0].path)
    summary["header"]["competitions"][0].pop("competitors")
    with pytest.raises(RecordingError, match=r"x: the header is missing .*competitors"):
        record_from_site_summary(summary, source="x")


def test_an_unknown_league(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[0].path)
    with pytest.raises(RecordingError, match="unsupported league 'wnba'"):
        record_from_site_summary(summary, league="wnba")


def test_a_gamepackage_whose_id_disagrees(recordings_dir: Path) -> None:
    package = read_json(recordings_dir / GAMES[3].path)
    package["gameId"] = "1"
    with pytest.raises(RecordingError, match="gameId 1 differs from header.id 401547602"):
        record_from_gamepackage(package)


def test_a_directory_without_core_documents(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"no \*EventCompetitionPlays\.json"):
        load_game_record(tmp_path)


def test_a_core_set_missing_its_status(recordings_dir: Path, tmp_path: Path) -> None:
    for name in ("Event", "EventCompetition", "EventCompetitionPlays"):
        shutil.copy(recordings_dir / NCAAF_DIR / f"{NCAAF_PREFIX}{name}.json", tmp_path)
    assert not is_game_file(tmp_path)
    with pytest.raises(RecordingError, match=r"lacks EspnFootballNcaaEventCompetitionStatus\.json"):
        load_game_record(tmp_path)


def test_one_page_of_core_plays_is_refused(recordings_dir: Path) -> None:
    directory = recordings_dir / NCAAF_DIR
    documents: dict[str, Any] = {
        "event": read_json(directory / f"{NCAAF_PREFIX}Event.json"),
        "competition": read_json(directory / f"{NCAAF_PREFIX}EventCompetition.json"),
        "status": read_json(directory / f"{NCAAF_PREFIX}EventCompetitionStatus.json"),
        # page 1 of 8 of another game's plays: count 187, 25 items
        "plays": read_json(recordings_dir / "games/nfl-401547417/nfl_plays_401547417.json"),
    }
    with pytest.raises(RecordingError, match="holds 25 of 187 items"):
        record_from_core_documents(documents, source="partial")
    del documents["status"]
    with pytest.raises(RecordingError, match="partial: missing the status document"):
        record_from_core_documents(documents, source="partial")


def test_no_play_has_a_wallclock(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[0].path)
    for play in summary["plays"]:
        play.pop("wallclock")
    with pytest.raises(RecordingError, match="no play has a wallclock"):
        record_from_site_summary(summary)


def test_all_plays_malformed(recordings_dir: Path) -> None:
    summary = read_json(recordings_dir / GAMES[0].path)
    summary["plays"] = [{"id": "1"}, "junk"]
    with pytest.raises(RecordingError, match=r"no valid play \(2 malformed\)"):
        record_from_site_summary(summary)


def test_a_directory_with_two_plays_documents(recordings_dir: Path, tmp_path: Path) -> None:
    plays = recordings_dir / NCAAF_DIR / f"{NCAAF_PREFIX}EventCompetitionPlays.json"
    for prefix in ("A", "B"):
        shutil.copy(plays, tmp_path / f"{prefix}EventCompetitionPlays.json")
    assert not is_game_file(tmp_path)
    with pytest.raises(RecordingError, match="more than one core-API plays document"):
        load_game_record(tmp_path)
