"""Upstream economy: what following a slate of live games costs ESPN, and how fresh it stays.

Replays a simulated slate — the three football recordings (NFL site summary, NCAAF core-API
document set, NFL CDN package) served under many ids with staggered starts — on the replay
server (`bench/_upstream_server.py`, a process of its own), and follows every game with a
`StreamRunner` under the ESPN budget (1 request per replay second, burst 5, per host), once per
fetch policy in the same run:

- seed:  the seed's fixed cadences (every document on its own timer);
- edge:  the default policy (`PRESSBOX_FETCH_POLICY=edge`);
- seed and edge, no budget (references): each policy's own request rate: the seed's on a few
  games of the slate (its cost per game does not depend on the slate: nothing is shared), the
  edge's on the whole slate (its league scoreboard is shared by every game of the league, so a
  few games would charge each one a third of a board); the reductions compare these two per
  game-hour (under the budget a saturated policy's count is the budget's, not its own), and the
  budgeted edge against the unbudgeted seed beside them.

Per run it measures, against the records (what ESPN said and when):

- completeness: every play (`play_added`), correction (`play_corrected`; the recordings carry
  none) and probability point of each game delivered exactly once, for all items revealed
  upstream by the end of the window (less a settling minute); a play first delivered from the
  scoreboard (a preview) whose full record differs in a shown field is re-sent as a
  `play_corrected` with `completes`: counted apart (`previews_completed`), not as a correction;
- staleness per play and probability event: replay time the item appeared upstream (its play's
  wall clock, as a running maximum: when the replay server reveals it) -> the event committed
  (stamped when the streamer publishes it, right after its commit): p50, p95, max;
- requests and bytes (response bodies) per game-hour, in total and per document type, as the
  replay server received them; game-hours: each game's span from start to final, within the
  window;
- the runner's CPU seconds per game-hour (this process; the replay server's CPU is its own);
- the budget: most requests in any 10 s of replay time, per host, against rate x 10 + burst;
- lag: how late each process's event loop wakes (replay seconds): figures of a replay that lags
  are not the policy's.

    .venv/bin/python bench/upstream.py                       # 60 games, the whole slate
    .venv/bin/python bench/upstream.py --games 6 --minutes 30 --speed 30
    .venv/bin/python bench/upstream.py --quick

Progress on stderr; on stdout each run's table as soon as it finishes, then the comparison
tables and one JSON line (`{"bench": "upstream", ...}`) last. Exits 1
when a target of the default policy is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _upstream_server import LEAD, AnchoredClock, LoopLag, origin_of, slate_records
from pressbox.config import Settings, load_settings
from pressbox.domain.events import EventType
from pressbox.replay.faults import document_of
from pressbox.replay.record import GameRecord
from pressbox.replay.timeline import FINAL_DELAY
from pressbox.runtime import open_runtime
from pressbox.store import GameInfo, TeamInfo
from pressbox.streaming.runner import StreamRunner

SERVER = Path(__file__).resolve().parent / "_upstream_server.py"
RATE, BURST = 1.0, 5  # the ESPN budget: requests per replay second, per host
WINDOW = 10.0  # replay seconds of the sliding window the budget is checked over
SETTLE = 60.0  # items revealed this close to the window's end may still be in flight
TARGETS = {
    "concurrent_games": 60,
    "completeness": 1.0,
    "staleness_p50": 10.0,
    "staleness_p95": 20.0,
    "requests_reduction": 0.80,
    "bytes_reduction": 0.95,
    "cpu_per_game_hour": 2.0,
}
LAGGED = 2.0  # replay seconds of p95 event loop lag above which a replay is said to lag


@dataclass(frozen=True)
class Run:
    """One replay: a policy (None: the streamer as it is), how many games, budgeted or not."""

    name: str
    policy: str | None
    games: int
    budgeted: bool = True


@dataclass
class Outcome:
    """What one replay measured."""

    run: Run
    records: list[GameRecord]
    start: float  # replay seconds since the origin
    end: float
    requests: list[tuple[float, str, int, int]]  # (replay s, path, status, bytes)
    events: dict[str, list[Any]]  # game id -> its stored events
    stamps: dict[tuple[str, int], float]  # (game, seq) -> replay s published
    admitted: dict[str, list[float]]  # budget -> replay s of each token granted
    statuses: dict[str, str]
    takeovers: int  # streams taken over after a lost lease or a crash (retry counts)
    runner_cpu: float
    server_cpu: float
    runner_lag: list[float]
    server_lag: list[float]
    wall: float
    timed_out: bool
    figures: dict[str, Any] = field(default_factory=dict)


class StampingBus:
    """The runtime's bus, noting when each event was published (just after its commit)."""

    def __init__(self, inner: Any, clock: AnchoredClock) -> None:
        self.inner = inner
        self.clock = clock
        self.stamps: dict[tuple[str, int], float] = {}

    async def publish(self, game_id: str, batch: Any) -> None:
        now = self.clock.elapsed()
        for event in batch:
            self.stamps[(game_id, event.seq)] = now
        await self.inner.publish(game_id, batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def stamp_admissions(budgets: list[Any], clock: AnchoredClock) -> dict[str, list[float]]:
    """Note the replay time of every token each budget grants (the client's side of the budget
    check: arrivals at the server also carry the runner's event loop delays)."""
    admitted: dict[str, list[float]] = {}
    for name, budget in budgets:
        times = admitted[name] = []
        acquire = budget.acquire

        async def stamped(
            *args: Any, _acquire: Any = acquire, _times: Any = times, **kwargs: Any
        ) -> Any:
            result = await _acquire(*args, **kwargs)
            _times.append(clock.elapsed())
            return result

        budget.acquire = stamped
    return admitted


class ReplayServer:
    """bench/_upstream_server.py in a subprocess serving the slate on the shared clock."""

    def __init__(self, games: int, stagger: float, speed: float, anchor: float, log: Path):
        self.log = log
        command = [sys.executable, str(SERVER), "--games", str(games), "--stagger", str(stagger)]
        command += ["--speed", str(speed), "--anchor", repr(anchor), "--log", str(log)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    async def url(self, within: float = 120.0) -> str:
        """Its base URL, once it listens (at most `within` seconds from now)."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), within)
        if not line:
            raise RuntimeError(f"the replay server exited ({self.process.wait()})")
        return str(json.loads(line)["url"])

    def finish(self, timeout: float = 60.0) -> dict[str, Any]:
        """Close its input (it then writes its log and exits); its log."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return {"requests": [], "cpu_seconds": float("nan"), "loop_lag": []}
        report: dict[str, Any] = json.loads(self.log.read_text())
        return report

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def reveals(record: GameRecord) -> list[datetime]:
    """When each play comes out upstream: a running maximum of wall clocks (`timeline.py`)."""
    return list(accumulate((p.wallclock for p in record.plays), max))


def final_at(record: GameRecord) -> datetime:
    return reveals(record)[-1] + FINAL_DELAY


def settings_for(run: Run, database: Path) -> Settings:
    overrides: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{database}",
        "espn_rate": RATE if run.budgeted else 10_000.0,
        "espn_burst": BURST if run.budgeted else 100,
        "markets": "off",
        "log_level": "ERROR",
    }
    if run.policy is not None:
        overrides["fetch_policy"] = run.policy
    return load_settings(**overrides)


async def replay(run: Run, args: argparse.Namespace, tmp: Path, progress: Progress) -> Outcome:
    """Follow `run.games` games of the slate from the origin to the window's end (or until every
    stream ended); the figures are computed afterwards."""
    records = slate_records(run.games, timedelta(minutes=args.stagger))
    origin = origin_of(records)
    last_final = max((final_at(r) - origin).total_seconds() for r in records)
    end = args.minutes * 60 if args.minutes else last_final + 300
    anchor = time.monotonic()
    clock = AnchoredClock(origin, args.speed, anchor)
    server = ReplayServer(run.games, args.stagger, args.speed, anchor, tmp / "requests.json")
    bound = end / args.speed * 2 + 120
    task = progress.add_task(run.name, total=end)
    lag = LoopLag(args.speed)
    probe = asyncio.create_task(lag.run())
    timed_out = False
    try:
        url = await server.url()
        async with open_runtime(settings_for(run, tmp / "bench.db"), clock, url) as runtime:
            bus = StampingBus(runtime.bus, clock)
            runtime.bus = bus  # type: ignore[assignment]
            budgets = [("core", runtime.espn.http.budget)]
            if runtime.scoreboards.http.budget is not runtime.espn.http.budget:
                budgets.append(("site", runtime.scoreboards.http.budget))
            admitted = stamp_admissions(budgets, clock)
            for record in records:
                await create_stream(runtime, record, clock.now())
            ids = [r.id for r in records]
            # The runner's CPU from here (not the migrations and imports before).
            cpu, wall = time.process_time(), time.monotonic()
            lag.samples.clear()
            async with StreamRunner(runtime, max_concurrent=len(ids), games=ids) as runner:
                claiming = asyncio.create_task(runner.run_forever())
                try:
                    timed_out = not await follow(runtime, ids, clock, end, bound, progress, task)
                finally:
                    claiming.cancel()
                    await asyncio.gather(claiming, return_exceptions=True)
            stopped = clock.elapsed()
            runner_cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            events = {i: await runtime.store.events_since(i, 0, 1_000_000) for i in ids}
            streams = {i: await runtime.store.stream(i) for i in ids}
        log = await asyncio.to_thread(server.finish)
    finally:
        probe.cancel()
        server.kill()
    progress.update(task, completed=end)
    return Outcome(
        run=run,
        records=records,
        start=0.0,
        end=min(stopped, end),
        requests=[tuple(r) for r in log["requests"]],  # type: ignore[misc]
        events=events,
        stamps=bus.stamps,
        admitted=admitted,
        statuses={i: str(s.status) if s else "none" for i, s in streams.items()},
        takeovers=sum(s.retry_count for s in streams.values() if s),
        runner_cpu=runner_cpu,
        server_cpu=log["cpu_seconds"],
        runner_lag=lag.samples,
        server_lag=log["loop_lag"],
        wall=wall,
        timed_out=timed_out,
    )


async def create_stream(runtime: Any, record: GameRecord, now: datetime) -> None:
    """The game's row and its stream, due `LEAD` before the start (as the scheduler makes it)."""
    info = GameInfo(
        record.id,
        record.sport,
        record.league,
        "",
        "",
        record.start_time,
        TeamInfo(""),
        TeamInfo(""),
    )
    await runtime.store.upsert_game(info, now, replace=False)
    await runtime.store.ensure_stream(record.id, record.start_time - LEAD, now)


async def follow(
    runtime: Any,
    ids: list[str],
    clock: AnchoredClock,
    end: float,
    bound: float,
    progress: Progress,
    task: Any,
) -> bool:
    """Until the window's end or every stream ended; False when the wall-time bound ran out."""
    began = time.monotonic()
    checked = 0.0
    while clock.elapsed() < end:
        progress.update(task, completed=min(clock.elapsed(), end))
        if time.monotonic() - began > bound:
            return False
        if time.monotonic() - checked > 2.0:
            checked = time.monotonic()
            found = [await runtime.store.stream(i) for i in ids]
            if all(s is not None and s.status.is_final for s in found):
                return True
        await asyncio.sleep(0.25)
    return True


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` within any half-open span of `window` seconds."""
    ordered, best, low = sorted(times), 0, 0
    for high, at in enumerate(ordered):
        while ordered[low] <= at - window:
            low += 1
        best = max(best, high - low + 1)
    return best


def host_of(path: str) -> str:
    return "site" if path.startswith("/apis/site/") else "core"


def kind_of(path: str) -> str:
    return "scoreboard" if path.rstrip("/").endswith("/scoreboard") else document_of(path)


def game_hours(records: list[GameRecord], origin: datetime, start: float, end: float) -> float:
    """Each game's span from its start to its final, within [start, end] replay seconds."""
    total = 0.0
    for record in records:
        first = (record.start_time - origin).total_seconds()
        last = (final_at(record) - origin).total_seconds()
        total += max(0.0, min(last, end) - max(first, start))
    return total / 3600


def concurrent_games(records: list[GameRecord], origin: datetime, end: float) -> int:
    """The most games live (started, not final) at once within the window."""
    marks = []
    for record in records:
        first = (record.start_time - origin).total_seconds()
        last = min((final_at(record) - origin).total_seconds(), end)
        if first < last:
            marks += [(first, 1), (last, -1)]
    return max(accumulate(step for _, step in sorted(marks)), default=0)


def completeness(outcome: Outcome) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """Items delivered exactly once against the records; the staleness of each delivered one."""
    origin = origin_of(outcome.records)
    horizon = outcome.end - SETTLE
    tally: Counter[str] = Counter()
    staleness: dict[str, list[float]] = {"plays": [], "probabilities": []}
    for record in outcome.records:
        out = [(t - origin).total_seconds() for t in reveals(record)]
        index = {p.id: i for i, p in enumerate(record.plays)}
        plays = {p.id: out[i] for i, p in enumerate(record.plays)}
        probabilities = {p.play_id: out[index[p.play_id]] for p in record.probabilities}
        probabilities = {k: v for k, v in probabilities.items() if k in index}
        added: Counter[str] = Counter()
        points: Counter[str] = Counter()
        committed: dict[tuple[str, str], float] = {}
        for event in outcome.events[record.id]:
            at = outcome.stamps.get((record.id, event.seq))
            if at is None:
                at = (event.at - origin).total_seconds()
            if event.type is EventType.PLAY_ADDED:
                added[event.data["id"]] += 1
                committed.setdefault(("play", event.data["id"]), at)
            elif event.type is EventType.PLAY_CORRECTED and event.data.get("completes"):
                # The full record of a play first shown from the scoreboard, differing in a
                # shown field: not an upstream correction (counted apart).
                tally["previews_completed"] += 1
            elif event.type is EventType.PLAY_CORRECTED:
                tally["corrections_delivered"] += 1
            elif event.type is EventType.PROBABILITY:
                key = event.data.get("play_id") or event.data["id"]
                points[key] += 1
                committed.setdefault(("prob", key), at)
        for name, wanted, got in (
            ("plays", plays, added),
            ("probabilities", probabilities, points),
        ):
            short = "play" if name == "plays" else "prob"
            for item, revealed in wanted.items():
                if revealed > outcome.end:
                    continue  # not out yet when the replay stopped
                if revealed <= horizon:
                    tally[f"{name}_expected"] += 1
                    tally[f"{name}_exact"] += got[item] == 1
                    tally[f"{name}_missing"] += got[item] == 0
                if got[item]:
                    staleness[name].append(committed[(short, item)] - revealed)
                else:
                    tally[f"{name}_pending_age_max"] = max(
                        tally[f"{name}_pending_age_max"], round(outcome.end - revealed)
                    )
            tally[f"{name}_duplicates"] += sum(n - 1 for n in got.values() if n > 1)
            tally[f"{name}_unknown"] += sum(1 for item in got if item not in wanted)
    expected = tally["plays_expected"] + tally["probabilities_expected"]
    exact = tally["plays_exact"] + tally["probabilities_exact"]
    result: dict[str, Any] = dict(sorted(tally.items()))
    result["corrections_expected"] = 0  # a finished game's plays are final: none recorded
    result["corrections_delivered"] = tally["corrections_delivered"]
    clean = not (
        tally["plays_duplicates"]
        or tally["probabilities_duplicates"]
        or tally["plays_unknown"]
        or tally["probabilities_unknown"]
        or tally["corrections_delivered"]
    )
    result["ratio"] = round(exact / expected, 4) if expected and clean else 0.0
    return result, staleness


def measure(outcome: Outcome) -> dict[str, Any]:
    """Every figure of one replay."""
    origin = origin_of(outcome.records)
    hours = game_hours(outcome.records, origin, outcome.start, outcome.end)
    complete, staleness = completeness(outcome)
    requests = [r for r in outcome.requests if r[0] <= outcome.end]
    by_kind: Counter[str] = Counter()
    bytes_by_kind: Counter[str] = Counter()
    by_host: dict[str, list[float]] = defaultdict(list)
    for at, path, _, size in requests:
        by_kind[kind_of(path)] += 1
        bytes_by_kind[kind_of(path)] += size
        by_host[host_of(path)].append(at)
    windows = {host: max_in_window(times, WINDOW) for host, times in sorted(by_host.items())}
    minutes = {host: max_in_window(times, 60.0) for host, times in sorted(by_host.items())}
    combined = max_in_window([r[0] for r in requests], WINDOW)
    granted = {n: [t for t in times if t <= outcome.end] for n, times in outcome.admitted.items()}
    admitted = {name: max_in_window(times, WINDOW) for name, times in granted.items()}
    admitted_60s = {name: max_in_window(times, 60.0) for name, times in granted.items()}
    allowed = RATE * WINDOW + BURST
    lag = {
        who: {"p50": _round(percentile(samples, 0.5)), "p95": _round(percentile(samples, 0.95))}
        | {"max": _round(max(samples, default=0.0))}
        for who, samples in (("runner", outcome.runner_lag), ("server", outcome.server_lag))
    }
    per_hour = (lambda n: round(n / hours, 1)) if hours else (lambda n: None)
    return {
        "policy": outcome.run.policy or "current streamer",
        "games": len(outcome.records),
        "budgeted": outcome.run.budgeted,
        "window_minutes": round((outcome.end - outcome.start) / 60, 1),
        "concurrent_games": concurrent_games(outcome.records, origin, outcome.end),
        "game_hours": round(hours, 2),
        "completeness": complete,
        "staleness": spread(staleness["plays"] + staleness["probabilities"])
        | {kind: spread(values) for kind, values in staleness.items()},
        "requests": len(requests),
        "bytes": sum(r[3] for r in requests),
        "errors": sum(1 for r in requests if r[2] >= 400),
        "requests_per_game_hour": per_hour(len(requests)),
        "bytes_per_game_hour": per_hour(sum(r[3] for r in requests)),
        "requests_per_game_hour_by_document": {k: per_hour(n) for k, n in by_kind.most_common()},
        "bytes_per_game_hour_by_document": {k: per_hour(n) for k, n in bytes_by_kind.most_common()},
        "request_rate": round(len(requests) / max(1.0, outcome.end - outcome.start), 3),
        "budget": {
            "rate": RATE if outcome.run.budgeted else None,
            "burst": BURST if outcome.run.budgeted else None,
            "window_seconds": WINDOW,
            "allowed_in_window": allowed,
            "max_in_window_by_host": windows,
            "max_in_window_combined": combined,
            "max_in_60s_by_host": minutes,
            "allowed_in_60s": RATE * 60 + BURST,
            "max_admitted_in_window_by_budget": admitted,
            "within_per_host": all(n <= allowed for n in windows.values()),
            "within_per_host_60s": all(n <= RATE * 60 + BURST for n in minutes.values()),
            "max_admitted_in_60s_by_budget": admitted_60s,
            "admitted": {name: len(times) for name, times in granted.items()},
            "arrived": {host: len(times) for host, times in sorted(by_host.items())},
            # Every request the server got took a token (a budget shared by both hosts: "core").
            "all_admitted": sum(len(t) for t in by_host.values())
            <= sum(len(t) for t in granted.values())
            and all(len(t) <= len(granted.get(h, t)) for h, t in by_host.items()),
            "within_admitted": all(n <= allowed for n in admitted.values())
            and all(n <= RATE * 60 + BURST for n in admitted_60s.values()),
            "within_combined": combined <= allowed,
        },
        "runner_cpu_seconds": round(outcome.runner_cpu, 2),
        "cpu_per_game_hour": round(outcome.runner_cpu / hours, 3) if hours else None,
        "server_cpu_seconds": _round(outcome.server_cpu),
        "loop_lag_replay_seconds": lag,
        "lagged": any((v["p95"] or 0) > LAGGED for v in lag.values()),
        "streams": dict(Counter(outcome.statuses.values())),
        "takeovers": outcome.takeovers,
        "wall_seconds": round(outcome.wall, 1),
        "timed_out": outcome.timed_out,
    }


def spread(values: list[float]) -> dict[str, Any]:
    """Count, p50, p95, max and mean of `values` (seconds)."""
    return {
        "events": len(values),
        "p50": _round(percentile(values, 0.5)),
        "p95": _round(percentile(values, 0.95)),
        "max": _round(max(values, default=0.0)),
        "mean": _round(statistics.fmean(values)) if values else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None or value != value else round(value, 2)


def targets(figures: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The default policy's targets, met or not (None: not measured in this run)."""
    edge = figures.get("edge")
    if edge is None:
        return {}
    base = figures.get("seed (no budget)") or figures.get("seed")
    own = figures.get("edge (no budget)") if "seed (no budget)" in figures else None
    staleness = edge["staleness"]

    def ratio(key: str) -> float | None:
        ours = (own or edge)[key]
        if not base or not base[key] or ours is None:
            return None
        return round(1 - ours / base[key], 3)

    checks = {
        "concurrent_games": (edge["concurrent_games"], edge["concurrent_games"] >= 60),
        "within_budget": (
            {
                "arrived_10s": edge["budget"]["max_in_window_by_host"],
                "arrived_60s": edge["budget"]["max_in_60s_by_host"],
                "admitted_10s": edge["budget"]["max_admitted_in_window_by_budget"],
            },
            edge["budget"]["within_admitted"] and edge["budget"]["all_admitted"],
        ),
        "completeness": (edge["completeness"]["ratio"], edge["completeness"]["ratio"] >= 1.0),
        "staleness_p50": (staleness["p50"], _at_most(staleness["p50"], 10.0)),
        "staleness_p95": (staleness["p95"], _at_most(staleness["p95"], 20.0)),
        "requests_reduction": (r := ratio("requests_per_game_hour"), _at_least(r, 0.80)),
        "bytes_reduction": (b := ratio("bytes_per_game_hour"), _at_least(b, 0.95)),
        "cpu_per_game_hour": (edge["cpu_per_game_hour"], _at_most(edge["cpu_per_game_hour"], 2.0)),
        "not_lagged": (not edge["lagged"], not edge["lagged"]),
    }
    return {name: {"value": value, "met": met} for name, (value, met) in checks.items()}


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def summary_table(figures: dict[str, dict[str, Any]], met: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Upstream economy: the slate under each policy")
    table.add_column("figure")
    for name in figures:
        table.add_column(name, justify="right")
    table.add_column("target (edge)", justify="right")
    rows: list[tuple[str, str, Any]] = [
        ("games / concurrent", "", lambda f: f"{f['games']} / {f['concurrent_games']}"),
        ("window min / game-hours", "", lambda f: f"{f['window_minutes']} / {f['game_hours']}"),
        ("completeness", "completeness", lambda f: _complete(f["completeness"])),
        ("staleness p50 s", "staleness_p50", lambda f: f["staleness"]["p50"]),
        ("staleness p95 s", "staleness_p95", lambda f: f["staleness"]["p95"]),
        ("staleness max s", "", lambda f: f["staleness"]["max"]),
        ("requests / game-hour", "requests_reduction", lambda f: f["requests_per_game_hour"]),
        ("KB / game-hour", "bytes_reduction", lambda f: _kb(f["bytes_per_game_hour"])),
        ("request rate / replay s", "", lambda f: f["request_rate"]),
        ("requests, bytes vs seed (no budget)", "", lambda f: _versus(f, figures)),
        ("most in 10 s: arrived (admitted)", "within_budget", _windows),
        ("most in 60 s: arrived", "", _minutes),
        ("runner CPU s / game-hour", "cpu_per_game_hour", lambda f: f["cpu_per_game_hour"]),
        ("server CPU s", "", lambda f: f["server_cpu_seconds"]),
        ("loop lag p95 (runner, server)", "not_lagged", _lag),
        ("streams at the end", "", _streams),
        ("wall s", "", lambda f: f"{f['wall_seconds']}{' (timed out)' if f['timed_out'] else ''}"),
    ]
    for label, target, value in rows:
        check = met.get(target)
        mark = "" if check is None else _mark(target, check)
        table.add_row(label, *(str(value(f)) for f in figures.values()), mark)
    return table


def _complete(c: dict[str, Any]) -> str:
    exact = c.get("plays_exact", 0) + c.get("probabilities_exact", 0)
    expected = c.get("plays_expected", 0) + c.get("probabilities_expected", 0)
    return f"{c['ratio']:.1%} ({exact}/{expected})"


def _versus(f: dict[str, Any], figures: dict[str, dict[str, Any]]) -> str:
    base = figures.get("seed (no budget)")
    if not base or not base["requests_per_game_hour"] or not base["bytes_per_game_hour"]:
        return "-"
    requests = (f["requests_per_game_hour"] or 0) / base["requests_per_game_hour"] - 1
    sent = (f["bytes_per_game_hour"] or 0) / base["bytes_per_game_hour"] - 1
    return f"{requests:+.1%}, {sent:+.1%}"


def _streams(f: dict[str, Any]) -> str:
    shown = ", ".join(f"{status} {n}" for status, n in f["streams"].items())
    return shown + (f"; {f['takeovers']} takeover(s)" if f["takeovers"] else "")


def _kb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:,.0f}"


def _windows(f: dict[str, Any]) -> str:
    budget = f["budget"]
    hosts, admitted = budget["max_in_window_by_host"], budget["max_admitted_in_window_by_budget"]
    shown = [f"{h} {n} ({admitted.get(h, '-')})" for h, n in hosts.items()]
    return f"{', '.join(shown)} ≤{budget['allowed_in_window']:g}"


def _minutes(f: dict[str, Any]) -> str:
    budget = f["budget"]
    shown = [f"{host} {n}" for host, n in budget["max_in_60s_by_host"].items()]
    return f"{', '.join(shown)} ≤{budget['allowed_in_60s']:g}"


def _lag(f: dict[str, Any]) -> str:
    lag = f["loop_lag_replay_seconds"]
    return f"{lag['runner']['p95']}, {lag['server']['p95']}"


def _mark(name: str, check: dict[str, Any]) -> str:
    limits = {
        "completeness": "100 %",
        "staleness_p50": "≤ 10",
        "staleness_p95": "≤ 20",
        "requests_reduction": "-80 %",
        "bytes_reduction": "-95 %",
        "within_budget": "≤ budget",
        "cpu_per_game_hour": "≤ 2",
        "not_lagged": f"p95 ≤ {LAGGED:g}",
    }
    verdict = {True: "met", False: "MISSED", None: "n/a"}[check["met"]]
    value = check["value"]
    shown = f" ({-value:+.1%})" if name.endswith("reduction") and value is not None else ""
    return f"{limits.get(name, '')} {verdict}{shown}"


def documents_table(figures: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Requests and KB per game-hour, per document")
    table.add_column("document")
    for name in figures:
        table.add_column(f"{name} req", justify="right")
        table.add_column(f"{name} KB", justify="right")
    kinds = sorted(
        {k for f in figures.values() for k in f["requests_per_game_hour_by_document"]},
        key=lambda k: (
            -max(f["requests_per_game_hour_by_document"].get(k) or 0 for f in figures.values())
        ),
    )
    for kind in kinds:
        cells = []
        for f in figures.values():
            cells.append(str(f["requests_per_game_hour_by_document"].get(kind, "-")))
            cells.append(_kb(f["bytes_per_game_hour_by_document"].get(kind)))
        table.add_row(kind, *cells)
    return table


def runs_for(args: argparse.Namespace, console: Console) -> list[Run]:
    """The replays to make, saying which policies this streamer offers."""
    has_setting = "fetch_policy" in Settings.model_fields
    wanted = [p.strip() for p in args.policies.split(",") if p.strip()]
    runs: list[Run] = []
    if has_setting:
        console.print(f"fetch policies: Settings.fetch_policy is available; running {wanted}")
        runs += [Run(p, p, args.games) for p in wanted]
    else:
        console.print(
            "[bold yellow]fetch policies: Settings has no fetch_policy: only the current "
            "streamer (seed-like fixed cadences) runs, as 'seed'; edge is NOT available[/]"
        )
        runs += [Run("seed", None, args.games)] if "seed" in wanted else []
    for policy in wanted:
        # The seed's cost per game does not depend on the slate (nothing is shared): a few
        # games show it. The edge policy's shared scoreboard costs per league, not per game: its
        # demand is measured on the whole slate (affordable without a budget).
        count = args.reference_games if policy == "seed" else args.edge_reference_games
        references = min(args.games if count is None else count, args.games)
        if references and (has_setting or policy == "seed"):
            name = f"{policy} (no budget)"
            runs.append(Run(name, policy if has_setting else None, references, False))
    return runs


async def main(args: argparse.Namespace) -> dict[str, Any]:
    console = Console(stderr=True)
    runs = runs_for(args, console)
    figures: dict[str, dict[str, Any]] = {}
    out = Console() if sys.stdout.isatty() else Console(width=160)  # a file: room for columns
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
    )
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        for run in runs:
            with tempfile.TemporaryDirectory(prefix="pressbox-upstream-") as tmp:
                outcome = await replay(run, args, Path(tmp), progress)
            figures[run.name] = measure(outcome)
            progress.console.print(f"{run.name}: done in {figures[run.name]['wall_seconds']} s")
            # Each run's figures as soon as they are measured (a long bench stopped midway
            # still printed what it measured), then the comparison of all of them.
            out.print(summary_table({run.name: figures[run.name]}, {}))
            out.file.flush()
    met = targets(figures)
    out.print(summary_table(figures, met))
    out.print(documents_table(figures))
    for name, ref in figures.items():
        if not ref["budgeted"]:
            demand = ref["request_rate"] / max(1, ref["games"]) * args.games
            out.print(
                f"{name}: {ref['requests_per_game_hour']} requests per game-hour, "
                f"{demand:.2f} requests per second for {args.games} games "
                f"(budget {RATE:g}/s per host)"
            )
    return {
        "bench": "upstream",
        "speed": args.speed,
        "games": args.games,
        "stagger_minutes": args.stagger,
        "minutes": args.minutes,
        "policies_available": "fetch_policy" in Settings.model_fields,
        "runs": figures,
        "targets": met,
        "all_met": bool(met) and all(c["met"] for c in met.values()),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=60, help="games in the slate")
    parser.add_argument("--stagger", type=float, default=2.0, help="minutes between starts")
    parser.add_argument(
        "--speed", type=float, default=30.0, help="replay speed (x real time; 30 suits 2 cores)"
    )
    parser.add_argument("--policies", default="seed,edge", help="comma-separated: seed,edge")
    parser.add_argument(
        "--minutes", type=float, default=None, help="replay only this much (default: all)"
    )
    parser.add_argument(
        "--reference-games",
        type=int,
        default=3,
        help="games of each policy's run without a budget, the reference (0: none)",
    )
    parser.add_argument(
        "--edge-reference-games",
        type=int,
        default=None,
        help="games of the edge policy's run without a budget (default: the whole slate)",
    )
    parser.add_argument("--quick", action="store_true", help="6 games, 30 minutes")
    args = parser.parse_args()
    unknown = {p.strip() for p in args.policies.split(",")} - {"seed", "edge", ""}
    if unknown or args.games < 1 or args.speed <= 0:
        parser.error(f"--policies takes seed,edge (not {sorted(unknown)}); --games, --speed > 0")
    if args.quick:
        args.games, args.minutes = 6, args.minutes or 30.0
    logging.basicConfig(level=logging.CRITICAL)
    result = asyncio.run(main(args))
    print(json.dumps(result, separators=(",", ":")))
    sys.exit(0 if result["all_met"] else 1)
