"""The in-process bus: the embedded default, for one process serving both streams and viewers.

The bus only carries what was committed; a subscriber that misses a batch (its queue was full) sees
a gap in seqs and reads the log from its last seq, so dropping here never loses an event.
"""

from __future__ import annotations

from collections import defaultdict

from pressbox.bus.subscription import Batch, Bus, Subscription

__all__ = ["Batch", "Bus", "MemoryBus", "Subscription"]


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

    async def attach(self, subscription: Subscription) -> None:
        self._subscribers[subscription.game_id].add(subscription)

    async def detach(self, subscription: Subscription) -> None:
        subs = self._subscribers.get(subscription.game_id)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self._subscribers[subscription.game_id]

    def subscriber_count(self, game_id: str) -> int:
        """How many subscribers `game_id` has (for tests and metrics)."""
        return len(self._subscribers.get(game_id, ()))

    async def ping(self) -> bool:
        """Always ready: nothing outside the process to reach."""
        return True

    async def aclose(self) -> None:
        """Nothing to release."""
