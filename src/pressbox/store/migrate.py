"""Bring a database to the current schema with Alembic (the migrations ship inside the package)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pressbox.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url`, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` (created if SQLite and missing) to `revision`. Processes
    that start together (every role migrates at start) migrate one after the other."""
    try:
        with _sqlite_lock(url):
            command.upgrade(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate {url}: {exc}") from exc


@contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    """An exclusive lock on a file beside a SQLite database file (no-op for other databases):
    SQLite's DDL here is not transactional, so two migrators would both add a column."""
    parsed = make_url(url)
    database = parsed.database or ":memory:"
    if parsed.get_backend_name() != "sqlite" or database == ":memory:":
        yield
        return
    lock = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def is_current(url: str) -> bool:
    """True when the database at `url` is at the newest migration."""
    engine = create_async_engine(url)
    try:
        return await engine_is_current(engine)
    finally:
        await engine.dispose()


async def engine_is_current(engine: AsyncEngine) -> bool:
    """True when the database behind `engine` is at the newest migration."""
    url = engine.url.render_as_string(hide_password=False)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    async with engine.connect() as conn:
        current = await conn.run_sync(_current_revision)
    return current == head


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
