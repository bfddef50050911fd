"""Market lines in a game's stream: a replayed NBA game (the real ESPN summary of game 401772994,
through the replay server) beside a fake Kalshi on loopback.

The markets of the first and third tests are TEST DATA built here, with prices moving on a script
of the replay clock (to control them: failures, a book). The game's real recorded market, which
the demo's fake Kalshi serves, is replayed in test_market_replay.py; the second test leaves it
out, so Kalshi lists no market for the game.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.market_events import MarketState, MarketStatus, market_status_event
from pressbox.replay.faults import Fault, RequestLog
from pressbox.replay.kalshi import REST_PREFIX, FakeKalshi, KalshiData
from pressbox.replay.plan import ReplayPlan, plan_replay
from pressbox.replaying import (
    prepare_streams,
    replay_kalshi,
    replay_report,
    replay_upstream,
    stream_games,
)
from pressbox.runtime import Runtime, open_runtime
from pressbox.store import Store
from pressbox.streaming.market import STALE_AFTER
from pressbox.web.server import running
from pressbox.web.snapshots import game_snapshot

GAME = "401772994"  # New York Knicks at Indiana Pacers, 2025-05-31 (US Eastern)
EVENT = "KXNBAGAME-25MAY31NYKIND"
IND, NYK = f"{EVENT}-IND", f"{EVENT}-NYK"
SPEED = 600
POLL = 60.0  # seconds of replay time between two polls of the markets
MARKET_TYPES = {EventType.MARKET, EventType.MARKET_STATUS}


@pytest.fixture
def plan(recordings_dir: Path) -> ReplayPlan:
    return plan_replay([recordings_dir / "games" / f"nba-{GAME}" / "summary.json"])


def built_markets() -> KalshiData:
    """Two team markets for the replayed game: test data, not Kalshi's."""

    def market(ticker: str, team: str) -> dict[str, Any]:
        return {"ticker": ticker, "event_ticker": EVENT, "status": "active", "yes_sub_title": team}

    data = KalshiData(markets=[market(IND, "Indiana"), market(NYK, "New York")])
    data.events[EVENT] = {"event_ticker": EVENT, "series_ticker": "KXNBAGAME", "title": "test"}
    return data


async def move_prices(data: KalshiData, clock: ScaledClock, start: datetime) -> None:
    """The price script: every replay minute the home side's yes bid moves by a cent."""
    while True:
        minute = max(0, int((clock.now() - start).total_seconds() // 60))
        bid = 30 + minute % 40
        data.update_market(IND, yes_bid=bid, yes_ask=bid + 2, volume=10 * minute)
        data.update_market(NYK, yes_bid=98 - bid, yes_ask=100 - bid, volume=10 * minute)
        await asyncio.sleep(0.01)


def failing_during(app: ASGIApp, clock: ScaledClock, start: datetime, end: datetime) -> ASGIApp:
    """`app`, answering every HTTP request with a 500 from `start` to `end` of replay time."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and start <= clock.now() < end:
            body = {"error": {"code": "internal", "message": "injected failure"}}
            await JSONResponse(body, status_code=500)(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


@dataclass
class Outcome:
    """What a replay left behind."""

    status: StreamStatus
    log: list[StoredEvent]
    snapshot: dict[str, Any]
    report: dict[str, Any]

    def of(self, *kinds: EventType) -> list[StoredEvent]:
        return [e for e in self.log if e.type in kinds]

    @property
    def espn(self) -> list[StoredEvent]:
        return [e for e in self.log if e.type not in MARKET_TYPES]


@asynccontextmanager
async def fake_kalshi(app: ASGIApp) -> AsyncIterator[str]:
    async with running(app, "127.0.0.1", 0) as base:
        yield base + REST_PREFIX


async def replay_game(
    plan: ReplayPlan,
    clock: ScaledClock,
    kalshi_url: str,
    tmp_path: Path,
    faults: Sequence[Fault] = (),
    request_log: RequestLog | None = None,
) -> Outcome:
    """Stream the game to its end (bounded) with markets on; what it logged."""
    before = asyncio.all_tasks()
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db",
        markets="on",
        kalshi_poll_seconds=POLL,
    )
    async with (
        replay_upstream(None, clock, plan.records, faults=faults, request_log=request_log) as espn,
        open_runtime(settings, clock, espn, kalshi_url=kalshi_url) as runtime,
    ):
        await prepare_streams(runtime, plan.games)
        results = await asyncio.wait_for(stream_games(runtime, plan.games), timeout=150)
        outcome = await collect(runtime, results[GAME])
    leftover = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not [t for t in leftover if t.get_name().startswith(f"{GAME}:")], leftover
    return outcome


async def collect(runtime: Runtime, status: StreamStatus) -> Outcome:
    log = await runtime.store.events_since(GAME, 0, limit=1_000_000)
    snapshot = await game_snapshot(runtime.store, GAME)
    assert snapshot is not None
    report = await replay_report(runtime, GAME, status, 0.0)
    return Outcome(status, log, snapshot, report)


def assert_sound(log: list[StoredEvent]) -> None:
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert len({e.key for e in log}) == len(log)


def at(hms: str) -> datetime:
    """A replay time on the game's night (UTC)."""
    return datetime.fromisoformat(f"2025-06-01T{hms}+00:00")


async def test_market_points_stream_into_the_log_beside_espn(
    plan: ReplayPlan, tmp_path: Path
) -> None:
    data = built_markets()
    clock = ScaledClock(plan.start, SPEED)
    script = asyncio.create_task(move_prices(data, clock, plan.start))
    try:
        async with fake_kalshi(FakeKalshi(data, clock).app()) as kalshi_url:
            outcome = await replay_game(plan, clock, kalshi_url, tmp_path)
    finally:
        script.cancel()
        await asyncio.gather(script, return_exceptions=True)

    assert outcome.status is StreamStatus.COMPLETED
    assert_sound(outcome.log)
    (status,) = outcome.of(EventType.MARKET_STATUS)
    assert status.data == {
        "state": "live",
        "event_ticker": EVENT,
        "tickers": [IND, NYK],  # home first
        "source": "kalshi",
        "reason": None,
        "notes": [],  # a real market says nothing of itself
    }
    points = outcome.of(EventType.MARKET)
    assert len(points) > 100
    assert status.seq < points[0].seq
    for event in points:
        point = event.data
        assert point["side"] == ("home" if point["ticker"] == IND else "away")
        mid = (point["bid"] + point["ask"]) / 2
        home = mid if point["side"] == "home" else 1 - mid
        assert point["implied_home"] == pytest.approx(home)
    # Both markets move together: the two points of one poll say the same home probability.
    by_poll: dict[str, set[float]] = {}
    for event in points:
        by_poll.setdefault(event.data["time"], set()).add(round(event.data["implied_home"], 4))
    assert all(len(homes) == 1 for homes in by_poll.values()), by_poll
    assert len(by_poll) > 50
    # Interleaved with the game's events in one log, not appended after it.
    plays = outcome.of(EventType.PLAY_ADDED)
    assert points[0].seq < plays[-1].seq and plays[0].seq < points[-1].seq
    runs = [kind for kind, _ in itertools.groupby(e.type in MARKET_TYPES for e in outcome.log)]
    assert len(runs) > 20
    # The snapshot and the headless report carry the line.
    assert outcome.snapshot["market"] == [e.data for e in points]
    assert outcome.snapshot["market_status"] == status.data
    report = outcome.report["market"]
    assert (report["state"], report["points"]) == ("live", len(points))
    assert report["last_implied_home"] == points[-1].data["implied_home"]
    assert report["compared"] > 400 and 0 <= report["mean_abs_gap"] < 1


async def test_a_game_without_a_market_says_so_once_and_streams_as_before(
    plan: ReplayPlan, tmp_path: Path
) -> None:
    # The real Kalshi recordings of another game, without this game's recorded candles.
    assert plan.kalshi is not None and plan.kalshi.name == "zane180-nba-market-engine"
    clock = ScaledClock(plan.start, SPEED)
    async with replay_kalshi(clock, plan.kalshi, markets=()) as kalshi_url:
        outcome = await replay_game(plan, clock, kalshi_url, tmp_path)

    assert outcome.status is StreamStatus.COMPLETED
    assert_sound(outcome.log)
    (status,) = outcome.of(EventType.MARKET_STATUS)  # re-checked every 5 minutes, logged once
    assert status.data["state"] == "absent"
    assert status.data["event_ticker"] is None and status.data["source"] is None
    assert EVENT in status.data["reason"]
    assert outcome.of(EventType.MARKET) == []
    (record,) = plan.records
    logged = [e.data["id"] for e in outcome.of(EventType.PLAY_ADDED)]
    assert sorted(logged) == sorted(p.id for p in record.plays)
    game = outcome.snapshot["game"]
    assert game["status"]["name"] == "STATUS_FINAL"
    assert (game["home"]["score"], game["away"]["score"]) == (125, 108)
    assert outcome.snapshot["market"] == []
    assert outcome.report["market"] == {
        "state": "absent",
        "points": 0,
        "last_implied_home": None,
        "compared": 0,
        "mean_abs_gap": None,
    }


async def test_each_line_survives_the_other_failing(plan: ReplayPlan, tmp_path: Path) -> None:
    kalshi_down = (at("00:40:00"), at("01:00:00"))
    espn_down = (at("01:20:00"), at("01:30:00"))
    data = built_markets()
    clock = ScaledClock(plan.start, SPEED)
    requests = RequestLog()
    script = asyncio.create_task(move_prices(data, clock, plan.start))
    app = failing_during(FakeKalshi(data, clock).app(), clock, *kalshi_down)
    try:
        async with fake_kalshi(app) as kalshi_url:
            outcome = await replay_game(
                plan,
                clock,
                kalshi_url,
                tmp_path,
                faults=[Fault(*espn_down, "500")],
                request_log=requests,
            )
    finally:
        script.cancel()
        await asyncio.gather(script, return_exceptions=True)

    assert outcome.status is StreamStatus.COMPLETED
    assert_sound(outcome.log)

    def within(events: list[StoredEvent], window: tuple[datetime, datetime]) -> list[StoredEvent]:
        return [e for e in events if window[0] <= e.at < window[1]]

    # Kalshi down: the market goes stale, then live again by itself; ESPN goes on.
    statuses = outcome.of(EventType.MARKET_STATUS)
    assert [e.data["state"] for e in statuses] == ["live", "stale", "live"], statuses
    stale, back = statuses[1], statuses[2]
    # Three minutes (STALE_AFTER) after the last point, which came at most a poll before.
    stale_from = kalshi_down[0] + STALE_AFTER - timedelta(seconds=POLL)
    assert stale_from <= stale.at < kalshi_down[1]
    assert "Kalshi did not answer" in stale.data["reason"]
    assert kalshi_down[1] <= back.at < kalshi_down[1] + timedelta(minutes=5)
    assert within(outcome.of(EventType.PLAY_ADDED), kalshi_down)
    quiet = (kalshi_down[0] + timedelta(seconds=2 * POLL), kalshi_down[1])
    assert not within(outcome.of(EventType.MARKET), quiet)

    # ESPN down: its documents answer 500, and market points keep arriving.
    assert [r for r in requests.between(*espn_down) if r.status == 500]
    assert len(within(outcome.of(EventType.MARKET), espn_down)) >= 10
    assert within(outcome.espn, (espn_down[1], at("03:00:00")))
    assert outcome.snapshot["market_status"]["state"] == "live"


class CrashingOnce:
    """A market source that fails once mid-way, then says the same status again and one point;
    its history (read once the game is over) holds one more point."""

    def __init__(self, clock: ScaledClock) -> None:
        self.clock = clock
        self.follows = 0
        self.store: Store | None = None
        #: The stream's status when the final history was read.
        self.status_at_history: StreamStatus | None = None

    async def follow(
        self, game: Mapping[str, Any], in_play: Callable[[], bool], *, since: datetime | None = None
    ) -> AsyncGenerator[Event, None]:
        self.follows += 1
        status = MarketStatus.of(MarketState.ABSENT, None, f"attempt {self.follows}")
        yield market_status_event(status, self.clock.now())
        if self.follows == 1:
            raise RuntimeError("a bug in the market follower")
        yield Event(EventType.MARKET, "market:test", self.clock.now(), {"ticker": "T"})
        await self.clock.sleep(10**7)  # nothing more, until the streamer stops it

    async def history(self, game: Mapping[str, Any], since: datetime | None) -> list[Event]:
        assert self.store is not None
        stream = await self.store.stream(GAME)
        self.status_at_history = stream and stream.status
        return [Event(EventType.MARKET, "market:last", self.clock.now(), {"ticker": "T"})]


async def test_a_failing_market_follower_restarts_and_never_ends_the_stream(
    plan: ReplayPlan, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ScaledClock(plan.start, SPEED)
    source = CrashingOnce(clock)
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db")
    async with (
        replay_upstream(None, clock, plan.records) as espn,
        open_runtime(settings, clock, espn) as runtime,
    ):
        runtime.markets = source
        source.store = runtime.store
        await prepare_streams(runtime, plan.games)
        results = await asyncio.wait_for(stream_games(runtime, plan.games), timeout=150)
        outcome = await collect(runtime, results[GAME])
    assert outcome.status is StreamStatus.COMPLETED
    assert_sound(outcome.log)
    assert source.follows == 2
    assert "the market follower failed" in caplog.text
    # The same state said again after the restart is not logged twice.
    (status,) = outcome.of(EventType.MARKET_STATUS)
    assert status.data["reason"] == "attempt 1"
    # The market's last points are in the log before the stream is Completed: a reader who sees
    # the stream ended sees its whole log.
    assert source.status_at_history is not None and source.status_at_history.is_running
    assert [e.key for e in outcome.of(EventType.MARKET)] == ["market:test", "market:last"]
    assert len(outcome.of(EventType.PLAY_ADDED)) == len(plan.records[0].plays)
