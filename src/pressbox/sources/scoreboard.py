"""ESPN's site-API scoreboard: every game of a league on one US Eastern day, in one request.

The site API is its own host (`site.api.espn.com`), so it has its own budgeted `HttpClient`. A
`limit` of 600 or more makes ESPN answer with 25 events and no warning; we ask for less.
"""

from __future__ import annotations

import logging
from datetime import date

from pressbox.domain.scoreboard import Scoreboard, parse_scoreboard
from pressbox.sources.http import HttpClient

log = logging.getLogger(__name__)

#: Events asked for per scoreboard: below ESPN's silent truncation at 600, above any real day.
SCOREBOARD_LIMIT = 500
#: ESPN answers a `limit` of this or more with only 25 events.
TRUNCATING_LIMIT = 600


def scoreboard_path(sport: str, league: str) -> str:
    """The site-API path of a league's scoreboard."""
    return f"/apis/site/v2/sports/{sport}/{league}/scoreboard"


class ScoreboardClient:
    """Reads league scoreboards through the site host's shared HttpClient."""

    def __init__(self, http: HttpClient, limit: int = SCOREBOARD_LIMIT) -> None:
        if not 0 < limit < TRUNCATING_LIMIT:
            raise ValueError(f"limit must be in 1..{TRUNCATING_LIMIT - 1}, got {limit}")
        self.http = http
        self.limit = limit

    async def day(self, sport: str, league: str, day: date) -> Scoreboard:
        """The league's games on `day` (US Eastern). Raises UpstreamError (its data subclass
        when the body is not a scoreboard)."""
        params = {"dates": day.strftime("%Y%m%d"), "limit": str(self.limit)}
        fetched = await self.http.get(scoreboard_path(sport, league), "scoreboard", params)
        board = parse_scoreboard(fetched.body, sport, league)
        if len(board.games) + board.skipped >= self.limit:
            log.warning(
                "%s scoreboard of %s holds %d events, the limit asked for: some may be missing",
                league,
                day,
                self.limit,
            )
        return board
