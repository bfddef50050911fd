"""A replay session: the replay server on loopback and a streamer per recorded game.

Sources are recordings (Postman, HAR: recorded responses) and finished-game files (site-API
summaries, core-API document sets, CDN game packages: synthesized on their timeline). Several
sources are laid on one replay timeline, each starting `stagger` after the previous one, so a demo
shows games in different states at once. The streamers reach the replay server through the ESPN
base URL only, exactly as they reach ESPN.

Kalshi is faked too (`replay_kalshi`), from the Kalshi recordings found beside the replayed
sources: none of them is of a replayed game (`recordings/README.md`: no game has both real ESPN
and real Kalshi data), so every replayed game shows its market as absent, and a replay never
reaches the real Kalshi. No price series is ever made up for a replayed game.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pressbox.clock import Clock
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.market_events import last_market_status
from pressbox.replay import load_recording
from pressbox.replay.faults import Fault, RequestLog
from pressbox.replay.kalshi import REST_PREFIX, FakeKalshi, KalshiData
from pressbox.replay.loaders import is_game_file, load_game_record
from pressbox.replay.record import GameRecord
from pressbox.replay.recording import Recording
from pressbox.replay.server import create_replay_app
from pressbox.runtime import Runtime
from pressbox.store import GameInfo, TeamInfo
from pressbox.streaming.runner import StreamRunner
from pressbox.web.server import running

_EVENT_PATH = re.compile(
    r"^/v2/sports/(?P<sport>[^/]+)/leagues/(?P<league>[^/]+)/events/(?P<id>\d+)$"
)


@dataclass(frozen=True)
class RecordedGame:
    """A game whose event document a recording holds."""

    sport: str
    league: str
    id: str


@dataclass
class ReplayPlan:
    """What one replay serves: recorded responses, synthesized games, and where time starts."""

    recording: Recording | None
    records: list[GameRecord] = field(default_factory=list)
    origin: datetime | None = None
    #: Kalshi recordings (`kalshi_*.json`) beside the sources, for the fake Kalshi; None: none.
    kalshi: Path | None = None

    @property
    def games(self) -> list[RecordedGame]:
        """Every game to stream, recorded or synthesized."""
        found = recorded_games(self.recording) if self.recording else []
        found += [RecordedGame(r.sport, r.league, r.id) for r in self.records]
        return found

    @property
    def start(self) -> datetime:
        """Where the replay clock starts."""
        assert self.origin is not None
        return self.origin

    @property
    def end(self) -> datetime:
        """When the last source has nothing more to say."""
        ends = [r.last_wallclock + timedelta(minutes=5) for r in self.records]
        if self.recording is not None:
            ends.append(self.recording.end)
        return max(ends)


def plan_replay(
    paths: list[Path],
    stagger: timedelta = timedelta(minutes=20),
    lead: timedelta = timedelta(minutes=5),
) -> ReplayPlan:
    """Load every source and lay them on one timeline: source i starts `i * stagger` after the
    first one; the clock starts `lead` before the first start. Raises RecordingError."""
    recordings: list[Recording] = []
    records: list[GameRecord] = []
    anchor: datetime | None = None
    for index, path in enumerate(paths):
        if is_game_file(path):
            record = load_game_record(path)
            anchor = anchor or record.start_time
            records.append(record.renamed(record.id, anchor + index * stagger - record.start_time))
        else:
            recording = load_recording(path)
            anchor = anchor or recording.start
            recordings.append(shifted(recording, anchor + index * stagger - recording.start))
    merged = Recording([r for rec in recordings for r in rec.responses]) if recordings else None
    starts = [r.start_time for r in records] + [r.start for r in recordings]
    origin = min(starts) - lead if starts else None
    return ReplayPlan(merged, records, origin, kalshi_recordings(paths))


def kalshi_recordings(paths: Sequence[Path]) -> Path | None:
    """The first directory of Kalshi recordings (`kalshi/*/kalshi_markets.json`) in a folder
    holding one of `paths`, or any folder above it."""
    for path in paths:
        for folder in path.resolve().parents:
            found = sorted((folder / "kalshi").glob("*/kalshi_markets.json"))
            if found:
                return found[0].parent
    return None


def shifted(recording: Recording, delta: timedelta) -> Recording:
    """The same recording, every response `delta` later."""
    if not delta:
        return recording
    moved = [replace(r, recorded_at=r.recorded_at + delta) for r in recording.responses]
    return Recording(moved, skipped=recording.skipped)


def recorded_games(recording: Recording) -> list[RecordedGame]:
    """Every game of the recording, found by its event document path."""
    found = {
        m["id"]: RecordedGame(m["sport"], m["league"], m["id"])
        for path in recording.paths()
        if (m := _EVENT_PATH.match(path))
    }
    return [found[key] for key in sorted(found)]


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
) -> AsyncIterator[str]:
    """Serve a fake Kalshi on loopback: the recorded Kalshi documents of `recordings` (none:
    no market at all); yields its REST base URL (`…/trade-api/v2`) for `open_runtime`. Given
    `url` (another Kalshi-compatible server, `pressbox replay --kalshi-url`), serve nothing and
    yield it."""
    if url:
        yield url.rstrip("/")
        return
    data = KalshiData.from_recordings(recordings) if recordings else KalshiData()
    async with running(FakeKalshi(data, clock).app(), host, port) as url:
        yield url + REST_PREFIX


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
    """The headless command's JSON: outcome, events by type, plays, upstream use, wall time."""
    game = await runtime.store.game(game_id)
    events = await runtime.store.events_since(game_id, 0, limit=1_000_000)
    counts = Counter(str(e.type) for e in events)
    plays = {e.data["id"] for e in events if e.type in ("play_added", "play_corrected")}
    market_status = last_market_status(events)
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
        },
        "upstream": stats.to_json(),
        "upstream_requests": sum(s.requests for s in stats.by_kind.values()),
        "upstream_bytes": sum(s.bytes for s in stats.by_kind.values()),
        "wall_seconds": round(time.monotonic() - started, 2),
    }
