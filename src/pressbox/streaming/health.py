"""A stream's health: what of it fails now (a read's name -> its last error), persisted in the
stream row's `health` on every change, shown as `stream.degraded` and in the WebSocket `status`.

Degraded means "answered and now fails". A document that has answered nothing but 404 since the
stream started (ESPN publishes plays at the first play, and some feeds never publish leaders) is
*not published*, not degraded: kept apart in the row's `unpublished`, logged once at INFO.

The streamer owns one; it and its document workers change it concurrently. It also keeps the
log sane under an outage: one warning when a read starts failing and one when it recovers (with
how many attempts failed and for how long), the attempts between at DEBUG. Whether failures end
the stream is not this record's to judge (`domain.failure`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.errors import PressboxError, UpstreamStatusError
from pressbox.store import Store

log = logging.getLogger(__name__)


@dataclass
class _Failing:
    since: datetime
    message: str
    attempts: int = 1


class StreamHealth:
    """The degraded reads of one game's stream, written to its row."""

    def __init__(self, game_id: str, store: Store, clock: Clock) -> None:
        self.game_id = game_id
        self.store = store
        self.clock = clock
        self._failing: dict[str, _Failing] = {}
        self._answered: set[str] = set()
        self._unpublished: set[str] = set()
        self._lock = asyncio.Lock()

    def failing(self, what: str) -> bool:
        """Whether `what` fails now."""
        return what in self._failing

    def unpublished(self, what: str) -> bool:
        """Whether `what` has answered nothing but 404 so far."""
        return what in self._unpublished

    async def degrade(self, what: str, exc: PressboxError) -> None:
        """Record that `what` failed with `exc` (written only when its message changes); a 404
        of a document that has never answered marks it not published instead."""
        if (
            what not in self._answered
            and isinstance(exc, UpstreamStatusError)
            and exc.status == 404
        ):
            if what not in self._unpublished:
                log.info("game %s: %s not published (yet): %s", self.game_id, what, exc)
                self._unpublished.add(what)
                await self._save()
            return
        message = str(exc)[:200]
        failing = self._failing.get(what)
        if failing is None:
            log.warning("game %s: %s failing: %s", self.game_id, what, message)
            self._failing[what] = _Failing(self.clock.now(), message)
            await self._save()
            return
        failing.attempts += 1
        log.debug("game %s: %s failed again (%d): %s", self.game_id, what, failing.attempts, exc)
        if failing.message != message:
            failing.message = message
            await self._save()

    async def recover(self, what: str) -> None:
        """Record that `what` answered (works again, or is published now)."""
        self._answered.add(what)
        if what in self._unpublished:
            self._unpublished.discard(what)
            log.info("game %s: %s published", self.game_id, what)
            await self._save()
        failing = self._failing.pop(what, None)
        if failing is not None:
            lasted = timedelta(seconds=round((self.clock.now() - failing.since).total_seconds()))
            log.warning(
                "game %s: %s recovered after %d failed attempt%s in %s",
                self.game_id,
                what,
                failing.attempts,
                "" if failing.attempts == 1 else "s",
                lasted,
            )
            await self._save()

    async def clear(self) -> None:
        """Forget every failure: a finished stream has nothing left to be degraded about (what
        was never published stays said)."""
        if self._failing:
            self._failing.clear()
            await self._save()

    async def _save(self) -> None:
        """Persist the health as it is now. Workers change it concurrently: the writes queue in
        order and run to their end even if their worker is cancelled, and each writes the state
        at its turn, so the row always ends with the latest one."""

        async def write() -> None:
            async with self._lock:
                health = {what: f.message for what, f in self._failing.items()}
                await self.store.set_stream_health(
                    self.game_id, health, self.clock.now(), unpublished=tuple(self._unpublished)
                )

        await finish(write())
