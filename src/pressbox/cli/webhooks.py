"""`pressbox webhooks`: add, list, show and remove webhook subscriptions (docs/webhooks.md).

They act on the database (PRESSBOX_DATABASE_URL) directly; the runners' dispatchers pick a new
subscription up at their next claim round.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pressbox.cli.common import err, run_or_exit, settings_or_exit
from pressbox.clock import SystemClock
from pressbox.config import Settings
from pressbox.domain.webhooks import Subscription
from pressbox.store import Store
from pressbox.store.migrate import upgrade
from pressbox.store.webhooks import Webhooks

app = typer.Typer(
    help="Webhook subscriptions: Pressbox POSTs each new event of the games they cover, signed "
    "(docs/webhooks.md). Delivered by the runners (`pressbox runner`, `serve`).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="Where to POST deliveries (http or https).")],
    events: Annotated[
        str,
        typer.Option(help="Event types, comma-separated (e.g. play_added,score); default all."),
    ] = "",
    league: Annotated[
        str | None, typer.Option(help="Only this league's games (an ESPN slug, e.g. nba).")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="Signing secret (16–200 characters); default: a random one, printed."),
    ] = None,
    from_start: Annotated[
        bool, typer.Option(help="Deliver every game's log from its first event, not from now.")
    ] = False,
) -> None:
    """Subscribe URL to new events; prints the subscription and its secret (shown only now)."""
    try:
        wanted = Subscription.parse(url, events.split(","), league, secret)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    settings = settings_or_exit()
    created = run_or_exit(_add(settings, wanted, from_start))
    Console().print(_table([created]))
    err.print(f"signing secret (shown only now): {wanted.secret}")


@app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """Every subscription: status, events delivered, last success, last error, holder."""
    settings = settings_or_exit()
    rows: list[dict[str, Any]] = run_or_exit(_with(settings, _all))
    if as_json:
        print(json.dumps({"webhooks": rows}, indent=2))
    else:
        Console().print(_table(rows))


@app.command()
def show(
    webhook_id: Annotated[int, typer.Argument(help="The subscription's id (see list).")],
    as_json: JsonOpt = False,
) -> None:
    """One subscription, its cursor per game and its last delivery attempts."""
    settings = settings_or_exit()
    detail = run_or_exit(_with(settings, lambda hooks: hooks.detail(webhook_id)))
    if detail is None:
        err.print(f"[red]error:[/] no webhook {webhook_id} (see `pressbox webhooks list`)")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(detail, indent=2))
        return
    console = Console()
    console.print(_table([detail["webhook"]]))
    cursors = ", ".join(f"{game} at {seq}" for game, seq in sorted(detail["cursors"].items()))
    console.print(f"cursors: {cursors or 'none yet'}")
    console.print(attempts_table(detail["deliveries"]))


@app.command()
def remove(
    webhook_id: Annotated[int, typer.Argument(help="The subscription's id (see list).")],
) -> None:
    """Delete a subscription, its cursors and its delivery log; its deliveries stop."""
    settings = settings_or_exit()
    if not run_or_exit(_with(settings, lambda hooks: hooks.remove(webhook_id))):
        err.print(f"[red]error:[/] no webhook {webhook_id} (see `pressbox webhooks list`)")
        raise typer.Exit(1)
    err.print(f"webhook {webhook_id} removed")


async def _add(settings: Settings, wanted: Subscription, from_start: bool) -> dict[str, Any]:
    async def create(hooks: Webhooks) -> dict[str, Any]:
        now = SystemClock().now()
        created = await hooks.add(
            wanted.url, wanted.events, wanted.league, wanted.secret, now, from_start=from_start
        )
        return created.to_json()

    created: dict[str, Any] = await _with(settings, create)
    return created


async def _with(settings: Settings, work: Any) -> Any:
    """Run `work(Webhooks)` on the migrated database, closing it after."""
    await asyncio.to_thread(upgrade, settings.database_url)
    store = Store.connect(settings.database_url)
    try:
        return await work(Webhooks(store))
    finally:
        await store.close()


async def _all(hooks: Webhooks) -> list[dict[str, Any]]:
    return [webhook.to_json() for webhook in await hooks.all()]


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} webhook(s)")
    columns = ("id", "url", "events", "league", "status", "delivered", "last success")
    for column in (*columns, "last error", "held by"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["url"],
            ", ".join(r["events"]) if r["events"] else "all",
            r["league"] or "all",
            r["status"],
            str(r["delivered"]),
            r["last_success_at"] or "",
            r["last_error"] or "",
            r["owner"] or "",
        )
    return table


def attempts_table(attempts: list[dict[str, Any]]) -> Table:
    """Delivery attempts, newest first."""
    table = Table(title=f"last {len(attempts)} attempt(s)")
    for column in ("at", "game", "seqs", "events", "answer", "ms"):
        table.add_column(column)
    for a in attempts:
        answer = "ok" if a["ok"] else a["error"]
        seqs = f"{a['first_seq']}–{a['last_seq']}"
        table.add_row(a["at"], a["game_id"], seqs, str(a["events"]), answer, str(a["duration_ms"]))
    return table
