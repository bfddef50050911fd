"""Per-game channels that carry committed events to whoever serves viewers.

`memory://` is the in-process bus (one process streams and serves); `redis://` and `rediss://`
share channels between processes through a Redis server.
"""

from pressbox.bus.memory import MemoryBus
from pressbox.bus.subscription import Batch, Bus, Subscription
from pressbox.errors import ConfigError

__all__ = ["BUS_SCHEMES", "Batch", "Bus", "MemoryBus", "Subscription", "open_bus"]

#: URL schemes `open_bus` understands.
BUS_SCHEMES = ("memory://", "redis://", "rediss://")


def open_bus(url: str) -> Bus:
    """The bus a URL names: `memory://`, or a Redis server (`redis://host:port/db`, `rediss://`).

    Nothing connects yet (a Redis bus connects when first used); close it with `aclose()`.
    """
    if url == "memory://":
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        from pressbox.bus.redis import RedisBus  # the redis client is imported only when used

        return RedisBus(url)
    raise ConfigError(f"unknown bus URL {url!r}: use memory://, redis://host:port/db or rediss://")
