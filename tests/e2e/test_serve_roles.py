"""Deployment by roles, as operators run it: `pressbox serve --role scheduler`, `--role runner`
and `--role web` as separate processes on one SQLite database, against a `pressbox replay-server`
replaying a real NBA game. The scheduler finds the game on the (replayed) scoreboard and schedules
its stream, a runner claims and streams it to Completed, the web process serves it; each process
stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
from processes import PRESSBOX, free_port, processes, wait_for

GAME = "401772994"  # Knicks at Pacers, 2025-05-31 (tip-off 2025-06-01T00:00Z)
#: What a check of a process that is not up yet raises.
NOT_UP = (httpx.HTTPError, sqlite3.OperationalError)


def stream_rows(db: Path) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        return conn.execute("SELECT game_id, status, owner, retry_count FROM streams").fetchall()


def terminate(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM: the process stops by itself, promptly and with exit status 0."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=15)
    assert code == 0, f"exit status {code}: {log.read_text()[-2000:]}"


def test_scheduler_runner_and_web_roles_as_separate_processes(
    tmp_path: Path, recordings_dir: Path
) -> None:
    db = tmp_path / "pressbox.db"
    env = {
        **os.environ,
        "PRESSBOX_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "PRESSBOX_LOG_LEVEL": "INFO",
        "PRESSBOX_LEAGUES": "nba",
        "PRESSBOX_SCHEDULE_DAYS": "0",
        "PRESSBOX_SCHEDULE_INTERVAL_SECONDS": "60",  # replay seconds: 0.1 s of real time
        "PRESSBOX_RUNNER_POLL_SECONDS": "30",
    }
    game = recordings_dir / "games" / "nba-401772994" / "summary.json"
    espn_port, web_port = free_port(), free_port()
    espn = f"http://127.0.0.1:{espn_port}"
    with processes(tmp_path) as start:
        start("espn", [*PRESSBOX, "replay-server", str(game), "--speed", "600",
                       "--port", str(espn_port)], env)  # fmt: skip
        wait_for(lambda: httpx.get(f"{espn}/_replay/status", timeout=1).is_success,
                 "the replay server answers", 20, ignore=NOT_UP)  # fmt: skip
        web = start("web", [*PRESSBOX, "serve", "--role", "web", "--port", str(web_port)], env)
        scheduler = start(
            "scheduler", [*PRESSBOX, "serve", "--role", "scheduler", "--espn-url", espn], env
        )
        rows = wait_for(
            lambda: stream_rows(db), "the scheduler creates the stream", 30, ignore=NOT_UP
        )
        assert [(r[0], r[2]) for r in rows] == [(GAME, None)]  # one stream, no runner yet

        runner = start("runner", [*PRESSBOX, "serve", "--role", "runner", "--espn-url", espn], env)
        api = f"http://127.0.0.1:{web_port}/api"

        def streamed_and_served() -> dict[str, Any] | None:
            [summary] = httpx.get(f"{api}/live/games", timeout=2).json()["games"]
            return summary if summary["stream"]["status"] == "Completed" else None

        summary = wait_for(streamed_and_served, "the game streams to Completed", 120, ignore=NOT_UP)
        assert summary["id"] == GAME
        assert (summary["home"]["abbreviation"], summary["home"]["score"]) == ("IND", 125)
        assert (summary["away"]["abbreviation"], summary["away"]["score"]) == ("NY", 108)
        snapshot = httpx.get(f"{api}/games/{GAME}", timeout=5).json()
        assert len(snapshot["plays"]) == 472  # every play of the recorded game
        [(_, status, owner, retries)] = stream_rows(db)
        assert (status, owner, retries) == ("Completed", None, 0)  # released at the end

        for process, name in ((scheduler, "scheduler"), (runner, "runner"), (web, "web")):
            terminate(process, tmp_path / f"{name}.log")
    runner_log = (tmp_path / "runner.log").read_text()
    assert "claimed stream 401772994" in runner_log
