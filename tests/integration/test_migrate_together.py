"""Every role migrates the database at start: processes starting together must not trip over
each other (SQLite: a file lock; PostgreSQL: an advisory lock held by the migrating transaction).
Here several migrator processes are released at the same instant on a fresh database, a few
times over."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from pressbox.store.migrate import is_current

MIGRATORS = 6
ROUNDS = 3


#: Each migrator imports everything first and says so, then waits for the instant it is sent.
MIGRATOR = """
import sys, time
from pressbox.store.migrate import upgrade
print("ready", flush=True)
start = float(sys.stdin.readline())
time.sleep(max(0.0, start - time.time()))
upgrade(sys.argv[1])
"""
#: Seconds from the last migrator's "ready" to the instant all of them start.
RELEASE = 0.2


def migrate_together(url: str) -> list[str]:
    """Run `upgrade(url)` in MIGRATORS processes released at one instant, once every one of them
    has started and imported; their errors."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(MIGRATORS)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdin is not None
        process.stdout.readline()  # "ready", or nothing from one that failed (its errors below)
    start = time.time() + RELEASE
    for process in processes:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(f"{start}\n".encode())
            process.stdin.flush()
    errors = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        if process.returncode != 0:
            errors.append(err.decode()[-400:])
    return errors


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migrators_released_together_on_one_database_all_succeed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server: Any = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    for _ in range(ROUNDS):
        if server is None:
            url = f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex}.db"
        else:
            name = f"m_{uuid.uuid4().hex[:12]}"
            server.sql(f'CREATE DATABASE "{name}"')
            url = server.url(name)
        assert migrate_together(url) == []
        assert await is_current(url)
