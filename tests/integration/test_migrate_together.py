"""Every role migrates the database at start: processes starting together must not trip over
each other (SQLite: a file lock; PostgreSQL: an advisory lock held by the migrating transaction).
Here several migrator processes are released at the same instant on a fresh database, a few
times over."""

from __future__ import annotations

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


#: Each migrator imports everything first, then waits for the same instant to start.
MIGRATOR = """
import sys, time
from pressbox.store.migrate import upgrade
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
upgrade(sys.argv[1])
"""


def migrate_together(url: str) -> list[str]:
    """Run `upgrade(url)` in MIGRATORS processes released at one instant; their errors."""
    start = time.time() + 3.0  # after every process has started and imported
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, url, str(start)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(MIGRATORS)
    ]
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
