"""ESPN site-API summaries and CDN game packages -> `GameRecord`.

Both carry `header` (league, teams, final scores, status), the plays (top-level `plays[]` in
basketball, `drives.previous[].plays[]` in football) and `winprobability[]` keyed by `playId`. The
CDN game package wraps the same shapes in `gamepackageJSON`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError

from pressbox.errors import RecordingError
from pressbox.replay.loaders_items import (
    EspnModel,
    StatusItem,
    Timestamp,
    describe,
    drive_plays,
    items_of,
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

log = logging.getLogger(__name__)


class TeamItem(EspnModel):
    id: str = Field(min_length=1)
    display_name: str = Field(alias="displayName", min_length=1)
    abbreviation: str = Field(min_length=1)


class CompetitorItem(EspnModel):
    home_away: Literal["home", "away"] = Field(alias="homeAway")
    score: int | None = None
    winner: bool | None = None
    team: TeamItem


class CompetitionItem(EspnModel):
    date: Timestamp
    competitors: list[CompetitorItem] = Field(min_length=2)
    status: StatusItem
    neutral_site: bool = Field(False, alias="neutralSite")


class LeagueItem(EspnModel):
    slug: str | None = None


class Header(EspnModel):
    """The summary's `header`: the game's identity, its teams and its status."""

    id: str = Field(min_length=1)
    league: LeagueItem | None = None
    competitions: list[CompetitionItem] = Field(min_length=1)


def is_site_summary(document: Mapping[str, Any]) -> bool:
    """Whether a parsed JSON object looks like a site-API summary (a `header` with competitions)."""
    header = document.get("header")
    return isinstance(header, Mapping) and "competitions" in header


def summary_has_plays(summary: Mapping[str, Any]) -> bool:
    """Whether a summary holds any play, top-level or inside its drives."""
    return bool(items_of(summary.get("plays"))) or any(
        drive_plays(drive) for drive in _drives(summary)
    )


def record_from_site_summary(
    summary: Mapping[str, Any], *, league: str | None = None, source: str = ""
) -> GameRecord:
    """A finished game from a parsed ESPN site-API summary (`/summary?event=`).

    Args:
        summary: the parsed JSON document.
        league: the ESPN league slug, when the header does not name it (or to override it).
        source: where it came from; names it in messages and in `GameRecord.source`.

    Raises:
        RecordingError: the header is missing or malformed, the league is unknown, or the summary
            holds no play (a pregame summary).
    """
    return _record(summary, league, source, "site-summary")


def record_from_gamepackage(
    package: Mapping[str, Any], *, league: str | None = None, source: str = ""
) -> GameRecord:
    """A finished game from a parsed ESPN CDN game package (`cdn.espn.com/core/.../game?xhr=1`).

    Raises:
        RecordingError: there is no `gamepackageJSON` object, its `gameId` disagrees with the
            header, or the inner summary is unusable (see `record_from_site_summary`).
    """
    what = source or "game package"
    inner = package.get("gamepackageJSON") if isinstance(package, Mapping) else None
    if not isinstance(inner, Mapping):
        raise RecordingError(
            f"{what}: no gamepackageJSON object; a CDN game package is "
            "{gameId, gamepackageJSON: {header, drives, winprobability, ...}}"
        )
    record = _record(inner, league, source, "gamepackage")
    game_id = package.get("gameId")
    if game_id is not None and str(game_id) != record.id:
        raise RecordingError(f"{what}: gameId {game_id} differs from header.id {record.id}")
    return record


def _record(summary: Mapping[str, Any], league: str | None, source: str, kind: str) -> GameRecord:
    what = source or kind
    if not isinstance(summary, Mapping):
        raise RecordingError(f"{what}: expected a JSON object, got {type(summary).__name__}")
    header = _header(summary, what)
    competition = header.competitions[0]
    slug = league or (header.league.slug if header.league else None)
    if not slug:
        raise RecordingError(f"{what}: header.league.slug is missing; pass league=")
    sport, period_seconds = sport_of(slug, what)
    drives_raw = _drives(summary)
    plays = build_plays(_raw_plays(summary, drives_raw, what), drive_membership(drives_raw), what)
    probabilities = build_probabilities(items_of(summary.get("winprobability")), plays.plays, what)
    drives, skipped_drives = build_drives(drives_raw, plays.plays, what)
    last = plays.plays[-1]
    home = _team(competition, "home", last, what)
    away = _team(competition, "away", last, what)
    extra = record_extra(kind, plays, probabilities, skipped_drives)
    if (home.score, away.score) != (last.home_score, last.away_score):
        log.warning("%s: final score differs from the last play's", what)
        extra["final_score_mismatch"] = {
            "header": [home.score, away.score],
            "last_play": [last.home_score, last.away_score],
        }
    return GameRecord(
        id=header.id,
        sport=sport,
        league=slug,
        name=f"{away.name} at {home.name}",
        short_name=f"{away.abbreviation} {'VS' if competition.neutral_site else '@'} "
        f"{home.abbreviation}",
        start_time=competition.date,
        home=home,
        away=away,
        plays=plays.plays,
        probabilities=probabilities.points,
        drives=drives,
        final_status=competition.status.type.name,
        periods=max(play.period for play in plays.plays),
        period_seconds=period_seconds,
        source=source,
        extra=extra,
    )


def _header(summary: Mapping[str, Any], what: str) -> Header:
    try:
        return Header.model_validate(summary.get("header"))
    except ValidationError as exc:
        raise RecordingError(
            f"{what}: the header is missing or malformed: {describe(exc)}"
        ) from exc


def _drives(summary: Mapping[str, Any]) -> list[Any]:
    """`drives.previous`, then `drives.current` when it is not one of them (a live capture)."""
    drives = summary.get("drives")
    if not isinstance(drives, Mapping):
        return []
    previous = items_of(drives.get("previous"))
    current = drives.get("current")
    ids = {drive.get("id") for drive in previous if isinstance(drive, Mapping)}
    if isinstance(current, Mapping) and current.get("id") not in ids:
        previous.append(current)
    return previous


def _raw_plays(summary: Mapping[str, Any], drives: list[Any], what: str) -> list[Any]:
    top = summary.get("plays")
    if top is not None and not isinstance(top, list):
        raise RecordingError(f"{what}: plays is a {type(top).__name__}, not a list")
    if top:
        return top
    in_drives = [play for drive in drives for play in drive_plays(drive)]
    if not in_drives:
        raise RecordingError(
            f"{what}: the summary holds no plays (plays[] and drives.previous[].plays[] are "
            "empty or absent); a pregame summary cannot be replayed"
        )
    return in_drives


def _team(
    competition: CompetitionItem, side: Literal["home", "away"], last: PlayRecord, what: str
) -> TeamRecord:
    """The `side` competitor; a missing score is the last play's."""
    found = [c for c in competition.competitors if c.home_away == side]
    if len(found) != 1:
        raise RecordingError(f"{what}: expected one {side} competitor, found {len(found)}")
    competitor = found[0]
    score = competitor.score
    if score is None:
        score = last.home_score if side == "home" else last.away_score
    return TeamRecord(
        id=competitor.team.id,
        home_away=side,
        name=competitor.team.display_name,
        abbreviation=competitor.team.abbreviation,
        score=score,
        winner=competitor.winner,
    )
