"""The `pressbox` command: thin wrappers that parse, call the library and print."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pressbox.clock import ScaledClock, SystemClock
from pressbox.config import Settings, load_settings
from pressbox.domain.sports import profile_for
from pressbox.errors import PressboxError
from pressbox.logs import configure_logging
from pressbox.replay.recorder import recording
from pressbox.replay.remote import replay_clock
from pressbox.replay.session import (
    ReplayPlan,
    games_finished,
    plan_replay,
    prepare_streams,
    replay_kalshi,
    replay_report,
    replay_upstream,
    stream_games,
)
from pressbox.runtime import open_runtime
from pressbox.serving import Role, serve_roles
from pressbox.store import Store
from pressbox.store.migrate import upgrade
from pressbox.store.operations import list_streams
from pressbox.streaming.scheduler import Scheduler, ScheduleReport

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
KalshiUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="Kalshi REST base URL for the replay (a Kalshi-compatible server, e.g. "
        "http://127.0.0.1:9000/trade-api/v2) instead of the built-in fake built from the Kalshi "
        "recordings; markets still need PRESSBOX_MARKETS=on."
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
    configure_logging(settings.log_level, settings.log_format)
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
def schedule(
    league: Annotated[
        list[str] | None,
        typer.Option(help="League to schedule, repeatable (default: PRESSBOX_LEAGUES)."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(min=0, max=14, help="Days after today to look at (PRESSBOX_SCHEDULE_DAYS)."),
    ] = None,
    espn_site_url: Annotated[
        str | None,
        typer.Option(help="ESPN site API base URL (default: PRESSBOX_ESPN_SITE_URL)."),
    ] = None,
) -> None:
    """Run the scheduler once: read the leagues' ESPN scoreboards for today and the days ahead,
    add and update games, and create, move, postpone, cancel or reschedule their streams.

    Prints what it changed; exits 1 if a scoreboard could not be read.
    """
    settings = _settings()
    leagues = league or settings.leagues
    for name in leagues:
        try:
            profile_for(name)
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
    ahead = settings.schedule_days if days is None else days
    report: ScheduleReport = _run(_schedule(settings, leagues, ahead, espn_site_url))
    for table in schedule_tables(report):
        Console().print(table)
    for league_report in report.leagues:
        for problem in league_report.errors:
            err.print(f"[red]error:[/] {league_report.league}: {problem}")
    if report.failed:
        raise typer.Exit(1)


async def _schedule(
    settings: Settings, leagues: list[str], days: int, site_url: str | None
) -> ScheduleReport:
    async with open_runtime(settings, SystemClock(), site_url=site_url) as runtime:
        return await Scheduler(runtime, leagues, days).run_once()


def schedule_tables(report: ScheduleReport) -> list[Table]:
    """A table of counts (a column per league) and, when something changed, the changes."""
    leagues = report.leagues
    counts = Table(title=f"schedule at {report.at:%Y-%m-%d %H:%M}Z")
    counts.add_column("")
    for r in leagues:
        span = f"{r.days[0]:%m-%d}..{r.days[-1]:%m-%d}" if r.days else ""
        counts.add_column(f"{r.league}\n{span}", justify="right")
    counts.add_row("events read", *(str(r.events) for r in leagues))
    for kind in report.counts:
        counts.add_row(str(kind), *(str(r.counts[kind]) for r in leagues))
    counts.add_row("errors", *(str(len(r.errors)) for r in leagues))
    tables = [counts]
    if report.changed:
        changes = Table(title="changes")
        for column in ("league", "game", "id", "change", "stream at"):
            changes.add_column(column)
        for r in report.leagues:
            for done in r.done:
                at = f"{done.scheduled_at:%Y-%m-%d %H:%M}Z" if done.scheduled_at else ""
                what = str(done.change).replace("games", "game").replace("streams", "stream")
                changes.add_row(r.league, done.game, done.game_id, what, at)
        tables.append(changes)
    return tables


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
ClockSpeedOpt = Annotated[
    float | None,
    typer.Option(
        min=0.1, max=10000, help="Replay clock speed with --espn-url (default: the server's own)."
    ),
]


@app.command()
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
    kalshi_url: KalshiUrlOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Run Pressbox: by default everything in one process (web, runner, scheduler) on the
    embedded SQLite database and in-process bus.

    In production run the roles apart, any number of each, on PostgreSQL (PRESSBOX_DATABASE_URL)
    and Redis (PRESSBOX_BUS_URL): e.g. two `serve --role web` behind a proxy, two
    `serve --role runner` and one `serve --role scheduler`. Ctrl-C or SIGTERM stops cleanly.
    """
    settings = _settings()
    if replay and (role is not Role.ALL or espn_url):
        err.print("[red]error:[/] --replay runs everything in one process: drop --role/--espn-url")
        raise typer.Exit(2)
    if kalshi_url and not replay:
        err.print("[red]error:[/] --kalshi-url is for --replay (else: PRESSBOX_KALSHI_URL)")
        raise typer.Exit(2)
    listen = (host or settings.host, settings.port if port is None else port)
    if replay:
        _run(_serve_replay(settings, _plan(replay, stagger), speed, *listen, kalshi_url))
    else:
        _run(_serve(settings, role, espn_url, speed, *listen))


@app.command("replay")
def replay_command(
    sources: SourcesArg,
    speed: SpeedOpt = None,
    stagger: StaggerOpt = 20,
    headless: Annotated[
        bool, typer.Option(help="No web server: stream to the end, then print a JSON report.")
    ] = False,
    kalshi_url: KalshiUrlOpt = None,
    host: HostOpt = None,
    port: PortOpt = None,
) -> None:
    """Replay recorded games through the whole system, on their real timeline sped up.

    With --headless it prints one JSON object per game (final status and score, events by type,
    the market line's state and points, upstream requests and bytes by document, wall time) and
    exits 0 only if every stream completed. Kalshi is a local fake from the Kalshi recordings
    beside the sources: no replayed game has a market there, so each shows its market absent;
    --kalshi-url points the replay at another Kalshi-compatible server instead.
    """
    settings = _settings()
    plan = _plan(sources, stagger)
    if not headless:
        listen = (host or settings.host, settings.port if port is None else port)
        _run(_serve_replay(settings, plan, speed, *listen, kalshi_url))
        return
    reports = _run(_headless(settings, plan, speed or settings.replay_speed, kalshi_url))
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


@app.command("runner")
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
    settings = _settings()
    if max_streams is not None:
        settings = settings.model_copy(update={"runner_max_streams": max_streams})
    _run(_serve(settings, Role.RUNNER, espn_url, speed, settings.host, settings.port))


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
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        replay_kalshi(clock, plan.kalshi, url=kalshi) as kalshi_url,
        open_runtime(settings, clock, espn_url, kalshi_url=kalshi_url) as runtime,
    ):
        games = plan.games
        await prepare_streams(runtime, games)
        err.print(f"Replaying {len(games)} game(s) at {clock.speed:g}x (Ctrl-C stops)")

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
            announce=err.print,
            also=[tell_when_finished()],
        )


async def _headless(
    settings: Settings, plan: ReplayPlan, speed: float, kalshi: str | None = None
) -> list[dict[str, Any]]:
    started = time.monotonic()
    clock = ScaledClock(plan.start, speed)
    async with (
        replay_upstream(plan.recording, clock, plan.records) as espn_url,
        replay_kalshi(clock, plan.kalshi, url=kalshi) as kalshi_url,
        open_runtime(settings, clock, espn_url, kalshi_url=kalshi_url) as runtime,
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


@app.command("api-docs")
def api_docs(
    out: Annotated[
        Path, typer.Option(help="Where to write the Markdown ('-': standard output).")
    ] = Path("docs/rest.md"),
) -> None:
    """Write the REST reference (Markdown) generated from the web app's OpenAPI document."""
    from pressbox.web.apidoc import openapi_spec, render

    text = render(openapi_spec())
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")


@app.command("streams")
def streams_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of GET /api/streams instead.")
    ] = False,
) -> None:
    """Print every stream: game, status, owner, lease age, retries, last poll, upstream
    figures, degraded documents, failure reason, and when it was scheduled, started and ended."""
    settings = _settings()
    rows: list[dict[str, Any]] = _run(_streams(settings))
    if as_json:
        print(json.dumps({"streams": rows}, indent=2))
    else:
        Console().print(streams_table(rows))


async def _streams(settings: Settings) -> list[dict[str, Any]]:
    store = Store.connect(settings.database_url)
    try:
        now = SystemClock().now()
        return [view.to_json(now) for view in await list_streams(store)]
    finally:
        await store.close()


def streams_table(rows: list[dict[str, Any]]) -> Table:
    """The streams as a Rich table: the columns of GET /api/streams, times as HH:MM:SS."""
    table = Table(title=f"{len(rows)} stream(s)")
    columns = ("game", "name", "status", "owner", "lease age", "retries", "last poll", "upstream")
    for column in (*columns, "degraded", "failure reason", "scheduled", "started", "ended"):
        table.add_column(column, overflow="fold")
    for r in rows:
        age = r["lease_age_seconds"]
        table.add_row(
            r["game_id"],
            r["name"],
            r["status"],
            r["owner"] or "",
            "" if age is None else f"{age:.0f}s",
            str(r["retries"]),
            _clock_time(r["last_poll_at"]),
            _fetches(r.get("fetches") or {}),
            ", ".join(r["degraded"]),
            r["failure_reason"] or "",
            *(_clock_time(r[key]) for key in ("scheduled_at", "started_at", "ended_at")),
        )
    return table


def _fetches(fetches: dict[str, Any]) -> str:
    """A stream's upstream figures: "412 req, 2.1 MB, 38 skipped, 12s queued"; empty: none."""
    if not fetches:
        return ""
    return (
        f"{fetches.get('requests', 0)} req, {fetches.get('bytes', 0) / 1e6:.1f} MB, "
        f"{fetches.get('skipped', 0)} skipped, {fetches.get('waited', 0):.0f}s queued"
    )


def _clock_time(stamp: str | None) -> str:
    """An ISO time as "08-23 16:06:54" (month-day, UTC); empty for none."""
    return "" if stamp is None else f"{stamp[5:10]} {stamp[11:19]}"


if __name__ == "__main__":
    app()
