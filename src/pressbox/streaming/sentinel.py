"""The league scoreboard as every game's change sentinel: one request for all games of a league.

ESPN's site scoreboard carries, for every game of a league and day, its status, its score and
`situation.lastPlay`. Each streamer asks `LeagueBoard.game` for its own game as often as it
likes: the site host's client answers from its copy while the board's max-age lasts and shares
one request among callers asking at once, so the whole league costs about one request per
max-age, however many games are followed. A streamer asks through a `BoardWatch`, which knows
its game's board day and stops asking for a while when the board fails or lacks the game.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timedelta

from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.schedule import EASTERN
from pressbox.domain.scoreboard import BoardGame, Scoreboard, parse_scoreboard
from pressbox.errors import UpstreamError, UpstreamStatusError
from pressbox.sources.scoreboard import ScoreboardClient, scoreboard_path

log = logging.getLogger(__name__)

#: After the board failed or lacked the game, it is asked again only this much later; after
#: BOARD_MISSES misses in a row, never again by this streamer (a replay of recorded documents
#: has no board; real ESPN always has one).
BOARD_RETRY = timedelta(minutes=5)
BOARD_MISSES = 3


def board_day(start: datetime) -> date:
    """The scoreboard day of a game: the US Eastern date it starts on."""
    return start.astimezone(EASTERN).date()


def status_document(game: BoardGame, at: datetime) -> Document:
    """The game's status as the board shows it, as a status `Document` for the tracker (the
    board's `status` has the shape of the core API's status document)."""
    body = game.status.model_dump(by_alias=True)
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return Document(DocumentKind.STATUS, body, hashlib.sha256(raw).hexdigest(), at, len(raw))


class LeagueBoard:
    """Every league's scoreboard, read through the site host's shared client."""

    def __init__(self, scoreboards: ScoreboardClient) -> None:
        self.scoreboards = scoreboards
        self._parsed: dict[tuple[str, str, date], tuple[bytes, Scoreboard]] = {}

    async def game(self, sport: str, league: str, day: date, game_id: str) -> BoardGame | None:
        """The game as the board of `day` shows it now, or None if the board lacks it.
        Raises UpstreamError."""
        fetched = await self.scoreboards.http.get(
            scoreboard_path(sport, league), "scoreboard", self._params(day), cache="reuse"
        )
        key = (sport, league, day)
        parsed = self._parsed.get(key)
        if parsed is None or parsed[0] is not fetched.body:  # a copy reused is parsed once
            parsed = (fetched.body, parse_scoreboard(fetched.body, sport, league))
            self._parsed[key] = parsed
        return next((g for g in parsed[1].games if g.id == game_id), None)

    def stale_at(self, sport: str, league: str, day: date) -> datetime | None:
        """When the copy of the board of `day` goes stale (its max-age): the moment to look
        again (None: no copy kept)."""
        return self.scoreboards.http.stale_at(scoreboard_path(sport, league), self._params(day))

    def _params(self, day: date) -> dict[str, str]:
        return {"dates": day.strftime("%Y%m%d"), "limit": str(self.scoreboards.limit)}


class BoardWatch:
    """One game's view of its league's board (None: no board): the day whose board shows it,
    and when the board may be asked again after it failed or lacked the game."""

    def __init__(self, board: LeagueBoard | None, sport: str, league: str, game_id: str) -> None:
        self.board = board
        self.sport = sport
        self.league = league
        self.game_id = game_id
        #: The game's scoreboard day (`board_day`), once discovery has read its start time.
        self.day: date | None = None
        self._retry: datetime | None = None  # no board before then
        self._misses = 0

    async def game(self, now: datetime) -> BoardGame | None:
        """The game as the board shows it `now`; None when there is no board or day, after
        BOARD_MISSES misses in a row (404s, or boards without the game), before the retry time,
        or when the board fails or lacks the game (then it is asked again BOARD_RETRY later)."""
        if self.board is None or self.day is None or self._misses >= BOARD_MISSES:
            return None
        if self._retry is not None and now < self._retry:
            return None
        try:
            game = await self.board.game(self.sport, self.league, self.day, self.game_id)
        except UpstreamError as exc:
            log.info("game %s: no scoreboard (%s); status document instead", self.game_id, exc)
            # An outage is not a miss: the board is back when ESPN is. Only a board that is
            # not there (404) counts towards giving it up.
            absent = isinstance(exc, UpstreamStatusError) and exc.status == 404
            self._misses += absent
            self._retry = now + BOARD_RETRY
            return None
        self._misses = 0 if game is not None else self._misses + 1
        self._retry = None if game is not None else now + BOARD_RETRY
        return game

    def stale_at(self) -> datetime | None:
        """When the copy of the game's board goes stale (None: no board, day or copy)."""
        if self.board is None or self.day is None:
            return None
        return self.board.stale_at(self.sport, self.league, self.day)
