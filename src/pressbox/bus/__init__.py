"""Per-game channels that carry committed events to whoever serves viewers."""

from pressbox.bus.memory import Bus, MemoryBus, Subscription

__all__ = ["Bus", "MemoryBus", "Subscription"]
