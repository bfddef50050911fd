"""Server-Sent Events: `GET /sse/live/{game_id}`, the live WebSocket's feed as plain HTTP.

For consumers that want a stream they can read with `curl -N` or an `EventSource`: the same
game channel of the hub (hub.py) as the WebSocket's viewers, with its limits (admission, the
send buffer, the resume window), written as `text/event-stream` (docs/protocol.md, "Server-Sent
Events"):

- each event is one SSE event: `id:` its seq, `event:` its type, `data:` its envelope;
- a snapshot (first, unless the client resumes) is `event: snapshot` with `id:` its seq;
- the stream's health is `event: status`; heartbeats are comments (`: heartbeat <time>`);
- `Last-Event-ID` (sent by `EventSource` on reconnect; or `?after=N`) resumes exactly after
  that seq while at most `PRESSBOX_WS_RESUME_MAX_EVENTS` were missed, else with a snapshot;
- a client too slow to read gets `event: end` (code 4008, "resume from your seq") and the end
  of the response; so does every client when the server shuts down (1001).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from pressbox.metrics import metrics
from pressbox.web.hub import GameChannel, Hub, LiveChannelError
from pressbox.web.limits import CloseCode, Refusal
from pressbox.web.live import count_end
from pressbox.web.viewer import OutboxViewer

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

#: Milliseconds an `EventSource` waits before it reconnects (the SSE `retry:` field).
RETRY_MS = 3000
#: The HTTP status of each refusal that can happen before the stream starts.
REFUSED_STATUS = {
    CloseCode.GOING_AWAY: 503,
    CloseCode.TRY_LATER: 503,
    CloseCode.TOO_MANY_FROM_IP: 429,
    CloseCode.ORIGIN: 403,
}


def sse_text(message: str) -> str:
    """A live protocol message (messages.py) in the event-stream format."""
    data = json.loads(message)
    kind = data.get("type")
    if kind == "events":
        return "".join(
            f"id: {e['seq']}\nevent: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n"
            for e in data["events"]
        )
    if kind == "heartbeat":
        return f": heartbeat {data['at']}\n\n"
    if kind == "snapshot":
        return f"id: {data['seq']}\nevent: snapshot\ndata: {message}\n\n"
    return f"event: {kind}\ndata: {message}\n\n"


def end_text(refusal: Refusal) -> str:
    """The last event of a stream the server ends."""
    data = json.dumps({"code": int(refusal.code), "reason": refusal.reason})
    return f"event: end\ndata: {data}\n\n"


class SseViewer(OutboxViewer):
    """A viewer whose messages are queued as SSE text; the HTTP response drains them."""

    path = "sse"

    def offer(self, message: str, *, catch_up: bool = False, frame: bytes | None = None) -> bool:
        return super().offer(sse_text(message), catch_up=catch_up)

    async def messages(self) -> AsyncIterator[str]:
        """The queued SSE text in order, until the viewer ends; then its `end` event (unless
        it ended normally: the client left)."""
        while not self.ended:
            take = asyncio.ensure_future(self.outbox.take())
            ended = asyncio.ensure_future(self.wait_ended())
            try:
                await asyncio.wait({take, ended}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (take, ended):
                    task.cancel()
            if take.done() and not take.cancelled():
                yield take.result()
        assert self.ending is not None
        if self.ending.code is not CloseCode.NORMAL:
            yield end_text(self.ending)


def _parse_after(header: str | None, query: int | None) -> int | None | str:
    """The seq to resume after (`Last-Event-ID` first), None for a snapshot, or what is wrong."""
    if header is None or header == "":
        return query
    try:
        after = int(header)
    except ValueError:
        return "Last-Event-ID must be a non-negative integer (an event's id)"
    return after if after >= 0 else "Last-Event-ID must be a non-negative integer (an event's id)"


@router.get(
    "/sse/live/{game_id}",
    summary="A game's live events as Server-Sent Events (resume with Last-Event-ID)",
    response_class=Response,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "the event stream"},
        400: {"description": "a bad Last-Event-ID"},
        403: {"description": "the Origin is not allowed"},
        404: {"description": "no such game"},
        429: {"description": "too many connections from this address"},
        503: {"description": "the server is full or shutting down"},
    },
)
async def sse_live(
    request: Request,
    game_id: str,
    after: int | None = Query(None, ge=0, description="resume after this seq (see Last-Event-ID)"),
    last_event_id: str | None = Header(None, description="the id of the last event received"),
) -> Response:
    """The game's events as `text/event-stream`; see docs/protocol.md, "Server-Sent Events"."""
    hub: Hub = request.app.state.hub
    resume = _parse_after(last_event_id, after)
    if isinstance(resume, str):
        return JSONResponse({"detail": resume}, status_code=400)
    if not hub.follows(game_id) and await hub.store.game(game_id) is None:
        return JSONResponse({"detail": f"unknown game {game_id}"}, status_code=404)
    ip = request.client.host if request.client else ""
    refusal = hub.admit(ip, request.headers.get("origin"), request.headers.get("host"))
    if refusal is not None:
        count_end(refusal)
        status = REFUSED_STATUS.get(refusal.code, 503)
        return JSONResponse({"detail": refusal.reason}, status_code=status)
    viewer = SseViewer(game_id, hub.settings.send_buffer_bytes, hub.gauge)
    try:
        channel = await hub.join(viewer)
    except LiveChannelError:
        hub.release(ip)
        return JSONResponse({"detail": "live channel failed: try again"}, status_code=503)
    return EventStream(hub, channel, viewer, resume, ip)


class EventStream(Response):
    """The `text/event-stream` response of one viewer, written by this ASGI call itself (not a
    generator left to the garbage collector when the client goes): it catches the viewer up
    beside writing what it is sent, ends the viewer at the client's `http.disconnect` (at once,
    not at the next failed write), and leaves the channel and admission however it ends."""

    media_type = "text/event-stream"

    def __init__(
        self, hub: Hub, channel: GameChannel, viewer: SseViewer, after: int | None, ip: str
    ) -> None:
        super().__init__(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        # A stream has no length: the response ends when the viewer does.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self.hub, self.channel, self.viewer, self.after, self.ip = hub, channel, viewer, after, ip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        viewer, meter = self.viewer, metrics()
        meter.sse_connections.add(1)
        helpers = [
            asyncio.create_task(_catch_up(self.channel, viewer, self.after)),
            asyncio.create_task(_watch_disconnect(receive, viewer)),
        ]
        try:
            start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
            await send(start)
            await _body(send, f"retry: {RETRY_MS}\n\n")
            async for text in viewer.messages():
                await _body(send, text)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client is gone (uvicorn raises ClientDisconnect, an OSError)
            viewer.end()
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            count_end(viewer.ending or Refusal(CloseCode.NORMAL, ""))
            await self.hub.leave(viewer, self.channel)
            self.hub.release(self.ip)
            meter.sse_connections.add(-1)


async def _body(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _watch_disconnect(receive: Receive, viewer: SseViewer) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    viewer.end()


async def _catch_up(channel: GameChannel, viewer: SseViewer, after: int | None) -> None:
    try:
        await channel.catch_up(viewer, after)
        viewer.offer(channel.status, catch_up=True)
    except Exception as exc:
        log.warning("SSE stream of game %s ended: %r", viewer.game_id, exc)
        viewer.end(CloseCode.INTERNAL, "internal error: reconnect and resume")
