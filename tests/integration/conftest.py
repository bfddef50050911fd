"""Databases for integration tests: SQLite files, and a throwaway PostgreSQL server started from
the installed binaries (`/usr/lib/postgresql/*/bin`) on a free loopback port, once per session,
with a fresh database per test. PostgreSQL refuses to run as root: as root, its commands run as
the `postgres` user in a directory that user owns."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pressbox.store.migrate import upgrade


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway PostgreSQL server (trust authentication, loopback only)."""

    port: int
    directory: Path
    bindir: Path

    def url(self, database: str) -> str:
        """The SQLAlchemy async URL of `database` on this server."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str, check: bool = True) -> None:
        """Run one of the server's programs as the `postgres` user (bounded)."""
        done = subprocess.run(
            _as_postgres([str(self.bindir / program), *args]), capture_output=True, timeout=120
        )
        if check and done.returncode != 0:
            log = self.directory / "log"
            pytest.fail(
                f"{program} {' '.join(args)} failed: {done.stderr.decode()}"
                + (log.read_text() if log.exists() else "")
            )

    def sql(self, statement: str) -> None:
        """Run one SQL statement on the `postgres` database."""
        self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                 "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", statement)  # fmt: skip


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session; its absence is an error, never a skip."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL not installed: apt-get install postgresql (.ci/run does)")
    directory = Path(tempfile.mkdtemp(prefix="pressbox-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PostgresServer(free_port(), directory, Path(found[-1]).parent)
    data = str(directory / "data")
    options = (
        f"-h 127.0.0.1 -p {server.port} -k {directory} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        server.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        log = str(directory / "log")
        server.run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
        yield server
    finally:
        try:
            server.run(
                "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop", check=False
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres_server.sql(f'CREATE DATABASE "{name}"')
    yield postgres_server.url(name)
    postgres_server.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/pressbox.db"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)  # Alembic runs its own event loop; this fixture runs outside the test's
    return url
