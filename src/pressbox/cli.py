"""The `pressbox` command: thin wrappers that parse, call the library and print."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from pressbox.clock import ScaledClock, SystemClock
from pressbox.config import Settings, load_settings
from pressbox.domain.sports import profile_for
from pressbox.errors import PressboxError
from pressbox.replay.recorder import recording
from pressbox.replay.session import (
    ReplayPlan,
    plan_replay,
    prepare_streams,
    replay_report,
    replay_upstream,
    stream_games,
)
from pressbox.runtime import open_runtime
from pressbox.store.migrate import upgrade
from pressbox.web import create_app
from pressbox.web.server import running

app = typer.Typer(
    help="Pressbox: follow live sports games and push every change to browsers.\n\n"
    "Settings come from PRESSBOX_* environment variables (see the README).",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)

SourcesArg = Annotated[
    list[Path],
    typer.Argument(
        exists=True,
        help="Recordings (Postman v2.1 or HAR 1.2 of ESPN responses) and finished-game files "
        "(ESPN site-API summary, CDN game package, or a directory of core-API documents). "
        "Several are laid on one timeline, each starting --stagger minutes after the previous.",
    ),
]
StaggerOpt = Annotated[
    float,
    typer.Option(min=0, max=24 * 60, help="Minutes between the starts of several sources."),
]
SpeedOpt = Annotated[
    float | None,
    typer.Option(
        min=0.1,
        max=10000,
        help="Replay speed, times real time (default: PRESSBOX_REPLAY_SPEED, 60).",
    ),
]
HostOpt = Annotated[str | None, typer.Option(help="Listen address (default: PRESSBOX_HOST).")]
PortOpt = Annotated[
    int | None, typer.Option(min=0, max=65535, help="Listen port (default: PRESSBOX_PORT).")
]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except PressboxError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return settings


def _plan(paths: list[Path], stagger: float) -> ReplayPlan:
    try:
        plan = plan_replay(paths, timedelta(minutes=stagger))
    except PressboxError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if not plan.games:
        names = ", ".join(str(p) for p in paths)
        err.print(
            f"[red]error:[/] {names}: no ESPN game found (no /v2/sports/…/events/ID document)"
        )
        raise typer.Exit(2)
    return plan


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        err.print("stopped")
        raise typer.Exit(130) from None
    except PressboxError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (PRESSBOX_DATABASE_URL)."""
    settings = _settings()
    _run(asyncio.to_thread(upgrade, settings.database_url))
    err.print(f"database at {settings.database_url} is up to date")


@app.command()
def serve(
    replay: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True, help="Replay this recording or game file (repeatable) instead of ESPN."
        ),
    ] = None,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Run the web server (REST, WebSocket, UI); with --replay, also stream recorded games."""
    settings = _settings()
    plan = _plan(replay, stagger) if replay else None
    listen = (host or settings.host, settings.port if port is None else port)
    _run(_serve(settings, plan, speed, *listen))


@app.command("replay")
def replay_command(
    sources: SourcesArg,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    headless: Annotated[
        bool, typer.Option(help="No web server: stream to the end, then print a JSON report.")
    ] = False,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Replay recorded games through the whole system, on their real timeline sped up.

    With --headless it prints one JSON object per game (final status and score, events by type,
    upstream requests and bytes by document, wall time) and exits 0 only if every stream completed.
    """
    settings = _settings()
    plan = _plan(sources, stagger)
    if not headless:
        listen = (host or settings.host, settings.port if port is None else port)
        _run(_serve(settings, plan, speed, *listen))
        return
    reports = _run(_headless(settings, plan, speed or settings.replay_speed))
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2))
    if any(report["stream_status"] != "Completed" for report in reports):
        raise typer.Exit(1)


@app.command()
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
    settings = _settings()
    try:
        profile_for(league)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if not game.isdigit():
        err.print(f"[red]error:[/] --game must be an ESPN event id (digits), got {game!r}")
        raise typer.Exit(2)
    status = _run(_record(settings, league, game, out, espn_url, speed))
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


@app.command("replay-server")
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
    settings = _settings()
    plan = _plan(sources, stagger)
    clock = ScaledClock(plan.start, speed or settings.replay_speed)

    async def main() -> None:
        async with replay_upstream(
            plan.recording, clock, plan.records, host or settings.host, port
        ) as url:
            err.print(f"replaying {len(plan.games)} game(s) at {clock.speed:g}x on {url}")
            await asyncio.Event().wait()

    _run(main())


async def _serve(
    settings: Settings, plan: ReplayPlan | None, speed: float | None, host: str, port: int
) -> None:
    if plan is None:
        clock: Any = SystemClock()
        async with open_runtime(settings, clock) as runtime:
            web = create_app(runtime.store, runtime.bus, clock, settings.ws_heartbeat_seconds)
            async with running(web, host, port) as url:
                err.print(f"Pressbox is serving on {url}/#/live")
                await asyncio.Event().wait()
        return
    clock = ScaledClock(plan.start, speed or settings.replay_speed)
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        games = plan.games
        await prepare_streams(runtime, games)
        web = create_app(runtime.store, runtime.bus, clock, settings.ws_heartbeat_seconds)
        async with running(web, host, port) as url:
            err.print(
                f"Replaying {len(games)} game(s) at {clock.speed:g}x. "
                f"Open [bold]{url}/#/live[/]  (Ctrl-C stops)"
            )
            results = await stream_games(runtime, games)
            outcome = ", ".join(f"{game} {status}" for game, status in results.items())
            err.print(f"replay finished: {outcome}; still serving (Ctrl-C stops)")
            await asyncio.Event().wait()


async def _headless(settings: Settings, plan: ReplayPlan, speed: float) -> list[dict[str, Any]]:
    started = time.monotonic()
    clock = ScaledClock(plan.start, speed)
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        open_runtime(settings, clock, espn_url) as runtime,
    ):
        games = plan.games
        await prepare_streams(runtime, games)
        total = max(1.0, (plan.end - plan.start).total_seconds())
        with Progress(
            TextColumn("replay"),
            BarColumn(),
            TextColumn("{task.fields[at]}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not sys.stderr.isatty(),
        ) as progress:
            task = progress.add_task("replay", total=total, at="")
            run = asyncio.create_task(stream_games(runtime, games))
            while not run.done():
                now = clock.now()
                elapsed = (now - plan.start).total_seconds()
                progress.update(task, completed=elapsed, at=f"{now:%H:%M:%S}Z")
                await asyncio.wait({run}, timeout=0.2)
            results = run.result()
        return [
            await replay_report(runtime, gid, status, started) for gid, status in results.items()
        ]


if __name__ == "__main__":
    app()
