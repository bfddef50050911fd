"""A recorded game replayed to `pressbox` processes, as operators run them: a `pressbox
replay-server` process on the replay clock, a SQLite database holding the game's stream, and
`pressbox runner` processes started on demand; every process is killed at the end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from processes import PRESSBOX, free_port, processes, wait_for

from pressbox.replay import load_recording
from pressbox.replay.plan import recorded_games
from pressbox.store import GameInfo, Store, TeamInfo
from pressbox.store.migrate import upgrade

GAME = "401756846"
SPEED = 500
TTL = 500.0  # lease, seconds of replay time: 1 s of real time at 500x
POLL = 50.0  # claim rounds, seconds of replay time: 0.1 s of real time
EVERY = 0.02  # seconds between two checks of wait_for


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute(sql, (GAME,)).fetchall() if "?" in sql else conn.execute(sql).fetchall()


def stream_row(db: Path) -> dict[str, Any]:
    columns = "status, owner, lease_expires_at, heartbeat_at, retry_count"
    [row] = query(db, f"SELECT {columns} FROM streams WHERE game_id = ?")
    return dict(zip(columns.split(", "), row, strict=True))


def event_log(db: Path) -> list[dict[str, Any]]:
    rows = query(db, "SELECT seq, type, key, at, data FROM events WHERE game_id = ? ORDER BY seq")
    return [
        {"seq": s, "type": t, "key": k, "at": at, "data": json.loads(d)} for s, t, k, at, d in rows
    ]


def replay_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def prepare(url: str, path: Path) -> None:
    """The game and its stream, Scheduled at the first recorded response (as the replay tests
    do: the event and competition documents appear in the first minutes of the recording)."""
    recording = load_recording(path)
    store = Store.connect(url)
    try:
        for game in recorded_games(recording):
            info = GameInfo(
                game.id, game.sport, game.league, "", "", None, TeamInfo(""), TeamInfo("")
            )
            await store.upsert_game(info, recording.start, replace=False)
            await store.ensure_stream(game.id, recording.start, recording.start)
    finally:
        await store.close()


@dataclass
class Run:
    """One replay of the recording: a replay server, runners, and their SQLite database."""

    db: Path
    env: dict[str, str]
    espn: str
    start: Callable[[str, list[str], dict[str, str]], subprocess.Popen[bytes]]

    def runner(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, [*PRESSBOX, "runner", "--espn-url", self.espn], self.env)

    def stop(self, runner: subprocess.Popen[bytes]) -> None:
        """SIGTERM: a graceful stop, which releases every lease the runner holds."""
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0
        assert stream_row(self.db)["owner"] is None

    def completed(self) -> bool:
        return bool(stream_row(self.db)["status"] == "Completed")


@contextmanager
def replay(tmp_path: Path, name: str, recording: Path, **settings: str) -> Iterator[Run]:
    """A replay server of `recording` at SPEED and a database holding the game's stream; every
    process started in it is killed at the end, whatever happened. `settings` are more
    environment variables of every process."""
    db = tmp_path / f"{name}.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    asyncio.run(prepare(url, recording))
    env = {**os.environ, "PRESSBOX_LOG_LEVEL": "INFO", "PRESSBOX_DATABASE_URL": url}
    env.update(PRESSBOX_LEASE_TTL_SECONDS=str(TTL), PRESSBOX_RUNNER_POLL_SECONDS=str(POLL))
    env.update(settings)
    port = free_port()
    logs = tmp_path / name
    logs.mkdir()
    with processes(logs) as start:
        run = Run(db, env, f"http://127.0.0.1:{port}", start)
        args = ["replay-server", str(recording), "--speed", str(SPEED), "--port", str(port)]
        start("server", [*PRESSBOX, *args], env)
        wait_for(
            lambda: _answers(f"{run.espn}/_replay/status"),
            "the replay server answers",
            30,
            every=EVERY,
        )
        yield run


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
