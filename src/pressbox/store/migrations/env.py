"""Alembic environment: runs migrations over an async engine (aiosqlite, asyncpg)."""

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from pressbox.store.tables import metadata

config = context.config


#: PostgreSQL advisory lock key of migrations: processes starting together migrate one at a time
#: (SQLite's are serialized by a file lock in `pressbox.store.migrate.upgrade`).
MIGRATION_LOCK = 0x70726573  # "pres"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to the end of the transaction (PostgreSQL's DDL is transactional): the next
            # migrator reads the version table only after this one committed.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
