"""The stream runner on the recorded game: it streams it to Completed, stops its streamer at once
when it loses the lease or an operator ends the stream, releases its leases when it stops, and a
stream resumed from its log reads what its last runner missed without repeating anything."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.snapshot import GameState
from pressbox.domain.tracker import Tracker
from pressbox.replay import load_recording
from pressbox.replay.plan import recorded_games
from pressbox.replay.recording import Recording
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import Runtime, open_runtime
from pressbox.store import StreamRecord
from pressbox.store.leases import Leases
from pressbox.streaming.runner import StreamRunner

GAME = "401756846"
SPEED = 500
TTL = 300.0  # seconds of replay time: 0.6 s of real time at 500x
COMPETITION = f"/v2/sports/football/leagues/college-football/events/{GAME}/competitions/{GAME}"


@dataclass
class Replay:
    """A replay server, a runtime on its clock and the game's stream, Scheduled now."""

    runtime: Runtime
    clock: ScaledClock
    recording: Recording

    async def stream(self) -> StreamRecord:
        found = await self.runtime.store.stream(GAME)
        assert found is not None
        return found

    async def log(self) -> list[StoredEvent]:
        return await self.runtime.store.events_since(GAME, 0, limit=1_000_000)


@asynccontextmanager
async def replay(
    url: str, postman: Path, origin: datetime | None = None, speed: float = SPEED
) -> AsyncIterator[Replay]:
    recording = load_recording(postman)
    clock = ScaledClock(origin or recording.start, speed)
    settings = load_settings(
        database_url=url, lease_ttl_seconds=TTL, runner_poll_seconds=60, max_retries=5
    )
    async with (
        replay_upstream(recording, clock) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        await prepare_streams(runtime, recorded_games(recording))
        yield Replay(runtime, clock, recording)


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60) -> None:
    """Poll `check` every 10 ms of real time, for at most `seconds`."""
    for _ in range(int(seconds * 100)):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting until {what}")


def streamer_tasks() -> set[str]:
    """Names of the live tasks of the game's streamer and its document workers."""
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(f"{GAME}:")}


def assert_log_is_sound(log: list[StoredEvent]) -> None:
    """Consecutive seqs from 1, unique keys, and no status or situation logged twice in a row."""
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert len({e.key for e in log}) == len(log)
    for kind in (EventType.STATUS, EventType.SITUATION):
        snapshots = [e.data for e in log if e.type is kind]
        assert all(a != b for a, b in zip(snapshots, snapshots[1:], strict=False)), kind


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"


async def test_a_runner_streams_the_recorded_game_to_completed(
    db_url: str, ncaaf_postman: Path
) -> None:
    before = asyncio.all_tasks()
    async with replay(db_url, ncaaf_postman) as r, StreamRunner(r.runtime, "runner-a") as runner:
        claiming = asyncio.create_task(runner.run_forever())

        async def completed() -> bool:
            return (await r.stream()).status is StreamStatus.COMPLETED and not runner.held

        await until(completed, "the stream is Completed and released", seconds=150)
        claiming.cancel()
        await asyncio.gather(claiming, return_exceptions=True)
        stream, log = await r.stream(), await r.log()
    assert (stream.owner, stream.lease_expires_at, stream.retry_count) == (None, None, 0)
    assert stream.heartbeat_at is not None and stream.last_poll_at is not None
    assert_log_is_sound(log)
    assert sum(e.type is EventType.PLAY_ADDED for e in log) == 88
    assert sum(e.type is EventType.PROBABILITY for e in log) == 147
    assert [e.data["name"] for e in log if e.type is EventType.STATUS][-1] == "STATUS_FINAL"
    assert not asyncio.all_tasks() - before - {asyncio.current_task()}


@asynccontextmanager
async def holding(r: Replay) -> AsyncIterator[StreamRunner]:
    """A runner that has claimed the game and follows it, in Active."""
    async with StreamRunner(r.runtime, "runner-a") as runner:
        claiming = asyncio.create_task(runner.run_forever())

        async def active() -> bool:
            stream = await r.stream()
            return stream.status is StreamStatus.ACTIVE and stream.owner == "runner-a"

        try:
            await until(active, "runner-a follows the game in Active")
            assert streamer_tasks()
            yield runner
        finally:
            claiming.cancel()
            await asyncio.gather(claiming, return_exceptions=True)


async def stops_within(r: Replay, runner: StreamRunner) -> float:
    """Replay seconds until the runner's streamer and its workers are all gone and it no longer
    holds the lease."""
    started = r.clock.now()

    async def stopped() -> bool:
        return not runner.held and not streamer_tasks() and (await r.stream()).owner != "runner-a"

    await until(stopped, "the runner stops its streamer")
    return (r.clock.now() - started).total_seconds()


async def test_a_runner_that_loses_its_lease_stops_its_streamer_at_once(
    url: str, ncaaf_postman: Path
) -> None:
    async with replay(url, ncaaf_postman) as r, holding(r) as runner:
        # Another runner saw the lease expired (say runner-a hung) and took the stream over; its
        # clock is far enough ahead that no renewal by runner-a meanwhile can keep the lease.
        later = r.clock.now() + timedelta(seconds=2 * TTL)
        [taken] = await Leases(r.runtime.store).claim_due("thief", later, TTL, 1)
        assert taken.retry_count == 1
        waited = await stops_within(r, runner)
        seq = (await r.log())[-1].seq
        await asyncio.sleep(0.3)  # 150 s of replay time: nothing more is appended by runner-a
        assert (await r.log())[-1].seq == seq
        stream = await r.stream()
    print(
        f"streamer stopped {waited:.0f} s (replay) after the takeover; renewals every {TTL / 3:g}"
    )
    assert waited <= 2 * TTL / 3  # the next renewal finds out (the stop itself is immediate)
    assert stream.owner == "thief" and stream.status.is_running


async def test_an_operator_cancel_stops_the_streamer(url: str, ncaaf_postman: Path) -> None:
    async with replay(url, ncaaf_postman) as r, holding(r) as runner:
        await r.runtime.store.move_stream(GAME, StreamStatus.CANCELED, r.clock.now())
        waited = await stops_within(r, runner)
        stream = await r.stream()
    assert waited <= 2 * TTL / 3
    assert (stream.status, stream.owner) == (StreamStatus.CANCELED, None)


async def test_a_runner_that_stops_releases_its_leases_at_once(
    url: str, ncaaf_postman: Path
) -> None:
    async with replay(url, ncaaf_postman) as r:
        async with holding(r):
            pass
        assert not streamer_tasks()
        left = await r.stream()
        # Left as it was, to be resumed, and free for any runner right now.
        assert left.status.is_running and (left.owner, left.lease_expires_at) == (None, None)
        [claimed] = await Leases(r.runtime.store).claim_due("runner-b", r.clock.now(), TTL, 1)
    assert (claimed.owner, claimed.retry_count) == ("runner-b", 0)


async def test_a_resumed_stream_reads_what_its_last_runner_missed(
    url: str, ncaaf_postman: Path
) -> None:
    # The last runner logged the final status and died before its final read of the documents
    # (and before moving the stream to Completed): the plays after its last read were never
    # logged. The runner that resumes must read every document once before it completes.
    recording = load_recording(ncaaf_postman)
    final = recording.history(f"{COMPETITION}/status")[-1]
    after_the_game = recording.end + timedelta(minutes=10)
    async with replay(url, ncaaf_postman, origin=after_the_game) as r:
        status = Tracker().apply(Document.parse(DocumentKind.STATUS, final.body, final.recorded_at))
        await r.runtime.store.append(GAME, status)
        await r.runtime.store.move_stream(GAME, StreamStatus.ACTIVE, r.clock.now())
        async with StreamRunner(r.runtime, "runner-b") as runner:
            claiming = asyncio.create_task(runner.run_forever())

            async def completed() -> bool:
                return (await r.stream()).status is StreamStatus.COMPLETED and not runner.held

            await until(completed, "the resumed stream is Completed")
            claiming.cancel()
            await asyncio.gather(claiming, return_exceptions=True)
        log = await r.log()
    assert_log_is_sound(log)
    statuses = [e for e in log if e.type is EventType.STATUS]
    assert len(statuses) == 1 and statuses[0].seq == 1  # the logged final status is not repeated
    plays = json.loads(recording.history(f"{COMPETITION}/plays")[-1].body)
    # In game order (a play the scoreboard showed first names the play it precedes).
    assert [p["id"] for p in GameState.fold(log).ordered_plays()] == [
        p["id"] for p in plays["items"]
    ]
    assert sum(e.type is EventType.PLAY_ADDED for e in log) == len(plays["items"])
    assert sum(e.type is EventType.PROBABILITY for e in log) == 147


async def test_replays_follow_their_games_through_leases(
    url: str, ncaaf_postman: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`serve --replay` and `replay --headless` stream through `stream_games`, which claims the
    game's lease like any runner: a second one on the same database (and clock) waits instead
    of streaming the game twice."""
    caplog.set_level(logging.INFO, "pressbox.store.leases")
    async with replay(url, ncaaf_postman) as r:
        games = recorded_games(r.recording)
        first = asyncio.create_task(stream_games(r.runtime, games))

        async def active() -> bool:
            return (await r.stream()).status is StreamStatus.ACTIVE

        await until(active, "the first replay streams the game")
        holder = (await r.stream()).owner
        second = asyncio.create_task(stream_games(r.runtime, games))
        await asyncio.sleep(1.0)  # 500 s of replay time: many claim rounds of the second
        try:
            stream = await r.stream()
            assert (stream.owner, stream.retry_count) == (holder, 0)
            assert not second.done()  # it waits for the game to end, streaming nothing
            claims = [m for m in caplog.messages if "claimed stream" in m]
            assert len(claims) == 1 and holder in claims[0]
        finally:
            for task in (first, second):
                task.cancel()
            await asyncio.gather(first, second, return_exceptions=True)
        assert (await r.stream()).owner is None  # released on the way out
        assert_log_is_sound(await r.log())
