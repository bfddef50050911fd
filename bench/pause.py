"""What pausing the document workers at breaks saves: upstream requests per document, per game.

Replays each source headless through the real streamer, replay server and SQLite store, three
ways in one run, and counts the requests the replay server (ESPN's stand-in) received:

- seed:      the seed's behaviour: fixed cadences, every document polled through every break
             and halftime (`Streamer.pause_phases` empty);
- halftime:  the document workers stop at halftime only;
- pressbox:  they stop at halftime and at every break between periods (the default).

Cadences are the same in all three (the seed's: situation 5 s, plays 10 s, drives 15 s,
probabilities 15 s, leaders 60 s; status 20 s before the game, 30 s during it). It also checks
that every mode logged the same plays and probability points: pausing must lose nothing.

    .venv/bin/python bench/pause.py                 # the Postman NCAAF game and NFL 401547417
    .venv/bin/python bench/pause.py --speed 200 SOURCE...

Prints a table per game, the ratios, and one JSON line (`{"bench": "pause", ...}`) last.
A replay at S x takes (game length) / S of wall time; lag at high speeds trims every mode's
requests a little (the seed's most, as it makes the most), so ratios are conservative.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pressbox.clock import ScaledClock
from pressbox.config import load_settings
from pressbox.domain.events import EventType
from pressbox.domain.sports import Phase
from pressbox.replay.faults import RequestLog
from pressbox.replay.plan import ReplayPlan, plan_replay
from pressbox.replaying import prepare_streams, replay_upstream
from pressbox.runtime import open_runtime
from pressbox.streaming.streamer import PAUSE_PHASES

RECORDINGS = Path(__file__).resolve().parents[1].parent / "shared" / "recordings"
POSTMAN = "Football.Ncaa.Espn.Event.postman_collection.json"
SOURCES = [
    RECORDINGS / "espn-ncaaf-401756846-postman" / POSTMAN,
    RECORDINGS / "games" / "nfl-401547417" / "summary.json",
]
MODES: dict[str, frozenset[Phase]] = {
    "seed": frozenset(),
    "halftime": frozenset({Phase.HALFTIME}),
    "pressbox": PAUSE_PHASES,
}
#: The documents whose workers a pause stops; the rest (status, discovery) run in every mode.
WORKERS = ("situation", "plays", "probabilities", "drives", "leaders")


@dataclass
class Outcome:
    """One replay of one source in one mode."""

    requests: Counter[str]
    bytes: int
    statuses: list[str]
    plays: list[str]
    probabilities: list[str]
    wall: float

    @property
    def total(self) -> int:
        return sum(self.requests.values())


async def replay(plan: ReplayPlan, mode: frozenset[Phase], speed: float, tmp: Path) -> Outcome:
    """Replay `plan` to its end with the document workers pausing in `mode`'s phases."""
    # The seed's fixed cadences in every mode: what pausing saves is measured on them.
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}", fetch_policy="seed"
    )
    clock = ScaledClock(plan.start, speed)
    log = RequestLog()
    started = time.monotonic()
    bound = (plan.end - plan.start).total_seconds() / speed * 3 + 60
    async with (
        replay_upstream(plan.recording, clock, plan.records, request_log=log) as url,
        open_runtime(settings, clock, url) as runtime,
    ):
        await prepare_streams(runtime, plan.games)
        streamers = [runtime.streamer(g.id, g.league) for g in plan.games]
        for streamer in streamers:
            streamer.pause_phases = mode
        statuses = await asyncio.wait_for(
            asyncio.gather(*(s.run() for s in streamers)), timeout=bound
        )
        reasons = [(await runtime.store.stream(g.id)) for g in plan.games]
        events = [
            e for g in plan.games for e in await runtime.store.events_since(g.id, 0, 1_000_000)
        ]
        sent = sum(s.bytes for s in runtime.espn.http.stats.by_kind.values())
    return Outcome(
        requests=log.by_document(),
        bytes=sent,
        statuses=[
            f"{s} ({r.failure_reason})" if r and r.failure_reason else str(s)
            for s, r in zip(statuses, reasons, strict=True)
        ],
        plays=sorted(e.data["id"] for e in events if e.type is EventType.PLAY_ADDED),
        probabilities=sorted(e.data["id"] for e in events if e.type is EventType.PROBABILITY),
        wall=time.monotonic() - started,
    )


def table(name: str, outcomes: dict[str, Outcome]) -> Table:
    """Requests per document for each mode, with the totals and the share of the seed's."""
    seed = outcomes["seed"]
    result = Table(title=f"{name}: upstream requests per document")
    result.add_column("document")
    for mode in outcomes:
        result.add_column(mode, justify="right")
    kinds = sorted({k for o in outcomes.values() for k in o.requests}, key=_order)
    for kind in kinds:
        result.add_row(kind, *(str(o.requests[kind]) for o in outcomes.values()))
    result.add_row("total", *(str(o.total) for o in outcomes.values()), end_section=True)
    result.add_row("vs seed", *(f"{o.total / seed.total:.3f}" for o in outcomes.values()))
    result.add_row("MB received", *(f"{o.bytes / 1e6:.1f}" for o in outcomes.values()))
    result.add_row("wall s", *(f"{o.wall:.1f}" for o in outcomes.values()))
    return result


def _order(kind: str) -> tuple[int, str]:
    return (WORKERS.index(kind) if kind in WORKERS else len(WORKERS), kind)


def summary(outcomes: dict[str, Outcome]) -> dict[str, Any]:
    """The JSON figures of one game."""
    seed = outcomes["seed"]
    return {
        "modes": {
            mode: {
                "requests": dict(sorted(o.requests.items(), key=lambda kv: _order(kv[0]))),
                "total": o.total,
                "workers": sum(o.requests[k] for k in WORKERS),
                "bytes": o.bytes,
                "stream": o.statuses,
                "wall_seconds": round(o.wall, 1),
            }
            for mode, o in outcomes.items()
        },
        "ratio_vs_seed": {mode: round(o.total / seed.total, 3) for mode, o in outcomes.items()},
        "same_events": all(
            (o.plays, o.probabilities) == (seed.plays, seed.probabilities)
            for o in outcomes.values()
        ),
        "plays": len(seed.plays),
        "probabilities": len(seed.probabilities),
    }


async def main(sources: list[Path], speed: float) -> dict[str, Any]:
    """Every source in every mode; prints as it goes, returns the JSON figures."""
    console = Console(stderr=True)
    figures: dict[str, Any] = {}
    for source in sources:
        # The clock starts with the source: a recording's documents (the competition) may not
        # exist before, and a discovery failing for minutes would only add noise.
        plan = plan_replay([source], lead=timedelta(0))
        name = ", ".join(g.id for g in plan.games) + f" ({source.name})"
        outcomes: dict[str, Outcome] = {}
        for mode, phases in MODES.items():
            with tempfile.TemporaryDirectory(prefix="pressbox-bench-") as tmp:
                console.print(f"replaying {name} at {speed:g}x, mode {mode}…")
                outcomes[mode] = await replay(plan, phases, speed, Path(tmp))
        Console().print(table(name, outcomes))
        figures[name] = summary(outcomes)
    totals = {mode: sum(f["modes"][mode]["total"] for f in figures.values()) for mode in MODES}
    return {
        "bench": "pause",
        "speed": speed,
        "games": figures,
        "totals": totals,
        "ratio_vs_seed": {mode: round(totals[mode] / totals["seed"], 3) for mode in MODES},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path, default=SOURCES)
    parser.add_argument("--speed", type=float, default=300.0, help="replay speed (x real time)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(main(args.sources, args.speed))
    ratios = result["ratio_vs_seed"]
    overall = ", ".join(f"{m} {n} ({ratios[m]:.3f})" for m, n in result["totals"].items())
    Console().print(f"requests, all games: {overall}")
    print(json.dumps(result, separators=(",", ":")))
    sys.exit(0 if all(f["same_events"] for f in result["games"].values()) else 1)
