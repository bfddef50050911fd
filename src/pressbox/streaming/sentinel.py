"""The league scoreboard as every game's change sentinel: one request for all games of a league.

ESPN's site scoreboard carries, for every game of a league and day, its status, its score and
`situation.lastPlay`. Each streamer asks `LeagueBoard.game` for its own game as often as it
likes: the site host's client answers from its copy while the board's max-age lasts and shares
one request among callers asking at once, so the whole league costs about one request per
max-age, however many games are followed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from pressbox.domain.documents import Document, DocumentKind
from pressbox.domain.schedule import EASTERN
from pressbox.domain.scoreboard import BoardGame, Scoreboard, parse_scoreboard
from pressbox.sources.scoreboard import ScoreboardClient, scoreboard_path


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
