"""Upstream economy over whole replayed games: the edge policy (the default) loses nothing and
costs far fewer requests and bytes than the seed's fixed cadences; over a slate of games the one
ESPN budget is never exceeded at the replay server, and sentinels wait least."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from logs import in_game_order
from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.events import EventType, StoredEvent
from pressbox.domain.lifecycle import StreamStatus
from pressbox.replay.faults import RequestLog, document_of
from pressbox.replay.games import slate
from pressbox.replay.plan import RecordedGame, plan_replay
from pressbox.replay.record import GameRecord
from pressbox.replaying import prepare_streams, replay_upstream, stream_games
from pressbox.runtime import Runtime, open_runtime
from pressbox.sources.budget import Priority

NFL = "games/nfl-401547417/summary.json"
NBA = "games/nba-401772994/summary.json"
NCAAF = "espn-docs/EspnFootballNcaa"


@dataclass
class Outcome:
    results: dict[str, StreamStatus]
    logs: dict[str, list[StoredEvent]]
    games: dict[str, dict[str, Any] | None]
    requests: RequestLog
    bytes: int
    skipped: int
    budget: dict[str, dict[str, float | int]]


async def replay(
    tmp_path: Path, records: list[GameRecord], policy: str, speed: float, **settings: Any
) -> Outcome:
    """Stream `records` to their end through the replay server with the fetch `policy`."""
    origin = min(r.start_time for r in records) - timedelta(minutes=5)
    clock = ScaledClock(origin, speed)
    config = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/{policy}.db", fetch_policy=policy, **settings
    )
    games = [RecordedGame(r.sport, r.league, r.id) for r in records]
    requests = RequestLog()
    async with (
        replay_upstream(None, clock, records, request_log=requests) as url,
        open_runtime(config, clock, url) as runtime,
    ):
        await prepare_streams(runtime, games)
        results = await stream_games(runtime, games)
        logs = {g.id: await runtime.store.events_since(g.id, 0, 1_000_000) for g in games}
        rows = {g.id: await runtime.store.game(g.id) for g in games}
        http = runtime.espn.http
        budget = http.budget.stats_json()
        return Outcome(
            results,
            logs,
            rows,
            requests,
            http.stats.total("bytes"),
            http.stats.total("skipped"),
            budget,
        )


def assert_complete(outcome: Outcome, record: GameRecord) -> None:
    """Every play and probability point once, gap-free, and the final score, status and teams."""
    assert outcome.results[record.id] is StreamStatus.COMPLETED
    log = outcome.logs[record.id]
    added = Counter(e.data["id"] for e in log if e.type is EventType.PLAY_ADDED)
    assert added == Counter(p.id for p in record.plays), record.id
    points = Counter(e.data["play_id"] for e in log if e.type is EventType.PROBABILITY)
    assert points == Counter(p.play_id for p in record.probabilities), record.id
    assert [e.seq for e in log] == list(range(1, len(log) + 1)), record.id
    scores = [e.data for e in log if e.type is EventType.SCORE]
    assert (scores[-1]["home"], scores[-1]["away"]) == (record.home.score, record.away.score)
    assert not [e for e in log if e.type is EventType.PLAY_REMOVED]
    game = outcome.games[record.id]
    assert game is not None
    assert (game["home"]["score"], game["away"]["score"]) == (record.home.score, record.away.score)
    assert game["status"]["name"] == record.final_status and game["status"]["completed"]
    assert (game["home"]["abbreviation"], game["away"]["abbreviation"]) == (
        record.home.abbreviation,
        record.away.abbreviation,
    )


async def test_edge_costs_far_fewer_requests_and_bytes_than_seed_for_the_same_events(
    tmp_path: Path, recordings_dir: Path
) -> None:
    """Two copies of one NFL game replayed side by side on one clock and one replay server, one
    followed by a seed runtime and one by an edge runtime, through 40 minutes of play at 60x
    (faster replays lag the seed's cadences, which would flatter it)."""
    record = plan_replay([recordings_dir / NFL]).records[0]
    seed_game, edge_game = slate(record, 2, timedelta(0))
    speed, span = 60.0, timedelta(minutes=40)
    clock = ScaledClock(record.start_time + timedelta(minutes=30), speed)
    requests = RequestLog()
    configs = {
        policy: load_settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/{policy}.db", fetch_policy=policy
        )
        for policy in ("seed", "edge")
    }
    runtimes: dict[str, Runtime] = {}

    async def follow(policy: str, game: GameRecord) -> None:
        games = [RecordedGame(game.sport, game.league, game.id)]
        await prepare_streams(runtimes[policy], games)
        await stream_games(runtimes[policy], games)

    # The runtimes open one after the other (each migrates its database), then run together.
    async with (
        replay_upstream(None, clock, [seed_game, edge_game], request_log=requests) as url,
        open_runtime(configs["seed"], clock, url) as runtimes["seed"],
        open_runtime(configs["edge"], clock, url) as runtimes["edge"],
    ):
        following = asyncio.gather(follow("seed", seed_game), follow("edge", edge_game))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(following, span.total_seconds() / speed)
        figures = {}
        for policy, game in (("seed", seed_game), ("edge", edge_game)):
            runtime = runtimes[policy]
            core, site = runtime.espn.http.stats, runtime.scoreboards.http.stats
            mine = [
                e
                for e in requests.entries
                if f"/events/{game.id}" in e.path
                # the scoreboard is the edge policy's sentinel
                or (policy == "edge" and e.path.endswith("/scoreboard"))
            ]
            plays, in_order = in_game_order(await runtime.store.events_since(game.id, 0, 1_000_000))
            # Points of delivered plays: when the replay stops, a stream may hold the point of a
            # play its plays document has not shown yet (probabilities read after plays).
            known = set(plays)
            points = [p["play_id"] for p in in_order if p["play_id"] in known]
            figures[policy] = (
                len(mine),
                core.total("bytes") + site.total("bytes"),
                Counter(document_of(e.path) for e in mine),
                # ids embed the game's: the copies' own ids, without it, are the same
                [play.replace(game.id, "") for play in plays],
                [p.replace(game.id, "") for p in points],
            )
    (seed_n, seed_bytes, seed_docs, seed_plays, seed_points) = figures["seed"]
    (edge_n, edge_bytes, edge_docs, edge_plays, edge_points) = figures["edge"]
    print(
        f"\nNFL {record.id}, {span} of play at {speed:.0f}x: seed {seed_n} requests, "
        f"{seed_bytes / 1e6:.1f} MB; edge {edge_n} requests, {edge_bytes / 1e6:.1f} MB "
        f"({seed_n / edge_n:.1f}x fewer requests, {seed_bytes / edge_bytes:.1f}x fewer bytes); "
        f"{len(seed_plays)} and {len(edge_plays)} plays"
    )
    print("seed by document:", dict(seed_docs))
    print("edge by document:", dict(edge_docs))
    assert len(seed_plays) > 50
    # The same plays and points, never different. When the replay stops, either runtime may be a
    # few behind the other (each reads on its own timers, and a loaded machine delays one of them).
    for edge_log, seed_log in ((edge_plays, seed_plays), (edge_points, seed_points)):
        shorter, longer = sorted((edge_log, seed_log), key=len)
        assert shorter == longer[: len(shorter)] and len(shorter) >= len(longer) - 4
    assert edge_n * 2 <= seed_n
    assert edge_bytes * 5 <= seed_bytes


async def test_a_slate_stays_inside_the_budget_and_sentinels_go_first(
    tmp_path: Path, recordings_dir: Path
) -> None:
    record = plan_replay([recordings_dir / NBA]).records[0]
    games = slate(record, 5, timedelta(minutes=2))
    rate, burst = 0.2, 2  # saturated: the slate asks for about 0.25 requests a second
    outcome = await replay(tmp_path, games, "edge", speed=400, espn_rate=rate, espn_burst=burst)
    for game in games:
        assert_complete(outcome, game)

    entries = outcome.requests.entries
    # One budget per host: the core API's, and the site API's (the league scoreboard).
    hosts = {
        "core": sorted(e.at for e in entries if not e.path.endswith("/scoreboard")),
        "site": sorted(e.at for e in entries if e.path.endswith("/scoreboard")),
    }
    window, slack = 300.0, 5  # slack: loopback transit at 400x moves arrivals by a few seconds
    for host, times in hosts.items():
        worst = max(
            sum(1 for t in times[i:] if (t - first).total_seconds() < window)
            for i, first in enumerate(times)
        )
        span = (times[-1] - times[0]).total_seconds()
        print(
            f"\nslate of {len(games)} NBA games, {host} host: {len(times)} requests over "
            f"{span:.0f} s; busiest {window:.0f} s window: {worst} "
            f"(budget {burst} + {rate * window:.0f})"
        )
        assert worst <= burst + rate * window + slack, host
        assert len(times) <= burst + rate * span + slack, host
    print("core budget by priority:", outcome.budget)
    sentinel = outcome.budget[Priority.SENTINEL.name.lower()]
    live = outcome.budget[Priority.LIVE.name.lower()]
    assert sentinel["waited"] / sentinel["granted"] <= live["waited"] / live["granted"]


@pytest.mark.parametrize("source", [NCAAF, NFL, NBA], ids=["ncaaf", "nfl", "nba"])
async def test_a_whole_game_of_each_sport_is_complete_with_the_default_policy(
    tmp_path: Path, recordings_dir: Path, source: str
) -> None:
    """A whole game through the replay server with the default settings (edge policy, budget
    1 request per second): every play and probability point once, the final score, and many
    plays first shown from the scoreboard (football: most; basketball's bursts of plays in one
    second show only their last), completed by the plays document."""
    assert load_settings().fetch_policy == "edge"
    record = plan_replay([recordings_dir / source]).records[0]
    outcome = await replay(tmp_path, [record], "edge", speed=300)
    assert_complete(outcome, record)
    log = outcome.logs[record.id]
    added = [e.data for e in log if e.type is EventType.PLAY_ADDED]
    previews = sum(1 for play in added if play.get("preview"))
    late = sum(1 for play in added if play.get("before"))
    print(f"{record.id}: {len(added)} plays, {previews} from the board, {late} placed before")
    # A sampled share: a busy machine lags the board polls at 300x. Seen in full runs of the
    # suite on 2 cores, 4 test processes: NFL 74 %; NBA 15 % and 25 % (32 % with 2 processes).
    assert previews >= len(added) * (0.4 if record.sport == "football" else 0.1)
    # Nothing but a preview's completion is a correction here (finished games are final).
    assert all(e.data.get("completes") for e in log if e.type is EventType.PLAY_CORRECTED)
    # The situation document is not read while the board serves (football): on its own cadence
    # it would be read every 5 s of the game; a lagging board (a busy machine) lets a few reads
    # through (NFL: 40 to 58 of the ~2,500 its cadence would make, in full runs of the suite).
    entries = outcome.requests.entries
    span = (max(e.at for e in entries) - min(e.at for e in entries)).total_seconds()
    situations = [e for e in entries if document_of(e.path) == "situation"]
    print(f"{len(situations)} situation reads; {span / 5:.0f} on its cadence")
    assert len(situations) <= 0.05 * span / 5, (len(situations), span)
