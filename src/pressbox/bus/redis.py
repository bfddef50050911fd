"""The Redis bus: processes share games' channels (a runner publishes, any number of web processes
deliver to their viewers).

Each game has a channel, `pressbox:game:{id}`. A process holds ONE pub/sub connection for all of
them: a channel is subscribed when its first local subscriber enters and unsubscribed when its last
one leaves, and one reader task hands every message to the local subscriptions of its game. A
batch is serialised once, as a JSON list of events (with their keys and exact times).

Redis pub/sub is fire-and-forget: what is published while this process is not connected (Redis
restarted, the network dropped, the reader is reconnecting) never reaches it. That is safe because
the event log is the truth, not the bus: the next batch a viewer gets does not continue at its last
seq, so the web fills the gap from the log. The cost is latency: events published during an outage
reach viewers with the first batch after it (or when they reconnect). For the same reason a
publish that fails is logged and dropped, never raised: the streamer publishes after its commit,
so the event is in the log already and a raise would only stop the stream.

The reader reconnects with jittered exponential backoff and re-subscribes every channel, logging
the loss and the recovery; a PING after `idle` seconds without traffic detects a connection that
died silently. `aclose()` stops the reader and closes both connections (pub/sub and commands).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import backoff
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from pressbox.bus.subscription import Batch, Subscription
from pressbox.domain.events import StoredEvent

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "pressbox:game:"
#: What a lost or refused connection raises, from redis-py or from the socket underneath it.
_DOWN = (RedisError, OSError)


def encode_batch(batch: Batch) -> str:
    """The bus form of a batch: the protocol's event objects plus their keys and exact times."""
    return json.dumps(
        [{**event.to_json(), "at": event.at.isoformat(), "key": event.key} for event in batch],
        separators=(",", ":"),
    )


def decode_batch(payload: bytes | str) -> tuple[StoredEvent, ...]:
    """The events of a message; ValueError when it is not a batch."""
    items = json.loads(payload)
    if not isinstance(items, list):
        raise ValueError("a batch is a JSON list")
    return tuple(StoredEvent.from_json(item) for item in items)


def _delays(initial: float, cap: float) -> Iterator[float]:
    """Exponential delays from `initial` up to `cap`, each with full jitter."""
    for delay in backoff.expo(base=2, factor=initial, max_value=cap):
        if delay is not None:  # the generator's first value only primes it
            yield float(backoff.full_jitter(delay))


class _Link:
    """One pub/sub connection and the SUBSCRIBEs in flight on it; a reconnect makes a new one."""

    def __init__(self, pubsub: PubSub) -> None:
        self.pubsub = pubsub
        self.closed = False
        self._pending: dict[str, int] = {}  # channel -> SUBSCRIBEs sent and not yet confirmed
        #: Channels subscribed (or being subscribed) on this link; set once Redis confirmed.
        self.ready: dict[str, asyncio.Event] = {}

    async def subscribe(self, channels: list[str]) -> None:
        for channel in channels:
            self._pending[channel] = self._pending.get(channel, 0) + 1
            self.ready.setdefault(channel, asyncio.Event())
        await self.pubsub.subscribe(*channels)

    async def unsubscribe(self, channel: str) -> None:
        self.ready.pop(channel, None)
        await self.pubsub.unsubscribe(channel)

    def confirmed(self, channel: str) -> None:
        """Redis confirmed a SUBSCRIBE: the channel is ready once the last one sent is."""
        left = self._pending.pop(channel, 0) - 1
        if left > 0:
            self._pending[channel] = left
        elif channel in self.ready:
            self.ready[channel].set()

    async def wait_ready(self, channel: str) -> bool:
        """Wait for Redis to confirm `channel`; False when the link dropped first."""
        event = self.ready.get(channel)
        if event is not None:
            await event.wait()
        return not self.closed

    async def close(self) -> None:
        self.closed = True
        for event in self.ready.values():
            event.set()  # wake waiters: they look for the next link
        await self.pubsub.aclose()

    def connected(self) -> bool:
        connection = self.pubsub.connection
        return connection is not None and bool(connection.is_connected)


class RedisBus:
    """Per-game channels on a Redis server, shared by every process that uses it.

    Args:
        url: `redis://host:port/db` or `rediss://...`.
        capacity: each subscription's queue size (a full queue drops and counts the batch).
        timeout: seconds a command (publish, ping) or a subscription's confirmation may take.
        idle: seconds without traffic on the pub/sub connection before a PING checks it.
        retry_initial: first reconnect delay, s; doubles up to `retry_cap` (full jitter).
        retry_cap: longest reconnect delay, s.
    """

    def __init__(
        self,
        url: str,
        *,
        capacity: int = 256,
        timeout: float = 5.0,
        idle: float = 30.0,
        retry_initial: float = 0.5,
        retry_cap: float = 30.0,
    ) -> None:
        self.url = url
        self._capacity = capacity
        self._timeout = timeout
        self._idle = idle
        self._retry = (retry_initial, retry_cap)
        # Commands: one immediate retry re-opens a pooled connection that Redis closed.
        self._commands: Redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
        )
        # Pub/sub: no hidden retries or reconnects; the reader does them, and re-subscribes.
        self._listener: Redis = Redis.from_url(
            url, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0, supported_errors=())
        )
        self._local: dict[str, set[Subscription]] = {}
        self._link: _Link | None = None
        self._down = False  # the last connection attempt failed: subscribers do not wait
        self._changed = asyncio.Event()  # set (and replaced) when a link opens or Redis is down
        self._reader: asyncio.Task[None] | None = None
        self._closed = False
        #: Batches not published because Redis did not take them (they are in the log).
        self.publish_failures = 0
        #: Times the pub/sub connection was opened again after a loss (or a failed attempt).
        self.reconnects = 0

    @staticmethod
    def channel(game_id: str) -> str:
        """The Redis channel of `game_id`."""
        return f"{CHANNEL_PREFIX}{game_id}"

    async def publish(self, game_id: str, batch: Batch) -> None:
        """Publish `batch` to every process subscribed to `game_id`; a failure is logged, not
        raised (the batch is committed: subscribers fill the gap from the log)."""
        if not batch:
            return
        if self._closed:
            raise RuntimeError("publish on a closed RedisBus")
        try:
            await self._commands.publish(self.channel(game_id), encode_batch(batch))
        except _DOWN as exc:
            self.publish_failures += 1
            log.warning(
                "redis bus: seq %d..%d of game %s not published (%s); viewers read them from the "
                "log after the next batch",
                batch[0].seq,
                batch[-1].seq,
                game_id,
                exc,
            )

    def subscribe(self, game_id: str) -> Subscription:
        """A subscription to `game_id`; it receives batches from entering its context on."""
        return Subscription(self, game_id, self._capacity)

    def subscriber_count(self, game_id: str) -> int:
        """How many subscribers `game_id` has in this process (for tests and metrics)."""
        return len(self._local.get(game_id, ()))

    async def ping(self) -> bool:
        """True when Redis answers a PING within the timeout (a readiness check)."""
        if self._closed:
            return False
        try:
            return bool(await self._commands.ping())
        except _DOWN:
            return False

    async def attach(self, subscription: Subscription) -> None:
        """Start delivering `subscription`'s game to it: subscribe its channel in Redis when it
        is the game's first local subscriber, and wait (bounded) until Redis confirmed."""
        if self._closed:
            raise RuntimeError("subscribe on a closed RedisBus")
        self._start_reader()
        self._local.setdefault(subscription.game_id, set()).add(subscription)
        channel = self.channel(subscription.game_id)
        try:
            async with asyncio.timeout(self._timeout):
                while (link := await self._current_link()) is not None:
                    if channel not in link.ready:
                        # A failed send drops the connection: the reader re-subscribes.
                        with contextlib.suppress(*_DOWN):
                            await link.subscribe([channel])
                    if await link.wait_ready(channel):
                        return
        except TimeoutError:
            reason = f"not confirmed within {self._timeout:g} s"
        else:
            reason = "Redis is unreachable"
        log.warning(
            "redis bus: game %s not subscribed yet (%s); the reader subscribes it on reconnect",
            subscription.game_id,
            reason,
        )

    async def detach(self, subscription: Subscription) -> None:
        """Stop delivering to `subscription`; unsubscribe the channel when it was the last."""
        game_id = subscription.game_id
        subs = self._local.get(game_id)
        if subs is None:
            return
        subs.discard(subscription)
        if subs:
            return
        del self._local[game_id]
        link = self._link
        if link is not None and self.channel(game_id) in link.ready:
            try:
                await link.unsubscribe(self.channel(game_id))
            except _DOWN as exc:  # the reader's reconnect will not re-subscribe it
                log.debug("redis bus: unsubscribe of game %s failed: %s", game_id, exc)

    async def aclose(self) -> None:
        """Stop the reader, close the pub/sub and command connections; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._set_state(None, down=True)  # subscribers waiting for a link stop waiting
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        await self._listener.aclose()
        await self._commands.aclose()

    def _start_reader(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(
                self._run(), name=f"redis-bus-reader {self._safe_url()}"
            )

    async def _current_link(self) -> _Link | None:
        """The connected link, waiting for the reader to open one; None while Redis is known to
        be down (a subscriber does not wait out an outage)."""
        while not self._down:
            link = self._link
            if link is not None and not link.closed:
                return link
            await self._changed.wait()
        return None

    def _set_state(self, link: _Link | None, down: bool) -> None:
        self._link, self._down = link, down
        self._changed.set()
        self._changed = asyncio.Event()

    async def _run(self) -> None:
        """The reader: connect, subscribe every channel, dispatch messages; again after a loss."""
        delays = _delays(*self._retry)
        loop = asyncio.get_running_loop()
        lost = False
        while True:
            link: _Link | None = None
            began = loop.time()
            try:
                link = await self._connect()
                if lost:
                    self.reconnects += 1
                    log.info("redis bus: reconnected, %d channel(s) subscribed", len(link.ready))
                await self._read(link)
            except _DOWN as exc:
                if link is None:
                    self._set_state(None, down=True)
                what = "connection lost" if link is not None else "cannot connect"
                log.warning("redis bus: %s to %s: %s", what, self._safe_url(), exc)
            except Exception:  # a bug must not end delivery to every viewer of this process
                log.exception("redis bus: reader failed; reconnecting")
            finally:
                if link is not None:
                    await self._drop(link)
            lost = True
            if loop.time() - began >= self._idle:  # the link was healthy a while: start over
                delays = _delays(*self._retry)
            await asyncio.sleep(next(delays))

    async def _connect(self) -> _Link:
        """Open a pub/sub connection and subscribe every channel with local subscribers."""
        link = _Link(self._listener.pubsub())
        try:
            await link.pubsub.ping()  # opens the connection
            self._set_state(link, down=False)
            if self._local:
                await link.subscribe([self.channel(game_id) for game_id in self._local])
        except BaseException:
            await self._drop(link)
            raise
        return link

    async def _drop(self, link: _Link) -> None:
        if self._link is link:
            self._link = None
        if not link.closed:
            await link.close()

    async def _read(self, link: _Link) -> None:
        """Dispatch messages until the connection fails (raises)."""
        pinged = False
        while True:
            if not link.connected():
                raise RedisConnectionError("pub/sub connection closed")
            message = await link.pubsub.get_message(timeout=self._idle)
            if message is not None:
                pinged = False
                self._dispatch(link, message)
            elif pinged:
                raise RedisConnectionError(f"no answer to PING within {self._idle:g} s")
            else:
                await link.pubsub.ping()
                pinged = True

    def _dispatch(self, link: _Link, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in ("message", "subscribe"):
            return  # pong, unsubscribe confirmations
        channel = _text(message["channel"])
        if kind == "subscribe":
            link.confirmed(channel)
            return
        subs = self._local.get(channel.removeprefix(CHANNEL_PREFIX))
        if not subs:
            return  # its last subscriber left while the message was on its way
        try:
            batch = decode_batch(message["data"])
        except ValueError as exc:
            log.warning("redis bus: not a batch on %s, ignored: %s", channel, exc)
            return
        for subscription in tuple(subs):
            subscription.offer(batch)

    def _safe_url(self) -> str:
        """The URL without its password, for logs."""
        head, sep, tail = self.url.rpartition("@")
        return f"{self.url.split('://', 1)[0]}://***@{tail}" if sep and head else self.url


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
