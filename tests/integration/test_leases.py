"""Stream leases on SQLite and PostgreSQL: claims are atomic, expiry is taken over and counted,
renewals fail once the lease is lost, releases free a stream at once. Also: the schema the
migrations build is the one `tables.py` describes, on both databases."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from pressbox.domain.events import Event, EventType
from pressbox.domain.lifecycle import IllegalTransition, StreamStatus
from pressbox.errors import LeaseLost
from pressbox.store import GameInfo, Store, StreamRecord, TeamInfo
from pressbox.store.leases import Leases
from pressbox.store.migrate import is_current, upgrade
from pressbox.store.tables import metadata

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
TTL = 30.0
S = StreamStatus


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def add_streams(
    store: Store, count: int, scheduled: datetime = T0, prefix: str = "g"
) -> list[str]:
    """`count` games, each with its stream Scheduled at `scheduled`."""
    ids = [f"{prefix}{i:03d}" for i in range(count)]
    for game_id in ids:
        info = GameInfo(
            game_id, "football", "nfl", game_id, game_id, T0, TeamInfo("h"), TeamInfo("a")
        )
        await store.upsert_game(info, T0)
        await store.ensure_stream(game_id, scheduled, T0)
    return ids


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    store = Store.connect(db_url)
    yield store
    await store.close()


async def stream(store: Store, game_id: str) -> StreamRecord:
    found = await store.stream(game_id)
    assert found is not None
    return found


def _schema_diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_the_migrations_build_the_tables_of_tables_py(db_url: str, store: Store) -> None:
    assert await is_current(db_url)
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []
    # The store's round trip (JSON, aware times, gap-free seqs) holds on this database too.
    await add_streams(store, 1)
    stored = await store.append("g000", [Event(EventType.SITUATION, "k", T0, {"down": 3})])
    assert (
        [(e.seq, e.at, e.data) for e in await store.events_since("g000", 0)]
        == [(1, T0, {"down": 3})]
        == [(e.seq, e.at, e.data) for e in stored]
    )


async def test_only_due_unheld_streams_are_claimed(store: Store) -> None:
    leases = Leases(store)
    await add_streams(store, 1, scheduled=at(60))  # g000: due in a minute
    assert await leases.claim_due("a", at(0), TTL, 10) == []
    [claimed] = await leases.claim_due("a", at(60), TTL, 10)
    assert (claimed.game_id, claimed.owner, claimed.retry_count) == ("g000", "a", 0)
    assert claimed.lease_expires_at == at(90) and claimed.heartbeat_at == at(60)
    assert await leases.claim_due("b", at(89), TTL, 10) == []  # held, also by its owner
    assert await leases.claim_due("a", at(89), TTL, 10) == []
    # Ended streams and streams waiting for a new date are never due.
    done, postponed = await add_streams(store, 2, prefix="x")
    await store.move_stream(done, S.COMPLETED, at(0))
    await store.move_stream(postponed, S.POSTPONED, at(0))
    taken = await leases.claim_due("b", at(1000), TTL, 10)  # g000's lease ran out at 90 s
    assert [(r.game_id, r.owner) for r in taken] == [("g000", "b")]


async def test_a_takeover_counts_a_retry_and_the_old_owner_cannot_renew(store: Store) -> None:
    leases = Leases(store, max_retries=5)
    await add_streams(store, 1)
    await leases.claim_due("a", at(0), TTL, 1)
    await store.move_stream("g000", S.ACTIVE, at(1))
    assert await leases.renew("g000", "a", at(20), TTL, last_poll=at(19))  # lease to 50 s
    assert await leases.claim_due("b", at(49), TTL, 1) == []
    [taken] = await leases.claim_due("b", at(51), TTL, 1)  # a stopped renewing: b takes over
    assert (taken.owner, taken.retry_count, taken.status) == ("b", 1, S.ACTIVE)
    assert taken.last_poll_at == at(19)
    assert not await leases.renew("g000", "a", at(52), TTL)  # a has lost it
    assert not await leases.release("g000", "a")  # and cannot give away what it lost
    assert (await stream(store, "g000")).owner == "b"
    # A release frees the stream at once, and is not a retry.
    assert await leases.release("g000", "b")
    [again] = await leases.claim_due("a", at(53), TTL, 1)
    assert (again.owner, again.retry_count) == ("a", 1)


async def test_lifecycle_writes_for_a_lost_lease_are_refused(store: Store) -> None:
    leases = Leases(store)
    await add_streams(store, 1)
    await leases.claim_due("a", at(0), TTL, 1)
    await store.move_stream("g000", S.ACTIVE, at(1), owner="a")
    [taken] = await leases.claim_due("b", at(40), TTL, 1)  # a's lease ran out at 30 s
    assert taken.owner == "b"
    # a's streamer, not yet stopped, must not move the stream its successor follows.
    with pytest.raises(LeaseLost, match="held by b"):
        await store.move_stream("g000", S.COMPLETED, at(41), owner="a")
    assert (await stream(store, "g000")).status is S.ACTIVE
    moved = await store.move_stream("g000", S.PAUSED, at(42), owner="b")
    assert (moved.status, moved.owner) == (S.PAUSED, "b")
    await leases.release("g000", "b")
    with pytest.raises(LeaseLost, match="held by no one"):
        await store.move_stream("g000", S.ACTIVE, at(43), owner="b")


async def test_racing_moves_from_one_state_never_both_win(store: Store) -> None:
    """A move is a compare-and-set on the status it read: of two writers moving a stream out of
    Active at once, one wins and the other is refused as an illegal move from the new state."""
    await add_streams(store, 1)
    await store.move_stream("g000", S.ACTIVE, at(0))
    results = await asyncio.gather(
        store.move_stream("g000", S.COMPLETED, at(1)),
        store.move_stream("g000", S.CANCELED, at(1)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, StreamRecord)]
    assert len(won) == 1 and isinstance(next(r for r in results if r not in won), IllegalTransition)
    assert (await stream(store, "g000")).status is won[0].status


async def test_past_the_maximum_retries_the_stream_fails_with_the_reason(store: Store) -> None:
    leases = Leases(store, max_retries=2)
    await add_streams(store, 1)
    owners = ["a", "b", "c", "d"]
    assert await leases.claim_due("a", at(0), TTL, 1)
    await store.move_stream("g000", S.ACTIVE, at(1))
    for retry, owner in enumerate(owners[1:3], start=1):  # two takeovers are allowed
        [taken] = await leases.claim_due(owner, at(100 * retry), TTL, 1)
        assert (taken.owner, taken.retry_count) == (owner, retry)
    assert await leases.claim_due("d", at(300), TTL, 1) == []  # the third is one too many
    failed = await stream(store, "g000")
    assert (failed.status, failed.owner, failed.retry_count) == (S.FAILED, None, 3)
    assert failed.failure_reason is not None and "3 retries" in failed.failure_reason
    assert (
        "PRESSBOX_MAX_RETRIES=2" in failed.failure_reason and "(last: c)" in failed.failure_reason
    )
    assert failed.ended_at == at(300)
    assert not await leases.renew("g000", "c", at(301), TTL)
    assert await leases.claim_due("d", at(400), TTL, 1) == []


async def test_a_crashed_streamer_counts_a_retry_when_released(store: Store) -> None:
    leases = Leases(store, max_retries=1)
    await add_streams(store, 1)
    await leases.claim_due("a", at(0), TTL, 1)
    assert await leases.release("g000", "a", crashed=True)
    [claimed] = await leases.claim_due("b", at(1), TTL, 1)
    assert claimed.retry_count == 1
    await leases.release("g000", "b", crashed=True)
    assert await leases.claim_due("a", at(2), TTL, 1) == []
    assert (await stream(store, "g000")).status is S.FAILED


async def test_renewal_fails_once_the_stream_leaves_the_running_states(store: Store) -> None:
    leases = Leases(store)
    await add_streams(store, 2)
    await leases.claim_due("a", at(0), TTL, 2)
    assert await leases.renew("g000", "a", at(5), TTL)  # Scheduled and due: still held
    await store.move_stream("g000", S.ACTIVE, at(6))
    await store.move_stream("g000", S.CANCELED, at(7))  # an operator canceled it
    assert not await leases.renew("g000", "a", at(8), TTL)
    await store.move_stream("g001", S.POSTPONED, at(7))
    assert not await leases.renew("g001", "a", at(8), TTL)


async def claim_all(leases: Leases, owner: str, now: datetime, left: list[str]) -> list[str]:
    """Claim (three at a time) until no stream of `left` is unclaimed; the ids claimed, in order.
    A round that wins nothing (the others were faster) is no reason to stop."""
    claimed: list[str] = []
    for _ in range(1000):  # bounded
        if not left:
            return claimed
        got = [r.game_id for r in await leases.claim_due(owner, now, TTL, 3)]
        claimed += got
        for game_id in got:
            left.remove(game_id)  # a second claim of one stream fails right here
        await asyncio.sleep(0)
    raise AssertionError(f"{owner}: streams left unclaimed: {left}")


async def test_racing_claimers_never_claim_a_stream_twice(db_url: str, store: Store) -> None:
    # Eight runners, each with its own engine, race on fifty due streams, twice: once on fresh
    # streams, once on the same streams after every lease expired (a takeover each).
    ids = await add_streams(store, 50)
    stores = [Store.connect(db_url) for _ in range(8)]
    try:
        for round_, now in enumerate((at(0), at(TTL + 1)), start=1):
            owners = [f"round{round_}-runner{i}" for i in range(len(stores))]
            left = list(ids)
            claims = await asyncio.gather(
                *(
                    claim_all(Leases(s), owner, now, left)
                    for s, owner in zip(stores, owners, strict=True)
                )
            )
            every = [game_id for claimed in claims for game_id in claimed]
            assert sorted(every) == ids, f"round {round_}: {Counter(every).most_common(3)}"
            rows = {game_id: await stream(store, game_id) for game_id in ids}
            for owner, claimed in zip(owners, claims, strict=True):
                assert all(rows[game_id].owner == owner for game_id in claimed)
            assert {r.retry_count for r in rows.values()} == {round_ - 1}
            busy = sum(1 for claimed in claims if claimed)
            print(f"round {round_}: {busy} of {len(stores)} claimers won streams")
    finally:
        for other in stores:
            await other.close()


CLAIMER = """
import asyncio, json, sys, time
from datetime import datetime
from pressbox.store import Store
from pressbox.store.leases import Leases

async def main(url, owner, now, start):
    store = Store.connect(url)
    await asyncio.sleep(max(0.0, start - time.time()))
    claimed = []
    try:
        misses = 0
        while misses < 3:  # three empty rounds in a row: everything is taken
            got = await Leases(store).claim_due(owner, now, 30.0, 2)
            misses = 0 if got else misses + 1
            claimed += [r.game_id for r in got]
    finally:
        await store.close()
    print(json.dumps(claimed))

url, owner, now, start = sys.argv[1:]
asyncio.run(main(url, owner, datetime.fromisoformat(now), float(start)))
"""


async def test_claimers_in_several_processes_never_claim_a_stream_twice(
    tmp_path: Path,
) -> None:
    # SQLite only: one database file, three OS processes, released at the same instant.
    url = f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"
    await asyncio.to_thread(upgrade, url)
    store = Store.connect(url)
    try:
        ids = await add_streams(store, 200)
    finally:
        await store.close()
    start = str(time.time() + 3)  # every process claims from this instant on
    processes = [
        await asyncio.create_subprocess_exec(
            *[sys.executable, "-c", CLAIMER, url, f"proc{i}", at(0).isoformat(), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(3)
    ]
    try:
        done = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 60)
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    outputs: list[list[str]] = []
    for process, (out, errors) in zip(processes, done, strict=True):
        assert process.returncode == 0, errors.decode()
        outputs.append(json.loads(out))
    every = [game_id for claimed in outputs for game_id in claimed]
    assert sorted(every) == ids, Counter(every).most_common(3)
    print("claims per process:", [len(claimed) for claimed in outputs])
