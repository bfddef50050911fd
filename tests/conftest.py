"""Fixtures shared by every test suite: the real recordings, and throwaway PostgreSQL and Redis
servers.

Databases for integration tests: SQLite files, and a throwaway PostgreSQL server started from
the installed binaries (`/usr/lib/postgresql/*/bin`) on a free loopback port, once per session,
with a fresh database per test. PostgreSQL refuses to run as root: as root, its commands run as
the `postgres` user in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pressbox.store.migrate import upgrade

#: Real recordings live beside the checkout (`../shared/recordings`), never in the repo.
RECORDINGS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "recordings"
POSTMAN_NCAAF = (
    RECORDINGS_DIR
    / "espn-ncaaf-401756846-postman"
    / "Football.Ncaa.Espn.Event.postman_collection.json"
)


@pytest.fixture(autouse=True)
def _markets_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the real Kalshi: market lines are off unless a test turns them on
    (`load_settings(markets="on", ...)`) against a fake Kalshi on loopback."""
    monkeypatch.setenv("PRESSBOX_MARKETS", "off")


@pytest.fixture(scope="session")
def recordings_dir() -> Path:
    """The directory of real recordings; its absence is an error, never a skip."""
    if not RECORDINGS_DIR.is_dir():
        pytest.fail(f"recordings not found at {RECORDINGS_DIR}: put ../shared beside the checkout")
    return RECORDINGS_DIR


@pytest.fixture(scope="session")
def ncaaf_postman(recordings_dir: Path) -> Path:
    """The Postman recording of Iowa State at Kansas State, 2025-08-23."""
    return POSTMAN_NCAAF


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


# --- Redis -----------------------------------------------------------------------------------

REDIS_SERVER = Path("/usr/bin/redis-server")


class RedisServer:
    """A throwaway redis-server on a loopback port, without persistence; tests may stop it and
    start it again on the same port (a Redis restart)."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait: float = 15.0) -> None:
        """Start the server and wait (bounded) until it answers PING."""
        if not REDIS_SERVER.exists():
            pytest.fail("redis-server not installed: apt-get install redis-server (.ci/run does)")
        log = self.directory / f"redis-{self.port}.log"
        command = [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.directory),
                   "--logfile", str(log)]  # fmt: skip
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = log.read_text() if log.exists() else ""
                pytest.fail(f"redis-server on port {self.port} did not start: {output}")
            time.sleep(0.05)

    def answers(self) -> bool:
        """True when the server answers PING now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (bounded) and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session; its absence is an error, never a skip."""
    directory = Path(tempfile.mkdtemp(prefix="pressbox-redis-"))
    server = RedisServer(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's Redis server (tests keep apart by unique game ids)."""
    return redis_server.url


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may stop and start again (a restart)."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unreachable_redis_url() -> str:
    """A Redis URL where nothing listens (a port free now)."""
    return f"redis://127.0.0.1:{free_port()}/0"
