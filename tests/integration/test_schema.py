"""The migrations build exactly the schema the code's table definitions describe (store/tables.py),
on SQLite and PostgreSQL, and step down to nothing and back up again."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from pressbox.store.migrate import alembic_config, upgrade
from pressbox.store.tables import metadata


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        return list(differences), tables
    finally:
        await engine.dispose()


def test_the_migrated_schema_is_the_one_the_tables_describe(db_url: str) -> None:
    differences, tables = asyncio.run(_inspect(db_url))
    assert differences == []
    assert {"games", "streams", "events", "webhooks", "webhook_cursors"} <= tables
    command.downgrade(alembic_config(db_url), "base")
    assert asyncio.run(_inspect(db_url))[1] <= {"alembic_version"}
    upgrade(db_url)
    assert asyncio.run(_inspect(db_url))[0] == []
