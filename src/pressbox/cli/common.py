"""What the `pressbox` commands share: the error console, settings, replay plans, running a
coroutine with the CLI's exit codes, and the options several commands take."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pressbox.config import Settings, load_settings
from pressbox.errors import PressboxError
from pressbox.logs import configure_logging
from pressbox.replay.plan import ReplayPlan, plan_replay

# soft_wrap: an error names paths and URLs, which must stay whole for copy and paste (and grep).
err = Console(stderr=True, soft_wrap=True)

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
KalshiFilesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--kalshi",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A replayed game's recorded Kalshi market (repeatable): a candle CSV (columns ticker, "
        "timestamp, open, high, low, close, volume; timestamp: the candle's end in Unix seconds; "
        "prices in cents) or Kalshi's candlestick JSON. Paired with the finished game whose "
        "market it is (its date and teams, e.g. KXNBAGAME-25MAY31NYKIND-NYK) and moved in time "
        "with it; the other team's market is derived as 100 − its prices. Without it, such files "
        "are found in a kalshi/*/ folder beside the sources by the event ticker in their name.",
    ),
]
HostOpt = Annotated[str | None, typer.Option(help="Listen address (default: PRESSBOX_HOST).")]
PortOpt = Annotated[
    int | None, typer.Option(min=0, max=65535, help="Listen port (default: PRESSBOX_PORT).")
]


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings (environment, `.env`, then `overrides`), or exit 2 saying what is wrong."""
    try:
        settings = load_settings(**overrides)
    except PressboxError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, settings.log_format)
    return settings


def plan_or_exit(paths: list[Path], stagger: float, kalshi: list[Path] | None = None) -> ReplayPlan:
    """The replay plan of `paths` (and the market files `kalshi`), or exit 2 saying what is
    wrong with which file."""
    try:
        plan = plan_replay(paths, timedelta(minutes=stagger), kalshi=kalshi or ())
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


def run_or_exit(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        err.print("stopped")
        raise typer.Exit(130) from None
    except PressboxError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
