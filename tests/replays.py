"""One game replayed through the whole system (replay server with faults, runtime, runner) to its
end, watched: what the lifecycle and outage tests compare."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay import Recording
from pressbox.replay.faults import Fault, FaultKind, RequestLog
from pressbox.replay.plan import ReplayPlan
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import open_runtime
from pressbox.store import Store, StreamRecord


@dataclass(frozen=True)
class Seen:
    """The stream row as a watcher saw it at replay time `at`."""

    at: datetime
    status: str
    degraded: tuple[str, ...]


@dataclass
class Run:
    """The outcome of one replay: final status, stream row, event log, what was seen, requests."""

    result: StreamStatus
    stream: StreamRecord
    events: list[StoredEvent]
    seen: list[Seen] = field(default_factory=list)
    log: RequestLog = field(default_factory=RequestLog)

    def ids(self, kind: EventType) -> list[str]:
        return sorted(e.data["id"] for e in self.events if e.type is kind)

    def seen_between(self, start: datetime, end: datetime) -> list[Seen]:
        return [s for s in self.seen if start <= s.at < end]


async def watch(
    store: Store, game_id: str, clock: ScaledClock, seen: list[Seen], stop: asyncio.Event
) -> None:
    """Sample the stream row every 25 ms of real time (25 s of the game at 1000x: a fine enough
    grain for outages and breaks of minutes; at 10 ms a replay used ~7% more CPU than at 50) until
    stopped, and once more then."""
    while True:
        stopping = stop.is_set()
        stream = await store.stream(game_id)
        if stream is not None:
            seen.append(Seen(clock.now(), str(stream.status), tuple(sorted(stream.health))))
        if stopping:
            return
        await asyncio.sleep(0.025)


async def replay(
    database: Path,
    source: Recording | ReplayPlan,
    speed: float,
    faults: Sequence[Fault] = (),
    start: datetime | None = None,
    **settings: Any,
) -> Run:
    """Replay `source` (a recording, or a plan of synthesized games) with `faults` through the
    whole system until its one game's stream ends; from the source's start, or from `start`: a
    stream that joins the game then (and reads what came before at its first reads), or is up
    before the first recorded answer (until which the replay answers 404)."""
    if isinstance(source, Recording):
        source = ReplayPlan(source, origin=source.start)
    plan = source
    (game,) = plan.games
    config = load_settings(database_url=f"sqlite+aiosqlite:///{database}", **settings)
    origin = start or plan.start
    clock = ScaledClock(origin, speed)
    log, seen, stop = RequestLog(), list[Seen](), asyncio.Event()
    bound = (plan.end - origin).total_seconds() / speed * 4 + 30
    async with (
        replay_upstream(plan.recording, clock, plan.records, faults=faults, request_log=log) as url,
        open_runtime(config, clock, url) as runtime,
    ):
        await prepare_streams(runtime, [game])
        watcher = asyncio.create_task(watch(runtime.store, game.id, clock, seen, stop))
        try:
            results = await asyncio.wait_for(stream_games(runtime, [game]), timeout=bound)
        finally:
            stop.set()
            await watcher
        stream = await runtime.store.stream(game.id)
        events = await runtime.store.events_since(game.id, 0, limit=100_000)
    assert stream is not None
    return Run(results[game.id], stream, events, seen, log)


def outage(start: datetime, minutes: float, kinds: Sequence[FaultKind]) -> list[Fault]:
    """An outage of every upstream path from `start` for `minutes`, in equal turns of `kinds`."""
    turn = timedelta(minutes=minutes) / len(kinds)
    return [Fault(start + i * turn, start + (i + 1) * turn, kind) for i, kind in enumerate(kinds)]
