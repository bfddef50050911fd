"""A replay run: the fake upstreams (`replay/`) served on loopback, the replayed games' streams
followed through leases by a runner to their end, and the headless report. It composes the replay
plan (`pressbox.replay.plan`) with a runtime, a runner and the web server's loopback helper, as
`serving.py` composes a live process; `replay/` itself stays an independent fake upstream that
knows nothing of streams, stores or runtimes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pressbox.clock import Clock
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.market_events import last_market_status, market_gap
from pressbox.replay.faults import Fault, RequestLog
from pressbox.replay.kalshi import REST_PREFIX, FakeKalshi, KalshiData
from pressbox.replay.kalshi_event import ReplayedEvent
from pressbox.replay.plan import RecordedGame
from pressbox.replay.record import GameRecord
from pressbox.replay.recording import Recording
from pressbox.replay.server import create_replay_app
from pressbox.runtime import Runtime
from pressbox.store import GameInfo, TeamInfo
from pressbox.streaming.runner import StreamRunner
from pressbox.web.server import running


@asynccontextmanager
async def replay_upstream(
    recording: Recording | None,
    clock: Clock,
    records: list[GameRecord] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    faults: Sequence[Fault] = (),
    request_log: RequestLog | None = None,
) -> AsyncIterator[str]:
    """Serve the recording and the games on the replay clock; yields the ESPN base URL to use.
    `faults` make it misbehave on schedule; `request_log` records every request it gets."""
    app = create_replay_app(recording, clock, records or [], faults=faults, request_log=request_log)
    async with running(app, host, port, date_header=False) as url:
        yield url


@asynccontextmanager
async def replay_kalshi(
    clock: Clock,
    recordings: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    url: str | None = None,
    markets: Sequence[ReplayedEvent] = (),
) -> AsyncIterator[str]:
    """Serve a fake Kalshi on loopback: the recorded Kalshi documents of `recordings` and the
    replayed games' events from recorded candles, `markets` (the plan's), on `clock` (neither:
    no market at all); yields its REST base URL (`…/trade-api/v2`) for `open_runtime`. Given
    `url` (another Kalshi-compatible server, `pressbox replay --kalshi-url`), serve nothing and
    yield it."""
    if url:
        yield url.rstrip("/")
        return
    data = KalshiData.from_recordings(recordings) if recordings else KalshiData()
    data.replayed = list(markets)
    async with running(FakeKalshi(data, clock).app(), host, port) as url:
        yield url + REST_PREFIX


async def forget_games(runtime: Runtime, games: list[RecordedGame]) -> list[str]:
    """Delete what a database holds of each replayed game (its stream, its event log), so a
    replay into a kept database starts over; returns the ids that were there."""
    return [game.id for game in games if await runtime.store.forget_game(game.id)]


async def prepare_streams(runtime: Runtime, games: list[RecordedGame]) -> None:
    """Create each recorded game and its one stream, scheduled now (existing ones are kept)."""
    now = runtime.clock.now()
    for game in games:
        info = GameInfo(game.id, game.sport, game.league, "", "", None, TeamInfo(""), TeamInfo(""))
        await runtime.store.upsert_game(info, now, replace=False)
        await runtime.store.ensure_stream(game.id, now, now)


async def stream_games(runtime: Runtime, games: list[RecordedGame]) -> dict[str, StreamStatus]:
    """Follow every game to its end as a runner does, through leases, claiming only these games
    (so another runner on the same database never streams them twice); returns each game's
    final stream status."""
    ids = [game.id for game in games]
    async with StreamRunner(runtime, max_concurrent=max(1, len(ids)), games=ids) as runner:
        claiming = asyncio.create_task(runner.run_forever(), name="replay:claims")
        try:
            return await games_finished(runtime, games)
        finally:
            claiming.cancel()
            await asyncio.gather(claiming, return_exceptions=True)


async def games_finished(
    runtime: Runtime, games: list[RecordedGame], every: float = 0.2
) -> dict[str, StreamStatus]:
    """Wait until no game's stream is due or running any more (checked every `every` real
    seconds); returns each one's stream status then."""
    while True:
        found: dict[str, StreamStatus] = {}
        for game in games:
            stream = await runtime.store.stream(game.id)
            if stream is not None:
                found[game.id] = stream.status
        if all(not _still_going(status) for status in found.values()):
            return found
        await asyncio.sleep(every)


def _still_going(status: StreamStatus) -> bool:
    return status.is_running or status is StreamStatus.SCHEDULED


async def replay_report(
    runtime: Runtime, game_id: str, status: StreamStatus, started: float
) -> dict[str, Any]:
    """The headless command's JSON: outcome, events by type, plays, the market line (state,
    points, and its mean absolute gap to ESPN's home win probability), upstream use, wall time."""
    game = await runtime.store.game(game_id)
    events = await runtime.store.events_since(game_id, 0, limit=1_000_000)
    counts = Counter(str(e.type) for e in events)
    plays = {e.data["id"] for e in events if e.type in ("play_added", "play_corrected")}
    market_status = last_market_status(events)
    last_point = next((e.data for e in reversed(events) if e.type == "market"), None)
    stats = runtime.espn.http.stats
    return {
        "game_id": game_id,
        "name": game and game["name"],
        "stream_status": str(status),
        "game_status": game and game["status"] and game["status"]["name"],
        "game_detail": game and game["status"] and game["status"]["detail"],
        "score": game and {"home": game["home"], "away": game["away"]},
        "events": dict(sorted(counts.items())),
        "events_total": len(events),
        "plays": len(plays),
        "market": {
            "state": market_status and str(market_status.state),
            "points": counts.get("market", 0),
            "last_implied_home": last_point and last_point.get("implied_home"),
            **market_gap(events).to_json(),
        },
        "upstream": stats.to_json(),
        "upstream_requests": sum(s.requests for s in stats.by_kind.values()),
        "upstream_bytes": sum(s.bytes for s in stats.by_kind.values()),
        "wall_seconds": round(time.monotonic() - started, 2),
    }
