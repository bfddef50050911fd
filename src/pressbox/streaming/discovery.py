"""Finding a game's documents and teams from its event and competition documents."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pressbox.clock import parse_time
from pressbox.domain.documents import (
    CompetitionDoc,
    DocumentKind,
    EventDoc,
    TeamDoc,
    read,
)
from pressbox.errors import UpstreamError
from pressbox.sources.espn import EspnClient, competition_url, event_url
from pressbox.store import GameInfo, TeamInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GameDocuments:
    """Where a game's live documents are, as the competition document links them."""

    status: str
    refs: dict[DocumentKind, str]


async def discover(
    espn: EspnClient, sport: str, league: str, event_id: str
) -> tuple[GameInfo, GameDocuments]:
    """Read the event and competition documents: the game's teams and its document links."""
    competition = await _competition(espn, sport, league, event_id)
    event_doc = await espn.document(DocumentKind.EVENT, event_url(sport, league, event_id))
    event = read(EventDoc, event_doc.body, "event")
    home, away = await _teams(espn, event, competition)
    date = competition.date or event.date
    game = GameInfo(
        id=event_id,
        sport=sport,
        league=league,
        name=event.name,
        short_name=event.short_name,
        start_time=parse_time(date) if date else None,
        home=home,
        away=away,
    )
    return game, _documents(competition)


async def rediscover(espn: EspnClient, sport: str, league: str, event_id: str) -> GameDocuments:
    """Read the competition document again: ESPN adds links (probabilities, leaders) as a game
    goes on, so a competition read before kickoff may lack some."""
    return _documents(await _competition(espn, sport, league, event_id))


async def _competition(espn: EspnClient, sport: str, league: str, event_id: str) -> CompetitionDoc:
    document = await espn.document(
        DocumentKind.COMPETITION, competition_url(sport, league, event_id)
    )
    competition = read(CompetitionDoc, document.body, "competition")
    if competition.status is None:
        raise UpstreamError(f"competition {event_id} links no status document")
    return competition


def _documents(competition: CompetitionDoc) -> GameDocuments:
    assert competition.status is not None
    refs = {
        kind: ref.ref
        for kind, ref in (
            (DocumentKind.SITUATION, competition.situation),
            (DocumentKind.PLAYS, competition.details),
            (DocumentKind.PROBABILITIES, competition.probabilities),
            (DocumentKind.DRIVES, competition.drives),
            (DocumentKind.LEADERS, competition.leaders),
        )
        if ref is not None
    }
    return GameDocuments(competition.status.ref, refs)


async def _teams(
    espn: EspnClient, event: EventDoc, competition: CompetitionDoc
) -> tuple[TeamInfo, TeamInfo]:
    named_away, named_home = _names_from_event(event)
    teams = []
    for side, (name, abbreviation) in (("home", named_home), ("away", named_away)):
        competitor = competition.competitor(side)
        team_id = competitor.id if competitor else ""
        if competitor and competitor.team:
            try:
                doc = read(
                    TeamDoc,
                    (await espn.document(DocumentKind.TEAM, competitor.team.ref)).body,
                    "team",
                )
                name, abbreviation = doc.display_name or name, doc.abbreviation or abbreviation
            except UpstreamError as exc:
                log.info("team %s not available (%s); using the event's names", team_id, exc)
        teams.append(TeamInfo(team_id, name, abbreviation))
    return teams[0], teams[1]


_SEPARATOR = re.compile(r"\s+(?:at|vs\.?|@)\s+", re.IGNORECASE)


def _names_from_event(event: EventDoc) -> tuple[tuple[str, str], tuple[str, str]]:
    """((away name, abbr), (home name, abbr)) from "Away at Home" and "AWY @ HOM" / "AWY VS HOM"."""
    names = _SEPARATOR.split(event.name, maxsplit=1)
    shorts = _SEPARATOR.split(event.short_name, maxsplit=1)
    away = names[0] if len(names) == 2 else ""
    home = names[1] if len(names) == 2 else ""
    away_abbr = shorts[0].strip() if len(shorts) == 2 else ""
    home_abbr = shorts[1].strip() if len(shorts) == 2 else ""
    return (away, away_abbr), (home, home_abbr)
