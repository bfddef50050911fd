"""A replay session: the replay server on loopback and a streamer per recorded game.

Sources are recordings (Postman, HAR: recorded responses) and finished-game files (site-API
summaries, core-API document sets, CDN game packages: synthesized on their timeline). Several
sources are laid on one replay timeline, each starting `stagger` after the previous one, so a demo
shows games in different states at once. The streamers reach the replay server through the ESPN
base URL only, exactly as they reach ESPN.
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
from pressbox.replay import load_recording
from pressbox.replay.faults import Fault, RequestLog
from pressbox.replay.loaders import is_game_file, load_game_record
from pressbox.replay.record import GameRecord
from pressbox.replay.recording import Recording
from pressbox.replay.server import create_replay_app
from pressbox.runtime import Runtime
from pressbox.store import GameInfo, TeamInfo
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
    return ReplayPlan(merged, records, min(starts) - lead if starts else None)


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


async def prepare_streams(runtime: Runtime, games: list[RecordedGame]) -> None:
    """Create each recorded game and its one stream, scheduled now (existing ones are kept)."""
    now = runtime.clock.now()
    for game in games:
        info = GameInfo(game.id, game.sport, game.league, "", "", None, TeamInfo(""), TeamInfo(""))
        await runtime.store.upsert_game(info, now, replace=False)
        await runtime.store.ensure_stream(game.id, now, now)


async def stream_games(runtime: Runtime, games: list[RecordedGame]) -> dict[str, StreamStatus]:
    """Run a streamer per game to its end; returns each game's final stream status."""
    results = await asyncio.gather(*(runtime.streamer(g.id, g.league).run() for g in games))
    return {game.id: status for game, status in zip(games, results, strict=True)}


async def replay_report(
    runtime: Runtime, game_id: str, status: StreamStatus, started: float
) -> dict[str, Any]:
    """The headless command's JSON: outcome, events by type, plays, upstream use, wall time."""
    game = await runtime.store.game(game_id)
    events = await runtime.store.events_since(game_id, 0, limit=1_000_000)
    counts = Counter(str(e.type) for e in events)
    plays = {e.data["id"] for e in events if e.type in ("play_added", "play_corrected")}
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
        "upstream": stats.to_json(),
        "upstream_requests": sum(s.requests for s in stats.by_kind.values()),
        "upstream_bytes": sum(s.bytes for s in stats.by_kind.values()),
        "wall_seconds": round(time.monotonic() - started, 2),
    }
