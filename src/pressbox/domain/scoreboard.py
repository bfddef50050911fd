"""ESPN's site-API scoreboard, validated at the boundary: the games of one league and day.

League-agnostic: any `/apis/site/v2/sports/{sport}/{league}/scoreboard` document reads the same
way (the recorded MLB board too); which leagues are scheduled is the scheduler's choice. A
malformed event is skipped with a log line, never fatal; a body that is not a scoreboard at all
raises `UpstreamDataError`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pressbox.clock import parse_time
from pressbox.domain.documents import SituationFields, StatusDoc
from pressbox.domain.sports import Phase, phase_of
from pressbox.errors import UpstreamDataError

log = logging.getLogger(__name__)


def _espn_time(value: Any) -> Any:
    """ESPN writes "2024-12-15T22:00Z" (no seconds) as well as "...T00:30:00+00:00"."""
    if not isinstance(value, str):
        return value
    try:
        return parse_time(value)
    except ValueError:
        return value  # pydantic then reports it as an invalid datetime


EspnTime = Annotated[datetime, BeforeValidator(_espn_time)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class BoardTeam(_Model):
    """A competitor's `team`."""

    id: str = Field(min_length=1)
    display_name: str = Field("", alias="displayName")
    abbreviation: str = ""


class BoardCompetitor(_Model):
    """One side of a competition, with its score as ESPN writes it (a string)."""

    home_away: Literal["home", "away"] = Field(alias="homeAway")
    team: BoardTeam
    score: str | int | None = None


class BoardId(_Model):
    """An object the board names only by its id (`{"id": "99"}`)."""

    id: str | None = None


class BoardNamed(_Model):
    """A play type: `{"id": "5", "text": "Rush"}`."""

    text: str | None = None


class BoardSpot(_Model):
    """Where a play started or ended: the yard line and the team in possession."""

    yard_line: int | None = Field(None, alias="yardLine")
    team: BoardId | None = None

    @property
    def key(self) -> tuple[int, str | None] | None:
        """(yard line, team id), or None when the yard line is not given."""
        if self.yard_line is None:
            return None
        return self.yard_line, self.team.id if self.team else None


class BoardProbability(_Model):
    """The win probability after a play, as fractions (0..1)."""

    home: float = Field(alias="homeWinPercentage", ge=0, le=1)
    away: float = Field(alias="awayWinPercentage", ge=0, le=1)
    tie: float = Field(0.0, alias="tiePercentage", ge=0, le=1)


class BoardLastPlay(_Model):
    """`situation.lastPlay`: the game's latest play (its id is what changes with every play),
    with its text, type, team, spots and win probability."""

    id: str | None = None
    text: str = ""
    type: BoardNamed | None = None
    score_value: int = Field(0, alias="scoreValue")
    team: BoardId | None = None
    probability: BoardProbability | None = None
    start: BoardSpot | None = None
    end: BoardSpot | None = None


class BoardSituation(SituationFields):
    """A live competition's `situation`: the situation document's fields, with the team in
    possession as an id and the last play embedded."""

    last_play: BoardLastPlay | None = Field(None, alias="lastPlay")
    possession: str | None = None


class BoardCompetition(_Model):
    """`competitions[0]`: the sides, (again) the status, and the situation of a live game."""

    id: str = ""
    date: EspnTime | None = None
    competitors: list[BoardCompetitor]
    status: StatusDoc | None = None
    situation: BoardSituation | None = None

    @field_validator("situation", mode="wrap")
    @classmethod
    def _lenient_situation(cls, value: Any, handler: Any) -> BoardSituation | None:
        """A malformed situation loses the situation, not the game (its status still counts)."""
        try:
            situation: BoardSituation | None = handler(value)
        except ValidationError as exc:
            log.warning("ignoring a malformed scoreboard situation: %s", exc.errors()[0]["msg"])
            return None
        return situation

    @field_validator("competitors")
    @classmethod
    def _home_and_away(cls, value: list[BoardCompetitor]) -> list[BoardCompetitor]:
        if sorted(c.home_away for c in value) != ["away", "home"]:
            raise ValueError("a competition needs exactly one home and one away competitor")
        return value


class BoardEvent(_Model):
    """One event of a scoreboard, as far as scheduling reads it."""

    id: str = Field(min_length=1)
    date: EspnTime
    name: str = ""
    short_name: str = Field("", alias="shortName")
    competitions: list[BoardCompetition] = Field(min_length=1)
    status: StatusDoc | None = None

    @model_validator(mode="after")
    def _has_status(self) -> BoardEvent:
        if self.status is None and self.competitions[0].status is None:
            raise ValueError("the event has no status")
        return self


@dataclass(frozen=True)
class Team:
    """A side of a game; `to_json` is the shape of the games table's `home` and `away`."""

    id: str
    name: str
    abbreviation: str

    def to_json(self) -> dict[str, str]:
        """The stored JSON of this side."""
        return {"id": self.id, "name": self.name, "abbreviation": self.abbreviation}


@dataclass(frozen=True)
class BoardGame:
    """A game as a league's scoreboard shows it: who, when, and where it stands."""

    id: str
    sport: str
    league: str
    name: str
    short_name: str
    start: datetime
    home: Team
    away: Team
    status: StatusDoc
    home_score: int | None
    away_score: int | None
    #: The live situation (down, possession, the last play); None outside play.
    situation: BoardSituation | None = None

    @property
    def last_play(self) -> BoardLastPlay | None:
        """`situation.lastPlay` when it names a play, else None."""
        last = self.situation.last_play if self.situation else None
        return last if last is not None and last.id else None

    @property
    def last_play_id(self) -> str | None:
        """The id of the game's last play, None before the first one."""
        last = self.last_play
        return last.id if last else None

    @property
    def phase(self) -> Phase:
        """The game phase ESPN's status names (unknown names map by state)."""
        t = self.status.type
        return phase_of(t.name, t.state, t.completed, self.status.clock, t.detail)

    def status_json(self) -> dict[str, Any]:
        """The status in the shape the tracker stores on a game (`games.status`)."""
        t = self.status.type
        return {
            "state": t.state,
            "name": t.name,
            "detail": t.detail,
            "short_detail": t.short_detail,
            "period": self.status.period,
            "clock": self.status.clock,
            "display_clock": self.status.display_clock,
            "completed": t.completed,
            "phase": str(self.phase),
        }


@dataclass(frozen=True)
class Scoreboard:
    """The games of one scoreboard document, and how many malformed events were skipped."""

    games: tuple[BoardGame, ...]
    skipped: int = 0


def parse_scoreboard(raw: bytes | str, sport: str, league: str) -> Scoreboard:
    """Read a scoreboard body; malformed events are logged and skipped.

    Raises:
        UpstreamDataError: the body is not JSON, or not an object with an `events` list.
    """
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamDataError(f"{league} scoreboard is not JSON: {exc}") from exc
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        raise UpstreamDataError(f"{league} scoreboard has no list of events")
    games, skipped = [], 0
    for index, item in enumerate(events):
        try:
            event = BoardEvent.model_validate(item)
        except ValidationError as exc:
            skipped += 1
            ident = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            log.warning("skipping malformed %s scoreboard event %s: %s", league, ident, problems)
            continue
        games.append(board_game(event, sport, league))
    return Scoreboard(tuple(games), skipped)


def board_game(event: BoardEvent, sport: str, league: str) -> BoardGame:
    """The game of a validated event (its first competition)."""
    competition = event.competitions[0]
    sides = {c.home_away: c for c in competition.competitors}
    status = event.status or competition.status
    assert status is not None  # BoardEvent guarantees one of them
    pregame = status.type.state == "pre"
    return BoardGame(
        id=event.id,
        sport=sport,
        league=league,
        name=event.name,
        short_name=event.short_name,
        start=competition.date or event.date,
        home=_team(sides["home"]),
        away=_team(sides["away"]),
        status=status,
        home_score=None if pregame else _score(sides["home"].score),
        away_score=None if pregame else _score(sides["away"].score),
        situation=competition.situation,
    )


def _team(competitor: BoardCompetitor) -> Team:
    team = competitor.team
    return Team(team.id, team.display_name, team.abbreviation)


def _score(value: str | int | None) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
