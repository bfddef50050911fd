"""The in-memory model of a recording: upstream responses on a timeline, found by path and query.

Every loader (Postman, HAR, ...) turns its file into `RecordedResponse`s and hands them to
`Recording`, which answers "what did upstream say for this request at time t?". Pure: no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, unquote, urlsplit

from pressbox.errors import RecordingError

#: Query parameters that do not change which document ESPN answers with: language and region
#: select a translation, and paging is redone by the replay server from a complete recorded list.
IGNORED_QUERY_KEYS = frozenset({"lang", "region", "limit", "page"})

Query = tuple[tuple[str, str], ...]
Key = tuple[str, Query]


def parse_query(query: str) -> list[tuple[str, str]]:
    """Split a query string into (key, value) pairs, in order, blank values kept.

    A stray second `?` counts as `&`: the real recording holds URLs like `status?lang=en?limit=9`.
    """
    text = query.removeprefix("?").replace("?", "&")
    return parse_qsl(text, keep_blank_values=True)


def normalise_query(query: str | Mapping[str, str]) -> Query:
    """The query as a lookup key: ignored parameters dropped, the rest sorted."""
    pairs = parse_query(query) if isinstance(query, str) else list(query.items())
    return tuple(sorted((k, v) for k, v in pairs if k.lower() not in IGNORED_QUERY_KEYS))


@dataclass(frozen=True)
class RequestTarget:
    """Where a recorded request went: host (kept, not matched), path and normalised query."""

    host: str
    path: str
    query: Query


def split_url(url: str) -> RequestTarget:
    """Split a recorded URL into host, decoded path and normalised query.

    Splitting at the first `?` by hand keeps any further `?` in the query, where `parse_query`
    repairs it.
    """
    base, _, query = url.strip().partition("?")
    parts = urlsplit(base)
    if not parts.path:
        raise ValueError(f"URL has no path: {url!r}")
    return RequestTarget(
        host=parts.hostname or "", path=unquote(parts.path), query=normalise_query(query)
    )


def parse_http_date(value: str) -> datetime:
    """Parse an HTTP `Date` header ("Sat, 23 Aug 2025 16:07:08 GMT") to an aware datetime."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not an HTTP date: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"HTTP date without a zone: {value!r}")
    return parsed.astimezone(UTC)


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header `name` (case-insensitive), or None."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class RecordedResponse:
    """One upstream response as it was recorded, with the time upstream said it answered."""

    method: str
    host: str
    path: str
    query: Query
    recorded_at: datetime
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    name: str

    @property
    def key(self) -> Key:
        """What requests match this response: path and normalised query (the host is ignored)."""
        return (self.path, self.query)

    def header(self, name: str) -> str | None:
        """The recorded value of header `name` (case-insensitive), or None."""
        return header_value(self.headers, name)


class _Timeline:
    """The responses of one key in time order, with their times kept apart for bisection."""

    def __init__(self) -> None:
        self.times: list[datetime] = []
        self.responses: list[RecordedResponse] = []

    def add(self, response: RecordedResponse) -> None:
        self.times.append(response.recorded_at)
        self.responses.append(response)

    def at(self, moment: datetime) -> RecordedResponse | None:
        index = bisect.bisect_right(self.times, moment)
        return self.responses[index - 1] if index else None


class Recording:
    """Recorded responses on a timeline; `lookup` answers what upstream said for a request at t.

    Args:
        responses: the recorded responses, in any order (equal times keep their given order).
        skipped: how many entries the loader could not use (no Date or URL), for reporting.
    """

    def __init__(self, responses: Iterable[RecordedResponse], *, skipped: int = 0) -> None:
        ordered = sorted(responses, key=lambda r: r.recorded_at)
        if not ordered:
            raise RecordingError("the recording holds no usable responses")
        self._responses = tuple(ordered)
        self.skipped = skipped
        self._timelines: dict[Key, _Timeline] = {}
        for response in ordered:
            self._timelines.setdefault(response.key, _Timeline()).add(response)

    @property
    def responses(self) -> tuple[RecordedResponse, ...]:
        """Every recorded response, earliest first."""
        return self._responses

    @property
    def start(self) -> datetime:
        """When the earliest response was recorded."""
        return self._responses[0].recorded_at

    @property
    def end(self) -> datetime:
        """When the latest response was recorded."""
        return self._responses[-1].recorded_at

    def __len__(self) -> int:
        return len(self._responses)

    def paths(self) -> list[str]:
        """Every recorded path, sorted, each once."""
        return sorted({path for path, _ in self._timelines})

    def keys(self) -> list[Key]:
        """Every (path, normalised query) key, sorted."""
        return sorted(self._timelines)

    def history(self, path: str, query: str | Mapping[str, str] = "") -> list[RecordedResponse]:
        """All responses recorded for a request, earliest first."""
        timeline = self._timelines.get((path, normalise_query(query)))
        return list(timeline.responses) if timeline else []

    def lookup(
        self, path: str, query: str | Mapping[str, str], at: datetime
    ) -> RecordedResponse | None:
        """The latest response recorded for this request at or before `at`, or None."""
        if at.tzinfo is None:
            raise ValueError("lookup time must be timezone-aware")
        timeline = self._timelines.get((path, normalise_query(query)))
        return timeline.at(at) if timeline else None
