"""Finished real games of two file formats (a CDN game package, a site-API summary) replayed
together to Completed. Each sport's whole game alone, with the same checks, is in
test_fetch_economy.py (site-API summaries of the NFL and NBA, the NCAAF core-API document set)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay.plan import plan_replay
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import open_runtime

SPEED = 600
SOURCES = [
    "games/nba-401772994/summary.json",  # site-API summary, NBA
    "games/nfl-401547602/game_gamepackage.json",  # CDN game package, NFL
]


async def test_every_play_and_probability_once_and_the_final_score(
    tmp_path: Path, recordings_dir: Path
) -> None:
    plan = plan_replay([recordings_dir / s for s in SOURCES], stagger=timedelta(minutes=15))
    records = {r.id: r for r in plan.records}
    assert len(records) == len(SOURCES)
    clock = ScaledClock(plan.start, SPEED)
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/pressbox.db")
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        await prepare_streams(runtime, plan.games)
        results = await stream_games(runtime, plan.games)
        logs = {gid: await runtime.store.events_since(gid, 0, 100_000) for gid in records}
        games = {gid: await runtime.store.game(gid) for gid in records}

    assert results == dict.fromkeys(records, StreamStatus.COMPLETED)
    for gid, record in records.items():
        log = logs[gid]
        assert [e.seq for e in log] == list(range(1, len(log) + 1)), gid
        added = Counter(e.data["id"] for e in log if e.type == "play_added")
        assert added == Counter(p.id for p in record.plays), gid
        points = Counter(e.data["play_id"] for e in log if e.type == "probability")
        assert points == Counter(p.play_id for p in record.probabilities), gid
        game = games[gid]
        assert game is not None
        assert (game["home"]["score"], game["away"]["score"]) == (
            record.home.score,
            record.away.score,
        )
        assert game["status"]["name"] == record.final_status and game["status"]["completed"]
        assert (game["home"]["abbreviation"], game["away"]["abbreviation"]) == (
            record.home.abbreviation,
            record.away.abbreviation,
        )
