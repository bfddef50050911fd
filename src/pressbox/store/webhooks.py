"""Webhook subscriptions in the database: the rows, their leases, cursors and delivery log.

A subscription is delivered by one dispatcher at a time, the holder of its lease (the same
compare-and-set scheme as streams' leases: a conditional UPDATE whose rowcount says who won).
Its cursor is one row per game: the last seq of that game's log delivered (or passed over by its
event filter). A cursor moves only in the transaction that checks the lease is still held, so a
dispatcher that lost its subscription can never move it; what it had POSTed is sent again by the
next holder (at least once; receivers dedupe by game and seq).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pressbox.cancellation import finishing
from pressbox.clock import format_optional_time, format_time
from pressbox.domain.events import EventType
from pressbox.domain.webhooks import WebhookStatus, is_failing
from pressbox.errors import LeaseLost
from pressbox.store.repository import MAX_REASON, Store
from pressbox.store.tables import games, webhook_cursors, webhook_deliveries, webhooks

#: Delivery attempts kept per subscription (the newest), pruned every `PRUNE_EVERY` attempts.
KEPT_DELIVERIES = 200
PRUNE_EVERY = 50


@dataclass(frozen=True)
class Webhook:
    """A subscription row (its secret is never shown back after creation)."""

    id: int
    url: str
    events: frozenset[EventType] | None
    league: str | None
    secret: str = field(repr=False)
    status: WebhookStatus
    created_at: datetime
    delivered: int = 0
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None
    owner: str | None = None
    lease_expires_at: datetime | None = None

    @classmethod
    def from_row(cls, m: Any) -> Webhook:
        kinds = m["events"]
        return cls(
            m["id"],
            m["url"],
            None if kinds is None else frozenset(EventType(k) for k in kinds),
            m["league"],
            m["secret"],
            WebhookStatus(m["status"]),
            m["created_at"],
            m["delivered"],
            m["last_success_at"],
            m["failing_since"],
            m["last_error"],
            m["owner"],
            m["lease_expires_at"],
        )

    def to_json(self) -> dict[str, Any]:
        """The `GET /api/webhooks` item (docs/webhooks.md), without the secret."""
        return {
            "id": self.id,
            "url": self.url,
            "events": None if self.events is None else sorted(self.events),
            "league": self.league,
            "status": str(self.status),
            "created_at": format_time(self.created_at),
            "delivered": self.delivered,
            "last_success_at": format_optional_time(self.last_success_at),
            "failing_since": format_optional_time(self.failing_since),
            "last_error": self.last_error,
            "owner": self.owner,
            "lease_expires_at": format_optional_time(self.lease_expires_at),
        }


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery, as the delivery log keeps it."""

    at: datetime
    game_id: str
    first_seq: int | None
    last_seq: int | None
    events: int
    status_code: int | None
    error: str | None
    duration_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "game_id": self.game_id,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "events": self.events,
            "status_code": self.status_code,
            "error": self.error,
            "duration_ms": self.duration_ms,
            "ok": self.error is None,
        }


@dataclass(frozen=True)
class Pending:
    """A game with events after a subscription's cursor."""

    game_id: str
    league: str
    cursor: int
    last_seq: int


@dataclass(frozen=True)
class Webhooks:
    """Subscriptions, their leases, cursors and delivery logs over a `Store`'s engine."""

    store: Store

    @finishing
    async def add(
        self,
        url: str,
        events: frozenset[EventType] | None,
        league: str | None,
        secret: str,
        now: datetime,
        *,
        from_start: bool = False,
    ) -> Webhook:
        """A new subscription. It starts at the end of every game's log as it is now (only what
        comes next is delivered), or with `from_start` at the start of every log."""
        row = {
            "url": url,
            "events": None if events is None else sorted(events),
            "league": league,
            "secret": secret,
            "status": str(WebhookStatus.ACTIVE),
            "created_at": now,
            "updated_at": now,
            "delivered": 0,
        }
        async with self.store._tx() as conn:
            created = await conn.execute(insert(webhooks).values(**row).returning(webhooks.c.id))
            webhook_id = created.scalar_one()
            if not from_start:
                await conn.execute(
                    insert(webhook_cursors).from_select(
                        ["webhook_id", "game_id", "seq"],
                        select(
                            literal(webhook_id, webhooks.c.id.type), games.c.id, games.c.last_seq
                        ).where(*_in_league(league)),
                    )
                )
            return await _get(conn, webhook_id)

    async def all(self) -> list[Webhook]:
        """Every subscription, oldest first."""
        async with self.store._tx() as conn:
            rows = (await conn.execute(select(webhooks).order_by(webhooks.c.id))).mappings()
            return [Webhook.from_row(m) for m in rows.all()]

    async def get(self, webhook_id: int) -> Webhook | None:
        async with self.store._tx() as conn:
            row = (
                (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id)))
                .mappings()
                .first()
            )
            return None if row is None else Webhook.from_row(row)

    @finishing
    async def remove(self, webhook_id: int) -> bool:
        """Delete the subscription, its cursors and its delivery log; False if there was none.
        A dispatcher delivering it loses its lease at its next write."""
        async with self.store._tx() as conn:
            for table in (webhook_deliveries, webhook_cursors):
                await conn.execute(delete(table).where(table.c.webhook_id == webhook_id))
            gone = await conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
            return bool(gone.rowcount)

    async def attempts(self, webhook_id: int, limit: int = 50) -> list[Attempt]:
        """The newest delivery attempts, newest first."""
        d = webhook_deliveries.c
        query = (
            select(webhook_deliveries)
            .where(d.webhook_id == webhook_id)
            .order_by(d.id.desc())
            .limit(limit)
        )
        async with self.store._tx() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            Attempt(
                m["at"],
                m["game_id"],
                m["first_seq"],
                m["last_seq"],
                m["events"],
                m["status_code"],
                m["error"],
                m["duration_ms"],
            )
            for m in rows
        ]

    async def cursors(self, webhook_id: int) -> dict[str, int]:
        """Game id -> the last seq delivered (or passed over) to the subscription."""
        c = webhook_cursors.c
        async with self.store._tx() as conn:
            rows = await conn.execute(select(c.game_id, c.seq).where(c.webhook_id == webhook_id))
            return {str(game_id): int(seq) for game_id, seq in rows.all()}

    async def detail(self, webhook_id: int) -> dict[str, Any] | None:
        """`GET /api/webhooks/{id}`'s JSON: the subscription, its cursors and its newest 50
        attempts; None when there is no such subscription."""
        webhook = await self.get(webhook_id)
        if webhook is None:
            return None
        return {
            "webhook": webhook.to_json(),
            "cursors": await self.cursors(webhook_id),
            "deliveries": [a.to_json() for a in await self.attempts(webhook_id)],
        }

    @finishing
    async def claim(self, owner: str, now: datetime, ttl: float, limit: int) -> list[Webhook]:
        """Take the leases of up to `limit` subscriptions no dispatcher holds (or whose holder's
        lease ran out), for `ttl` seconds; returns those taken."""
        w = webhooks.c
        free = or_(w.owner.is_(None), w.lease_expires_at.is_(None), w.lease_expires_at < now)
        expires = now + timedelta(seconds=ttl)
        taken: list[Webhook] = []
        async with self.store._tx() as conn:
            rows = await conn.execute(select(w.id, w.owner).where(free).order_by(w.id).limit(limit))
            for webhook_id, previous in rows.all():
                same = w.owner.is_(None) if previous is None else w.owner == previous
                won = await conn.execute(
                    update(webhooks)
                    .where(w.id == webhook_id, same, free)
                    .values(owner=owner, lease_expires_at=expires)
                )
                if won.rowcount:
                    taken.append(await _get(conn, webhook_id))
        return taken

    @finishing
    async def renew(self, webhook_id: int, owner: str, now: datetime, ttl: float) -> bool:
        """Extend the lease `owner` holds; False if it no longer does (taken over, removed)."""
        expires = now + timedelta(seconds=ttl)
        async with self.store._tx() as conn:
            kept = await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.owner == owner)
                .values(lease_expires_at=expires)
            )
            return bool(kept.rowcount)

    @finishing
    async def release(self, webhook_id: int, owner: str) -> None:
        """Give the lease up (a dispatcher stopping), so another may take it at once."""
        async with self.store._tx() as conn:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.owner == owner)
                .values(owner=None, lease_expires_at=None)
            )

    async def pending(self, webhook: Webhook, owner: str) -> list[Pending]:
        """The games of the subscription's league whose logs go past its cursor, while `owner`
        holds its lease (LeaseLost if not: removed, or taken over)."""
        c = webhook_cursors.c
        cursor = func.coalesce(c.seq, 0)
        query = (
            select(games.c.id, games.c.league, cursor, games.c.last_seq)
            .select_from(
                games.outerjoin(
                    webhook_cursors, and_(c.game_id == games.c.id, c.webhook_id == webhook.id)
                )
            )
            .where(games.c.last_seq > cursor, *_in_league(webhook.league))
            .order_by(games.c.id)
        )
        async with self.store._tx() as conn:
            await _check_lease(conn, webhook.id, owner, lock=False)
            rows = (await conn.execute(query)).all()
        return [Pending(game_id, league, seq, last) for game_id, league, seq, last in rows]

    @finishing
    async def advance(
        self, webhook_id: int, owner: str, game_id: str, seq: int, attempt: Attempt | None
    ) -> None:
        """Move the game's cursor to `seq` after a delivery (`attempt`; None when the filter
        left nothing to POST) while `owner` still holds the lease; raises LeaseLost if not."""
        w = webhooks.c
        values: dict[str, Any] = {"owner": owner}  # a no-op write: it checks and locks the lease
        if attempt is not None:
            values.update(
                status=str(WebhookStatus.ACTIVE),
                delivered=w.delivered + attempt.events,
                last_success_at=attempt.at,
                failing_since=None,
                updated_at=attempt.at,
            )
        async with self.store._tx() as conn:
            held = await conn.execute(
                update(webhooks).where(w.id == webhook_id, w.owner == owner).values(**values)
            )
            if not held.rowcount:
                raise LeaseLost(f"webhook {webhook_id} is no longer held by {owner}")
            c = webhook_cursors.c
            moved = await conn.execute(
                update(webhook_cursors)
                .where(c.webhook_id == webhook_id, c.game_id == game_id)
                .values(seq=seq)
            )
            if not moved.rowcount:
                await conn.execute(
                    insert(webhook_cursors).values(webhook_id=webhook_id, game_id=game_id, seq=seq)
                )
            if attempt is not None:
                await _log(conn, webhook_id, attempt)

    @finishing
    async def failed(
        self, webhook_id: int, owner: str, attempt: Attempt, failing_after: timedelta
    ) -> WebhookStatus:
        """Log a failed attempt while `owner` holds the lease (else LeaseLost); the
        subscription shows as failing once attempts have failed for `failing_after`."""
        async with self.store._tx() as conn:
            current = await _check_lease(conn, webhook_id, owner)
            since = current.failing_since or attempt.at
            status = (
                WebhookStatus.FAILING
                if is_failing(since, attempt.at, failing_after)
                else WebhookStatus.ACTIVE
            )
            await _log(conn, webhook_id, attempt)
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(
                    status=str(status),
                    failing_since=since,
                    last_error=(attempt.error or "")[:MAX_REASON],
                    updated_at=attempt.at,
                )
            )
            return status


def _in_league(league: str | None) -> list[Any]:
    return [] if league is None else [games.c.league == league]


async def _get(conn: AsyncConnection, webhook_id: int) -> Webhook:
    row = (await conn.execute(select(webhooks).where(webhooks.c.id == webhook_id))).mappings()
    return Webhook.from_row(row.one())


async def _check_lease(
    conn: AsyncConnection, webhook_id: int, owner: str, *, lock: bool = True
) -> Webhook:
    """The subscription (with `lock`, locked for this transaction) if `owner` holds its lease;
    raises LeaseLost if not."""
    query = select(webhooks).where(webhooks.c.id == webhook_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None or row["owner"] != owner:
        raise LeaseLost(f"webhook {webhook_id} is no longer held by {owner}")
    return Webhook.from_row(row)


async def _log(conn: AsyncConnection, webhook_id: int, attempt: Attempt) -> None:
    """Keep the attempt; every `PRUNE_EVERY` attempts (by id), drop all but the newest
    `KEPT_DELIVERIES` of the subscription."""
    d = webhook_deliveries.c
    row = {
        "webhook_id": webhook_id,
        "at": attempt.at,
        "game_id": attempt.game_id,
        "first_seq": attempt.first_seq,
        "last_seq": attempt.last_seq,
        "events": attempt.events,
        "status_code": attempt.status_code,
        "error": None if attempt.error is None else attempt.error[:MAX_REASON],
        "duration_ms": attempt.duration_ms,
    }
    created = await conn.execute(insert(webhook_deliveries).values(**row).returning(d.id))
    if created.scalar_one() % PRUNE_EVERY:
        return
    oldest_kept = (
        select(d.id)
        .where(d.webhook_id == webhook_id)
        .order_by(d.id.desc())
        .offset(KEPT_DELIVERIES - 1)
        .limit(1)
        .scalar_subquery()
    )
    await conn.execute(
        delete(webhook_deliveries).where(d.webhook_id == webhook_id, d.id < oldest_kept)
    )
