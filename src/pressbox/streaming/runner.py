"""The stream runner: claims due streams by lease and runs one streamer per claimed stream.

Any number of runner processes share one database. Each claims streams through `Leases`, renews
every lease a third of its TTL on the runtime clock, and stops a streamer at once when its lease is
lost (another runner took the stream over, or an operator moved it out of the running states). A
streamer that ends releases its lease; so does a runner that shuts down, so that another runner can
take its streams over at once rather than after the TTL.

    async with StreamRunner(runtime) as runner:
        await runner.run_forever()
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Collection
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from pressbox import logs
from pressbox.cancellation import finish
from pressbox.errors import StoreError
from pressbox.runtime import Runtime
from pressbox.store import StreamRecord
from pressbox.store.leases import Leases
from pressbox.streaming.streamer import Streamer

log = logging.getLogger(__name__)


def new_owner_id() -> str:
    """A runner id unique across hosts and restarts: `{hostname}:{pid}:{random}`."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class StreamRunner:
    """Claims due streams and follows each with a streamer while it holds the stream's lease.

    Every task it starts is its own: leaving `async with` cancels and awaits all of them and
    releases their leases. `lease_ttl` and `poll_interval` are seconds of the runtime clock;
    the defaults come from the runtime's settings. `games` restricts it to those game ids.
    """

    def __init__(
        self,
        runtime: Runtime,
        owner_id: str | None = None,
        *,
        lease_ttl: float | None = None,
        poll_interval: float | None = None,
        max_concurrent: int = 20,
        max_retries: int | None = None,
        games: Collection[str] | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.clock = runtime.clock
        self.owner_id = owner_id or new_owner_id()
        self.lease_ttl = lease_ttl or settings.lease_ttl_seconds
        self.poll_interval = poll_interval or settings.runner_poll_seconds
        self.max_concurrent = max_concurrent
        self.games = None if games is None else frozenset(games)
        retries = settings.max_retries if max_retries is None else max_retries
        self.leases = Leases(runtime.store, retries)
        self._held: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    @property
    def held(self) -> frozenset[str]:
        """The game ids whose streams this runner holds and follows now."""
        return frozenset(self._held)

    async def __aenter__(self) -> StreamRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def run_forever(self) -> None:
        """Claim due streams every poll interval until cancelled."""
        log.info("runner %s started (lease %gs)", self.owner_id, self.lease_ttl)
        while True:
            started = self.clock.now()
            await self.claim_due()
            elapsed = (self.clock.now() - started).total_seconds()
            await self.clock.sleep(max(0.0, self.poll_interval - elapsed))

    async def claim_due(self) -> list[StreamRecord]:
        """One claim round: claim what is due (up to the free capacity) and start following it.
        A database error is logged and the round is skipped; the next one tries again."""
        free = 0 if self._stopping else self.max_concurrent - len(self._held)
        try:
            claimed = await self.leases.claim_due(
                self.owner_id, self.clock.now(), self.lease_ttl, free, self.games
            )
        except StoreError as exc:
            log.warning("runner %s: claiming streams failed: %s", self.owner_id, exc)
            return []
        for record in claimed:
            if record.game_id not in self._held:  # else: our own lease lapsed and was renewed
                task = asyncio.create_task(self._hold(record), name=f"lease:{record.game_id}")
                self._held[record.game_id] = task
        return claimed

    async def stop(self) -> None:
        """Stop every streamer and release every lease (each holder releases its own); claim
        nothing more."""
        self._stopping = True
        holders = list(self._held.values())
        for task in holders:
            task.cancel()
        await asyncio.gather(*holders, return_exceptions=True)

    async def _hold(self, record: StreamRecord) -> None:
        """Follow one claimed stream while its lease holds; release the lease at the end."""
        game_id, crashed = record.game_id, False
        logs.game_id.set(game_id)  # this task's context: its streamer's and workers' log lines
        logs.runner_id.set(self.owner_id)
        streamer: Streamer | None = None
        try:
            streamer = await self._streamer(game_id)
            work = asyncio.create_task(streamer.run(), name=f"{game_id}:streamer")
            try:
                await self._keep_lease(game_id, streamer, work)
            finally:
                work.cancel()
                outcome = (await asyncio.gather(work, return_exceptions=True))[0]
            if isinstance(outcome, Exception):
                crashed = True
                log.error("streamer of %s failed", game_id, exc_info=outcome)
            elif not isinstance(outcome, BaseException):
                log.info("stream %s ended %s", game_id, outcome)
        except Exception:  # a holder never raises: it logs, and the lease counts a retry
            crashed = True
            log.exception("runner %s: following stream %s failed", self.owner_id, game_id)
        finally:
            # The upstream figures since the last renewal are saved with the release.
            fetches = streamer.tally.to_json() if streamer is not None else None
            await self._release(game_id, crashed, fetches)
            self._held.pop(game_id, None)  # after the release: `held` never shows it early

    async def _streamer(self, game_id: str) -> Streamer:
        # Reads run to their end too: a connection cancelled mid-statement is left unclosed.
        game = await finish(self.runtime.store.game(game_id))
        if game is None:
            raise StoreError(f"stream {game_id} has no game row")
        return self.runtime.streamer(game_id, game["league"], owner=self.owner_id)

    async def _keep_lease(
        self, game_id: str, streamer: Streamer, work: asyncio.Task[object]
    ) -> None:
        """Renew the lease every third of its TTL until the streamer ends; return at once when
        the lease is lost, or when the database stays unreachable until the lease runs out."""
        every = self.lease_ttl / 3
        expires = self._expiry(self.clock.now())
        while not await self._ended_within(work, every):
            now = self.clock.now()
            try:
                kept = await self.leases.renew(
                    game_id,
                    self.owner_id,
                    now,
                    self.lease_ttl,
                    streamer.last_poll,
                    streamer.tally.to_json(),
                )
            except StoreError as exc:
                if self.clock.now().timestamp() + every >= expires.timestamp():
                    log.error("lease on %s cannot be renewed (%s): stopping", game_id, exc)
                    return
                log.warning("lease on %s not renewed (%s); retrying", game_id, exc)
                continue
            if not kept:
                # A streamer that just ended its stream has left the running states itself.
                if not work.done() and not await self._ended_by_its_streamer(game_id):
                    log.warning(
                        "lease on %s lost (taken over, or the stream left the running states): "
                        "stopping its streamer",
                        game_id,
                    )
                return
            expires = self._expiry(now)

    async def _ended_by_its_streamer(self, game_id: str) -> bool:
        """Whether the stream ended (Completed, Failed, …) while still ours: its streamer is
        finishing, not losing it."""
        try:
            stream = await self.runtime.store.stream(game_id)
        except StoreError:
            return False
        return stream is not None and stream.status.is_final and stream.owner == self.owner_id

    def _expiry(self, renewed: datetime) -> datetime:
        return renewed + timedelta(seconds=self.lease_ttl)

    async def _ended_within(self, work: asyncio.Task[object], seconds: float) -> bool:
        """Wait until `work` ends or `seconds` of the runtime clock pass; True if it ended."""
        sleeper = asyncio.create_task(self.clock.sleep(seconds))
        try:
            await asyncio.wait({work, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            await asyncio.gather(sleeper, return_exceptions=True)
        return work.done()

    async def _release(
        self, game_id: str, crashed: bool, fetches: dict[str, Any] | None = None
    ) -> None:
        try:
            await self.leases.release(game_id, self.owner_id, crashed=crashed, fetches=fetches)
        except StoreError as exc:  # the lease then runs out by itself
            log.warning("releasing %s failed: %s", game_id, exc)
