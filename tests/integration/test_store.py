"""The store on a real, migrated SQLite database: the event log, streams, game order, migrations."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pressbox.domain.events import Event, EventType
from pressbox.domain.lifecycle import IllegalTransition, StreamStatus
from pressbox.errors import StoreError
from pressbox.store import GameInfo, Store, TeamInfo, repository
from pressbox.store.migrate import is_current, upgrade
from pressbox.store.repository import MAX_REASON

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)


def game(game_id: str, start: datetime | None = T0) -> GameInfo:
    home = TeamInfo("2306", "Kansas State Wildcats", "KSU")
    away = TeamInfo("66", "Iowa State Cyclones", "ISU")
    name = f"Iowa State at Kansas State {game_id}"
    return GameInfo(game_id, "football", "college-football", name, "ISU @ KSU", start, home, away)


def situation(key: str, down: int = 1) -> Event:
    return Event(EventType.SITUATION, key, T0, {"down": down, "key": key})


def status(state: str, name: str) -> Event:
    data = {"state": state, "name": name, "phase": "live", "period": 1, "completed": False}
    return Event(EventType.STATUS, f"status:{name}", T0, data)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    # upgrade() runs its own event loop (Alembic's env.py): keep it off this one.
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    await store.upsert_game(game("1"), T0)
    yield store
    await store.close()


def seqs(events: list[Any]) -> list[int]:
    return [e.seq for e in events]


async def test_append_assigns_consecutive_seqs_from_one(store: Store) -> None:
    first = await store.append("1", [situation("a"), situation("b"), situation("c")])
    second = await store.append("1", [situation("d"), situation("e")])
    assert seqs(first) == [1, 2, 3] and seqs(second) == [4, 5]
    assert [e.key for e in first + second] == ["a", "b", "c", "d", "e"]
    summary = await store.game("1")
    assert summary is not None and summary["seq"] == 5
    assert await store.append("1", []) == []


async def test_appending_known_keys_adds_nothing_and_leaves_no_gap(store: Store) -> None:
    await store.append("1", [situation("a"), situation("b")])
    assert await store.append("1", [situation("a", down=3), situation("b")]) == []
    mixed = await store.append("1", [situation("b"), situation("c"), situation("a")])
    assert [(e.seq, e.key) for e in mixed] == [(3, "c")]
    logged = await store.events_since("1", 0)
    assert seqs(logged) == [1, 2, 3]
    assert logged[0].data["down"] == 1  # the first copy stays; a re-append never rewrites it


async def test_a_key_twice_in_one_batch_is_stored_once(store: Store) -> None:
    stored = await store.append("1", [situation("x"), situation("x", 2), situation("y")])
    assert [(e.seq, e.key) for e in stored] == [(1, "x"), (2, "y")]
    later = await store.append("1", [situation("z")])
    assert seqs(later) == [3]
    assert seqs(await store.events_since("1", 0)) == [1, 2, 3]


async def test_each_game_has_its_own_log(store: Store) -> None:
    await store.upsert_game(game("2"), T0)
    await store.append("1", [situation("a"), situation("b")])
    other = await store.append("2", [situation("a"), situation("b")])
    assert seqs(other) == [1, 2]  # the same keys in another game are other events


async def test_events_since_and_limit(store: Store) -> None:
    await store.append("1", [situation(f"k{i}") for i in range(10)])
    assert seqs(await store.events_since("1", 0)) == list(range(1, 11))
    assert seqs(await store.events_since("1", 3, limit=4)) == [4, 5, 6, 7]
    assert seqs(await store.events_since("1", 9, limit=4)) == [10]
    assert await store.events_since("1", 10) == []
    assert await store.events_since("1", 500) == []
    round_trip = (await store.events_since("1", 0, limit=1))[0]
    assert (round_trip.type, round_trip.at, round_trip.data) == (
        EventType.SITUATION,
        T0,
        {"down": 1, "key": "k0"},
    )


async def test_an_unknown_game_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown game nope"):
        await store.append("nope", [situation("a")])
    with pytest.raises(StoreError, match="has no stream"):
        await store.move_stream("nope", StreamStatus.ACTIVE, T0)
    assert await store.game("nope") is None and await store.stream("nope") is None


async def test_appended_status_and_score_update_the_summary(store: Store) -> None:
    score = Event(EventType.SCORE, "score:1", T0, {"home": 7, "away": 3})
    await store.append("1", [status("in", "STATUS_IN_PROGRESS"), score])
    summary = await store.game("1")
    assert summary is not None
    assert summary["status"]["name"] == "STATUS_IN_PROGRESS"
    assert (summary["home"]["score"], summary["away"]["score"]) == (7, 3)
    assert summary["home"]["abbreviation"] == "KSU"


async def test_stream_lifecycle_stamps_start_and_end(store: Store) -> None:
    created = await store.ensure_stream("1", T0, T0)
    assert created.status is StreamStatus.SCHEDULED and created.started_at is None
    again = await store.ensure_stream("1", T0 + timedelta(hours=1), T0)
    assert again == created  # the one stream is kept, not recreated

    t1, t2, t3 = (T0 + timedelta(minutes=m) for m in (1, 2, 3))
    waiting = await store.move_stream("1", StreamStatus.AWAITING_START, t1)
    assert (waiting.status, waiting.started_at, waiting.ended_at) == (
        StreamStatus.AWAITING_START,
        t1,
        None,
    )
    active = await store.move_stream("1", StreamStatus.ACTIVE, t2)
    assert active.started_at == t1  # the first start is kept
    done = await store.move_stream("1", StreamStatus.COMPLETED, t3)
    assert (done.status, done.started_at, done.ended_at) == (StreamStatus.COMPLETED, t1, t3)
    assert done.failure_reason is None

    with pytest.raises(IllegalTransition):
        await store.move_stream("1", StreamStatus.ACTIVE, t3 + timedelta(minutes=1))
    assert await store.stream("1") == done  # a refused move changes nothing


async def test_failing_a_stream_persists_a_truncated_reason(store: Store) -> None:
    await store.ensure_stream("1", T0, T0)
    reason = "status failed 20 times in a row; last error: " + "x" * 1000
    failed = await store.move_stream("1", StreamStatus.FAILED, T0 + timedelta(minutes=5), reason)
    assert failed.status is StreamStatus.FAILED
    assert failed.failure_reason == reason[:MAX_REASON] and MAX_REASON == 512
    # Failed straight from Scheduled: it still has a start, and it is its end.
    assert failed.started_at == failed.ended_at == T0 + timedelta(minutes=5)
    summary = await store.game("1")
    assert summary is not None and summary["stream"]["failure_reason"] == reason[:512]


async def test_stream_health_round_trips(store: Store) -> None:
    await store.ensure_stream("1", T0, T0)
    await store.set_stream_health("1", {"leaders": "HTTP 404 from ..."}, T0)
    stream = await store.stream("1")
    assert stream is not None and stream.health == {"leaders": "HTTP 404 from ..."}
    assert stream.to_json()["degraded"] == ["leaders"]
    await store.set_stream_health("1", {}, T0, unpublished=("plays", "leaders"))
    healed = await store.stream("1")
    assert healed is not None and healed.health == {}
    assert healed.unpublished == ("leaders", "plays")
    said = healed.to_json()
    assert (said["degraded"], said["unpublished"]) == ([], ["leaders", "plays"])


async def test_games_list_live_first_then_upcoming_then_finished(store: Store) -> None:
    hour = timedelta(hours=1)
    plan = {  # id: (start, state or None for a game with no status yet)
        "post": (T0 - 5 * hour, "post"),
        "pre-late": (T0 + 3 * hour, "pre"),
        "live-late": (T0 + hour, "in"),
        "nostatus": (T0 + 2 * hour, None),
        "live-early": (T0 - hour, "in"),
        "pre-early": (T0 - 2 * hour, "pre"),
    }
    for game_id, (start, state) in plan.items():
        await store.upsert_game(game(game_id, start), T0)
        if state:
            await store.append(game_id, [status(state, f"STATUS_{state.upper()}")])
    order = [g["id"] for g in await store.games() if g["id"] in plan]
    assert order == ["live-early", "live-late", "pre-early", "nostatus", "pre-late", "post"]


async def test_concurrent_writers_never_leave_a_gap_or_a_duplicate(store: Store, url: str) -> None:
    # Two stores are two runners; whoever loses a race may be refused, but never corrupts the log.
    other = Store.connect(url)
    try:
        batches = [[situation(f"own{i}"), situation("shared")] for i in range(4)]
        writers = [store, other, store, other]
        results = await asyncio.gather(
            *(w.append("1", b) for w, b in zip(writers, batches, strict=True)),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert all(isinstance(r, list | StoreError) for r in results), results
    logged = await store.events_since("1", 0)
    assert seqs(logged) == list(range(1, len(logged) + 1))
    assert len({e.key for e in logged}) == len(logged)
    assert {e.key for r in results if isinstance(r, list) for e in r} == {e.key for e in logged}


async def test_a_cancelled_write_never_leaves_the_database_locked(store: Store) -> None:
    # A streamer cancelled at shutdown may be mid-write in several workers at once.
    await store.ensure_stream("1", T0, T0)
    keys = iter(range(1_000_000))

    async def appending() -> None:
        while True:
            batch = [situation(f"k{next(keys)}") for _ in range(20)]
            await store.append("1", batch)

    async def degrading(what: str) -> None:
        while True:
            await store.set_stream_health("1", {what: f"HTTP 503 #{next(keys)}"}, T0)

    for round_ in range(40):
        writers = [asyncio.create_task(w) for w in (appending(), degrading("a"), degrading("b"))]
        await asyncio.sleep(0.0005 * round_)
        for writer in writers:
            writer.cancel()
        results = await asyncio.gather(*writers, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results), results
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(store.set_stream_owner("1", f"round {round_}", T0), 3)
        assert asyncio.get_running_loop().time() - started < 1, f"locked after round {round_}"
    logged = await store.events_since("1", 0, 1_000_000)
    assert seqs(logged) == list(range(1, len(logged) + 1))


async def test_migrations(url: str, tmp_path: Path) -> None:
    empty = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    assert await is_current(empty) is False
    await asyncio.to_thread(upgrade, url)
    assert await is_current(url) is True
    await asyncio.to_thread(upgrade, url)  # upgrading a current database is a no-op
    assert await is_current(url) is True


async def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    garbage = tmp_path / "pressbox.db"
    garbage.write_bytes(b"not a SQLite database\n" * 100)
    with pytest.raises(StoreError, match="cannot migrate"):
        await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{garbage}")


async def test_close_waits_for_a_connection_in_use_and_closes_it(url: str) -> None:
    # A task still writing when its runtime closes the store: the close waits for its connection,
    # which is then closed, not dropped to the garbage collector (aiosqlite warns there, and a
    # warning from a later test's collection failed a CI run).
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    held = asyncio.Event()

    async def write_slowly() -> None:
        async with store._tx() as conn:
            await conn.execute(sa.text("select 1"))
            held.set()
            await asyncio.sleep(0.3)

    writer = asyncio.create_task(write_slowly())
    await held.wait()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        await store.close()
        assert writer.done()
        await writer
        gc.collect()  # the disposed pool goes, and any connection dropped with it
    assert [w for w in seen if issubclass(w.category, ResourceWarning)] == []


async def test_a_connection_returned_after_the_close_gave_up_waiting_is_closed(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A task holding its connection past the close's wait: the pool is disposed without it, and
    # the connection is closed when it comes back, not parked in the disposed pool for the
    # garbage collector (which made aiosqlite warn in a later test of a loaded CI run).
    monkeypatch.setattr(repository, "CLOSE_WAIT_SECONDS", 0.05)
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    held = asyncio.Event()
    raw: list[Any] = []

    async def hold() -> None:
        async with store._tx() as conn:
            await conn.execute(sa.text("select 1"))
            raw.append((await conn.get_raw_connection()).driver_connection)
            held.set()
            await asyncio.sleep(0.3)

    holder = asyncio.create_task(hold())
    await held.wait()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        await store.close()
        assert not holder.done()  # the close gave up waiting
        await holder
        assert raw[0]._connection is None  # aiosqlite's connection was closed
        gc.collect()
    assert [w for w in seen if issubclass(w.category, ResourceWarning)] == []
