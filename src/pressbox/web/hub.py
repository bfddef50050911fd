"""The live hub: one channel per followed game, fanning each committed batch out to its viewers.

A game with at least one viewer in this process has one `GameChannel`: one bus subscription (not
one per connection), a reader that continues the log gap-free (a batch that does not continue the
channel's head is filled from the store's log), a history window of the last events, and a
heartbeat. Each `events` message is encoded once, and framed once: under uvicorn with
`frames.FramesProtocol` the same frame bytes are written to every live viewer's transport in the
broadcast loop itself (no task wake-up per viewer; a viewer whose transport buffer runs past the
send buffer is closed as a slow consumer); under any other server the same string is queued to
each viewer's bounded outbox, drained by its writer task. Either way a slow viewer never holds up
the others.

A viewer catches up (snapshot, or the events after its `after` from the window, else from the
log) while not live, then joins the live stream in one step without an `await`, so no batch can
slip between its catch-up and the live stream: no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import WebSocket

from pressbox.bus import Bus, Subscription
from pressbox.clock import Clock, format_time
from pressbox.domain.events import EventType, StoredEvent
from pressbox.errors import PressboxError
from pressbox.metrics import metrics
from pressbox.store import Store
from pressbox.web.frames import frame_sink, text_frame
from pressbox.web.limits import Admission, CloseCode, LiveSettings, Refusal
from pressbox.web.messages import chunks, encode, encode_event, events_message
from pressbox.web.outbox import BufferGauge
from pressbox.web.snapshots import game_snapshot
from pressbox.web.viewer import FrameViewer, QueuedViewer, Viewer

log = logging.getLogger(__name__)

#: Events per message when catching up from the log.
PAGE = 1000


class LiveChannelError(PressboxError):
    """A game's live channel could not start or stopped on an error."""


def market_health(market: dict[str, Any] | None) -> dict[str, Any]:
    """The `market` and `market_detail` of a `status` message, from a `market_status` event's
    data or a game summary's `market` (None: markets off or not looked for yet: "unknown")."""
    if not market or not market.get("state"):
        return {"market": "unknown", "market_detail": None}
    detail = market.get("reason") or market.get("event_ticker")
    return {"market": market["state"], "market_detail": detail}


def _continues(events: Sequence[StoredEvent], seq: int) -> bool:
    """Whether `events` are exactly seq, seq + 1, ..."""
    return all(event.seq == seq + i for i, event in enumerate(events))


class GameChannel:
    """The live side of one game in this process; see the module docstring."""

    def __init__(self, hub: Hub, game_id: str) -> None:
        self.hub = hub
        self.game_id = game_id
        self.viewers: set[Viewer] = set()
        self.head = 0
        self._health: dict[str, Any] = {
            "stream": None,
            "espn": "live",
            "degraded": [],
            "unpublished": [],
        }
        self._market: dict[str, Any] = market_health(None)
        self.status = self._encode_status()
        self.closed = False
        self._window: deque[tuple[int, str]] = deque(maxlen=hub.settings.history_events)
        self._ready = asyncio.Event()
        self._beats = 0
        self._snapshot: asyncio.Task[tuple[int, int, str] | None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Subscribe and follow the game in a task of its own."""
        self._task = asyncio.create_task(self._run(), name=f"live-channel:{self.game_id}")

    async def ready(self) -> None:
        """Return once the channel follows the game; LiveChannelError if it could not."""
        await self._ready.wait()
        if self.closed:
            raise LiveChannelError(f"the live channel of game {self.game_id} failed")

    async def stop(self) -> None:
        """Unsubscribe and stop every task of the channel (idempotent)."""
        self.closed = True
        tasks = [t for t in (self._task, self._snapshot) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self) -> None:
        try:
            async with self.hub.bus.subscribe(self.game_id) as subscription:
                await self._load()
                self._ready.set()
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(self._follow(subscription))
                    tasks.create_task(self._beat())
        except Exception:
            log.exception("live channel of game %s failed", self.game_id)
            for viewer in tuple(self.viewers):
                viewer.end(CloseCode.INTERNAL, "live channel failed: reconnect and resume")
        finally:
            self.closed = True
            self._ready.set()

    async def _load(self) -> None:
        """The log's head, the history window and the stream status, read once at start."""
        store = self.hub.store
        game = await store.game(self.game_id)
        size = self._window.maxlen or 1
        start = max(0, (game["seq"] if game else 0) - size)
        events = await store.events_since(self.game_id, start, size)
        self.head = start
        if events:
            self._remember(events, [encode_event(e) for e in events])
        # The loaded events end at or after the row's seq: a market_status among them is newer.
        statuses = [e.data for e in events if e.type is EventType.MARKET_STATUS]
        self._market = market_health(statuses[-1] if statuses else game and game.get("market"))
        self.status = await self._read_status()

    async def _follow(self, subscription: Subscription) -> None:
        """Broadcast each new batch; fill what the bus lost (or reordered) from the log."""
        while True:
            batch = await subscription.get()
            fresh = [event for event in batch if event.seq > self.head]
            if not fresh:
                continue
            if _continues(fresh, self.head + 1):
                self._broadcast(fresh)
            else:
                await self._fill(fresh[-1].seq)

    async def _fill(self, until: int) -> None:
        while self.head < until:
            events = await self.hub.store.events_since(self.game_id, self.head, PAGE)
            if not events:
                log.warning("game %s: the bus had seq %d, the log not", self.game_id, until)
                return
            self._broadcast(events)

    def _remember(self, events: Sequence[StoredEvent], encoded: Sequence[str]) -> None:
        self._window.extend(zip((e.seq for e in events), encoded, strict=True))
        self.head = events[-1].seq

    def _broadcast(self, events: Sequence[StoredEvent]) -> None:
        """Send `events` (continuing the head) to every live viewer: one encoding and one
        frame for all."""
        encoded = [encode_event(e) for e in events]
        self._remember(events, encoded)
        first, last = events[0].seq, events[-1].seq
        sent = self.hub.sent_ms()
        message = events_message(encoded, sent)
        frame = text_frame(message)
        delivered = 0
        for viewer in tuple(self.viewers):
            if not viewer.live or viewer.position >= last:
                continue
            if viewer.position == first - 1:
                queued = viewer.offer(message, frame=frame)
            elif viewer.position >= first:  # it resumed from the log past the channel's head
                queued = viewer.offer(events_message(encoded[viewer.position - first + 1 :], sent))
            else:  # cannot happen: viewers join at the head and the channel has no gaps
                viewer.end(CloseCode.INTERNAL, "missed events: reconnect and resume")
                continue
            if queued:
                viewer.position = last
                delivered += 1
        metrics().ws_deliveries.add(delivered)
        self._note_market(events)

    def _note_market(self, events: Sequence[StoredEvent]) -> None:
        """A `market_status` among `events` changes the status: tell the live viewers now."""
        changes = [e.data for e in events if e.type is EventType.MARKET_STATUS]
        if not changes:
            return
        self._market = market_health(changes[-1])
        self.status = self._encode_status()
        frame = text_frame(self.status)
        for viewer in tuple(self.viewers):
            if viewer.live:
                viewer.offer(self.status, frame=frame)

    async def _beat(self) -> None:
        """Heartbeat and status to every live viewer; the status is read once per game."""
        while True:
            await asyncio.sleep(self.hub.heartbeat)
            try:
                self.status = await self._read_status()
            except PressboxError as exc:  # the last status stands; the next beat reads again
                log.warning("game %s: status not read for the heartbeat: %s", self.game_id, exc)
            self._beats += 1
            heartbeat = encode({"type": "heartbeat", "at": format_time(self.hub.clock.now())})
            beat, status = text_frame(heartbeat), text_frame(self.status)
            for viewer in tuple(self.viewers):
                if viewer.live and viewer.offer(heartbeat, frame=beat):
                    viewer.offer(self.status, frame=status)

    async def _read_status(self) -> str:
        """The stream's health read from the store, with the market's as last seen."""
        stream = await self.hub.store.stream(self.game_id)
        self._health = {
            "stream": str(stream.status) if stream else None,
            "espn": "degraded" if stream and stream.health else "live",
            "degraded": sorted(stream.health) if stream else [],
            "unpublished": list(stream.unpublished) if stream else [],
        }
        return self._encode_status()

    def _encode_status(self) -> str:
        return encode({"type": "status", **self._health, **self._market})

    async def catch_up(self, viewer: Viewer, after: int | None) -> None:
        """Queue to `viewer` what follows `after` (a snapshot when None or too far behind),
        then make it live at the channel's head."""
        viewer.live = False
        position = after if after is not None and await self._can_resume(after) else None
        if after is not None:
            outcome = "snapshot" if position is None else "events"
            metrics().ws_resumes.add(1, {"outcome": outcome})
        while not viewer.ended:
            if not await self._drained(viewer):
                return
            if position is None:
                position = await self._queue_snapshot(viewer)
            elif position >= self.head:
                viewer.go_live(position)
                return
            elif self._window and self._window[0][0] <= position + 1:
                skip = position + 1 - self._window[0][0]
                missed = itertools.islice(self._window, skip, None)
                self._queue_events(viewer, (text for _, text in missed))
                viewer.go_live(self.head)
                return
            else:
                position = await self._queue_from_log(viewer, position)

    async def _can_resume(self, after: int) -> bool:
        """Whether at most `resume_max_events` were missed after `after` (and it is in the log)."""
        limit = self.hub.settings.resume_max_events
        if after <= self.head:
            return self.head - after <= limit
        game = await self.hub.store.game(self.game_id)
        return game is not None and after <= game["seq"]

    async def _drained(self, viewer: Viewer) -> bool:
        """Wait until what the viewer was sent is (nearly) written, so one catch-up message
        always fits."""
        try:
            async with asyncio.timeout(self.hub.settings.dead_peer_seconds):
                await viewer.drained()
        except TimeoutError:
            viewer.end(CloseCode.SLOW_CONSUMER, "slow consumer: catch-up not read in time")
            return False
        return True

    async def _queue_snapshot(self, viewer: Viewer) -> int | None:
        snapshot = await self._current_snapshot()
        if snapshot is None:
            viewer.end(CloseCode.UNKNOWN_GAME, f"unknown game {self.game_id}"[:120])
            return None
        seq, _, message = snapshot
        viewer.offer(message, catch_up=True)
        return seq

    async def _current_snapshot(self) -> tuple[int, int, str] | None:
        """(seq, beat, encoded message) of a snapshot at the head, built once for every viewer
        that needs one meanwhile (a reconnect storm costs one read of the log, not one each)."""
        task = self._snapshot
        stale = (
            task is None
            or (task.done() and (task.cancelled() or task.exception() is not None))
            or (task.done() and self._outdated(task.result()))
        )
        if stale:
            task = self._snapshot = asyncio.create_task(self._build_snapshot())
        assert task is not None
        return await asyncio.shield(task)

    def _outdated(self, built: tuple[int, int, str] | None) -> bool:
        """A snapshot is rebuilt once per heartbeat (its stream fields age), or when the events
        after it no longer make a cheap catch-up from the window."""
        if built is None or built[1] != self._beats:
            return True
        return self.head - built[0] > (self._window.maxlen or 1) // 2

    async def _build_snapshot(self) -> tuple[int, int, str] | None:
        beat = self._beats
        snapshot = await game_snapshot(self.hub.store, self.game_id)
        if snapshot is None:
            return None
        seq = snapshot["seq"]
        return seq, beat, encode({"type": "snapshot", "seq": seq, "snapshot": snapshot})

    async def _queue_from_log(self, viewer: Viewer, position: int) -> int:
        events = await self.hub.store.events_since(self.game_id, position, PAGE)
        if not events:
            raise LiveChannelError(f"game {self.game_id}: the log ends before seq {self.head}")
        self._queue_events(viewer, (encode_event(e) for e in events))
        return events[-1].seq

    def _queue_events(self, viewer: Viewer, encoded: Iterable[str]) -> None:
        """Queue catch-up events in messages of at most half the send buffer (one event at
        least), so a large catch-up never makes one huge message."""
        sent = self.hub.sent_ms()
        for chunk in chunks(encoded, max(1, self.hub.settings.send_buffer_bytes // 2)):
            viewer.offer(events_message(chunk, sent), catch_up=True)


class Hub:
    """Every live connection of this process: admission, and one channel per followed game."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        heartbeat: float,
        settings: LiveSettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.heartbeat = heartbeat
        self.settings = settings
        self.gauge = BufferGauge()
        self.admission = Admission(settings, monotonic())
        self._monotonic = monotonic
        self._wall = wall
        self._channels: dict[str, GameChannel] = {}
        self._closing = False

    def sent_ms(self) -> int:
        """Now on the real wall clock (not a replay clock), epoch ms: the `sent` stamp."""
        return int(self._wall() * 1000)

    def admit(self, ip: str, origin: str | None, host: str | None) -> Refusal | None:
        """Count a new connection, or say why it is refused (`release` it when it ends)."""
        if self._closing:
            return Refusal(CloseCode.GOING_AWAY, "server shutting down")
        return self.admission.admit(ip, origin, host, self._monotonic())

    def release(self, ip: str) -> None:
        """An admitted connection ended."""
        self.admission.release(ip)

    def follows(self, game_id: str) -> bool:
        """Whether a channel follows `game_id` now (so the game exists)."""
        channel = self._channels.get(game_id)
        return channel is not None and not channel.closed

    def viewer(self, ws: WebSocket, game_id: str) -> Viewer:
        """A new viewer of `game_id` on `ws`: written frame by frame when the server offers it
        (uvicorn with `FramesProtocol`), else through an outbox and a writer task."""
        limit = self.settings.send_buffer_bytes
        sink = frame_sink(ws.scope)
        if sink is not None:
            return FrameViewer(sink, game_id, limit, self.gauge)
        return QueuedViewer(ws, game_id, limit, self.gauge)

    async def join(self, viewer: Viewer) -> GameChannel:
        """Add `viewer` to its game's channel (started if needed); it is live after catch_up."""
        channel = self._channels.get(viewer.game_id)
        if channel is None or channel.closed:
            channel = self._channels[viewer.game_id] = GameChannel(self, viewer.game_id)
            channel.start()
        channel.viewers.add(viewer)
        try:
            await channel.ready()
        except BaseException:
            await self.leave(viewer, channel)
            raise
        return channel

    async def leave(self, viewer: Viewer, channel: GameChannel) -> None:
        """Remove `viewer`; the last viewer of a game stops its channel."""
        viewer.end()
        channel.viewers.discard(viewer)
        if channel.viewers:
            return
        if self._channels.get(channel.game_id) is channel:
            del self._channels[channel.game_id]
        await channel.stop()

    async def close(self) -> None:
        """End every viewer (1001) and stop every channel."""
        self._closing = True
        channels = list(self._channels.values())
        self._channels.clear()
        for channel in channels:
            for viewer in tuple(channel.viewers):
                viewer.end(CloseCode.GOING_AWAY, "server shutting down")
        with contextlib.suppress(Exception):
            await asyncio.gather(*(channel.stop() for channel in channels))

    def stats(self) -> dict[str, Any]:
        """Figures for tests, benchmarks and operators (`paths`: viewers per way of writing)."""
        viewers = [v for channel in self._channels.values() for v in channel.viewers]
        return {
            "channels": len(self._channels),
            "viewers": len(viewers),
            "paths": dict(Counter(v.path for v in viewers)),
            "connections": self.admission.connections.total,
            "buffered_bytes": sum(v.buffered() for v in viewers),
            "peak_outbox_bytes": self.gauge.peak,
            "slow_consumers": self.gauge.overflows,
            "refused": {int(code): n for code, n in self.admission.refused.items()},
        }
