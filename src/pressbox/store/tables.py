"""Table definitions (SQLAlchemy 2 Core). Alembic migrations in `migrations/` create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


TZ = UTCDateTime()

games = Table(
    "games",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sport", String(32), nullable=False),
    Column("league", String(64), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("short_name", String(64), nullable=False, default=""),
    Column("start_time", TZ, nullable=True),
    Column("home", JSON, nullable=False),
    Column("away", JSON, nullable=False),
    Column("status", JSON, nullable=True),
    Column("home_score", Integer, nullable=True),
    Column("away_score", Integer, nullable=True),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("updated_at", TZ, nullable=True),
    Column("market", JSON, nullable=True),  # the game summary's `market` (docs/protocol.md)
)

streams = Table(
    "streams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("game_id", String(32), ForeignKey("games.id"), nullable=False, unique=True),
    Column("status", String(32), nullable=False),
    Column("scheduled_at", TZ, nullable=False),
    Column("started_at", TZ, nullable=True),
    Column("ended_at", TZ, nullable=True),
    Column("failure_reason", String(512), nullable=True),
    Column("failure_cause", String(16), nullable=True),  # domain.failure.FailureCause
    Column("retry_count", Integer, nullable=False, default=0),
    Column("owner", String(128), nullable=True),  # the lease holder (a runner's id)
    Column("health", JSON, nullable=True),  # degraded documents -> their last error
    Column("unpublished", JSON, nullable=True),  # documents answering 404 since the start
    Column("updated_at", TZ, nullable=True),
    Column("lease_expires_at", TZ, nullable=True),
    Column("heartbeat_at", TZ, nullable=True),  # the holder's last renewal
    Column("last_poll_at", TZ, nullable=True),  # the streamer's last successful status poll
    Column("fetches", JSON, nullable=True),  # what its streamer asked of upstream (FetchTally)
    Index("ix_streams_status_scheduled_at", "status", "scheduled_at"),
)

events = Table(
    "events",
    metadata,
    Column("game_id", String(32), ForeignKey("games.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("type", String(32), nullable=False),
    Column("key", String(200), nullable=False),
    Column("at", TZ, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("game_id", "key", name="uq_events_game_id_key"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=True),  # event type names; null: every type
    Column("league", String(64), nullable=True),  # null: every league
    Column("secret", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # domain.webhooks.WebhookStatus
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=True),
    Column("delivered", Integer, nullable=False, server_default="0"),  # events delivered
    Column("last_success_at", TZ, nullable=True),
    Column("failing_since", TZ, nullable=True),  # the first failure since the last success
    Column("last_error", String(512), nullable=True),
    Column("owner", String(128), nullable=True),  # the dispatcher holding its lease
    Column("lease_expires_at", TZ, nullable=True),
)

webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    Column("game_id", String(32), ForeignKey("games.id"), primary_key=True),
    Column("seq", Integer, nullable=False),  # the last seq of the game delivered (or skipped)
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook_id", Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("at", TZ, nullable=False),
    Column("game_id", String(32), nullable=False),
    Column("first_seq", Integer, nullable=True),
    Column("last_seq", Integer, nullable=True),
    Column("events", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),  # null: no answer (refused, timed out)
    Column("error", String(512), nullable=True),  # null: delivered
    Column("duration_ms", Integer, nullable=False),
    Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
)
