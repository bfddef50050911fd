"""The shared HTTP client of one upstream host: budget, circuit, base-URL rewriting, stats,
error mapping.

Upstream documents link to each other with absolute URLs (ESPN's `$ref`). The client rewrites
every URL onto its configured base, so pointing Pressbox at the replay server is a setting: the
streamer's code path is the same as live.

Failure policy: a 403 opens the host's circuit (`sources.circuit`): requests fail fast with
`HostBlocked` and none is sent until the block period has passed; a 429's `Retry-After` makes the
next requests wait on the injected clock. Retrying (jittered exponential backoff on timeouts,
5xx and 429) is the callers' loop, with `sources.retry`.

Economy: each request takes a token of the host's one `RequestBudget` at the priority of its
document kind (`PRIORITIES`), and a URL answered with `Cache-Control: max-age=N` is not asked for
again for N seconds of clock time: the copy is returned and counted as `skipped` (ESPN's CDN would
answer the same copy anyway); `cache="wait"` waits that copy's age out and asks again, and
`cache="ignore"` (the default: callers opt in) always asks, as the seed did.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from pressbox.clock import Clock
from pressbox.errors import HostBlocked, PressboxError, UpstreamError, UpstreamStatusError
from pressbox.metrics import metrics
from pressbox.sources.budget import BudgetSkipped, Priority, RequestBudget
from pressbox.sources.circuit import HostCircuit


@dataclass
class DocumentStats:
    """Counters for one document type."""

    requests: int = 0
    bytes: int = 0
    errors: int = 0
    unchanged: int = 0
    cancelled: int = 0  # sent, then abandoned (a worker stopped at a break or the end)
    blocked: int = 0  # failed fast, never sent: the host's circuit was open
    skipped: int = 0  # never sent: the last answer was still fresh (max-age) or a policy gave up
    waited: float = 0.0  # clock seconds queued for the budget, summed

    def to_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "errors": self.errors,
            "unchanged": self.unchanged,
            "cancelled": self.cancelled,
            "blocked": self.blocked,
            "skipped": self.skipped,
        }


@dataclass
class UpstreamStats:
    """Requests, bytes and errors by document type for one host."""

    by_kind: dict[str, DocumentStats] = field(default_factory=lambda: defaultdict(DocumentStats))

    def to_json(self) -> dict[str, dict[str, int]]:
        return {kind: stats.to_json() for kind, stats in sorted(self.by_kind.items())}

    def total(self, field_name: str) -> int:
        """One counter summed over every document type."""
        return sum(int(getattr(stats, field_name)) for stats in self.by_kind.values())


@dataclass
class FetchTally:
    """What one stream asked of upstream (every host): set as `fetch_tally` in its task, so
    that every request its workers make counts here too. Persisted on the stream row."""

    requests: int = 0
    bytes: int = 0
    skipped: int = 0  # not sent: a fresh copy reused, an answer shared, or the budget gave up
    waited: float = 0.0  # clock seconds queued for budgets

    def resume(self, saved: dict[str, Any] | None) -> None:
        """Continue from the figures saved on the stream row (a stream taken over or restarted
        keeps counting from there); malformed values are ignored."""
        for name in ("requests", "bytes", "skipped", "waited"):
            value = (saved or {}).get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                setattr(self, name, type(getattr(self, name))(value))

    def to_json(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "skipped": self.skipped,
            "waited": round(self.waited, 1),
        }


#: The tally of the stream whose task is running (None outside streams).
fetch_tally: ContextVar[FetchTally | None] = ContextVar("fetch_tally", default=None)


#: The budget priority of each document kind; any other kind is `Priority.OTHER`.
PRIORITIES = {
    "status": Priority.SENTINEL,
    "situation": Priority.SENTINEL,
    "scoreboard": Priority.SENTINEL,
    "plays": Priority.LIVE,
    "probabilities": Priority.LIVE,
    "drives": Priority.SLOW,
    "leaders": Priority.SLOW,
}
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.IGNORECASE)
#: Cached answers kept per client before the expired ones are dropped.
CACHE_ENTRIES = 512
#: Parsed URLs kept per host (a slate of 60 games asks for about a thousand distinct ones).
TARGET_ENTRIES = 8192
#: What a request does with an answer to the same URL still within its max-age.
CacheUse = Literal["reuse", "wait", "ignore"]


class FetchSkipped(PressboxError):
    """A low-priority request gave up its place in a saturated budget; nothing was sent."""


def max_age(cache_control: str | None) -> float:
    """The `max-age` of a Cache-Control header in seconds; 0 when absent (or `no-store`)."""
    if not cache_control or "no-store" in cache_control.lower():
        return 0.0
    found = _MAX_AGE.search(cache_control)
    return float(found[1]) if found else 0.0


@dataclass(frozen=True)
class Fetched:
    """A successful response: body bytes and the headers we care about."""

    url: str
    body: bytes
    cache_control: str | None


class HttpClient:
    """One per upstream host and process; every request to that host goes through it."""

    def __init__(
        self,
        base_url: str,
        clock: Clock,
        budget: RequestBudget,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        block: timedelta = timedelta(minutes=5),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        #: One circuit for the whole host: a 403 pauses every request to it (`block` long).
        self.circuit = HostCircuit(urlsplit(self.base_url).netloc or self.base_url, block)
        self.stats = UpstreamStats()
        self.clock = clock
        self._targets: dict[tuple[str, tuple[tuple[str, str], ...]], httpx.URL] = {}
        #: The last fresh answer per URL and when it goes stale (Cache-Control max-age).
        self._fresh: dict[str, tuple[Fetched, datetime]] = {}
        #: Requests under way that callers asking for the same URL share ("reuse" ones).
        self._pending: dict[str, asyncio.Future[Fetched]] = {}
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "pressbox/0.1 (+https://github.com/pressbox)"},
            follow_redirects=True,
        )

    def rebase(self, url: str) -> str:
        """Move an upstream URL (absolute, or a path) onto this client's base URL."""
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path}{query}"

    async def get(
        self,
        url: str,
        kind: str,
        params: dict[str, str] | None = None,
        *,
        priority: Priority | None = None,
        cache: CacheUse = "ignore",
        max_wait: float | None = None,
    ) -> Fetched:
        """GET `url` within the budget (at `priority`, by default that of `kind`) and the host's
        circuit; raises UpstreamError (never an httpx error), and HostBlocked at once, sending
        nothing, while the circuit is open. An answer still within its max-age is returned
        again without a request (`cache`: see the module). With `max_wait`, raises
        FetchSkipped rather than queue longer than that for the budget."""
        target = self._target(url, params)
        stats = self.stats.by_kind[kind]
        labels = {"host": self.circuit.host, "document": kind}
        meter = metrics()
        key = str(target)
        cached = None if cache == "ignore" else await self._cached(key, cache == "wait")
        if cached is not None:
            _skipped(stats)
            meter.upstream_skipped.add(1, {**labels, "reason": "fresh"})
            return cached
        level = PRIORITIES.get(kind, Priority.OTHER) if priority is None else priority
        if cache != "reuse":
            return await self._send(target, kind, params, level, max_wait)
        pending = self._pending.get(key)
        if pending is not None:  # the same URL is being asked for: share its answer
            _skipped(stats)
            meter.upstream_skipped.add(1, {**labels, "reason": "shared"})
            return await asyncio.shield(pending)
        shared: asyncio.Future[Fetched] = asyncio.get_running_loop().create_future()
        self._pending[key] = shared
        try:
            fetched = await self._send(target, kind, params, level, max_wait)
        except BaseException as exc:
            failure = (
                exc
                if isinstance(exc, Exception)
                else UpstreamError(f"{kind} request abandoned", url=key)
            )
            shared.set_exception(failure)
            shared.exception()  # those sharing it raise it; nobody else needs to see it
            raise
        else:
            shared.set_result(fetched)
        finally:
            self._pending.pop(key, None)
        return fetched

    async def _send(
        self,
        target: httpx.URL,
        kind: str,
        params: dict[str, str] | None,
        level: Priority,
        max_wait: float | None,
    ) -> Fetched:
        """Wait for the circuit and the budget, send, and map the answer (see `get`)."""
        stats = self.stats.by_kind[kind]
        labels = {"host": self.circuit.host, "document": kind}
        meter = metrics()
        queued = time.perf_counter()
        try:
            probe, waited = await self._admit(stats, level, max_wait)
        except HostBlocked:
            meter.upstream_errors.add(1, {**labels, "kind": "blocked"})
            raise
        except BudgetSkipped as exc:
            _skipped(stats)
            meter.upstream_skipped.add(1, {**labels, "reason": "budget"})
            raise FetchSkipped(f"{kind} request skipped: {exc}") from exc
        sent = time.perf_counter()
        stats.waited += waited
        meter.budget_wait.record(sent - queued, {"host": self.circuit.host})
        meter.queue_wait.record(waited, {"host": self.circuit.host, "priority": level.name.lower()})
        stats.requests += 1
        meter.upstream_requests.add(1, labels)
        tally = fetch_tally.get()
        if tally is not None:
            tally.requests += 1
            tally.waited += waited
        try:
            response = await self._client.get(target, params=params)
        except asyncio.CancelledError:
            stats.cancelled += 1
            self.circuit.unanswered(probe)
            raise
        except httpx.HTTPError as exc:
            stats.errors += 1
            self.circuit.unanswered(probe)
            kind_of = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
            meter.upstream_errors.add(1, {**labels, "kind": kind_of})
            raise UpstreamError(f"{kind} request failed: {exc!r}", url=str(target)) from exc
        meter.upstream_duration.record(time.perf_counter() - sent, labels)
        retry_after = response.headers.get("retry-after")
        now = self.clock.now()
        self.circuit.answered(response.status_code, now, probe=probe, retry_after=retry_after)
        if response.status_code >= 400:
            stats.errors += 1
            meter.upstream_errors.add(1, {**labels, "kind": f"status_{response.status_code}"})
            raise UpstreamStatusError(response.status_code, url=str(response.url))
        stats.bytes += len(response.content)
        meter.upstream_bytes.add(len(response.content), labels)
        if tally is not None:
            tally.bytes += len(response.content)
        fetched = Fetched(
            str(response.url), response.content, response.headers.get("cache-control")
        )
        self._remember(str(target), fetched, now)
        return fetched

    def _target(self, url: str, params: dict[str, str] | None) -> httpx.URL:
        """The URL asked for (built once per URL and parameters: httpx's parsing is costly,
        and a process asks for the same few hundred URLs again and again)."""
        key = (url, tuple(params.items()) if params else ())
        target = self._targets.get(key)
        if target is None:
            if len(self._targets) >= TARGET_ENTRIES:
                self._targets.clear()
            target = httpx.URL(self.rebase(url))
            target = target.copy_merge_params(params) if params else target
            self._targets[key] = target
        return target

    def stale_at(self, url: str, params: dict[str, str] | None = None) -> datetime | None:
        """When the copy of `url` kept within its max-age goes stale (None: no copy)."""
        entry = self._fresh.get(str(self._target(url, params)))
        return entry[1] if entry is not None else None

    async def _cached(self, key: str, fresh: bool) -> Fetched | None:
        """The answer to `key` still within its max-age (after waiting it out when `fresh`)."""
        entry = self._fresh.get(key)
        if entry is None:
            return None
        left = (entry[1] - self.clock.now()).total_seconds()
        if left <= 0:
            del self._fresh[key]
            return None
        if not fresh:
            return entry[0]
        await self.clock.sleep(left)
        self._fresh.pop(key, None)
        return None

    def _remember(self, key: str, fetched: Fetched, now: datetime) -> None:
        age = max_age(fetched.cache_control)
        if age <= 0:
            self._fresh.pop(key, None)
            return
        if len(self._fresh) >= CACHE_ENTRIES:
            self._fresh = {k: v for k, v in self._fresh.items() if v[1] > now}
            while len(self._fresh) >= CACHE_ENTRIES:  # all fresh: drop the oldest
                del self._fresh[next(iter(self._fresh))]
        self._fresh[key] = (fetched, now + timedelta(seconds=age))

    async def _admit(
        self, stats: DocumentStats, priority: Priority, max_wait: float | None = None
    ) -> tuple[bool, float]:
        """Fail fast while the circuit is open; else wait out a Retry-After pause and the budget.
        Returns whether this request is the circuit's half-open probe (its outcome must be
        reported) and the clock seconds it queued for the budget."""
        try:
            self.circuit.check(self.clock.now())
            while (wait := self.circuit.wait(self.clock.now())) > 0:
                await self.clock.sleep(wait)
            waited = await self.budget.acquire(priority, max_wait)
            # Once more: a 403 may have opened the circuit while this request queued.
            return self.circuit.admit(self.clock.now()), waited
        except HostBlocked:
            stats.blocked += 1
            raise

    async def aclose(self) -> None:
        await self._client.aclose()


def _skipped(stats: DocumentStats) -> None:
    stats.skipped += 1
    tally = fetch_tally.get()
    if tally is not None:
        tally.skipped += 1
