"""ESPN core API: fetch documents and paged collections as `Document`s.

Collections are paged (`count`, `pageIndex` 1-based, `pageSize`, `pageCount`, `items`); a large
`limit` usually returns one page, and further pages are followed while `pageCount` says so.
"""

from __future__ import annotations

import logging

from pressbox.domain.documents import Document, DocumentKind
from pressbox.errors import UpstreamStatusError
from pressbox.sources.http import HttpClient

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000
MAX_PAGES = 20


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

    async def document(self, kind: DocumentKind, url: str) -> Document:
        """One document."""
        fetched = await self.http.get(url, str(kind))
        return Document.parse(kind, fetched.body, self.http.clock.now())

    async def collection(self, kind: DocumentKind, url: str) -> Document:
        """Every item of a paged collection, merged into one document.

        A later page that is missing (404, e.g. a recording that holds only page 1) ends the walk
        with the items we have; the next poll tries again.
        """
        pages = [await self._page(kind, url, 1)]
        page_count = pages[0].page_count
        for page in range(2, min(page_count, MAX_PAGES) + 1):
            try:
                pages.append(await self._page(kind, url, page))
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

    async def _page(self, kind: DocumentKind, url: str, page: int) -> Document:
        params = {"limit": str(PAGE_LIMIT)}
        if page > 1:
            params["page"] = str(page)
        fetched = await self.http.get(_without_paging(url), str(kind), params)
        return Document.parse(kind, fetched.body, self.http.clock.now())


def _without_paging(url: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in ("limit", "page")]
    return f"{base}?{'&'.join(kept)}" if kept else base
