"""The in-process bus: the embedded default, for one process serving both streams and viewers.

The bus only carries what was committed; a subscriber that misses a batch (its queue was full) sees
a gap in seqs and reads the log from its last seq, so dropping here never loses an event.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from pressbox.domain.events import StoredEvent

Batch = Sequence[StoredEvent]


class Subscription:
    """One subscriber's view of one game's channel; use as an async context manager."""

    def __init__(self, bus: MemoryBus, game_id: str, capacity: int) -> None:
        self._bus = bus
        self.game_id = game_id
        self.queue: asyncio.Queue[Batch] = asyncio.Queue(capacity)
        self.dropped = 0

    async def __aenter__(self) -> Subscription:
        self._bus.attach(self)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bus.detach(self)

    async def get(self) -> Batch:
        """The next batch published on this game's channel."""
        return await self.queue.get()

    def offer(self, batch: Batch) -> None:
        try:
            self.queue.put_nowait(batch)
        except asyncio.QueueFull:
            self.dropped += 1


class Bus(Protocol):
    """Publish committed events of a game; subscribe to a game's channel."""

    async def publish(self, game_id: str, batch: Batch) -> None: ...

    def subscribe(self, game_id: str) -> Subscription: ...


class MemoryBus:
    """Per-game fan-out inside one process."""

    def __init__(self, capacity: int = 256) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._capacity = capacity

    async def publish(self, game_id: str, batch: Batch) -> None:
        """Hand `batch` to every subscriber of `game_id` without waiting on any of them."""
        if batch:
            for subscription in tuple(self._subscribers.get(game_id, ())):
                subscription.offer(batch)

    def subscribe(self, game_id: str) -> Subscription:
        """A subscription to `game_id`; it receives batches from entering its context on."""
        return Subscription(self, game_id, self._capacity)

    def attach(self, subscription: Subscription) -> None:
        self._subscribers[subscription.game_id].add(subscription)

    def detach(self, subscription: Subscription) -> None:
        subs = self._subscribers.get(subscription.game_id)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self._subscribers[subscription.game_id]

    def subscriber_count(self, game_id: str) -> int:
        """How many subscribers `game_id` has (for tests and metrics)."""
        return len(self._subscribers.get(game_id, ()))
