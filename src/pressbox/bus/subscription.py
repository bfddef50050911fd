"""What every bus shares: the `Bus` protocol and a subscriber's bounded queue.

The bus only carries what was committed. A subscriber that misses a batch (its queue was full, or
a Redis connection dropped) sees a gap in seqs and reads the log from its last seq, so losing a
batch here delays events but never loses one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from pressbox.domain.events import StoredEvent

Batch = Sequence[StoredEvent]


class Channels(Protocol):
    """The bus side of a subscription: it starts and stops delivering to it."""

    async def attach(self, subscription: Subscription) -> None: ...

    async def detach(self, subscription: Subscription) -> None: ...


class Subscription:
    """One subscriber's view of one game's channel; use as an async context manager.

    Its queue is bounded: a batch that finds it full is dropped and counted in `dropped`, so a
    slow subscriber never holds up the others (it fills the gap from the log).
    """

    def __init__(self, channels: Channels, game_id: str, capacity: int) -> None:
        self._channels = channels
        self.game_id = game_id
        self.queue: asyncio.Queue[Batch] = asyncio.Queue(capacity)
        self.dropped = 0

    async def __aenter__(self) -> Subscription:
        await self._channels.attach(self)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._channels.detach(self)

    async def get(self) -> Batch:
        """The next batch published on this game's channel."""
        return await self.queue.get()

    def offer(self, batch: Batch) -> None:
        """Queue `batch` without waiting; drop it (and count it) when the queue is full."""
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.dropped += 1


class Bus(Protocol):
    """Publish committed events of a game; subscribe to a game's channel."""

    async def publish(self, game_id: str, batch: Batch) -> None:
        """Hand `batch` (committed events of `game_id`) to the game's subscribers."""
        ...

    def subscribe(self, game_id: str) -> Subscription:
        """A subscription to `game_id`; it receives batches from entering its context on."""
        ...

    def subscriber_count(self, game_id: str) -> int:
        """How many subscribers `game_id` has in this process (for tests and metrics)."""
        ...

    async def ping(self) -> bool:
        """True when the bus can carry messages now (readiness checks)."""
        ...

    async def aclose(self) -> None:
        """Release connections and background tasks."""
        ...
