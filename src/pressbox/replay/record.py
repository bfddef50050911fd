"""One internal record of a finished game, whatever format it was loaded from.

Loaders (`replay/loaders.py`) read ESPN site-API summaries, core-API document sets and CDN game
packages into a `GameRecord`; the timeline (`replay/timeline.py`) answers, from a record, every
document the streamer polls as ESPN would have served it at any instant of the game.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class TeamRecord:
    """One side of the game."""

    id: str
    home_away: str  # "home" | "away"
    name: str  # displayName, "Indiana Pacers"
    abbreviation: str  # "IND"
    score: int  # final score
    winner: bool | None = None


@dataclass(frozen=True)
class Position:
    """Football: where the ball is at the start or end of a play (core-API `start`/`end`)."""

    down: int | None = None
    distance: int | None = None
    yard_line: int | None = None
    yards_to_endzone: int | None = None
    down_distance_text: str | None = None
    possession_text: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class PlayRecord:
    """One play, in game order. `wallclock` is when it happened (aware UTC)."""

    id: str
    sequence: int
    wallclock: datetime
    period: int
    clock: str  # display clock, "12:01" or "26.1"
    text: str
    home_score: int  # score after the play
    away_score: int
    scoring: bool = False
    score_value: int = 0
    type_id: str | None = None
    type_text: str | None = None
    short_text: str | None = None
    team_id: str | None = None
    drive_id: str | None = None
    clock_seconds: float | None = None
    start: Position | None = None
    end: Position | None = None


@dataclass(frozen=True)
class ProbabilityRecord:
    """ESPN's win probability after a play (percentages 0..1)."""

    play_id: str
    home: float
    away: float
    tie: float = 0.0
    seconds_left: int | None = None
    sequence: int | None = None


@dataclass(frozen=True)
class DriveRecord:
    """Football: one drive and the plays in it."""

    id: str
    sequence: int
    team_id: str | None
    description: str | None
    result: str | None
    is_score: bool
    start_text: str | None
    end_text: str | None
    play_ids: tuple[str, ...]


@dataclass(frozen=True)
class GameRecord:
    """A finished game: teams, start, every play with its wall time, probabilities, drives."""

    id: str
    sport: str  # "football" | "basketball"
    league: str  # "college-football" | "nfl" | "nba"
    name: str  # "New York Knicks at Indiana Pacers"
    short_name: str  # "NY @ IND"
    start_time: datetime  # scheduled start (aware UTC)
    home: TeamRecord
    away: TeamRecord
    plays: tuple[PlayRecord, ...]  # game order
    probabilities: tuple[ProbabilityRecord, ...] = ()  # in play order
    drives: tuple[DriveRecord, ...] = ()
    final_status: str = "STATUS_FINAL"  # or STATUS_FINAL_OT, ...
    periods: int = 4  # periods played, overtime included
    period_seconds: int = 900  # regulation period length: 900 football, 720 NBA
    source: str = ""  # where it was loaded from, for messages
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def first_wallclock(self) -> datetime:
        return self.plays[0].wallclock

    @property
    def last_wallclock(self) -> datetime:
        return self.plays[-1].wallclock

    def renamed(self, game_id: str, shift: timedelta = timedelta(0)) -> GameRecord:
        """The same game under another id, `shift` later: one entry of a simulated slate.

        Play, probability and drive ids are rewritten with the new game id prefix where they
        carry the old one, so two copies of a game never share an upstream identity.
        """

        def new_id(value: str) -> str:
            return game_id + value[len(self.id) :] if value.startswith(self.id) else value

        plays = tuple(
            replace(
                p,
                id=new_id(p.id),
                wallclock=p.wallclock + shift,
                drive_id=p.drive_id and new_id(p.drive_id),
            )
            for p in self.plays
        )
        probabilities = tuple(replace(p, play_id=new_id(p.play_id)) for p in self.probabilities)
        drives = tuple(
            replace(d, id=new_id(d.id), play_ids=tuple(new_id(i) for i in d.play_ids))
            for d in self.drives
        )
        return replace(
            self,
            id=game_id,
            start_time=self.start_time + shift,
            plays=plays,
            probabilities=probabilities,
            drives=drives,
        )
