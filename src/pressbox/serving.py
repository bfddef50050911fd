"""Process roles: what one `pressbox serve` process runs.

- `web`: the REST + WebSocket server and the UI (reads the store and the bus only);
- `runner`: claims due streams by lease and follows each with a streamer, and delivers webhooks
  (`streaming.webhooks`), each subscription by lease too;
- `scheduler`: keeps games and streams in line with ESPN's scoreboards, every interval;
- `all`: the three in one process (the embedded default: SQLite and the in-process bus).

Any number of processes of each role share one database (and, across machines, one Redis bus).
Every role stops cleanly on Ctrl-C or SIGTERM: a runner releases its leases so another takes its
streams over at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Collection, Coroutine
from contextlib import AsyncExitStack
from enum import StrEnum
from typing import Any

from pressbox.runtime import Runtime
from pressbox.streaming.runner import StreamRunner
from pressbox.streaming.scheduler import Scheduler
from pressbox.streaming.webhooks import WebhookDispatcher
from pressbox.web.app import create_app
from pressbox.web.limits import LiveSettings
from pressbox.web.server import running

log = logging.getLogger(__name__)


class Role(StrEnum):
    """What a `serve` process runs."""

    WEB = "web"
    RUNNER = "runner"
    SCHEDULER = "scheduler"
    ALL = "all"

    def parts(self) -> frozenset[Role]:
        """The single roles this one stands for."""
        if self is Role.ALL:
            return frozenset({Role.WEB, Role.RUNNER, Role.SCHEDULER})
        return frozenset({self})


def web_app(runtime: Runtime) -> Any:
    """The web app of this runtime (REST, WebSocket, UI)."""
    settings = runtime.settings
    return create_app(
        runtime.store,
        runtime.bus,
        runtime.clock,
        settings.ws_heartbeat_seconds,
        admin_token=settings.admin_token.get_secret_value(),
        live_settings=LiveSettings.from_settings(settings),
    )


async def serve_roles(
    runtime: Runtime,
    roles: Collection[Role],
    host: str,
    port: int,
    *,
    games: Collection[str] | None = None,
    announce: Callable[[str], None] = log.info,
    also: Collection[Coroutine[Any, Any, None]] = (),
) -> None:
    """Run `roles` until cancelled or SIGTERM. `games` restricts the runner to those game ids
    (a replay follows only its own games); `also` runs beside the roles (and ends with them)."""
    parts = frozenset(part for role in roles for part in role.parts())
    settings = runtime.settings
    work: list[Coroutine[Any, Any, None]] = list(also)
    async with AsyncExitStack() as stack:
        if Role.WEB in parts:
            url = await stack.enter_async_context(running(web_app(runtime), host, port))
            announce(f"web: serving on {url}/#/live")
        if Role.RUNNER in parts:
            runner = StreamRunner(runtime, max_concurrent=settings.runner_max_streams, games=games)
            await stack.enter_async_context(runner)
            work.append(runner.run_forever())
            dispatcher = WebhookDispatcher(runtime.store, runtime.clock, settings, runner.owner_id)
            await stack.enter_async_context(dispatcher)
            work.append(dispatcher.run_forever())
            announce(f"runner: {runner.owner_id} claiming streams and webhooks")
        if Role.SCHEDULER in parts:
            scheduler = Scheduler(runtime, settings.leagues, settings.schedule_days)
            work.append(scheduler.run_forever(settings.schedule_interval_seconds))
            every = settings.schedule_interval_seconds
            announce(f"scheduler: {', '.join(settings.leagues)} every {every:g} s")
        await until_terminated(work)


async def until_terminated(work: Collection[Coroutine[Any, Any, None]]) -> None:
    """Run `work` until cancelled (Ctrl-C) or the process gets SIGTERM; an error in any part
    stops them all and is raised. With no work, just wait for either."""
    loop = asyncio.get_running_loop()
    terminated = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, terminated.set)
    tasks = [asyncio.create_task(coro) for coro in work]
    waiting = asyncio.create_task(terminated.wait(), name="sigterm")
    try:
        await asyncio.wait([*tasks, waiting], return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        for task in (*tasks, waiting):
            task.cancel()
        await asyncio.gather(*tasks, waiting, return_exceptions=True)
    if terminated.is_set():
        log.info("SIGTERM: stopping")
        return
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error
