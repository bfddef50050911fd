"""ESPN items as the finished-game loaders read them: one set of models for every format.

The site API, the core API and the CDN game package carry plays, drives, probabilities and status
in nearly the same shape (a team is `{"id": ...}` in one and `{"$ref": ...}` in the other), so these
models read them all, and the helpers here read the collections and names around them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pressbox.clock import parse_time
from pressbox.domain.documents import ref_id
from pressbox.domain.sports import profile_for
from pressbox.errors import RecordingError
from pressbox.replay.record import Position

#: Regulation period length per league, in seconds; football plays 15-minute quarters.
PERIOD_SECONDS = {"nba": 720, "nfl": 900, "college-football": 900}

_SIDES = re.compile(r"\s+(?:at|vs\.?|@)\s+", re.IGNORECASE)


class EspnModel(BaseModel):
    """Base of the loaders' input models: unknown keys ignored, numeric ids read as strings."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, frozen=True, coerce_numbers_to_str=True
    )


def parse_wallclock(value: object) -> datetime | None:
    """A pydantic `before` validator: ESPN time stamps through `parse_time`; "" means absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return parse_time(value)
    raise ValueError(f"expected an ISO-8601 time string, got {type(value).__name__}")


#: An ESPN time stamp read through `parse_time` (aware UTC); absent or "" is None.
Wallclock = Annotated[datetime | None, BeforeValidator(parse_wallclock)]
#: The same, required.
Timestamp = Annotated[datetime, BeforeValidator(parse_wallclock)]


class Link(EspnModel):
    """A team or drive as ESPN names it: `{"id": ...}` (site API) or `{"$ref": url}` (core API)."""

    id: str | None = None
    ref: str | None = Field(None, alias="$ref")

    @property
    def key(self) -> str | None:
        return self.id or ref_id(self.ref)


class PositionItem(EspnModel):
    """A football play's `start` or `end`."""

    down: int | None = None
    distance: int | None = None
    yard_line: int | None = Field(None, alias="yardLine")
    yards_to_endzone: int | None = Field(None, alias="yardsToEndzone")
    down_distance_text: str | None = Field(None, alias="downDistanceText")
    possession_text: str | None = Field(None, alias="possessionText")
    team: Link | None = None

    def record(self) -> Position:
        return Position(
            down=self.down,
            distance=self.distance,
            yard_line=self.yard_line,
            yards_to_endzone=self.yards_to_endzone,
            down_distance_text=self.down_distance_text,
            possession_text=self.possession_text,
            team_id=self.team.key if self.team else None,
        )


class PlayType(EspnModel):
    id: str | None = None
    text: str | None = None


class Period(EspnModel):
    number: int = Field(ge=0)


class Clock(EspnModel):
    display_value: str = Field("", alias="displayValue")
    value: float | None = None


class PlayItem(EspnModel):
    """One play: an item of the core-API `/plays`, the site summary's `plays[]` or a drive's."""

    id: str = Field(min_length=1)
    sequence: int = Field(alias="sequenceNumber")
    type: PlayType | None = None
    text: str = ""
    short_text: str | None = Field(None, alias="shortText")
    home_score: int = Field(alias="homeScore", ge=0)
    away_score: int = Field(alias="awayScore", ge=0)
    period: Period
    clock: Clock = Clock()
    scoring: bool = Field(False, alias="scoringPlay")
    score_value: int | None = Field(None, alias="scoreValue")
    wallclock: Wallclock = None
    team: Link | None = None
    drive: Link | None = None
    start: PositionItem | None = None
    end: PositionItem | None = None


class ProbabilityItem(EspnModel):
    """A win-probability point: site `{playId, homeWinPercentage, tiePercentage}` or a core item."""

    play_id: str | None = Field(None, alias="playId")
    play: Link | None = None
    ref: str | None = Field(None, alias="$ref")
    home: float = Field(alias="homeWinPercentage", ge=0, le=1)
    away: float | None = Field(None, alias="awayWinPercentage", ge=0, le=1)
    tie: float = Field(0.0, alias="tiePercentage", ge=0, le=1)
    seconds_left: int | None = Field(None, alias="secondsLeft")
    sequence: int | None = Field(None, alias="sequenceNumber")

    @property
    def key(self) -> str | None:
        """The play it belongs to: ESPN's sequenceNumber is not unique, the play id is."""
        return self.play_id or (self.play.key if self.play else None) or ref_id(self.ref)


class StatusType(EspnModel):
    name: str = Field(min_length=1)


class StatusItem(EspnModel):
    """An ESPN status: the core `/status` document or a site competition's `status`."""

    type: StatusType


class DriveEdge(EspnModel):
    text: str | None = None


class DriveItem(EspnModel):
    """A football drive: site `drives.previous[]` or a core `/drives` item (plays read apart)."""

    id: str = Field(min_length=1)
    sequence: int | None = Field(None, alias="sequenceNumber")
    team: Link | None = None
    description: str | None = None
    display_result: str | None = Field(None, alias="displayResult")
    is_score: bool = Field(False, alias="isScore")
    start: DriveEdge | None = None
    end: DriveEdge | None = None


def describe(exc: ValidationError, limit: int = 3) -> str:
    """A short, readable account of what failed validation: `loc: message; ...`."""
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '(document)'}: {err['msg']}"
        for err in exc.errors()[:limit]
    ]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def items_of(document: object) -> list[Any]:
    """The items of an ESPN collection: a paged wrapper `{items: [...]}` or a bare JSON array."""
    if isinstance(document, list):
        return list(document)
    if isinstance(document, Mapping) and isinstance(document.get("items"), list):
        return list(document["items"])
    return []


def complete_items(document: object, kind: str, what: str) -> list[Any]:
    """The items of a collection that must be whole: one page of a paged list is refused."""
    items = items_of(document)
    count = document.get("count") if isinstance(document, Mapping) else None
    if isinstance(count, int) and len(items) < count:
        raise RecordingError(
            f"{what}: the {kind} document holds {len(items)} of {count} items (one page of a paged"
            " list); record it with limit=1000"
        )
    return items


def drive_plays(drive: object) -> list[Any]:
    """The plays a drive embeds: a list (site API) or a paged wrapper (core API)."""
    return items_of(drive.get("plays")) if isinstance(drive, Mapping) else []


def sport_of(league: str, what: str) -> tuple[str, int]:
    """(sport, regulation period seconds) of a league slug; unknown leagues are refused."""
    try:
        sport = profile_for(league).sport
    except ValueError as exc:
        raise RecordingError(f"{what}: {exc}") from exc
    seconds = PERIOD_SECONDS.get(league)
    if seconds is None:
        raise RecordingError(f"{what}: no regulation period length known for league {league!r}")
    return sport, seconds


def split_sides(text: str) -> tuple[str, str] | None:
    """("away", "home") from ESPN's "Away at Home", "AWY @ HOM" or "AWY VS HOM"."""
    parts = _SIDES.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not all(part.strip() for part in parts):
        return None
    return parts[0].strip(), parts[1].strip()
