"""Commands that run Pressbox or feed it: serve, runner, replay, replay-server and record."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pressbox.cli.common import (
    HostOpt,
    KalshiFilesOpt,
    KalshiUrlOpt,
    PortOpt,
    SourcesArg,
    SpeedOpt,
    StaggerOpt,
    err,
    plan_or_exit,
    run_or_exit,
    settings_or_exit,
)
from pressbox.cli.console import ReplayStatus
from pressbox.clock import ScaledClock, SystemClock
from pressbox.config import Settings
from pressbox.domain.sports import profile_for
from pressbox.errors import PressboxError
from pressbox.recorder import recording
from pressbox.replay.plan import ReplayPlan
from pressbox.replay.remote import replay_clock
from pressbox.replaying import (
    forget_games,
    games_finished,
    prepare_streams,
    replay_kalshi,
    replay_report,
    replay_upstream,
    stream_games,
)
from pressbox.runtime import open_runtime
from pressbox.serving import Role, serve_roles

RoleOpt = Annotated[
    Role,
    typer.Option(
        case_sensitive=False,
        help="What this process runs: web (REST, WebSocket, UI), runner (claims and streams "
        "games by lease), scheduler (reads ESPN's scoreboards every "
        "PRESSBOX_SCHEDULE_INTERVAL_SECONDS), or all three.",
    ),
]
EspnUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="ESPN base URL for both APIs (default: PRESSBOX_ESPN_CORE_URL and "
        "PRESSBOX_ESPN_SITE_URL). A `pressbox replay-server` URL runs this process on the "
        "server's replay clock."
    ),
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Keep the replay in this database (SQLAlchemy async URL, e.g. "
        "sqlite+aiosqlite:///replay.db or postgresql+asyncpg://…); the replayed games are reset "
        "in it first. Default: a throwaway SQLite database, deleted when the replay ends "
        "(PRESSBOX_DATABASE_URL is not used, so a replay never mixes with real games).",
    ),
]
ClockSpeedOpt = Annotated[
    float | None,
    typer.Option(
        min=0.1, max=10000, help="Replay clock speed with --espn-url (default: the server's own)."
    ),
]


def serve(
    role: RoleOpt = Role.ALL,
    replay: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True,
            help="Replay this recording or game file (repeatable) instead of ESPN: runs the "
            "replay server in this process and follows only the replayed games (role all).",
        ),
    ] = None,
    espn_url: EspnUrlOpt = None,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    kalshi: KalshiFilesOpt = None,
    kalshi_url: KalshiUrlOpt = None,
    database: DatabaseOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Run Pressbox: by default everything in one process (web, runner, scheduler) on the
    embedded SQLite database and in-process bus.

    In production run the roles apart, any number of each, on PostgreSQL (PRESSBOX_DATABASE_URL)
    and Redis (PRESSBOX_BUS_URL): e.g. two `serve --role web` behind a proxy, two
    `serve --role runner` and one `serve --role scheduler`. Ctrl-C or SIGTERM stops cleanly.
    """
    settings = settings_or_exit()
    if replay and (role is not Role.ALL or espn_url):
        err.print("[red]error:[/] --replay runs everything in one process: drop --role/--espn-url")
        raise typer.Exit(2)
    for given, name in (
        (kalshi_url, "--kalshi-url"),
        (database, "--database"),
        (kalshi, "--kalshi"),
    ):
        if given and not replay:
            err.print(f"[red]error:[/] {name} is for --replay (else: the PRESSBOX_ setting)")
            raise typer.Exit(2)
    refuse_both(kalshi, kalshi_url)
    listen = (host or settings.host, settings.port if port is None else port)
    if replay:
        plan = plan_or_exit(replay, stagger, kalshi)
        with replay_database(database) as replaying:
            run_or_exit(_serve_replay(replaying, plan, speed, *listen, kalshi_url))
    else:
        run_or_exit(_serve(settings, role, espn_url, speed, *listen))


def replay_command(
    sources: SourcesArg,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    headless: Annotated[
        bool, typer.Option(help="No web server: stream to the end, then print a JSON report.")
    ] = False,
    kalshi: KalshiFilesOpt = None,
    kalshi_url: KalshiUrlOpt = None,
    database: DatabaseOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Replay recorded games through the whole system, on their real timeline sped up.

    With --headless it prints one JSON object per game (final status and score, events by type,
    the market line: its state, points, last implied home win probability and mean absolute gap
    to ESPN's, upstream requests and bytes by document, wall time) and exits 0 only if every
    stream completed.

    Kalshi is a local fake on the replay clock. A game's market comes from its recorded Kalshi
    candles: a file given with --kalshi (e.g. `pressbox replay summary.json --kalshi
    candles.csv`), else one found in a kalshi/*/ folder beside the sources whose name holds the
    game's event ticker; a game without one shows its market absent. --kalshi-url points the
    replay at another Kalshi-compatible server instead.

    Every replay starts fresh: on a throwaway database, or with --database on a kept one in which
    its games are reset first. On a terminal a live status shows each game's score, clock and
    stream state (and, with --headless, a bar of replay time); warnings print above it.
    """
    settings = settings_or_exit()
    refuse_both(kalshi, kalshi_url)
    plan = plan_or_exit(sources, stagger, kalshi)
    with replay_database(database) as replaying:
        if not headless:
            listen = (host or settings.host, settings.port if port is None else port)
            run_or_exit(_serve_replay(replaying, plan, speed, *listen, kalshi_url))
            return
        speed = speed or settings.replay_speed
        reports = run_or_exit(_headless(replaying, plan, speed, kalshi_url))
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    if any(report["stream_status"] != "Completed" for report in reports):
        raise typer.Exit(1)


def refuse_both(kalshi: list[Path] | None, kalshi_url: str | None) -> None:
    """Exit 2 when both market files and another Kalshi are given: the files are served by the
    built-in fake, which --kalshi-url replaces."""
    if kalshi and kalshi_url:
        err.print("[red]error:[/] --kalshi files are served by the built-in fake Kalshi, which "
                  "--kalshi-url replaces: give one or the other")  # fmt: skip
        raise typer.Exit(2)


def announce_markets(plan: ReplayPlan, kalshi_url: str | None) -> None:
    """Say which replayed games have a recorded market, and where each side comes from."""
    if kalshi_url:
        return
    for event in plan.markets:
        err.print(event.describe(), highlight=False, soft_wrap=True)


@contextmanager
def replay_database(url: str | None) -> Iterator[Settings]:
    """The settings of a replay: on `url` (checked as any setting is), or on a throwaway SQLite
    database in a temporary directory, removed when the context ends."""
    if url is not None:
        yield settings_or_exit(database_url=url)
        return
    with tempfile.TemporaryDirectory(prefix="pressbox-replay-") as folder:
        yield settings_or_exit(database_url=f"sqlite+aiosqlite:///{Path(folder) / 'replay.db'}")


def record(
    league: Annotated[str, typer.Option(help="ESPN league slug: college-football, nfl or nba.")],
    game: Annotated[str, typer.Option(help="ESPN event id of the game, e.g. 401772994.")],
    out: Annotated[Path, typer.Option(dir_okay=False, writable=True, help="HAR file to write.")],
    espn_url: Annotated[
        str | None,
        typer.Option(help="ESPN core API base URL (default: PRESSBOX_ESPN_CORE_URL)."),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            min=0.1, max=10000, help="Run cadences this many times faster (to record a replay)."
        ),
    ] = 1.0,
) -> None:
    """Follow a game live and write every ESPN response (headers, timing) to a HAR 1.2 file.

    Uses the same streamer and request budget as `serve`. Ctrl-C stops and keeps everything
    captured so far; `pressbox replay FILE.har` plays it back.
    """
    settings = settings_or_exit()
    try:
        profile_for(league)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if not game.isdigit():
        err.print(f"[red]error:[/] --game must be an ESPN event id (digits), got {game!r}")
        raise typer.Exit(2)
    status = run_or_exit(_record(settings, league, game, out, espn_url, speed))
    if status is not None:
        err.print(f"stream ended {status}")


async def _record(
    settings: Settings, league: str, game: str, out: Path, espn_url: str | None, speed: float
) -> str | None:
    clock = ScaledClock(datetime.now(UTC), speed)
    async with recording(settings, clock, league, game, out, espn_url) as recorder:
        run = asyncio.create_task(recorder.run())
        with err.status("recording…") as status:
            try:
                while not run.done():
                    w = recorder.writer
                    status.update(
                        f"recording {league} {game} to {out}: {w.entries} responses "
                        f"({w.bytes / 1e6:.1f} MB), {w.skipped_unchanged} unchanged not rewritten"
                    )
                    await asyncio.wait({run}, timeout=0.5)
            finally:
                err.print(f"wrote {recorder.writer.entries} responses to {out}")
        return str(run.result())


def runner_command(
    espn_url: EspnUrlOpt = None,
    speed: ClockSpeedOpt = None,
    max_streams: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1000,
            help="Streams this runner follows at once (PRESSBOX_RUNNER_MAX_STREAMS).",
        ),
    ] = None,
) -> None:
    """Claim due streams by lease and stream them until stopped (Ctrl-C or SIGTERM); the same as
    `serve --role runner`.

    Any number of runners share one database (PRESSBOX_DATABASE_URL). A runner that dies loses
    its streams to another after PRESSBOX_LEASE_TTL_SECONDS; one that stops releases them at once.
    """
    settings = settings_or_exit()
    if max_streams is not None:
        settings = settings.model_copy(update={"runner_max_streams": max_streams})
    run_or_exit(_serve(settings, Role.RUNNER, espn_url, speed, settings.host, settings.port))


def replay_server(
    sources: SourcesArg,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    host: HostOpt = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Listen port.")] = 8765,
) -> None:
    """Serve recordings and games as a fake ESPN API on the replay clock.

    Point PRESSBOX_ESPN_CORE_URL at it to stream against it from another process.
    """
    settings = settings_or_exit()
    plan = plan_or_exit(sources, stagger)
    clock = ScaledClock(plan.start, speed or settings.replay_speed)

    async def main() -> None:
        async with replay_upstream(
            plan.recording, clock, plan.records, host or settings.host, port
        ) as url:
            err.print(f"replaying {len(plan.games)} game(s) at {clock.speed:g}x on {url}")
            await asyncio.Event().wait()

    run_or_exit(main())


async def _serve(
    settings: Settings,
    role: Role,
    espn_url: str | None,
    speed: float | None,
    host: str,
    port: int,
) -> None:
    clock: Any = SystemClock()
    if espn_url:
        clock = await replay_clock(espn_url, speed) or clock
    if speed is not None and isinstance(clock, SystemClock):
        raise PressboxError(f"--speed needs a replay server at --espn-url (got {espn_url})")
    async with open_runtime(settings, clock, espn_url) as runtime:
        pace = f" on the replay clock at {clock.speed:g}x" if isinstance(clock, ScaledClock) else ""
        err.print(f"Pressbox {role} role{pace} (Ctrl-C stops)")
        await serve_roles(runtime, role.parts(), host, port, announce=err.print)


async def _serve_replay(
    settings: Settings,
    plan: ReplayPlan,
    speed: float | None,
    host: str,
    port: int,
    kalshi: str | None = None,
) -> None:
    clock = ScaledClock(plan.start, speed or settings.replay_speed)
    announce_markets(plan, kalshi)
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        replay_kalshi(clock, plan.kalshi, url=kalshi, markets=plan.markets) as kalshi_url,
        open_runtime(settings, clock, espn_url, kalshi_url=kalshi_url) as runtime,
    ):
        games = plan.games
        await forget_games(runtime, games)
        await prepare_streams(runtime, games)
        err.print(f"Replaying {len(games)} game(s) at {clock.speed:g}x (Ctrl-C stops)")
        status = ReplayStatus(runtime, games, err)

        def announce(line: str) -> None:
            err.print(line)
            if line.startswith("web: serving on "):
                status.url = line.removeprefix("web: serving on ")

        async def tell_when_finished() -> None:
            results = await games_finished(runtime, games)
            outcome = ", ".join(f"{game} {status}" for game, status in results.items())
            err.print(f"replay finished: {outcome}; still serving (Ctrl-C stops)")
            await asyncio.Event().wait()

        ids = [game.id for game in games]
        await serve_roles(
            runtime,
            {Role.WEB, Role.RUNNER},
            host,
            port,
            games=ids,
            announce=announce,
            also=[tell_when_finished(), status.run()],
        )


async def _headless(
    settings: Settings, plan: ReplayPlan, speed: float, kalshi: str | None = None
) -> list[dict[str, Any]]:
    started = time.monotonic()
    clock = ScaledClock(plan.start, speed)
    announce_markets(plan, kalshi)
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        replay_kalshi(clock, plan.kalshi, url=kalshi, markets=plan.markets) as kalshi_url,
        open_runtime(settings, clock, espn_url, kalshi_url=kalshi_url) as runtime,
    ):
        games = plan.games
        await forget_games(runtime, games)
        await prepare_streams(runtime, games)
        status = ReplayStatus(runtime, games, err, start=plan.start, end=plan.end)
        showing = asyncio.create_task(status.run())
        try:
            results = await stream_games(runtime, games)
        finally:
            showing.cancel()
            await asyncio.gather(showing, return_exceptions=True)
        return [
            await replay_report(runtime, gid, status, started) for gid, status in results.items()
        ]
