"""Reading and writing games, streams and event logs. Every write commits before it returns.

Appending events is idempotent: an event whose key the game's log already holds is dropped, so a
retried fetch or a second runner can never duplicate one, and `seq` stays gap-free.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from pressbox.cancellation import finishing
from pressbox.clock import format_time
from pressbox.domain.events import Event, EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus, check_transition
from pressbox.domain.market_events import market_summary
from pressbox.errors import LeaseLost, StoreError
from pressbox.store.tables import events, games, streams

log = logging.getLogger(__name__)

#: How long `Store.close` waits for the connections in use to come back.
CLOSE_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class TeamInfo:
    """One side of a game."""

    id: str
    name: str = ""
    abbreviation: str = ""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "abbreviation": self.abbreviation}


@dataclass(frozen=True)
class GameInfo:
    """What the streamer learns of a game before it starts."""

    id: str
    sport: str
    league: str
    name: str
    short_name: str
    start_time: datetime | None
    home: TeamInfo
    away: TeamInfo


@dataclass(frozen=True)
class StreamRecord:
    """A stream row: the persisted lifecycle of one game's streamer."""

    game_id: str
    status: StreamStatus
    scheduled_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    failure_reason: str | None
    retry_count: int
    owner: str | None
    health: dict[str, str]
    lease_expires_at: datetime | None = None
    heartbeat_at: datetime | None = None
    last_poll_at: datetime | None = None
    #: What the streamer asked of upstream (`sources.http.FetchTally`), at its last renewal.
    fetches: dict[str, Any] | None = None
    #: Why it ended Failed (`domain.failure.FailureCause`), beside `failure_reason`.
    failure_cause: str | None = None
    #: Documents that answered 404 and never otherwise: not published (yet), not degraded.
    unpublished: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, m: Any) -> StreamRecord:
        """The record of a `streams` row mapping."""
        return cls(
            m["game_id"],
            StreamStatus(m["status"]),
            m["scheduled_at"],
            m["started_at"],
            m["ended_at"],
            m["failure_reason"],
            m["retry_count"],
            m["owner"],
            m["health"] or {},
            m["lease_expires_at"],
            m["heartbeat_at"],
            m["last_poll_at"],
            m.get("fetches"),
            m.get("failure_cause"),
            tuple(m.get("unpublished") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "scheduled_at": format_time(self.scheduled_at),
            "started_at": self.started_at and format_time(self.started_at),
            "ended_at": self.ended_at and format_time(self.ended_at),
            "failure_reason": self.failure_reason,
            "failure_cause": self.failure_cause,
            "retry_count": self.retry_count,
            "owner": self.owner,
            "degraded": sorted(self.health),
            "unpublished": list(self.unpublished),
        }


MAX_REASON = 512


class Store:
    """The one door to the database; translates SQLAlchemy errors into StoreError.

    Every write runs to its end even if its caller is cancelled (`finishing`): SQLAlchemy
    invalidates a connection cancelled mid-statement without closing it, and on SQLite its open
    transaction would then hold the database lock for every other writer.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, url: str) -> Store:
        """A store on `url` (e.g. `sqlite+aiosqlite:///pressbox.db`); run migrations first."""
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            sa_event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def close(self) -> None:
        """Close every connection, after waiting (up to `CLOSE_WAIT_SECONDS`) for those in use
        to come back: one returned to a disposed pool is dropped without being closed (aiosqlite
        then warns from the garbage collector and its thread lingers)."""
        pool = self.engine.sync_engine.pool
        in_use = getattr(pool, "checkedout", lambda: 0)
        deadline = time.monotonic() + CLOSE_WAIT_SECONDS
        # The pool offers nothing to await: poll it.
        while in_use() > 0 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if in_use() > 0:
            log.warning("closing the database with %d connection(s) still in use", in_use())
            # Each one is closed when it comes back, instead of parking in the disposed pool.
            sa_event.listen(pool, "checkin", _close_returned)
        await self.engine.dispose()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    @finishing
    async def upsert_game(self, game: GameInfo, now: datetime, *, replace: bool = True) -> None:
        """Insert the game, or (with `replace`) refresh its names, teams and start time."""
        values = {
            "sport": game.sport,
            "league": game.league,
            "name": game.name,
            "short_name": game.short_name,
            "start_time": game.start_time,
            "home": game.home.to_json(),
            "away": game.away.to_json(),
            "updated_at": now,
        }
        async with self._tx() as conn:
            found = await conn.scalar(select(games.c.id).where(games.c.id == game.id))
            if found is None:
                await conn.execute(insert(games).values(id=game.id, last_seq=0, **values))
            elif replace:
                await conn.execute(update(games).where(games.c.id == game.id).values(**values))

    @finishing
    async def game(self, game_id: str) -> dict[str, Any] | None:
        """The game summary of docs/protocol.md, or None."""
        async with self._tx() as conn:
            query = _summary_query().where(games.c.id == game_id)
            row = (await conn.execute(query)).mappings().first()
        return _summary(row) if row else None

    @finishing
    async def games(self) -> list[dict[str, Any]]:
        """Every game's summary, live first, then upcoming, then finished."""
        async with self._tx() as conn:
            rows = (await conn.execute(_summary_query())).mappings().all()
        summaries = [_summary(row) for row in rows]
        return sorted(summaries, key=_list_order)

    @finishing
    async def append(self, game_id: str, new: Sequence[Event]) -> list[StoredEvent]:
        """Append events not yet in the log, with consecutive seqs; returns those appended."""
        if not new:
            return []
        async with self._tx() as conn:
            row = (
                await conn.execute(
                    select(games.c.last_seq, games.c.market)
                    .where(games.c.id == game_id)
                    .with_for_update()
                )
            ).first()
            if row is None:
                raise StoreError(f"unknown game {game_id}")
            last, market = row
            keys = [e.key for e in new]
            known = set(
                await conn.scalars(
                    select(events.c.key).where(events.c.game_id == game_id, events.c.key.in_(keys))
                )
            )
            stored: list[StoredEvent] = []
            for item in new:
                if item.key in known:
                    continue
                known.add(item.key)
                stored.append(
                    StoredEvent(last + len(stored) + 1, item.type, item.key, item.at, item.data)
                )
            if stored:
                await conn.execute(insert(events), [_event_row(game_id, e) for e in stored])
                await conn.execute(
                    update(games)
                    .where(games.c.id == game_id)
                    .values(last_seq=stored[-1].seq, **_summary_changes(stored, market))
                )
        return stored

    @finishing
    async def events_since(self, game_id: str, after: int, limit: int = 5000) -> list[StoredEvent]:
        """The game's events with seq > after, in order, at most `limit`."""
        query = (
            select(events)
            .where(events.c.game_id == game_id, events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            StoredEvent(r["seq"], EventType(r["type"]), r["key"], r["at"], r["data"]) for r in rows
        ]

    @finishing
    async def forget_game(self, game_id: str) -> bool:
        """Delete the game, its stream and its event log (a replay starting over); returns
        whether there was anything to delete."""
        async with self._tx() as conn:
            await conn.execute(delete(events).where(events.c.game_id == game_id))
            await conn.execute(delete(streams).where(streams.c.game_id == game_id))
            gone = await conn.execute(delete(games).where(games.c.id == game_id))
        return bool(gone.rowcount)

    @finishing
    async def ensure_stream(
        self, game_id: str, scheduled_at: datetime, now: datetime
    ) -> StreamRecord:
        """The game's one stream, created Scheduled if it has none."""
        async with self._tx() as conn:
            found = await conn.scalar(select(streams.c.id).where(streams.c.game_id == game_id))
            if found is None:
                await conn.execute(
                    insert(streams).values(
                        game_id=game_id,
                        status=str(StreamStatus.SCHEDULED),
                        scheduled_at=scheduled_at,
                        retry_count=0,
                        updated_at=now,
                    )
                )
        stream = await self.stream(game_id)
        assert stream is not None
        return stream

    @finishing
    async def stream(self, game_id: str) -> StreamRecord | None:
        """The game's stream row, or None."""
        async with self._tx() as conn:
            row = (await conn.execute(select(streams).where(streams.c.game_id == game_id))).first()
        return None if row is None else StreamRecord.from_row(row._mapping)

    @finishing
    async def move_stream(
        self,
        game_id: str,
        target: StreamStatus,
        now: datetime,
        reason: str | None = None,
        *,
        owner: str | None = None,
        cause: str | None = None,
    ) -> StreamRecord:
        """Move a stream through its lifecycle (legal transitions only), stamping start and end.

        The move is a compare-and-set on the status read, so two writers never both move a
        stream from one state. With `owner`, the row must also still be held by that lease
        owner: LeaseLost otherwise (the caller was taken over or released, and must stop)."""
        for _ in range(5):
            current = await self.stream(game_id)
            if current is None:
                raise StoreError(f"game {game_id} has no stream")
            if owner is not None and current.owner != owner:
                raise LeaseLost(f"stream {game_id} is held by {current.owner or 'no one'}")
            check_transition(current.status, target)
            values: dict[str, Any] = {"status": str(target), "updated_at": now}
            if target.is_running and not current.started_at:
                values["started_at"] = now
            if target.is_final:
                values["ended_at"] = now
                values["started_at"] = current.started_at or now
            if reason is not None:
                values["failure_reason"] = reason[:MAX_REASON]
            if cause is not None:
                values["failure_cause"] = cause
            c = streams.c
            held = [] if owner is None else [c.owner == owner]
            async with self._tx() as conn:
                moved = await conn.execute(
                    update(streams)
                    .where(c.game_id == game_id, c.status == str(current.status), *held)
                    .values(**values)
                )
            if moved.rowcount == 1:
                record = await self.stream(game_id)
                assert record is not None
                return record
        raise StoreError(f"stream {game_id} kept changing under a move to {target}; try again")

    @finishing
    async def set_stream_health(
        self,
        game_id: str,
        health: dict[str, str],
        now: datetime,
        unpublished: Sequence[str] = (),
    ) -> None:
        """Record which documents are failing (document -> last error; {} when all are well)
        and which are not published (yet)."""
        async with self._tx() as conn:
            await conn.execute(
                update(streams)
                .where(streams.c.game_id == game_id)
                .values(health=health, unpublished=sorted(unpublished) or None, updated_at=now)
            )

    @finishing
    async def set_stream_owner(self, game_id: str, owner: str | None, now: datetime) -> None:
        """Record which process runs the stream."""
        async with self._tx() as conn:
            await conn.execute(
                update(streams)
                .where(streams.c.game_id == game_id)
                .values(owner=owner, updated_at=now)
            )


def _close_returned(_dbapi_conn: Any, record: Any) -> None:
    """A connection returned to a closed Store's pool: close it (invalidating its record)."""
    record.invalidate()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _event_row(game_id: str, e: StoredEvent) -> dict[str, Any]:
    return {
        "game_id": game_id,
        "seq": e.seq,
        "type": str(e.type),
        "key": e.key,
        "at": e.at,
        "data": e.data,
    }


def _summary_changes(
    stored: Sequence[StoredEvent], market: dict[str, Any] | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {"updated_at": stored[-1].at}
    if any(e.type in (EventType.MARKET, EventType.MARKET_STATUS) for e in stored):
        changes["market"] = market_summary(market, stored)
    for e in stored:
        if e.type is EventType.STATUS:
            changes["status"] = e.data
        elif e.type is EventType.SCORE:
            changes["home_score"] = e.data["home"]
            changes["away_score"] = e.data["away"]
    return changes


def _summary_query() -> Any:
    return select(
        games,
        streams.c.status.label("stream_status"),
        streams.c.started_at.label("stream_started_at"),
        streams.c.ended_at.label("stream_ended_at"),
        streams.c.failure_reason.label("stream_failure_reason"),
        streams.c.health.label("stream_health"),
        streams.c.unpublished.label("stream_unpublished"),
    ).select_from(games.outerjoin(streams, streams.c.game_id == games.c.id))


def _summary(row: Any) -> dict[str, Any]:
    stream = None
    if row["stream_status"] is not None:
        stream = {
            "status": row["stream_status"],
            "started_at": row["stream_started_at"] and format_time(row["stream_started_at"]),
            "ended_at": row["stream_ended_at"] and format_time(row["stream_ended_at"]),
            "failure_reason": row["stream_failure_reason"],
            # Documents whose last fetch failed: the stream is Degraded while this is not empty.
            "degraded": sorted(row["stream_health"] or {}),
            # Documents that have answered only 404 so far: not published (yet), not degraded.
            "unpublished": sorted(row["stream_unpublished"] or ()),
        }
    return {
        "id": row["id"],
        "sport": row["sport"],
        "league": row["league"],
        "name": row["name"],
        "short_name": row["short_name"],
        "start_time": row["start_time"] and format_time(row["start_time"]),
        "status": row["status"],
        "home": {**row["home"], "score": row["home_score"]},
        "away": {**row["away"], "score": row["away_score"]},
        "stream": stream,
        "market": row["market"],
        "seq": row["last_seq"],
    }


_STATE_ORDER = {"in": 0, "pre": 1, "post": 2}


def _list_order(game: dict[str, Any]) -> tuple[int, str]:
    state = (game["status"] or {}).get("state", "pre")
    return (_STATE_ORDER.get(state, 1), game["start_time"] or "")
