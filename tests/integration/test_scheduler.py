"""The scheduler on a real store (SQLite; the writes also on PostgreSQL) through the real HTTP
path (HttpClient, budget, httpx): the replay server's synthesized scoreboards, real ESPN boards
served and mutated, and the CLI.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import func, select
from typer.testing import CliRunner

from fakes import FixedClock
from pressbox import cli
from pressbox.cli import operations as cli_operations
from pressbox.config import load_settings
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.schedule import Change, plan_schedule
from pressbox.replay import create_replay_app
from pressbox.replay.games import slate
from pressbox.replay.loaders import load_game_record
from pressbox.replay.record import GameRecord
from pressbox.runtime import Runtime, open_runtime
from pressbox.sources.scoreboard import ScoreboardClient
from pressbox.store.migrate import alembic_config
from pressbox.store.scheduling import ScheduleStore
from pressbox.store.tables import streams
from pressbox.streaming.scheduler import Scheduler

S = StreamStatus
LEAD = timedelta(minutes=10)
NOW = datetime(2025, 9, 6, 14, 0, tzinfo=UTC)  # Saturday 10:00 EDT
SEC_WEEK1 = ("espn-docs", "site-api", "college_football_scoreboard_week1_sec.json")
MIZ, UGA, FSU, OSU = "401752674", "401752669", "401752665", "401752677"


class Requests(httpx.AsyncBaseTransport):
    """Passes requests on to `inner`, keeping their URLs."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)


@asynccontextmanager
async def runtime_on(
    where: Path | str, clock: FixedClock, transport: httpx.AsyncBaseTransport
) -> AsyncIterator[Runtime]:
    """A runtime on a database URL (or a SQLite file in a directory), scoreboards through
    `transport`."""
    url = where if isinstance(where, str) else f"sqlite+aiosqlite:///{where}/pressbox.db"
    # A burst above any test's requests: the budget never moves the clock the test set.
    settings = load_settings(database_url=url, espn_burst=100)
    async with open_runtime(
        settings, clock, site_url="http://site.test", site_transport=transport
    ) as runtime:
        yield runtime


async def stream_rows(runtime: Runtime) -> dict[str, Any]:
    async with runtime.store.engine.connect() as conn:
        rows = (await conn.execute(select(streams))).mappings().all()
    return {row["game_id"]: row for row in rows}


# -- the replay server's scoreboards, over HTTP ---------------------------------------------


@pytest.fixture(scope="module")
def slates(recordings_dir: Path) -> dict[str, list[GameRecord]]:
    """Real games moved around NOW: what a Saturday's boards could hold."""
    usc = load_game_record(recordings_dir / "espn-docs" / "EspnFootballNcaa")
    nba = load_game_record(recordings_dir / "games" / "nba-401772994" / "summary.json")
    nfl = load_game_record(recordings_dir / "games" / "nfl-401547417" / "summary.json")
    return {
        # Three college games today, 16:00, 19:00 and 22:00Z.
        "college-football": slate(usc, 3, timedelta(hours=3), NOW + timedelta(hours=2)),
        # Sunday 17:00Z (in the window) and Monday (past tomorrow: not scheduled).
        "nfl": slate(nfl, 2, timedelta(days=1), NOW + timedelta(days=1, hours=3)),
        # One NBA game finished hours ago, one on since an hour.
        "nba": slate(nba, 2, timedelta(hours=4), NOW - timedelta(hours=5)),
    }


async def test_two_runs_give_exactly_one_stream_per_game_and_the_second_changes_nothing(
    tmp_path: Path, slates: dict[str, list[GameRecord]]
) -> None:
    clock = FixedClock(NOW)
    records = [record for games in slates.values() for record in games]
    transport = Requests(httpx.ASGITransport(app=create_replay_app(None, clock, records)))
    async with runtime_on(tmp_path, clock, transport) as runtime:
        scheduler = Scheduler(runtime, ["college-football", "nfl", "nba"], days_ahead=1)
        first = await scheduler.run_once(NOW)
        second = await scheduler.run_once(NOW + timedelta(minutes=5))
        rows = await stream_rows(runtime)
        async with runtime.store.engine.connect() as conn:
            per_game = await conn.execute(
                select(streams.c.game_id, func.count()).group_by(streams.c.game_id)
            )
            assert {count for _, count in per_game} == {1}
        nba_final, nba_live = slates["nba"]
        live = await runtime.store.game(nba_live.id)
        finished = await runtime.store.game(nba_final.id)
    assert not first.failed and [r.days for r in first.leagues][0] == [
        date(2025, 9, 6), date(2025, 9, 7),
    ]  # fmt: skip
    counts = {str(k): v for k, v in first.counts.items() if v}
    assert counts == {"games added": 6, "streams created": 5}
    assert second.changed == 0 and not second.failed
    expected = {
        record.id: record.start_time - LEAD
        for record in [*slates["college-football"], slates["nfl"][0], nba_live]
    }
    assert {gid: row["scheduled_at"] for gid, row in rows.items()} == expected
    assert {row["status"] for row in rows.values()} == {"Scheduled"}
    # The scoreboard's word on games no streamer follows yet: status and score.
    assert live and live["status"]["state"] == "in" and live["stream"]["status"] == "Scheduled"
    assert finished and finished["status"]["phase"] == "final" and finished["stream"] is None
    assert finished["home"]["score"] is not None and finished["home"]["name"]
    # Every request: a scoreboard of a window day, with a limit ESPN does not truncate.
    assert len(transport.urls) == 12
    for url in transport.urls:
        assert url.path.startswith("/apis/site/v2/sports/") and url.path.endswith("/scoreboard")
        assert url.params["dates"] in ("20250906", "20250907")
        assert 0 < int(url.params["limit"]) < 600


async def test_leagues_pressbox_does_not_support_are_refused(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    async with runtime_on(tmp_path, clock, transport) as runtime:
        with pytest.raises(ValueError, match="unsupported league 'mlb'"):
            Scheduler(runtime, ["nba", "mlb"], 1)
        with pytest.raises(ValueError, match="limit"):
            ScoreboardClient(runtime.scoreboards.http, limit=600)


# -- real boards, mutated between runs ------------------------------------------------------


class Boards:
    """Serves a scoreboard per league (the SEC week-1 board for college football); others
    empty. Tests replace `documents` entries between runs."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents

    def __call__(self, request: httpx.Request) -> httpx.Response:
        league = request.url.path.split("/")[-2]
        answer = self.documents.get(league, {"leagues": [], "events": []})
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


def mutate(document: dict[str, Any], event_id: str, **changes: Any) -> None:
    """Move an event's start (`moved`) and/or replace its status type (`status`), in place."""
    (event,) = [e for e in document["events"] if e["id"] == event_id]
    competition = event["competitions"][0]
    if "moved" in changes:
        start = datetime.fromisoformat(event["date"].replace("Z", "+00:00")) + changes["moved"]
        event["date"] = competition["date"] = start.strftime("%Y-%m-%dT%H:%MZ")
    if "status" in changes:
        name, state = changes["status"]
        kind = {"name": name, "state": state, "completed": False, "detail": name}
        event["status"]["type"] = competition["status"]["type"] = kind


def counted(report: Any) -> dict[str, int]:
    return {str(k): v for k, v in report.counts.items() if v}


@pytest.fixture
def sec(recordings_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(recordings_dir.joinpath(*SEC_WEEK1).read_text())
    return document


async def test_moves_postponements_cancellations_and_a_new_date(
    db_url: str, sec: dict[str, Any]
) -> None:
    now = datetime(2025, 8, 28, 12, 0, tzinfo=UTC)
    boards = Boards({"college-football": copy.deepcopy(sec)})
    async with runtime_on(db_url, FixedClock(now), httpx.MockTransport(boards)) as runtime:
        scheduler = Scheduler(runtime, ["college-football", "nfl", "nba"], days_ahead=0)
        assert counted(await scheduler.run_once(now)) == {"games added": 16, "streams created": 16}
        before = await stream_rows(runtime)
        await runtime.store.move_stream(MIZ, S.ACTIVE, now)  # a runner follows this one
        board = boards.documents["college-football"]
        mutate(board, MIZ, moved=timedelta(minutes=30))
        mutate(board, OSU, moved=timedelta(minutes=30))
        mutate(board, UGA, status=("STATUS_POSTPONED", "post"))
        mutate(board, FSU, status=("STATUS_CANCELED", "post"))
        changed = await scheduler.run_once(now)
        assert counted(changed) == {
            "games updated": 4, "streams moved": 1, "streams postponed": 1, "streams canceled": 1,
        }  # fmt: skip
        rows = await stream_rows(runtime)
        assert rows[MIZ]["status"] == "Active"
        assert rows[MIZ]["scheduled_at"] == before[MIZ]["scheduled_at"]
        assert rows[OSU]["scheduled_at"] == before[OSU]["scheduled_at"] + timedelta(minutes=30)
        assert rows[UGA]["status"] == "Postponed" and rows[UGA]["ended_at"] is None
        assert (rows[FSU]["status"], rows[FSU]["ended_at"]) == ("Canceled", now)
        game = await runtime.store.game(UGA)
        assert game and game["status"]["name"] == "STATUS_POSTPONED"
        assert (await scheduler.run_once(now)).changed == 0
        # ESPN gives the postponed game a date two days later (a runner that crashed while
        # the game was awaited left its name on the row).
        await runtime.store.set_stream_owner(UGA, "crashed-runner", now)
        mutate(board, UGA, moved=timedelta(days=2), status=("STATUS_SCHEDULED", "pre"))
        rescheduled = await scheduler.run_once(now)
        assert counted(rescheduled) == {"games updated": 1, "streams rescheduled": 1}
        (done,) = [d for d in rescheduled.leagues[0].done if d.change is Change.STREAM_RESCHEDULED]
        assert (done.game_id, done.game) == (UGA, "MRSH @ UGA")
        row = (await stream_rows(runtime))[UGA]
        start = datetime(2025, 9, 1, 19, 30, tzinfo=UTC)
        assert (row["status"], row["scheduled_at"]) == ("Scheduled", start - LEAD)
        assert (row["started_at"], row["retry_count"], row["owner"]) == (None, 0, None)
        assert (await scheduler.run_once(now)).changed == 0


async def test_a_runner_claiming_between_read_and_write_wins(
    db_url: str, sec: dict[str, Any]
) -> None:
    now = datetime(2025, 8, 28, 12, 0, tzinfo=UTC)
    boards = Boards({"college-football": copy.deepcopy(sec)})
    async with runtime_on(db_url, FixedClock(now), httpx.MockTransport(boards)) as runtime:
        await Scheduler(runtime, ["college-football"], 0).run_once(now)
        mutate(boards.documents["college-football"], UGA, status=("STATUS_POSTPONED", "post"))
        board = await runtime.scoreboards.day("football", "college-football", now.date())
        store = ScheduleStore(runtime.store)
        plan = plan_schedule(board.games, *await store.known([g.id for g in board.games]))
        await runtime.store.move_stream(UGA, S.AWAITING_START, now)  # claimed meanwhile
        applied = await store.apply(plan, now)
        assert [a.change for a in applied] == [Change.GAME_UPDATED]  # not the postponement
        stream = await runtime.store.stream(UGA)
        assert stream and stream.status is S.AWAITING_START
        # The next run sees the claimed stream and postpones it, as the lifecycle allows.
        again = await Scheduler(runtime, ["college-football"], 0).run_once(now)
        assert counted(again) == {"streams postponed": 1}


async def test_a_league_whose_board_fails_is_reported_and_the_others_go_on(
    tmp_path: Path, sec: dict[str, Any]
) -> None:
    now = datetime(2025, 8, 28, 12, 0, tzinfo=UTC)
    boards = Boards({
        "college-football": sec,
        "nfl": httpx.Response(503),
        "nba": httpx.Response(200, text="<html>blocked</html>"),
    })  # fmt: skip
    async with runtime_on(tmp_path, FixedClock(now), httpx.MockTransport(boards)) as runtime:
        report = await Scheduler(runtime, ["college-football", "nfl", "nba"], 0).run_once(now)
    by_league = {r.league: r for r in report.leagues}
    assert report.failed and by_league["college-football"].errors == []
    assert len(by_league["college-football"].done) == 32
    assert "HTTP 503" in by_league["nfl"].errors[0]
    assert "not JSON" in by_league["nba"].errors[0]
    assert json.loads(json.dumps(report.to_json()))["counts"]["streams created"] == 16


async def test_run_forever_runs_on_the_interval_of_the_clock(
    tmp_path: Path, sec: dict[str, Any]
) -> None:
    now = datetime(2025, 8, 28, 12, 0, tzinfo=UTC)

    class SteppingClock(FixedClock):
        def __init__(self, moment: datetime) -> None:
            super().__init__(moment)
            self.sleeps: list[float] = []

        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            await super().sleep(seconds)
            await asyncio.sleep(0)

    clock = SteppingClock(now)
    boards = Boards({"college-football": sec})
    async with runtime_on(tmp_path, clock, httpx.MockTransport(boards)) as runtime:
        scheduler = Scheduler(runtime, ["college-football"], 0)
        task = asyncio.create_task(scheduler.run_forever(300))
        for _ in range(1000):  # bounded: until three runs went by
            if len(clock.sleeps) >= 3:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        rows = await stream_rows(runtime)
    assert clock.sleeps[:3] == [300.0, 300.0, 300.0]
    assert len(rows) == 16 and clock.now() >= now + timedelta(minutes=15)


# -- the command ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def replay_server(recordings_dir: Path) -> Iterator[str]:
    """`pressbox replay-server` with the NBA game at 1x (five minutes before tip-off for five
    minutes: its status stands still during the test), on loopback; yields its URL."""
    port = free_port()
    game = recordings_dir / "games" / "nba-401772994" / "summary.json"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pressbox.cli",
            "replay-server",
            str(game),
            "--speed",
            "1",
            "--port",
            str(port),
        ],  # fmt: skip
        env={**os.environ, "PRESSBOX_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):  # bounded: up to 10 s for the server to answer
            try:
                httpx.get(f"{url}/_replay/status", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        server.kill()
        server.wait(timeout=10)


def test_pressbox_schedule_prints_what_it_did(
    tmp_path: Path, replay_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The game tips off 2025-06-01T00:00Z, May 31 in the evening US Eastern.
    afternoon = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)
    monkeypatch.setattr(cli_operations, "SystemClock", lambda: FixedClock(afternoon))
    env = {"PRESSBOX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/pressbox.db",
           "PRESSBOX_LOG_LEVEL": "WARNING", "COLUMNS": "200"}  # fmt: skip
    command = ["schedule", "--league", "nba", "--days", "0", "--espn-site-url", replay_server]
    first = CliRunner().invoke(cli.app, command, env=env)
    assert first.exit_code == 0, first.output
    assert "stream created" in first.output and "401772994" in first.output
    assert "NY @ IND" in first.output
    second = CliRunner().invoke(cli.app, command, env=env)
    assert second.exit_code == 0, second.output
    assert "streams created" in second.output and "changes" not in second.output
    refused = CliRunner().invoke(cli.app, ["schedule", "--league", "mlb"], env=env)
    assert refused.exit_code == 2


async def test_a_stream_an_older_version_failed_for_the_upstream_is_resumed_while_live(
    tmp_path: Path, sec: dict[str, Any]
) -> None:
    """An older database: a stream ended Failed by the old budget of failed polls during an
    ESPN outage. Migrated, its cause reads `upstream`; the next scheduler run, its game still
    in play on the board, schedules it again (a retry counted) for a runner to claim."""
    now = datetime(2025, 8, 28, 23, 50, tzinfo=UTC)  # MIZ kicked off at 23:30
    url = f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"
    boards = Boards({"college-football": copy.deepcopy(sec)})
    async with runtime_on(tmp_path, FixedClock(now), httpx.MockTransport(boards)) as runtime:
        await Scheduler(runtime, ["college-football"], 0).run_once(now)
    # Back to the schema of the older version, where the stream failed.
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0004")
    old_reason = "status failed 20 times in a row; last error: ESPN answered HTTP 503"
    with sqlite3.connect(tmp_path / "pressbox.db") as db:
        db.execute(
            "UPDATE streams SET status = 'Failed', failure_reason = ?, started_at = ?, "
            "ended_at = ?, retry_count = 1 WHERE game_id IN (?, ?)",
            (old_reason, now.isoformat(), now.isoformat(), MIZ, UGA),
        )
        db.execute(
            "UPDATE streams SET failure_reason = 'game status has not changed for 3:00:01; "
            "stopped watching' WHERE game_id = ?",
            (UGA,),
        )
    mutate(boards.documents["college-football"], MIZ, status=("STATUS_IN_PROGRESS", "in"))
    mutate(boards.documents["college-football"], UGA, status=("STATUS_IN_PROGRESS", "in"))
    async with runtime_on(tmp_path, FixedClock(now), httpx.MockTransport(boards)) as runtime:
        before = await stream_rows(runtime)
        assert before[MIZ]["failure_cause"] == "upstream"  # read back from the old reason
        assert before[UGA]["failure_cause"] == "stall"
        report = await Scheduler(runtime, ["college-football"], 0).run_once(now)
        assert counted(report)["streams resumed"] == 1
        rows = await stream_rows(runtime)
        assert rows[UGA]["status"] == "Failed"  # a stall is not the upstream's doing
        row = rows[MIZ]
        assert (row["status"], row["retry_count"]) == ("Scheduled", 2)
        assert (row["failure_reason"], row["failure_cause"], row["ended_at"]) == (None,) * 3
        assert row["started_at"] == now  # the same attempt: the hard cap counts from its start
        assert row["scheduled_at"] <= now  # due at once
        assert (await Scheduler(runtime, ["college-football"], 0).run_once(now)).changed == 0
