"""Commands for operators: schedule (the scheduler once) and streams (every stream's state)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pressbox.cli.common import err, run_or_exit, settings_or_exit
from pressbox.clock import SystemClock
from pressbox.config import Settings
from pressbox.domain.sports import profile_for
from pressbox.runtime import open_runtime
from pressbox.store import Store
from pressbox.store.operations import list_streams
from pressbox.streaming.scheduler import Scheduler, ScheduleReport


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
    settings = settings_or_exit()
    leagues = league or settings.leagues
    for name in leagues:
        try:
            profile_for(name)
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
    ahead = settings.schedule_days if days is None else days
    report: ScheduleReport = run_or_exit(_schedule(settings, leagues, ahead, espn_site_url))
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


def streams_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON of GET /api/streams instead.")
    ] = False,
) -> None:
    """Print every stream: game, status, owner, lease age, retries, last poll, upstream
    figures, degraded documents, failure reason, and when it was scheduled, started and ended."""
    settings = settings_or_exit()
    rows: list[dict[str, Any]] = run_or_exit(_streams(settings))
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
