"""Replayed games served at ESPN's paths: which document a path names, and its bytes at time t.

`ReplayGames` holds any number of `GameRecord`s (the same game may appear under several ids, each
shifted in time: see `slate`), routes core-API and site-scoreboard paths to the synthesized
documents, and caches serialized documents per (document, moment, paging), so many games polled
often cost one build per change. Pure apart from the cache: the caller passes the time.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pressbox.clock import format_time
from pressbox.replay.items import REF_QUERY, page_of
from pressbox.replay.record import GameRecord
from pressbox.replay.scoreboard import eastern_date, parse_dates, scoreboard, scoreboard_limit
from pressbox.replay.synthesis import GameDocuments
from pressbox.replay.timeline import GameTimeline, Moment

#: `max-age` of each synthesized document, in seconds (ESPN sends 1..10 on live documents).
MAX_AGE = {
    "event": 10,
    "competition": 10,
    "competitor": 10,
    "status": 5,
    "situation": 5,
    "plays": 10,
    "play": 10,
    "probabilities": 10,
    "probability": 10,
    "drives": 10,
    "score": 5,
    "team": 300,
    "scoreboard": 10,
}
CACHE_SIZE = 4096
CACHE_BYTES = 128 * 1024 * 1024

_LEAGUE = r"^/v2/sports/(?P<sport>[^/]+)/leagues/(?P<league>[^/]+)"
_EVENT_PATH = re.compile(
    _LEAGUE + r"/events/(?P<event>[^/]+)(?:/competitions/(?P<competition>[^/]+)(?P<rest>/.*?)?)?/?$"
)
_TEAM_PATH = re.compile(_LEAGUE + r"/seasons/\d+/teams/(?P<team>[^/]+)/?$")
_SCOREBOARD_PATH = re.compile(
    r"^/apis/site/v2/sports/(?P<sport>[^/]+)/(?P<league>[^/]+)/scoreboard/?$"
)

Key = tuple[Any, ...]
Build = Callable[[], object | None]


@dataclass(frozen=True)
class Answer:
    """A synthesized document: its JSON bytes and how long ESPN would let it be cached."""

    body: bytes
    max_age: int


def slate(
    record: GameRecord, count: int, spacing: timedelta, start: datetime | None = None
) -> list[GameRecord]:
    """`count` copies of one game under ids `{id}001`, `{id}002`, ..., `spacing` apart.

    The first copy starts at `start` (default: when the game really started).
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    offset = (start - record.start_time) if start is not None else timedelta(0)
    return [
        record.renamed(f"{record.id}{index + 1:03d}", offset + index * spacing)
        for index in range(count)
    ]


class _Cache:
    """An LRU of serialized documents, bounded in entries and in bytes."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.builds = 0
        self.bytes = 0
        self._entries: OrderedDict[Key, bytes | None] = OrderedDict()

    def get(self, key: Key, build: Build) -> bytes | None:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        document = build()
        self.builds += 1
        body = None if document is None else _dump(document)
        self._entries[key] = body
        self.bytes += len(body or b"")
        while len(self._entries) > 1 and (
            len(self._entries) > self.size or self.bytes > self.max_bytes
        ):
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= len(evicted or b"")
        return body


class ReplayGames:
    """Synthesized ESPN documents for replayed games, answered by path at any time.

    Raises:
        ValueError: two records share a (sport, league, id), or a record has no plays.
    """

    def __init__(
        self,
        games: Sequence[GameRecord],
        cache_size: int = CACHE_SIZE,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self._games: dict[tuple[str, str, str], GameDocuments] = {}
        self._teams: dict[tuple[str, str, str], GameDocuments] = {}
        for record in games:
            key = (record.sport, record.league, record.id)
            if key in self._games:
                raise ValueError(f"game {record.id} ({record.league}) is replayed twice")
            docs = self._games[key] = GameDocuments(GameTimeline(record))
            for team in (record.home, record.away):
                self._teams.setdefault((record.sport, record.league, team.id), docs)
        self._cache = _Cache(cache_size, cache_bytes)

    def __len__(self) -> int:
        return len(self._games)

    @property
    def builds(self) -> int:
        """How many documents were built (not served from the cache) so far."""
        return self._cache.builds

    @property
    def records(self) -> list[GameRecord]:
        """Every replayed game."""
        return [docs.record for docs in self._games.values()]

    def answer(
        self,
        path: str,
        params: Mapping[str, str],
        now: datetime,
        limit: int | None = None,
        page: int | None = None,
    ) -> Answer | None:
        """The document at `path` at time `now`, or None when no replayed game has it.

        Raises:
            ValueError: a malformed parameter (`dates`).
        """
        if match := _SCOREBOARD_PATH.match(path):
            return self._scoreboard(match["sport"], match["league"], params, now, limit)
        if match := _TEAM_PATH.match(path):
            return self._team(match["sport"], match["league"], match["team"])
        match = _EVENT_PATH.match(path)
        if match is None:
            return None
        docs = self._games.get((match["sport"], match["league"], match["event"]))
        if docs is None or match["competition"] not in (None, match["event"]):
            return None
        moment = docs.timeline.moment(now)
        if match["competition"] is None:
            return self._cached(docs, "event", moment, (), lambda: docs.event(moment))
        rest = [part for part in (match["rest"] or "").split("/") if part]
        return self._competition_part(docs, moment, rest, limit, page)

    def _competition_part(
        self,
        docs: GameDocuments,
        moment: Moment,
        rest: list[str],
        limit: int | None,
        page: int | None,
    ) -> Answer | None:
        links, items = docs.links, docs.items
        if not rest:
            return self._cached(docs, "competition", moment, (), lambda: docs.competition(moment))
        name, *tail = rest
        single: dict[str, Callable[[], object | None]] = {
            "status": lambda: docs.status(moment),
            "situation": lambda: docs.situation(moment),
        }
        if name in single and not tail:
            return self._cached(docs, name, moment, (), single[name])
        collections: dict[str, Callable[[], list[Any]]] = {
            "plays": lambda: items.plays(moment),
            "probabilities": lambda: items.probabilities(moment),
        }
        if docs.football:
            collections["drives"] = lambda: items.drives(moment)
        if name in collections and not tail:
            ref = f"{links.competition}/{name}{REF_QUERY}"
            paging = (limit, page)

            def build() -> object:
                return page_of(ref, collections[name](), limit, page)

            return self._cached(docs, name, moment, paging, build)
        if name in ("plays", "probabilities") and len(tail) == 1:
            kind = name[:-1] if name == "plays" else "probability"
            one = items.play if name == "plays" else items.probability
            return self._cached(docs, kind, moment, (tail[0],), lambda: one(moment, tail[0]))
        if name == "competitors" and tail:
            return self._competitor(docs, moment, tail)
        return None

    def _competitor(self, docs: GameDocuments, moment: Moment, tail: list[str]) -> Answer | None:
        team_id = tail[0]
        if len(tail) == 1:
            return self._cached(
                docs, "competitor", moment, (team_id,), lambda: docs.competitor(moment, team_id)
            )
        if tail[1:] == ["score"]:
            return self._cached(
                docs, "score", moment, (team_id,), lambda: docs.score(moment, team_id)
            )
        return None

    def _team(self, sport: str, league: str, team_id: str) -> Answer | None:
        docs = self._teams.get((sport, league, team_id))
        if docs is None:
            return None
        body = self._cache.get(("team", sport, league, team_id), lambda: docs.team(team_id))
        return Answer(body, MAX_AGE["team"]) if body is not None else None

    def _scoreboard(
        self,
        sport: str,
        league: str,
        params: Mapping[str, str],
        now: datetime,
        limit: int | None,
    ) -> Answer:
        dates = params.get("dates")
        first, last = parse_dates(dates) if dates else (eastern_date(now),) * 2
        chosen = sorted(
            (
                docs
                for (game_sport, game_league, _), docs in self._games.items()
                if (game_sport, game_league) == (sport, league)
                and first <= eastern_date(docs.record.start_time) <= last
            ),
            key=lambda docs: (docs.record.start_time, docs.record.id),
        )[: scoreboard_limit(limit)]
        games = [(docs, docs.timeline.moment(now)) for docs in chosen]
        key: Key = ("scoreboard", sport, league, first, tuple((d.record.id, m) for d, m in games))
        body = self._cache.get(key, lambda: scoreboard(sport, league, first, games))
        assert body is not None
        return Answer(body, MAX_AGE["scoreboard"])

    def _cached(
        self, docs: GameDocuments, name: str, moment: Moment, extra: Key, build: Build
    ) -> Answer | None:
        record = docs.record
        key = (record.sport, record.league, record.id, name, moment, *extra)
        body = self._cache.get(key, build)
        return Answer(body, MAX_AGE[name]) if body is not None else None

    def describe(self, now: datetime) -> list[dict[str, Any]]:
        """Every replayed game for operators: id, league, name, span, and where it is at `now`."""
        described = []
        for docs in self._games.values():
            record, moment = docs.record, docs.timeline.moment(now)
            described.append(
                {
                    "id": record.id,
                    "sport": record.sport,
                    "league": record.league,
                    "name": record.name,
                    "start": format_time(record.start_time),
                    "first_play": format_time(docs.timeline.first_reveal),
                    "final": format_time(docs.timeline.final_at),
                    "stage": str(moment.stage),
                    "plays": f"{moment.revealed}/{len(record.plays)}",
                    "source": record.source,
                }
            )
        return described


def _dump(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
