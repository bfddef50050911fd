"""`pressbox replay --headless` as a new user runs it, twice in the same folder: each run starts
fresh (a throwaway database), and `--database` keeps one whose replayed games are reset."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from processes import PRESSBOX

GAME = "games/nba-401772994/summary.json"


def headless(folder: Path, source: Path, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSBOX_")}
    done = subprocess.run(
        [*PRESSBOX, "replay", str(source), "--headless", "--speed", "1000", *args],
        cwd=folder,  # the folder a user runs it in: no .env, no earlier pressbox.db
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Warnings only by default (no request log lines), and no live display off a terminal.
    assert "HTTP Request" not in done.stderr and " INFO " not in done.stderr, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_every_replay_starts_fresh(tmp_path: Path, recordings_dir: Path) -> None:
    source = recordings_dir / GAME
    first = headless(tmp_path, source)
    second = headless(tmp_path, source)
    for report in (first, second):
        assert report["stream_status"] == "Completed" and report["plays"] == 472
        # A replay that found the first run's completed stream read nothing (0 requests); how
        # many a fresh one makes depends on how the machine keeps up (93 to a few hundred).
        assert report["upstream_requests"] > 0, report["upstream_requests"]
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_kept_database_holds_the_replay_and_resets_its_games(
    tmp_path: Path, recordings_dir: Path
) -> None:
    source, db = recordings_dir / GAME, tmp_path / "kept.db"
    url = f"sqlite+aiosqlite:///{db}"
    reports = [headless(tmp_path, source, "--database", url) for _ in range(2)]
    assert [r["upstream_requests"] > 0 for r in reports] == [True, True]
    assert [r["plays"] for r in reports] == [472, 472]
    with sqlite3.connect(db) as conn:
        (events,) = conn.execute("select count(*) from events").fetchone()
        (streams,) = conn.execute("select count(*) from streams").fetchone()
    # The second run's log only: the first one's was reset, not added to.
    assert (events, streams) == (reports[1]["events_total"], 1)


def test_a_bad_database_url_is_refused_with_what_to_do(
    tmp_path: Path, recordings_dir: Path
) -> None:
    done = subprocess.run(
        [*PRESSBOX, "replay", str(recordings_dir / GAME), "--headless", "--database", "nope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "error:" in done.stderr and "database" in done.stderr.lower()
