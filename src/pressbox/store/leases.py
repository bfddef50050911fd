"""Leases on stream rows: how any number of runners share streams without ever holding one twice.

A runner claims a due stream by writing its owner id and a lease expiry on the row, renews the
lease while its streamer runs, and releases it when the streamer ends or the runner shuts down. A
stream whose lease expired (its runner died or hung) may be claimed by any runner: that takeover
counts a retry, and past the maximum the stream ends Failed with the reason instead.

Claims are atomic on both databases. PostgreSQL locks the candidate rows with
`SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claimers take disjoint rows. SQLite ignores that
clause; there every claim is a conditional UPDATE that re-checks, under SQLite's one write lock,
that the row is still claimable and still has the owner, status and retry count that were read
(a compare-and-set), and its rowcount says whether this claimer won.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pressbox.cancellation import finishing
from pressbox.domain.failure import FailureCause
from pressbox.domain.lifecycle import StreamStatus, check_transition
from pressbox.store.repository import MAX_REASON, Store, StreamRecord
from pressbox.store.tables import streams

log = logging.getLogger(__name__)

RUNNING = tuple(str(status) for status in StreamStatus if status.is_running)
SCHEDULED = str(StreamStatus.SCHEDULED)
#: SQLite cannot skip rows another claimer is taking, so it reads more candidates than it needs.
SQLITE_OVERSAMPLE = 4


def is_due(now: datetime) -> ColumnElement[bool]:
    """A stream a runner should be following: Scheduled and due, or in a running state."""
    c = streams.c
    return or_(and_(c.status == SCHEDULED, c.scheduled_at <= now), c.status.in_(RUNNING))


def is_free(now: datetime) -> ColumnElement[bool]:
    """A stream no runner holds: no owner, or the owner's lease expired."""
    c = streams.c
    return or_(c.owner.is_(None), c.lease_expires_at.is_(None), c.lease_expires_at < now)


def _renewal(poll: bool, fetches: bool) -> Update:
    """The renewal statement, built once (a runner renews every lease every few seconds):
    with the last poll and the upstream figures when they are given."""
    c = streams.c
    values: dict[str, Any] = {
        "lease_expires_at": bindparam("r_expires"),
        "heartbeat_at": bindparam("r_now"),
    }
    if poll:
        values["last_poll_at"] = bindparam("r_poll")
    if fetches:
        values["fetches"] = bindparam("r_fetches", type_=c.fetches.type)
    due = or_(
        and_(c.status == SCHEDULED, c.scheduled_at <= bindparam("r_now")),
        c.status.in_(RUNNING),
    )
    where = (c.game_id == bindparam("r_game"), c.owner == bindparam("r_owner"), due)
    return update(streams).where(*where).values(**values)


_RENEW = {
    (poll, fetches): _renewal(poll, fetches) for poll in (False, True) for fetches in (False, True)
}


@dataclass(frozen=True)
class Leases:
    """Claims, renewals and releases of stream leases over a `Store`'s engine."""

    store: Store
    max_retries: int = 5

    @finishing
    async def claim_due(
        self,
        owner: str,
        now: datetime,
        ttl: float,
        limit: int,
        games: Collection[str] | None = None,
    ) -> list[StreamRecord]:
        """Claim up to `limit` due streams no one holds, for `ttl` seconds; returns the claimed.
        `games` restricts the claim to those game ids (a replay claims only its own games).

        Taking over an expired lease of another owner counts a retry; a stream past the maximum
        number of retries is moved to Failed (with the reason) instead of being claimed.
        """
        if limit <= 0:
            return []
        sqlite = self.store.engine.dialect.name == "sqlite"
        only = [] if games is None else [streams.c.game_id.in_(list(games))]
        query = (
            select(streams)
            .where(is_due(now), is_free(now), *only)
            .order_by(streams.c.scheduled_at, streams.c.id)
            .limit(limit * SQLITE_OVERSAMPLE if sqlite else limit)
            .with_for_update(skip_locked=True)
        )
        expires = now + timedelta(seconds=ttl)
        won: list[int] = []
        async with self.store._tx() as conn:
            for row in (await conn.execute(query)).mappings().all():
                if len(won) < limit and await self._claim(conn, row, owner, now, expires):
                    won.append(row["id"])
            if not won:
                return []
            claimed = await conn.execute(
                select(streams)
                .where(streams.c.id.in_(won))
                .order_by(streams.c.scheduled_at, streams.c.id)
            )
            records = [StreamRecord.from_row(m) for m in claimed.mappings().all()]
        for record in records:
            log.info("%s claimed stream %s (%s)", owner, record.game_id, record.status)
        return records

    async def _claim(
        self, conn: AsyncConnection, row: Any, owner: str, now: datetime, expires: datetime
    ) -> bool:
        takeover = row["owner"] is not None and row["owner"] != owner
        retries = row["retry_count"] + int(takeover)
        c = streams.c
        unchanged = and_(
            c.id == row["id"],
            c.owner.is_not_distinct_from(row["owner"]),
            c.status == row["status"],
            c.retry_count == row["retry_count"],
            is_due(now),
            is_free(now),
        )
        if retries > self.max_retries:
            await self._give_up(conn, row, unchanged, now, retries)
            return False
        claimed = await conn.execute(
            update(streams)
            .where(unchanged)
            .values(
                owner=owner,
                lease_expires_at=expires,
                heartbeat_at=now,
                retry_count=retries,
                updated_at=now,
            )
        )
        if claimed.rowcount == 1 and takeover:
            log.warning(
                "%s took over stream %s from %s (retry %d of %d)",
                owner,
                row["game_id"],
                row["owner"],
                retries,
                self.max_retries,
            )
        return bool(claimed.rowcount == 1)

    async def _give_up(
        self,
        conn: AsyncConnection,
        row: Any,
        unchanged: ColumnElement[bool],
        now: datetime,
        retries: int,
    ) -> None:
        check_transition(StreamStatus(row["status"]), StreamStatus.FAILED)
        reason = (
            f"gave up after {retries} retries (PRESSBOX_MAX_RETRIES={self.max_retries}): "
            f"the runner holding the stream stopped or crashed each time "
            f"(last: {row['owner'] or 'released after a crash'})"
        )
        failed = await conn.execute(
            update(streams)
            .where(unchanged)
            .values(
                status=str(StreamStatus.FAILED),
                failure_reason=reason[:MAX_REASON],
                failure_cause=str(FailureCause.TAKEOVERS),
                started_at=row["started_at"] or now,
                ended_at=now,
                owner=None,
                lease_expires_at=None,
                retry_count=retries,
                updated_at=now,
            )
        )
        if failed.rowcount == 1:
            log.error("stream %s Failed: %s", row["game_id"], reason)

    @finishing
    async def renew(
        self,
        game_id: str,
        owner: str,
        now: datetime,
        ttl: float,
        last_poll: datetime | None = None,
        fetches: dict[str, Any] | None = None,
    ) -> bool:
        """Extend `owner`'s lease to now + ttl (with the streamer's last poll and its upstream
        figures). False when the lease is lost: another runner holds the stream, or it left the
        running states (final, postponed, not yet due)."""
        values: dict[str, Any] = {
            "r_game": game_id,
            "r_owner": owner,
            "r_now": now,
            "r_expires": now + timedelta(seconds=ttl),
            "r_poll": last_poll,
            "r_fetches": fetches,
        }
        statement = _RENEW[(last_poll is not None, fetches is not None)]
        async with self.store._tx() as conn:
            renewed = await conn.execute(statement, values)
        return bool(renewed.rowcount == 1)

    @finishing
    async def release(
        self,
        game_id: str,
        owner: str,
        *,
        crashed: bool = False,
        fetches: dict[str, Any] | None = None,
    ) -> bool:
        """Give the stream up so that any runner may claim it at once; False if `owner` did not
        hold it. A release after the streamer `crashed` counts a retry, like a takeover. With
        `fetches`, the stream's upstream figures since the last renewal are kept too."""
        c = streams.c
        values: dict[str, Any] = {"owner": None, "lease_expires_at": None}
        if crashed:
            values["retry_count"] = c.retry_count + 1
        if fetches is not None:
            values["fetches"] = fetches
        async with self.store._tx() as conn:
            released = await conn.execute(
                update(streams).where(c.game_id == game_id, c.owner == owner).values(**values)
            )
        return bool(released.rowcount == 1)
