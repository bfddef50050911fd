"""The live WebSocket: admission, then a snapshot or the missed events, then every new event.

The connection is a viewer of its game's channel in the hub (hub.py). Under uvicorn with
`frames.FramesProtocol` the hub writes frames straight to the connection (viewer.FrameViewer) and
this endpoint's own task is the reader: it answers the client (`resume`, `ping`) and watches for
a dead peer; ending the viewer closes the connection and wakes the reader. Elsewhere
(viewer.QueuedViewer) a writer task drains the viewer's outbox next to a reader task. Every
refusal and limit closes the connection with a close code of docs/protocol.md, after `accept`,
so browsers can read why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from pressbox.metrics import metrics
from pressbox.web.hub import GameChannel, Hub, LiveChannelError
from pressbox.web.limits import CloseCode, LiveSettings, Refusal
from pressbox.web.messages import encode
from pressbox.web.viewer import QueuedViewer, Viewer

log = logging.getLogger(__name__)
router = APIRouter()

#: Seconds a close may wait for a client that does not read (its send buffer is full).
CLOSE_TIMEOUT = 5.0
EXPECTED = 'expected {"type": "resume", "v": 1, "after": N} or {"type": "ping", "v": 1}'


PREFIX = "/ws/live/"


def live_game(scope: Mapping[str, Any]) -> str | None:
    """The game of a `/ws/live/{game_id}` WebSocket scope (None: another path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    game_id = path.removeprefix(PREFIX)
    if game_id == path or not game_id or "/" in game_id:
        return None
    return game_id


@router.websocket("/ws/live/{game_id}")
async def live(ws: WebSocket, game_id: str) -> None:
    """Follow one game live; see docs/protocol.md."""
    hub: Hub = ws.app.state.hub
    await ws.accept()
    ip = ws.client.host if ws.client else ""
    refusal = hub.admit(ip, ws.headers.get("origin"), ws.headers.get("host"))
    if refusal is not None:
        await _close(ws, refusal)
        return
    meter = metrics()
    meter.ws_connections.add(1)
    try:
        await _follow(ws, hub, game_id)
    finally:
        hub.release(ip)
        meter.ws_connections.add(-1)


async def _follow(ws: WebSocket, hub: Hub, game_id: str) -> None:
    after = _parse_after(ws.query_params.get("after"))
    if not hub.follows(game_id) and await hub.store.game(game_id) is None:
        await _close(ws, Refusal(CloseCode.UNKNOWN_GAME, f"unknown game {game_id}"[:120]))
        return
    if after is False:
        await _close(ws, Refusal(CloseCode.POLICY, "after must be a non-negative integer"))
        return
    viewer = hub.viewer(ws, game_id)
    try:
        channel = await hub.join(viewer)
    except LiveChannelError:
        await _close(ws, Refusal(CloseCode.INTERNAL, "live channel failed: reconnect"))
        return
    if not isinstance(viewer, QueuedViewer):  # frames: it closes its connection when ended
        try:
            await _guarded(viewer, _read(ws, viewer, channel, after, hub.settings))
        finally:
            await hub.leave(viewer, channel)
        count_end(viewer.ending or Refusal(CloseCode.NORMAL, ""))
        return
    try:
        await _serve(viewer, channel, after, hub.settings)
    finally:
        await hub.leave(viewer, channel)
    await _close(ws, viewer.ending or Refusal(CloseCode.NORMAL, ""))


def count_end(refusal: Refusal) -> None:
    """Count how a live connection (WebSocket or SSE) ended: slow drops and refusals."""
    if refusal.code is CloseCode.SLOW_CONSUMER:
        metrics().ws_slow_drops.add(1)
    elif refusal.code not in (CloseCode.NORMAL, CloseCode.GOING_AWAY, CloseCode.DEAD_PEER):
        metrics().ws_refusals.add(1, {"reason": refusal.code.name.lower()})


async def _close(ws: WebSocket, refusal: Refusal) -> None:
    """Close with the refusal's code, unless the client left; bounded for one that never reads."""
    count_end(refusal)
    if WebSocketState.DISCONNECTED in (ws.client_state, ws.application_state):
        return
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.close(int(refusal.code), reason=refusal.reason)


async def _guarded(viewer: Viewer, reading: Coroutine[Any, Any, None]) -> None:
    """Run the reader in this task; an unexpected error ends the viewer with 1011."""
    try:
        await reading
    except WebSocketDisconnect:
        viewer.end()
    except Exception as exc:
        log.warning("live connection to game %s ended: %r", viewer.game_id, exc)
        viewer.end(CloseCode.INTERNAL, "internal error: reconnect and resume")


async def _serve(
    viewer: QueuedViewer, channel: GameChannel, after: int | None, settings: LiveSettings
) -> None:
    """Write, read and wait until any of them ends (the client left, a limit, a failed send)."""
    tasks = [
        asyncio.create_task(viewer.write()),
        asyncio.create_task(_read(viewer.ws, viewer, channel, after, settings)),
        asyncio.create_task(viewer.wait_ended()),
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if task.cancelled():
            continue
        exc = task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            log.warning("live connection to game %s ended: %r", viewer.game_id, exc)
            viewer.end(CloseCode.INTERNAL, "internal error: reconnect and resume")


def _parse_after(raw: str | None) -> int | None | bool:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return False
    return value if value >= 0 else False


async def _read(
    ws: WebSocket,
    viewer: Viewer,
    channel: GameChannel,
    after: int | None,
    settings: LiveSettings,
) -> None:
    """Catch the viewer up, then answer its messages; no message for the dead-peer time ends it."""
    await channel.catch_up(viewer, after)
    viewer.offer(channel.status, catch_up=True)
    while not viewer.ended:
        try:
            async with asyncio.timeout(settings.dead_peer_seconds):
                message = await ws.receive()
        except TimeoutError:
            quiet = f"no message from the client in {settings.dead_peer_seconds:g} s"
            viewer.end(CloseCode.DEAD_PEER, quiet)
            return
        if message["type"] == "websocket.disconnect":
            viewer.end()
            return
        await _answer(viewer, channel, message, settings.max_message_bytes)


async def _answer(
    viewer: Viewer, channel: GameChannel, message: Mapping[str, Any], limit: int
) -> None:
    """Answer one client message: any message proves the client alive."""
    text = message.get("text")
    raw: bytes = text.encode() if text is not None else message.get("bytes") or b""
    if len(raw) > limit:
        viewer.end(CloseCode.TOO_BIG, f"message too big (limit {limit} bytes)")
        return
    request = _request(text) if text is not None else "send JSON in text messages"
    if isinstance(request, str):
        error = {"type": "error", "code": "bad_message", "message": request}
        viewer.offer(encode(error))
    elif request is None:
        viewer.offer(encode({"type": "pong"}))
    else:
        await channel.catch_up(viewer, request)


def _request(text: str) -> int | None | str:
    """The `after` of a resume, None for a ping, or a description of what is wrong."""
    try:
        message = json.loads(text)
    except ValueError:
        return "message is not JSON"
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "ping":
        return None
    if kind != "resume":
        return EXPECTED
    after = message.get("after")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        return "after must be a non-negative integer"
    return after
