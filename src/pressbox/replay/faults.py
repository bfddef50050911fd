"""Scheduled upstream faults for the replay server, and a log of the requests it was sent.

A `Fault` makes the replay server misbehave like ESPN on a bad day for a window of replay time, on
the paths its regex matches: answer 500, hang past the client's timeout, refuse with 403 (ESPN's
IP block, no Retry-After), throttle with 429 and `Retry-After`, answer 200 with a CDN's HTML
error page (`html`), or 200 with the real body cut short (`truncated`, a torn transfer).
`create_replay_app(..., faults=[...])` applies them; choosing the fault is pure (`fault_at`),
the misbehaving is the app's.

The `RequestLog` records every request the replay server got (replay time, path, answer status),
so tests and benchmarks can count requests per document in a window of the game.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from starlette.types import Receive

from pressbox.clock import Clock

FaultKind = Literal["500", "timeout", "403", "429", "html", "truncated"]
KINDS: frozenset[str] = frozenset({"500", "timeout", "403", "429", "html", "truncated"})


@dataclass(frozen=True)
class Fault:
    """From `start` (inclusive) to `end` (exclusive) of replay time, requests whose path matches
    `paths` (a regex searched in the path) get `kind` instead of their answer.

    `retry_after` is the 429's Retry-After in seconds; by default, until the window ends.
    """

    start: datetime
    end: datetime
    kind: FaultKind
    paths: str = ".*"
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {sorted(KINDS)}, got {self.kind!r}")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("fault times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"a fault must end after it starts ({self.start} .. {self.end})")
        re.compile(self.paths)  # a bad regex fails here, not at the first request

    def covers(self, path: str, now: datetime) -> bool:
        """Whether this fault answers a request for `path` at replay time `now`."""
        return self.start <= now < self.end and re.search(self.paths, path) is not None

    def retry_after_at(self, now: datetime) -> int:
        """The Retry-After seconds a 429 sends at `now` (at least 1)."""
        if self.retry_after is not None:
            return self.retry_after
        return max(1, math.ceil((self.end - now).total_seconds()))

    def remaining(self, now: datetime) -> float:
        """Seconds of replay time until the window ends."""
        return max(0.0, (self.end - now).total_seconds())


def fault_at(faults: Sequence[Fault], path: str, now: datetime) -> Fault | None:
    """The first fault of the schedule that covers `path` at `now`, or None."""
    return next((fault for fault in faults if fault.covers(path, now)), None)


@dataclass(frozen=True)
class LoggedRequest:
    """One request the replay server received."""

    at: datetime  # replay time when it arrived
    path: str
    status: int  # the answer's status; 0 when a hanging request was abandoned by its client
    fault: str | None = None  # the fault kind that answered it


@dataclass
class RequestLog:
    """Every request the replay server received, in arrival order."""

    entries: list[LoggedRequest] = field(default_factory=list)

    def record(self, entry: LoggedRequest) -> None:
        """Add one request."""
        self.entries.append(entry)

    def between(self, start: datetime, end: datetime) -> list[LoggedRequest]:
        """The requests that arrived from `start` (inclusive) to `end` (exclusive)."""
        return [e for e in self.entries if start <= e.at < end]

    def by_document(self, entries: Iterable[LoggedRequest] | None = None) -> Counter[str]:
        """Request counts by document (`document_of` each path)."""
        chosen = self.entries if entries is None else entries
        return Counter(document_of(e.path) for e in chosen)


_COMPETITION = re.compile(r"/events/(?P<event>[^/]+)/competitions/[^/]+(?P<rest>/.*)?$")
_EVENT = re.compile(r"/events/[^/]+/?$")
_TEAM = re.compile(r"/seasons/\d+/teams/[^/]+/?$")


def document_of(path: str) -> str:
    """The document a core-API path names: "status", "plays", "competition", "event", "team",
    "leaders" (a competitor's too), ...; the path itself for anything else."""
    if _EVENT.search(path):
        return "event"
    if _TEAM.search(path):
        return "team"
    match = _COMPETITION.search(path)
    if match is None:
        return path
    rest = (match["rest"] or "").strip("/")
    return rest.rsplit("/", 1)[-1] if rest else "competition"


#: The status a fault answers with; a hang that outlasts its window answers 504, as a CDN would.
#: An HTML error page and a torn body come with 200: only their bodies tell.
FAULT_STATUS = {"500": 500, "403": 403, "429": 429, "timeout": 504, "html": 200, "truncated": 200}
#: What a CDN in front of ESPN answers when its origin is down (with 200, the worst case).
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    b"request. Please try again later.</p></body></html>"
)


def truncated(body: bytes) -> bytes:
    """The first half of `body` (at least one byte short of it): a transfer torn midway."""
    return body[: max(0, min(len(body) // 2, len(body) - 1))]


def fault_headers(fault: Fault, now: datetime) -> dict[str, str]:
    """Headers a fault's answer carries beyond the usual ones: a 429's Retry-After."""
    return {"Retry-After": str(fault.retry_after_at(now))} if fault.kind == "429" else {}


async def hang(receive: Receive, clock: Clock, seconds: float) -> bool:
    """Hold a request for `seconds` of replay time or until its client gives up (a timeout
    closes the connection); True if the client left first."""

    async def client_left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    left = asyncio.ensure_future(client_left())
    waited = asyncio.ensure_future(clock.sleep(seconds))
    try:
        done, _ = await asyncio.wait({left, waited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (left, waited):
            task.cancel()
        await asyncio.gather(left, waited, return_exceptions=True)
    return left in done
