"""Every role migrates the database at start: processes starting together must not trip over
each other (SQLite: a file lock; PostgreSQL: an advisory lock held by the migrating transaction).
Here several migrator processes are released at the same instant on a fresh database, a few
times over."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pressbox.store.migrate import is_current

MIGRATORS = 6
ROUNDS = 3


#: Each migrator imports everything first and says so; then, for each round, it waits for the
#: instant and database it is sent, migrates it and says how that went (one JSON line).
MIGRATOR = """
import json, sys, time, traceback
from pressbox.store.migrate import upgrade
print("ready", flush=True)
for line in sys.stdin:
    start, url = line.split(" ", 1)
    time.sleep(max(0.0, float(start) - time.time()))
    try:
        upgrade(url.strip())
        print(json.dumps(None), flush=True)
    except Exception:
        print(json.dumps(traceback.format_exc()[-400:]), flush=True)
"""
#: Seconds from the instant a round is sent to the instant all of them start.
RELEASE = 0.2


@contextlib.contextmanager
def migrators() -> Iterator[list[subprocess.Popen[str]]]:
    """MIGRATORS processes, each started and done importing (imports cost more than the
    migrations: one set of processes serves every round)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(MIGRATORS)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n", "a migrator did not start"
        yield processes
    finally:
        for process in processes:
            process.communicate(timeout=60)  # closes its stdin: it ends
            if process.returncode != 0:
                pytest.fail(f"a migrator exited with {process.returncode}")


def migrate_together(processes: list[subprocess.Popen[str]], url: str) -> list[str]:
    """Run `upgrade(url)` in every migrator, released at one instant; their errors."""
    start = time.time() + RELEASE
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(f"{start} {url}\n")
        process.stdin.flush()
    errors = []
    for process in processes:
        assert process.stdout is not None
        error = json.loads(process.stdout.readline() or '"no answer"')
        if error is not None:
            errors.append(error)
    return errors


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migrators_released_together_on_one_database_all_succeed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server: Any = request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    with migrators() as processes:
        for _ in range(ROUNDS):
            if server is None:
                url = f"sqlite+aiosqlite:///{tmp_path}/{uuid.uuid4().hex}.db"
            else:
                name = f"m_{uuid.uuid4().hex[:12]}"
                server.sql(f'CREATE DATABASE "{name}"')
                url = server.url(name)
            assert migrate_together(processes, url) == []
            assert await is_current(url)
