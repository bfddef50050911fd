"""The shared HTTP client of one upstream host: budget, circuit, base-URL rewriting, stats,
error mapping.

Upstream documents link to each other with absolute URLs (ESPN's `$ref`). The client rewrites
every URL onto its configured base, so pointing Pressbox at the replay server is a setting: the
streamer's code path is the same as live.

Failure policy: a 403 opens the host's circuit (`sources.circuit`): requests fail fast with
`HostBlocked` and none is sent until the block period has passed; a 429's `Retry-After` makes the
next requests wait on the injected clock. Retrying (jittered exponential backoff on timeouts,
5xx and 429) is the callers' loop, with `sources.retry`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from pressbox.clock import Clock
from pressbox.errors import HostBlocked, UpstreamError, UpstreamStatusError
from pressbox.metrics import metrics
from pressbox.sources.budget import RequestBudget
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

    def to_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "errors": self.errors,
            "unchanged": self.unchanged,
            "cancelled": self.cancelled,
            "blocked": self.blocked,
        }


@dataclass
class UpstreamStats:
    """Requests, bytes and errors by document type for one host."""

    by_kind: dict[str, DocumentStats] = field(default_factory=lambda: defaultdict(DocumentStats))

    def to_json(self) -> dict[str, dict[str, int]]:
        return {kind: stats.to_json() for kind, stats in sorted(self.by_kind.items())}


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

    async def get(self, url: str, kind: str, params: dict[str, str] | None = None) -> Fetched:
        """GET `url` within the budget and the host's circuit; raises UpstreamError (never an
        httpx error), and HostBlocked at once, sending nothing, while the circuit is open."""
        target = httpx.URL(self.rebase(url))
        if params:
            target = target.copy_merge_params(params)
        stats = self.stats.by_kind[kind]
        labels = {"host": self.circuit.host, "document": kind}
        meter = metrics()
        queued = time.perf_counter()
        try:
            probe = await self._admit(stats)
        except HostBlocked:
            meter.upstream_errors.add(1, {**labels, "kind": "blocked"})
            raise
        sent = time.perf_counter()
        meter.budget_wait.record(sent - queued, {"host": self.circuit.host})
        stats.requests += 1
        meter.upstream_requests.add(1, labels)
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
        return Fetched(str(response.url), response.content, response.headers.get("cache-control"))

    async def _admit(self, stats: DocumentStats) -> bool:
        """Fail fast while the circuit is open; else wait out a Retry-After pause and the budget.
        True if this request is the circuit's half-open probe (its outcome must be reported)."""
        try:
            self.circuit.check(self.clock.now())
            while (wait := self.circuit.wait(self.clock.now())) > 0:
                await self.clock.sleep(wait)
            await self.budget.acquire()
            # Once more: a 403 may have opened the circuit while this request queued.
            return self.circuit.admit(self.clock.now())
        except HostBlocked:
            stats.blocked += 1
            raise

    async def aclose(self) -> None:
        await self._client.aclose()
