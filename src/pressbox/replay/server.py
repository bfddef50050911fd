"""Serve a recording over HTTP at ESPN's own paths, answering what upstream said at replay time.

A streamer pointed at this server instead of ESPN (only the base URL differs) sees the recorded
documents appear as the replay clock passes their recorded time; paths the recording lacks are
answered from replayed games (`replay.games`), synthesized for the replay time. The decisions
(which response, which page, which headers) are pure functions of the recording, the games, the
request and the time; the Starlette app at the bottom is thin glue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pressbox.clock import Clock, format_time
from pressbox.replay.faults import (
    FAULT_STATUS,
    HTML_ERROR_PAGE,
    Fault,
    LoggedRequest,
    RequestLog,
    fault_at,
    fault_headers,
    hang,
    truncated,
)
from pressbox.replay.games import Answer, ReplayGames
from pressbox.replay.record import GameRecord
from pressbox.replay.recording import Recording, parse_query

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
DEFAULT_PAGE_SIZE = 25
STATUS_PATH = "/_replay/status"
#: nginx's "client closed request": the status of a hung request whose client gave up.
ABANDONED = 499
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer decided without I/O: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class PageRequest:
    """The `limit` and `page` query parameters of a request, None where absent."""

    limit: int | None = None
    page: int | None = None

    @property
    def paged(self) -> bool:
        """Whether the request asked for paging at all."""
        return self.limit is not None or self.page is not None


def page_request(query: str) -> PageRequest:
    """Read `limit` and `page` from a query string (the last value wins).

    Raises:
        ValueError: one of them is not a positive integer.
    """
    params = dict(parse_query(query))
    return PageRequest(limit=_positive(params, "limit"), page=_positive(params, "page"))


def _positive(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    value = params[name].strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {params[name]!r}")
    return int(value)


def page_body(body: bytes, wanted: PageRequest) -> bytes | None:
    """The body to serve for a paged request, or None when that page was never recorded.

    A complete recorded collection (as many items as `count`) is re-paged for the requested
    `limit` and `page`; a partial one is served only for the page it is; anything else is served
    as recorded.
    """
    collection = _collection(body) if wanted.paged else None
    if collection is None:
        return body
    items, count = collection["items"], collection["count"]
    if len(items) < count:
        return body if (wanted.page or 1) == collection.get("pageIndex", 1) else None
    if len(items) > count:
        return body
    return _dump(repage(collection, wanted.limit or DEFAULT_PAGE_SIZE, wanted.page or 1))


def repage(collection: dict[str, Any], limit: int, page: int) -> dict[str, Any]:
    """A complete ESPN collection cut to one page; a page past the end has no items, as ESPN."""
    count = collection["count"]
    start = (page - 1) * limit
    paged = dict(collection)
    paged["pageIndex"] = page
    paged["pageSize"] = limit
    paged["pageCount"] = max(1, math.ceil(count / limit))
    paged["items"] = collection["items"][start : start + limit]
    return paged


def _collection(body: bytes) -> dict[str, Any] | None:
    """The body as an ESPN collection (`count` and a list of `items`), or None if it is not one."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    count, items = document.get("count"), document.get("items")
    if isinstance(count, int) and not isinstance(count, bool) and isinstance(items, list):
        return document
    return None


def reply_for(recording: Recording, path: str, query: str, now: datetime) -> Reply:
    """What the replay server answers to `GET path?query` at replay time `now`."""
    recorded = recording.lookup(path, query, now)
    if recorded is None:
        return error_reply(404, f"no response recorded for {path} at {format_time(now)}", now)
    try:
        wanted = page_request(query)
    except ValueError as exc:
        return error_reply(400, str(exc), now)
    body = page_body(recorded.body, wanted) if 200 <= recorded.status < 300 else recorded.body
    if body is None:
        page = wanted.page or 1
        return error_reply(404, f"page {page} of {path} was not recorded at this time", now)
    headers = _base_headers(now)
    cache_control = recorded.header("Cache-Control")
    if cache_control is not None:
        headers["Cache-Control"] = cache_control
    headers["X-Pressbox-Recorded-At"] = format_time(recorded.recorded_at)
    return Reply(status=recorded.status, headers=headers, body=body)


def reply_at(
    recording: Recording | None, games: ReplayGames | None, path: str, query: str, now: datetime
) -> Reply:
    """What the replay server answers at replay time `now`: a recorded response if there is one
    for this request by then, else a document synthesized from the replayed games, else 404."""
    if recording is not None and recording.lookup(path, query, now) is not None:
        return reply_for(recording, path, query, now)
    if games is not None:
        try:
            wanted = page_request(query)
            answer = games.answer(path, dict(parse_query(query)), now, wanted.limit, wanted.page)
        except ValueError as exc:
            return error_reply(400, str(exc), now)
        if answer is not None:
            return synthesized_reply(answer, now)
    if recording is not None:
        return reply_for(recording, path, query, now)
    return error_reply(404, f"no replayed document at {path} at {format_time(now)}", now)


def synthesized_reply(answer: Answer, now: datetime) -> Reply:
    """A synthesized document with ESPN's headers (`Cache-Control` as ESPN sends it)."""
    headers = _base_headers(now)
    headers["Cache-Control"] = f"max-age={answer.max_age}, stale-while-revalidate=7200"
    return Reply(status=200, headers=headers, body=answer.body)


def error_reply(status: int, message: str, now: datetime) -> Reply:
    """An error shaped like ESPN's: `{"error": {"code": ..., "message": ...}}`."""
    body = _dump({"error": {"code": status, "message": message}})
    return Reply(status=status, headers=_base_headers(now), body=body)


def http_date(moment: datetime) -> str:
    """An aware time as an HTTP date ("Sat, 23 Aug 2025 16:10:13 GMT")."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def replay_status(
    recording: Recording | None, clock: Clock, games: ReplayGames | None = None
) -> dict[str, Any]:
    """The replay's state for operators: replay time, speed, span and size of the recording,
    and (when games are replayed) every game with where it stands now."""
    now = clock.now()
    status: dict[str, Any] = {"now": format_time(now)}
    speed = getattr(clock, "speed", None)
    if isinstance(speed, int | float) and not isinstance(speed, bool):
        status["speed"] = speed
    if recording is not None:
        status["start"] = format_time(recording.start)
        status["end"] = format_time(recording.end)
        status["responses"] = len(recording)
        status["paths"] = len(recording.paths())
    if games is not None:
        status["games"] = games.describe(now)
    return status


def _base_headers(now: datetime) -> dict[str, str]:
    return {"Content-Type": JSON_CONTENT_TYPE, "Date": http_date(now)}


def _dump(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def create_replay_app(
    recording: Recording | None,
    clock: Clock,
    games: Sequence[GameRecord] = (),
    *,
    faults: Sequence[Fault] = (),
    request_log: RequestLog | None = None,
) -> Starlette:
    """An ASGI app serving `recording` and `games` at ESPN's paths on `clock`'s time, plus
    `/_replay/status`. Recorded responses answer first; the replayed games answer the rest with
    documents synthesized for the replay time (`replay.games`). During a fault's window its
    requests get the fault instead (`replay.faults`); `request_log` records every request.

    Run it under uvicorn with `date_header=False`, or uvicorn adds a wall-clock `Date` header
    beside the replay clock's one.
    """
    replayed = ReplayGames(games) if games else None

    async def status(request: Request) -> Response:
        if request.method != "GET":
            return _method_not_allowed(clock.now())
        return JSONResponse(replay_status(recording, clock, replayed))

    async def replay(request: Request) -> Response:
        now = clock.now()
        if request.method != "GET":
            return _method_not_allowed(now)
        path = request.url.path
        fault = fault_at(faults, path, now)
        if fault is not None and fault.kind == "truncated":
            reply = reply_at(recording, replayed, path, request.url.query, now)
            response = Response(truncated(reply.body), reply.status, headers=reply.headers)
        elif fault is not None:
            response = await _faulty(fault, request, clock, now)
        else:
            reply = reply_at(recording, replayed, path, request.url.query, now)
            response = Response(reply.body, status_code=reply.status, headers=reply.headers)
        if request_log is not None:
            status = 0 if response.status_code == ABANDONED else response.status_code
            request_log.record(LoggedRequest(now, path, status, fault.kind if fault else None))
        return response

    return Starlette(
        routes=[
            Route(STATUS_PATH, status, methods=_ALL_METHODS),
            Route("/{path:path}", replay, methods=_ALL_METHODS),
        ]
    )


async def _faulty(fault: Fault, request: Request, clock: Clock, now: datetime) -> Response:
    """The fault's answer; a timeout first holds the request until its client gives up."""
    if fault.kind == "timeout" and await hang(request.receive, clock, fault.remaining(now)):
        return Response(b"", status_code=ABANDONED)  # nobody is left to read it
    if fault.kind == "html":
        headers = {**_base_headers(now), "Content-Type": "text/html; charset=utf-8"}
        return Response(HTML_ERROR_PAGE, status_code=200, headers=headers)
    reply = error_reply(FAULT_STATUS[fault.kind], f"replayed fault: {fault.kind}", clock.now())
    headers = {**reply.headers, **fault_headers(fault, now)}
    return Response(reply.body, status_code=reply.status, headers=headers)


def _method_not_allowed(now: datetime) -> Response:
    reply = error_reply(405, "only GET is served by the replay server", now)
    return Response(reply.body, status_code=405, headers={**reply.headers, "Allow": "GET"})
