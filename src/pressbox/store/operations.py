"""What operators see of streams and the two things they may do to one: cancel and restart.

`list_streams` answers `GET /api/streams` and `pressbox streams`; `cancel_stream` and
`restart_stream` answer the admin endpoints. Both moves go through the lifecycle table
(`check_transition`) and release the stream's owner, so the runner that held it loses its lease at
its next renewal and stops its streamer. Each is one compare-and-set UPDATE (the status that was
read must still be the row's), so a streamer or runner moving the stream meanwhile is never
overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from pressbox.cancellation import finishing
from pressbox.clock import format_optional_time
from pressbox.domain.lifecycle import StreamStatus, check_transition
from pressbox.errors import StoreError, UnknownStream
from pressbox.store.repository import Store, StreamRecord
from pressbox.store.tables import games, streams

#: How often a compare-and-set move is tried before giving up on a stream that keeps moving.
ATTEMPTS = 3


@dataclass(frozen=True)
class StreamView:
    """One stream as operators see it: its row plus the game's name and league."""

    record: StreamRecord
    name: str
    league: str

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The `GET /api/streams` item (docs/protocol.md); ages are seconds before `now`."""
        r = self.record
        return {
            "game_id": r.game_id,
            "name": self.name,
            "league": self.league,
            "status": str(r.status),
            "owner": r.owner,
            "lease_age_seconds": _age(r.heartbeat_at, now) if r.owner else None,
            "lease_expires_at": format_optional_time(r.lease_expires_at),
            "retries": r.retry_count,
            "last_poll_at": format_optional_time(r.last_poll_at),
            "fetches": r.fetches or {},
            "degraded": sorted(r.health),
            "unpublished": list(r.unpublished),
            "failure_reason": r.failure_reason,
            "failure_cause": r.failure_cause,
            "scheduled_at": format_optional_time(r.scheduled_at),
            "started_at": format_optional_time(r.started_at),
            "ended_at": format_optional_time(r.ended_at),
        }


async def list_streams(store: Store, game_id: str | None = None) -> list[StreamView]:
    """Every stream (or the one of `game_id`), earliest scheduled first."""
    query = (
        select(streams, games.c.name.label("game_name"), games.c.league.label("game_league"))
        .select_from(streams.join(games, games.c.id == streams.c.game_id))
        .order_by(streams.c.scheduled_at, streams.c.id)
    )
    if game_id is not None:
        query = query.where(streams.c.game_id == game_id)
    async with store._tx() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [StreamView(StreamRecord.from_row(m), m["game_name"], m["game_league"]) for m in rows]


async def stream_view(store: Store, game_id: str) -> StreamView:
    """One stream as `list_streams` shows it; raises UnknownStream."""
    found = await list_streams(store, game_id)
    if not found:
        raise UnknownStream(f"no stream for game {game_id!r}")
    return found[0]


@finishing
async def cancel_stream(store: Store, game_id: str, now: datetime) -> StreamRecord:
    """Move the stream to Canceled and release its owner. Raises UnknownStream, or
    IllegalTransition (it already ended: Completed, Failed or Canceled)."""

    def values(current: StreamRecord) -> dict[str, Any]:
        return {"ended_at": now, "started_at": current.started_at or now}

    return await _move(store, game_id, StreamStatus.CANCELED, now, values)


@finishing
async def restart_stream(store: Store, game_id: str, now: datetime) -> StreamRecord:
    """Schedule the stream again, due now: failure reason, retries, health, start and end are
    cleared and its owner released. Raises UnknownStream, or IllegalTransition (a streamer is
    following the game: cancel it first)."""

    def values(_current: StreamRecord) -> dict[str, Any]:
        return {
            "scheduled_at": now,
            "started_at": None,
            "ended_at": None,
            "failure_reason": None,
            "failure_cause": None,
            "retry_count": 0,
            "health": {},
            "unpublished": None,
        }

    return await _move(store, game_id, StreamStatus.SCHEDULED, now, values)


async def _move(
    store: Store,
    game_id: str,
    target: StreamStatus,
    now: datetime,
    values: Callable[[StreamRecord], dict[str, Any]],
) -> StreamRecord:
    for _ in range(ATTEMPTS):
        current = await store.stream(game_id)
        if current is None:
            raise UnknownStream(f"no stream for game {game_id!r}")
        check_transition(current.status, target)
        changes = {
            **values(current),
            "status": str(target),
            "owner": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        async with store._tx() as conn:
            moved = await conn.execute(
                update(streams)
                .where(streams.c.game_id == game_id, streams.c.status == str(current.status))
                .values(**changes)
            )
        if moved.rowcount == 1:
            record = await store.stream(game_id)
            assert record is not None
            return record
    raise StoreError(f"stream {game_id} kept changing; try again")


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 1)
