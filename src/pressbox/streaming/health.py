"""A stream's health: what of it fails now (a read's name -> its last error), persisted in the
stream row's `health` on every change, shown as `stream.degraded` and in the WebSocket `status`.

The streamer owns one; it and its document workers change it concurrently. Whether failures end
the stream (the failure budget) is the streamer's to judge, not this record's.
"""

from __future__ import annotations

import asyncio

from pressbox.cancellation import finish
from pressbox.clock import Clock
from pressbox.errors import PressboxError
from pressbox.store import Store


class StreamHealth:
    """The degraded reads of one game's stream, written to its row."""

    def __init__(self, game_id: str, store: Store, clock: Clock) -> None:
        self.game_id = game_id
        self.store = store
        self.clock = clock
        self._failing: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def degrade(self, what: str, exc: PressboxError) -> None:
        """Record that `what` failed with `exc` (written only when its message changes)."""
        message = str(exc)[:200]
        if self._failing.get(what) != message:
            self._failing[what] = message
            await self._save()

    async def recover(self, what: str) -> None:
        """Record that `what` works again."""
        if self._failing.pop(what, None) is not None:
            await self._save()

    async def clear(self) -> None:
        """Forget every failure: a finished stream has nothing left to be degraded about."""
        if self._failing:
            self._failing.clear()
            await self._save()

    async def _save(self) -> None:
        """Persist the health as it is now. Workers change it concurrently: the writes queue in
        order and run to their end even if their worker is cancelled, and each writes the state
        at its turn, so the row always ends with the latest one."""

        async def write() -> None:
            async with self._lock:
                health = dict(self._failing)
                await self.store.set_stream_health(self.game_id, health, self.clock.now())

        await finish(write())
