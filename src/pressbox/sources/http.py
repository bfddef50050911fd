"""The shared HTTP client of one upstream host: budget, base-URL rewriting, stats, error mapping.

Upstream documents link to each other with absolute URLs (ESPN's `$ref`). The client rewrites
every URL onto its configured base, so pointing Pressbox at the replay server is a setting: the
streamer's code path is the same as live.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from pressbox.clock import Clock
from pressbox.errors import UpstreamError, UpstreamStatusError
from pressbox.sources.budget import RequestBudget


@dataclass
class DocumentStats:
    """Counters for one document type."""

    requests: int = 0
    bytes: int = 0
    errors: int = 0
    unchanged: int = 0
    cancelled: int = 0  # sent, then abandoned (a worker stopped at a break or the end)

    def to_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "errors": self.errors,
            "unchanged": self.unchanged,
            "cancelled": self.cancelled,
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
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
        """GET `url` within the budget; raises UpstreamError (never an httpx error)."""
        target = httpx.URL(self.rebase(url))
        if params:
            target = target.copy_merge_params(params)
        stats = self.stats.by_kind[kind]
        await self.budget.acquire()
        stats.requests += 1
        try:
            response = await self._client.get(target, params=params)
        except asyncio.CancelledError:
            stats.cancelled += 1
            raise
        except httpx.HTTPError as exc:
            stats.errors += 1
            raise UpstreamError(f"{kind} request failed: {exc!r}", url=str(target)) from exc
        if response.status_code >= 400:
            stats.errors += 1
            raise UpstreamStatusError(response.status_code, url=str(response.url))
        stats.bytes += len(response.content)
        return Fetched(str(response.url), response.content, response.headers.get("cache-control"))

    async def aclose(self) -> None:
        await self._client.aclose()
