"""The ESPN core-API documents of one finished game -> `GameRecord`.

These are the documents a live streamer polls: event, competition, status, plays, probabilities and
drives. The competition only links its teams and scores, so team names come from the event's `name`
("USC Trojans at LSU Tigers") and abbreviations from its `shortName` ("USC VS LSU"), sides from the
competitors' `homeAway`, and the final score from the last play.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError

from pressbox.errors import RecordingError
from pressbox.replay.loaders_items import (
    EspnModel,
    StatusItem,
    Wallclock,
    complete_items,
    describe,
    split_sides,
    sport_of,
)
from pressbox.replay.loaders_plays import (
    build_drives,
    build_plays,
    build_probabilities,
    drive_membership,
    record_extra,
)
from pressbox.replay.record import GameRecord, PlayRecord, TeamRecord

#: The documents a set must hold; `probabilities` and `drives` are optional.
REQUIRED_DOCUMENTS = ("event", "competition", "status", "plays")

_LEAGUE_PATH = re.compile(r"/sports/(?P<sport>[^/]+)/leagues/(?P<league>[^/?]+)")


class CoreEvent(EspnModel):
    id: str = Field(min_length=1)
    ref: str | None = Field(None, alias="$ref")
    name: str
    short_name: str = Field(alias="shortName")
    date: Wallclock = None


class CoreCompetitor(EspnModel):
    id: str = Field(min_length=1)
    home_away: Literal["home", "away"] = Field(alias="homeAway")
    winner: bool | None = None


class CoreCompetition(EspnModel):
    id: str = Field(min_length=1)
    ref: str | None = Field(None, alias="$ref")
    date: Wallclock = None
    competitors: list[CoreCompetitor] = Field(min_length=2)


M = TypeVar("M", bound=EspnModel)


def record_from_core_documents(documents: Mapping[str, Any], *, source: str = "") -> GameRecord:
    """A finished game from its parsed core-API documents.

    Args:
        documents: parsed JSON by kind: "event", "competition", "status", "plays" (a JSON array
            or the paged wrapper with every item), and optionally "probabilities" and "drives".
        source: where they came from; names them in messages and in `GameRecord.source`.

    Raises:
        RecordingError: a required document is missing or malformed, a collection is only one
            page, the league is unknown, or the teams cannot be told from the event's names.
    """
    what = source or "core-API documents"
    missing = [kind for kind in REQUIRED_DOCUMENTS if documents.get(kind) is None]
    if missing:
        raise RecordingError(
            f"{what}: missing the {', '.join(missing)} document(s); a core-API set needs "
            f"{', '.join(REQUIRED_DOCUMENTS)} (probabilities and drives are optional)"
        )
    event = _read(CoreEvent, documents["event"], "event", what)
    competition = _read(CoreCompetition, documents["competition"], "competition", what)
    status = _read(StatusItem, documents["status"], "status", what)
    league = _league(competition, event, what)
    sport, period_seconds = sport_of(league, what)
    raw_plays = complete_items(documents["plays"], "plays", what)
    if not raw_plays:
        raise RecordingError(f"{what}: the plays document holds no plays")
    drives_raw = complete_items(documents.get("drives"), "drives", what)
    plays = build_plays(raw_plays, drive_membership(drives_raw), what)
    probabilities = build_probabilities(
        complete_items(documents.get("probabilities"), "probabilities", what), plays.plays, what
    )
    drives, skipped_drives = build_drives(drives_raw, plays.plays, what)
    home, away = _teams(event, competition, plays.plays[-1], what)
    start = competition.date or event.date
    if start is None:
        raise RecordingError(f"{what}: neither the competition nor the event has a date")
    return GameRecord(
        id=event.id,
        sport=sport,
        league=league,
        name=event.name,
        short_name=event.short_name,
        start_time=start,
        home=home,
        away=away,
        plays=plays.plays,
        probabilities=probabilities.points,
        drives=drives,
        final_status=status.type.name,
        periods=max(play.period for play in plays.plays),
        period_seconds=period_seconds,
        source=source,
        extra=record_extra("core-documents", plays, probabilities, skipped_drives),
    )


def _read(model: type[M], document: object, kind: str, what: str) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RecordingError(f"{what}: the {kind} document is malformed: {describe(exc)}") from exc


def _league(competition: CoreCompetition, event: CoreEvent, what: str) -> str:
    """The league slug, read off the documents' own `$ref` URLs (`/sports/x/leagues/{league}`)."""
    for ref in (competition.ref, event.ref):
        found = _LEAGUE_PATH.search(ref or "")
        if found:
            return found["league"]
    raise RecordingError(f"{what}: cannot tell the league: no $ref with /sports/.../leagues/...")


def _teams(
    event: CoreEvent, competition: CoreCompetition, last: PlayRecord, what: str
) -> tuple[TeamRecord, TeamRecord]:
    """(home, away): names from the event, sides and winner from the competition."""
    names, shorts = split_sides(event.name), split_sides(event.short_name)
    if names is None or shorts is None:
        raise RecordingError(
            f"{what}: cannot tell the teams from the event's name {event.name!r} and shortName "
            f"{event.short_name!r}; expected 'Away at Home' and 'AWY @ HOM'"
        )
    teams = []
    for index, side in ((1, "home"), (0, "away")):
        found = [c for c in competition.competitors if c.home_away == side]
        if len(found) != 1:
            raise RecordingError(f"{what}: expected one {side} competitor, found {len(found)}")
        teams.append(
            TeamRecord(
                id=found[0].id,
                home_away=side,
                name=names[index],
                abbreviation=shorts[index],
                score=last.home_score if side == "home" else last.away_score,
                winner=found[0].winner,
            )
        )
    return teams[0], teams[1]
