"""The live WebSocket: a snapshot or the missed events first, then every new event in seq order.

Each connection follows its game's bus channel. A batch that does not continue exactly where the
connection stopped (a dropped bus batch, a resume) is filled from the event log, so a viewer never
sees a gap or a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from pressbox.bus import Bus
from pressbox.clock import Clock, format_time
from pressbox.domain.events import StoredEvent
from pressbox.store import Store
from pressbox.web.snapshots import game_snapshot

log = logging.getLogger(__name__)
router = APIRouter()

VERSION = 1
CLOSE_UNKNOWN_GAME = 4404
MAX_CLIENT_MESSAGE = 4096
BATCH_LIMIT = 1000


class LiveConnection:
    """One viewer of one game."""

    def __init__(self, ws: WebSocket, store: Store, game_id: str) -> None:
        self.ws = ws
        self.store = store
        self.game_id = game_id
        self.last_seq = 0
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps({**message, "v": VERSION}, separators=(",", ":")))

    async def start(self, after: int | None) -> None:
        """Send a snapshot (no `after`, or one we cannot continue from) or the missed events."""
        async with self._lock:
            if after is None or not await self._can_resume(after):
                await self._send_snapshot()
            else:
                self.last_seq = after
                await self._catch_up()

    async def _can_resume(self, after: int) -> bool:
        summary = await self.store.game(self.game_id)
        return summary is not None and 0 <= after <= summary["seq"]

    async def _send_snapshot(self) -> None:
        snapshot = await game_snapshot(self.store, self.game_id)
        if snapshot is None:
            return
        self.last_seq = snapshot["seq"]
        await self.send({"type": "snapshot", "seq": snapshot["seq"], "snapshot": snapshot})

    async def _catch_up(self) -> None:
        while True:
            events = await self.store.events_since(self.game_id, self.last_seq, BATCH_LIMIT)
            if not events:
                return
            await self._send_events(events)
            if len(events) < BATCH_LIMIT:
                return

    async def _send_events(self, events: Sequence[StoredEvent]) -> None:
        await self.send({"type": "events", "events": [e.to_json() for e in events]})
        self.last_seq = events[-1].seq

    async def deliver(self, batch: Sequence[StoredEvent]) -> None:
        """Send a published batch, continuing exactly at last_seq + 1."""
        async with self._lock:
            fresh = [e for e in batch if e.seq > self.last_seq]
            if not fresh:
                return
            if fresh[0].seq != self.last_seq + 1:
                await self._catch_up()
            else:
                await self._send_events(fresh)

    async def resume(self, after: int) -> None:
        """The client asks for everything after `after`."""
        await self.start(after)

    async def send_status(self) -> None:
        stream = await self.store.stream(self.game_id)
        await self.send(
            {
                "type": "status",
                "stream": str(stream.status) if stream else None,
                "espn": "degraded" if stream and stream.health else "live",
                "degraded": sorted(stream.health) if stream else [],
            }
        )


@router.websocket("/ws/live/{game_id}")
async def live(ws: WebSocket, game_id: str) -> None:
    """Follow one game live; see docs/protocol.md."""
    store: Store = ws.app.state.store
    bus: Bus = ws.app.state.bus
    await ws.accept()
    after = _parse_after(ws.query_params.get("after"))
    if await store.game(game_id) is None:
        await ws.close(CLOSE_UNKNOWN_GAME, reason=f"unknown game {game_id}"[:120])
        return
    if after is False:
        await ws.close(1008, reason="after must be a non-negative integer")
        return
    connection = LiveConnection(ws, store, game_id)
    async with bus.subscribe(game_id) as subscription:
        with contextlib.suppress(WebSocketDisconnect):
            await connection.start(after)
            await connection.send_status()
            await _serve(connection, subscription, ws.app.state.clock, ws.app.state.heartbeat)
    if ws.application_state is not WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError):
            await ws.close()


async def _serve(connection: LiveConnection, subscription: Any, clock: Clock, every: float) -> None:
    """Forward, beat and read until any of them ends (the client left, or a send failed)."""
    tasks = [
        asyncio.create_task(_forward(connection, subscription)),
        asyncio.create_task(_heartbeat(connection, clock, every)),
        asyncio.create_task(_read(connection)),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        exc = task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            log.warning("live connection to game %s ended: %r", connection.game_id, exc)


def _parse_after(raw: str | None) -> int | None | bool:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return False
    return value if value >= 0 else False


async def _forward(connection: LiveConnection, subscription: Any) -> None:
    while True:
        await connection.deliver(await subscription.get())


async def _heartbeat(connection: LiveConnection, clock: Clock, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await connection.send({"type": "heartbeat", "at": format_time(clock.now())})
        await connection.send_status()


async def _read(connection: LiveConnection) -> None:
    """Read client messages until it disconnects; refuse bad ones with an error message."""
    while True:
        text = await connection.ws.receive_text()
        if len(text) > MAX_CLIENT_MESSAGE:
            await connection.ws.close(1009, reason="message too big")
            return
        after = _resume_request(text)
        if isinstance(after, str):
            await connection.send({"type": "error", "code": "bad_message", "message": after})
        else:
            await connection.resume(after)


def _resume_request(text: str) -> int | str:
    """The `after` of a valid resume message, or a description of what is wrong with it."""
    try:
        message = json.loads(text)
    except ValueError:
        return "message is not JSON"
    if not isinstance(message, dict) or message.get("type") != "resume":
        return 'expected {"type": "resume", "v": 1, "after": N}'
    after = message.get("after")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        return "after must be a non-negative integer"
    return after
