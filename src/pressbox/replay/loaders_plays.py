"""ESPN plays, probabilities and drives -> records, for every finished-game loader.

Validation happens here: a malformed play or probability is skipped and counted, a play without a
wall-clock time gets one interpolated from its neighbours, and every such repair is listed in the
record's `extra`, as is every place where ESPN's data is not monotonic in game order, so nothing
is dropped or changed silently.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import ValidationError

from pressbox.errors import RecordingError
from pressbox.replay.loaders_items import (
    DriveItem,
    PlayItem,
    ProbabilityItem,
    describe,
    drive_plays,
)
from pressbox.replay.record import DriveRecord, PlayRecord, ProbabilityRecord

log = logging.getLogger(__name__)

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class PlaySet:
    """The plays of a game in game order, with what the loader had to skip or repair."""

    plays: tuple[PlayRecord, ...]
    skipped: int
    interpolated: tuple[str, ...]


def build_plays(raw: Iterable[object], drive_of: Mapping[str, str], what: str) -> PlaySet:
    """Validate plays and turn them into records, in the order given (ESPN's game order).

    ESPN's array order is kept: in the NBA summaries `sequenceNumber` is an edit order (a play
    entered late gets a later number) and sorting by it moves plays against the game clock.

    Args:
        raw: play items as parsed JSON.
        drive_of: play id -> drive id, for plays that do not link their drive themselves.
        what: names the source in messages.

    Raises:
        RecordingError: no valid play, or no play has a wall-clock time to interpolate from.
    """
    items: list[PlayItem] = []
    seen: set[str] = set()
    skipped = 0
    for index, value in enumerate(raw):
        try:
            item = PlayItem.model_validate(value)
        except ValidationError as exc:
            skipped += 1
            log.warning("%s: skipping malformed play %d: %s", what, index, describe(exc))
            continue
        if item.id in seen:
            skipped += 1
            log.warning("%s: skipping play %d, a second copy of play %s", what, index, item.id)
            continue
        seen.add(item.id)
        items.append(item)
    if not items:
        raise RecordingError(f"{what}: no valid play ({skipped} malformed)")
    times = fill_wallclocks([item.wallclock for item in items], what)
    plays = tuple(
        _play_record(item, wallclock, drive_of.get(item.id), previous)
        for item, wallclock, previous in zip(items, times, [None, *items[:-1]], strict=True)
    )
    interpolated = tuple(item.id for item in items if item.wallclock is None)
    return PlaySet(plays, skipped, interpolated)


def _play_record(
    item: PlayItem, wallclock: datetime, drive_id: str | None, previous: PlayItem | None
) -> PlayRecord:
    return PlayRecord(
        id=item.id,
        sequence=item.sequence,
        wallclock=wallclock,
        period=item.period.number,
        clock=item.clock.display_value,
        text=item.text,
        home_score=item.home_score,
        away_score=item.away_score,
        scoring=item.scoring,
        score_value=_score_value(item, previous),
        type_id=item.type.id if item.type else None,
        type_text=item.type.text if item.type else None,
        short_text=item.short_text,
        team_id=item.team.key if item.team else None,
        drive_id=(item.drive.key if item.drive else None) or drive_id,
        clock_seconds=item.clock.value
        if item.clock.value is not None
        else clock_seconds(item.clock.display_value),
        start=item.start.record() if item.start else None,
        end=item.end.record() if item.end else None,
    )


def _score_value(item: PlayItem, previous: PlayItem | None) -> int:
    """ESPN's `scoreValue`; football site plays lack it, so a scoring play's is its score change."""
    if item.score_value is not None:
        return item.score_value
    if not item.scoring:
        return 0
    before = previous.home_score + previous.away_score if previous else 0
    return max(0, item.home_score + item.away_score - before)


def clock_seconds(display: str) -> float | None:
    """Seconds left on a display clock: "12:01" -> 721.0, "26.1" -> 26.1; None if unreadable."""
    minutes, _, seconds = display.strip().rpartition(":")
    try:
        return (int(minutes) * 60 if minutes else 0) + float(seconds)
    except ValueError:
        return None


def fill_wallclocks(times: Sequence[datetime | None], what: str) -> list[datetime]:
    """Every play's wall time: a missing one is interpolated by position between the nearest
    known neighbours, to whole seconds (at either end of the game, copied from the one neighbour).
    """
    known = [index for index, value in enumerate(times) if value is not None]
    if not known:
        raise RecordingError(f"{what}: no play has a wallclock, so the game cannot be timed")
    filled: list[datetime] = []
    for index, value in enumerate(times):
        if value is None:
            after = bisect.bisect(known, index)
            left = known[after - 1] if after > 0 else None
            right = known[after] if after < len(known) else None
            value = _interpolate(times, index, left, right)
        filled.append(value)
    return filled


def _interpolate(
    times: Sequence[datetime | None], at: int, left: int | None, right: int | None
) -> datetime:
    low = times[left] if left is not None else None
    high = times[right] if right is not None else None
    if low is None or high is None or left is None or right is None:
        nearest = low or high
        assert nearest is not None  # fill_wallclocks found at least one known time
        return nearest
    step = (high - low) * (at - left) / (right - left)
    return low + step - step % _SECOND


def record_extra(
    kind: str, plays: PlaySet, probabilities: ProbabilitySet, skipped_drives: int
) -> dict[str, Any]:
    """`GameRecord.extra`: the format, what was skipped or repaired, where ESPN's order is odd."""
    return {
        "format": kind,
        "skipped_plays": plays.skipped,
        "interpolated_wallclocks": list(plays.interpolated),
        "dropped_probabilities": probabilities.dropped,
        "skipped_probabilities": probabilities.skipped,
        "skipped_drives": skipped_drives,
        **quality_notes(plays.plays),
    }


def quality_notes(plays: Sequence[PlayRecord]) -> dict[str, Any]:
    """Where ESPN's data is not monotonic in game order; plays are never reordered for it.

    `wallclock_regressions`: play id -> seconds its wallclock lies before the latest earlier one.
    `sequence_inversions`: plays whose sequenceNumber is lower than the previous play's.
    `score_regressions`: plays whose home or away score is lower than the previous play's.
    """
    regressions: dict[str, float] = {}
    latest = plays[0].wallclock
    for play in plays[1:]:
        if play.wallclock < latest:
            regressions[play.id] = (latest - play.wallclock).total_seconds()
        else:
            latest = play.wallclock
    return {
        "wallclock_regressions": regressions,
        "sequence_inversions": [b.id for a, b in pairwise(plays) if b.sequence < a.sequence],
        "score_regressions": [
            b.id
            for a, b in pairwise(plays)
            if b.home_score < a.home_score or b.away_score < a.away_score
        ],
    }


@dataclass(frozen=True)
class ProbabilitySet:
    """Probability points that belong to a play, in play order, and what was left out."""

    points: tuple[ProbabilityRecord, ...]
    dropped: int  # valid, but for no play of the record
    skipped: int  # malformed


def build_probabilities(
    raw: Iterable[object], plays: Sequence[PlayRecord], what: str
) -> ProbabilitySet:
    """Win-probability points keyed by play id, kept only where that play is in the record.

    A missing away percentage is 1 - home - tie; a missing sequence number is the play's (the core
    API gives each point its play's sequenceNumber).
    """
    position = {play.id: index for index, play in enumerate(plays)}
    points: list[tuple[int, ProbabilityRecord]] = []
    dropped = skipped = 0
    for index, value in enumerate(raw):
        try:
            item = ProbabilityItem.model_validate(value)
        except ValidationError as exc:
            skipped += 1
            log.warning("%s: skipping malformed probability %d: %s", what, index, describe(exc))
            continue
        at = position.get(item.key or "")
        if at is None:
            dropped += 1
            log.info("%s: probability %d is for play %s, not in the record", what, index, item.key)
            continue
        away = item.away if item.away is not None else max(0.0, 1.0 - item.home - item.tie)
        play = plays[at]
        sequence = item.sequence if item.sequence is not None else play.sequence
        points.append(
            (
                at,
                ProbabilityRecord(
                    play.id, item.home, round(away, 6), item.tie, item.seconds_left, sequence
                ),
            )
        )
    points.sort(key=lambda pair: pair[0])
    return ProbabilitySet(tuple(point for _, point in points), dropped, skipped)


def drive_membership(drives: Iterable[object]) -> dict[str, str]:
    """Play id -> drive id, from the plays each drive embeds."""
    member: dict[str, str] = {}
    for drive in drives:
        drive_id = drive.get("id") if isinstance(drive, Mapping) else None
        if drive_id is None:
            continue
        for play in drive_plays(drive):
            if isinstance(play, Mapping) and play.get("id") is not None:
                member.setdefault(str(play["id"]), str(drive_id))
    return member


def build_drives(
    raw: Iterable[object], plays: Sequence[PlayRecord], what: str
) -> tuple[tuple[DriveRecord, ...], int]:
    """Drive records in ESPN's order, keeping the play ids the record holds; (drives, skipped)."""
    known = {play.id for play in plays}
    drives: list[DriveRecord] = []
    skipped = 0
    for index, value in enumerate(raw):
        try:
            item = DriveItem.model_validate(value)
        except ValidationError as exc:
            skipped += 1
            log.warning("%s: skipping malformed drive %d: %s", what, index, describe(exc))
            continue
        listed = [str(p["id"]) for p in drive_plays(value) if isinstance(p, Mapping) and "id" in p]
        play_ids = tuple(pid for pid in listed if pid in known)
        if len(play_ids) < len(listed):
            log.warning(
                "%s: drive %s lists %d play(s) the record does not hold",
                what,
                item.id,
                len(listed) - len(play_ids),
            )
        drives.append(
            DriveRecord(
                id=item.id,
                sequence=item.sequence if item.sequence is not None else index + 1,
                team_id=item.team.key if item.team else None,
                description=item.description,
                result=item.display_result,
                is_score=item.is_score,
                start_text=item.start.text if item.start else None,
                end_text=item.end.text if item.end else None,
                play_ids=play_ids,
            )
        )
    return tuple(drives), skipped
