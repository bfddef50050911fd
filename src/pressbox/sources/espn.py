"""ESPN core API: fetch documents and paged collections as `Document`s.

Collections are paged (`count`, `pageIndex` 1-based, `pageSize`, `pageCount`, `items`); a large
`limit` usually returns one page, and further pages are followed while `pageCount` says so.
`collection` reads one whole; `edge` reads only its live edge: with a fixed small `limit`, the
page that held the last item seen, then every later page `pageCount` shows (growing while we
read), so no page is ever skipped. Items only ascend, so older pages change only by correction:
a whole read (reconciliation) catches those.
"""

from __future__ import annotations

import logging
import math

from pressbox.domain.documents import Document, DocumentKind
from pressbox.errors import UpstreamStatusError
from pressbox.sources.http import CacheUse, HttpClient

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000
MAX_PAGES = 20
#: Items per page of an edge read: the last page costs at most this many items.
EDGE_LIMITS = {DocumentKind.PLAYS: 25, DocumentKind.PROBABILITIES: 25, DocumentKind.DRIVES: 2}
EDGE_LIMIT = 25


def competition_url(sport: str, league: str, event_id: str) -> str:
    """The competition document of an event (ESPN uses the event id for its one competition)."""
    return f"/v2/sports/{sport}/leagues/{league}/events/{event_id}/competitions/{event_id}"


def event_url(sport: str, league: str, event_id: str) -> str:
    """The event document."""
    return f"/v2/sports/{sport}/leagues/{league}/events/{event_id}"


class EspnClient:
    """Reads ESPN core-API documents through the host's shared HttpClient."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def document(
        self,
        kind: DocumentKind,
        url: str,
        *,
        cache: CacheUse = "ignore",
        max_wait: float | None = None,
    ) -> Document:
        """One document (`cache`, `max_wait`: see `HttpClient.get`)."""
        fetched = await self.http.get(url, str(kind), cache=cache, max_wait=max_wait)
        return Document.parse(kind, fetched.body, self.http.clock.now())

    async def collection(
        self,
        kind: DocumentKind,
        url: str,
        *,
        cache: CacheUse = "ignore",
        max_wait: float | None = None,
    ) -> Document:
        """Every item of a paged collection, merged into one document.

        A later page that is missing (404, e.g. a recording that holds only page 1) ends the walk
        with the items we have; the next poll tries again.
        """
        pages = [await self._page(kind, url, 1, cache=cache, max_wait=max_wait)]
        page_count = pages[0].page_count
        for page in range(2, min(page_count, MAX_PAGES) + 1):
            try:
                pages.append(await self._page(kind, url, page, cache=cache, max_wait=max_wait))
            except UpstreamStatusError as exc:
                if exc.status != 404:
                    raise
                log.info(
                    "%s page %d of %d not available; using %d pages",
                    kind,
                    page,
                    page_count,
                    len(pages),
                )
                break
        return Document.merge(pages)

    async def edge(
        self,
        kind: DocumentKind,
        url: str,
        known: int,
        *,
        cache: CacheUse = "ignore",
        max_wait: float | None = None,
    ) -> Document:
        """The live edge of a collection of which `known` items were seen: the page holding the
        last of them, then every page after it, following `pageCount` as it grows.

        The merged document holds only those pages' items (it is not `complete`). A collection
        that shrank (a play removed) or pages that are not served (404) make it a whole read.
        """
        limit = EDGE_LIMITS.get(kind, EDGE_LIMIT)
        first = max(1, math.ceil(known / limit))
        pages: list[Document] = []
        try:
            page, last = first, first
            while page <= last and len(pages) < MAX_PAGES:
                fetched = await self._page(
                    kind, url, page, limit=limit, cache=cache, max_wait=max_wait
                )
                if not fetched.items and page > 1:
                    break  # past the end: the collection shrank below what we knew
                pages.append(fetched)
                last = max(last, fetched.page_count)
                page += 1
        except UpstreamStatusError as exc:
            if exc.status != 404:
                raise
            log.info("%s page %d not served at limit %d: reading it whole", kind, page, limit)
            return await self.collection(kind, url, cache=cache, max_wait=max_wait)
        if not pages or pages[-1].page_count < first:
            return await self.collection(kind, url, cache=cache, max_wait=max_wait)
        return Document.merge(pages)

    async def _page(
        self,
        kind: DocumentKind,
        url: str,
        page: int,
        *,
        limit: int = PAGE_LIMIT,
        cache: CacheUse = "ignore",
        max_wait: float | None = None,
    ) -> Document:
        params = {"limit": str(limit)}
        if page > 1:
            params["page"] = str(page)
        fetched = await self.http.get(
            _without_paging(url), str(kind), params, cache=cache, max_wait=max_wait
        )
        return Document.parse(kind, fetched.body, self.http.clock.now())


def _without_paging(url: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in ("limit", "page")]
    return f"{base}?{'&'.join(kept)}" if kept else base
