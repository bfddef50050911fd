"""The scheduler's reads and writes: known games and streams in, a planned league applied at once.

A plan is applied in one transaction, and each stream change is conditional on the row still
being what the plan saw (status and scheduled time): a runner that claimed a stream between the
read and the write wins, and the skipped change is planned again on the next run if it still
applies. SQLAlchemy errors become `StoreError`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pressbox.cancellation import finishing
from pressbox.domain.lifecycle import StreamStatus
from pressbox.domain.schedule import (
    Action,
    Change,
    GameWrite,
    KnownGame,
    KnownStream,
    SchedulePlan,
    StreamWrite,
)
from pressbox.errors import StoreError
from pressbox.store.repository import Store
from pressbox.store.tables import TZ, games, streams

log = logging.getLogger(__name__)


class ScheduleStore:
    """Reads what the scheduler compares against and applies its plans, on the Store's engine."""

    def __init__(self, store: Store) -> None:
        self.engine: AsyncEngine = store.engine

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    @finishing
    async def known(
        self, game_ids: Collection[str]
    ) -> tuple[dict[str, KnownGame], dict[str, KnownStream]]:
        """The stored games among `game_ids`, and their streams, by game id."""
        if not game_ids:
            return {}, {}
        ids = sorted(set(game_ids))
        async with self._tx() as conn:
            game_rows = (await conn.execute(select(games).where(games.c.id.in_(ids)))).mappings()
            known_games = {row["id"]: _known_game(row) for row in game_rows}
            c = streams.c
            query = select(
                c.game_id, c.status, c.scheduled_at, c.failure_cause, c.retry_count
            ).where(c.game_id.in_(ids))
            known_streams = {
                row.game_id: KnownStream(
                    row.game_id,
                    StreamStatus(row.status),
                    row.scheduled_at,
                    row.failure_cause,
                    row.retry_count,
                )
                for row in await conn.execute(query)
            }
        return known_games, known_streams

    @finishing
    async def apply(self, plan: SchedulePlan, now: datetime) -> list[Action]:
        """Apply a plan in one transaction; returns the actions that took effect."""
        applied: list[Action] = []
        async with self._tx() as conn:
            for game in plan.games:
                if await _write_game(conn, game, now):
                    applied.append(game)
            for stream in plan.streams:
                if await _write_stream(conn, stream, now):
                    applied.append(stream)
                else:
                    log.info(
                        "stream of game %s changed since it was read; not %s (next run decides)",
                        stream.game_id,
                        stream.change,
                    )
        return applied


def _known_game(row: Any) -> KnownGame:
    return KnownGame(
        id=row["id"],
        sport=row["sport"],
        league=row["league"],
        name=row["name"],
        short_name=row["short_name"],
        start=row["start_time"],
        home=row["home"] or {},
        away=row["away"] or {},
        status=row["status"],
        home_score=row["home_score"],
        away_score=row["away_score"],
    )


async def _write_game(conn: AsyncConnection, write: GameWrite, now: datetime) -> bool:
    game = write.game
    values: dict[str, Any] = {
        "sport": game.sport,
        "league": game.league,
        "name": game.name,
        "short_name": game.short_name,
        "start_time": game.start,
        "home": game.home.to_json(),
        "away": game.away.to_json(),
        "updated_at": now,
    }
    if write.with_status:
        values |= {
            "status": game.status_json(),
            "home_score": game.home_score,
            "away_score": game.away_score,
        }
    exists = await conn.scalar(select(games.c.id).where(games.c.id == game.id)) is not None
    if write.change is Change.GAME_ADDED:
        if exists:  # a streamer or replay created it meanwhile; the next run compares again
            return False
        await conn.execute(insert(games).values(id=game.id, last_seq=0, **values))
        return True
    result = await conn.execute(update(games).where(games.c.id == game.id).values(**values))
    return bool(result.rowcount)


async def _write_stream(conn: AsyncConnection, write: StreamWrite, now: datetime) -> bool:
    if write.expected is None:
        found = await conn.scalar(select(streams.c.id).where(streams.c.game_id == write.game_id))
        if found is not None:
            return False
        await conn.execute(
            insert(streams).values(
                game_id=write.game_id,
                status=str(write.status),
                scheduled_at=write.scheduled_at,
                retry_count=0,
                updated_at=now,
            )
        )
        return True
    result = await conn.execute(
        update(streams)
        .where(
            streams.c.game_id == write.game_id,
            streams.c.status == str(write.expected),
            streams.c.scheduled_at == write.expected_at,
        )
        .values(**_stream_values(write, now))
    )
    return bool(result.rowcount)


def _stream_values(write: StreamWrite, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "status": str(write.status),
        "scheduled_at": write.scheduled_at,
        "updated_at": now,
    }
    if write.change is Change.STREAM_RESUMED:
        # The same attempt, resumed: its start (the hard cap counts from it) and its event log
        # stay; the failure goes, and the resume counts as a retry.
        values |= {
            "ended_at": None,
            "failure_reason": None,
            "failure_cause": None,
            "retry_count": streams.c.retry_count + 1,
            "health": None,
            "unpublished": None,
            "owner": None,
            "lease_expires_at": None,
        }
    elif write.change is Change.STREAM_RESCHEDULED:
        # A new date is a new attempt: nothing of the postponed one (start, takeovers, health,
        # a crashed runner's stale lease) may count against it, or the stream would time out
        # from its old start and its first claim would count as a takeover.
        values |= {
            "started_at": None,
            "ended_at": None,
            "failure_reason": None,
            "retry_count": 0,
            "health": None,
            "unpublished": None,
            "owner": None,
            "lease_expires_at": None,
        }
    elif write.status.is_final:
        values |= {
            "ended_at": now,
            "started_at": func.coalesce(streams.c.started_at, literal(now, TZ)),
        }
    return values
