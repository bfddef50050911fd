"""Scheduling, pure: scoreboard games + what the store holds -> the writes that bring them in line.

One stream per game, scheduled at start - lead. The planner only ever touches streams no streamer
is following, with three exceptions the lifecycle table allows: a Scheduled or AwaitingStart
stream whose game ESPN postpones or cancels becomes Postponed or Canceled, and a Postponed stream
whose game ESPN lists as playable again (pre or in) is Scheduled again at its new start - lead.
Running streams are never touched, and ended ones only in one case: a stream that ended Failed
because of the upstream (a cause only older versions wrote, `domain.failure`) whose game the
board shows in play is resumed (Scheduled again, due at once, one retry counted), at most
`max_retries` times. Planning the same input twice, the second time
against the result of the first, yields no actions: re-running the scheduler changes nothing
unless ESPN changed something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pressbox.domain.failure import FailureCause
from pressbox.domain.lifecycle import StreamStatus, check_transition
from pressbox.domain.scoreboard import BoardGame
from pressbox.domain.sports import Phase

S = StreamStatus

#: ESPN's scoreboard days are US Eastern calendar days.
EASTERN = ZoneInfo("America/New_York")

#: Streams the scheduler may write the game's status and scores for: no streamer has read the
#: game for them, so the scoreboard is the freshest word (a streamer's own status wins otherwise).
_SCHEDULER_OWNS_STATUS = frozenset({S.SCHEDULED, S.POSTPONED, S.CANCELED})


class Change(StrEnum):
    """What one action does; the report counts actions by it."""

    GAME_ADDED = "games added"
    GAME_UPDATED = "games updated"
    STREAM_CREATED = "streams created"
    STREAM_MOVED = "streams moved"
    STREAM_POSTPONED = "streams postponed"
    STREAM_CANCELED = "streams canceled"
    STREAM_RESCHEDULED = "streams rescheduled"
    STREAM_RESUMED = "streams resumed"


@dataclass(frozen=True)
class SchedulePolicy:
    """How far ahead of the start a stream is scheduled, and how far a start must move to move
    a Scheduled stream (small moves are ESPN noise; they would only churn the row)."""

    lead: timedelta = timedelta(minutes=10)
    tolerance: timedelta = timedelta(minutes=5)
    #: Retries (takeovers and resumes) after which a Failed stream is left Failed.
    max_retries: int = 5


@dataclass(frozen=True)
class KnownGame:
    """A game row as the store holds it."""

    id: str
    sport: str
    league: str
    name: str
    short_name: str
    start: datetime | None
    home: Mapping[str, Any]
    away: Mapping[str, Any]
    status: Mapping[str, Any] | None
    home_score: int | None
    away_score: int | None


@dataclass(frozen=True)
class KnownStream:
    """A stream row as the store holds it: enough to decide and to guard the write."""

    game_id: str
    status: StreamStatus
    scheduled_at: datetime
    failure_cause: str | None = None
    retry_count: int = 0

    @property
    def resumable(self) -> bool:
        """Whether it ended Failed for a cause that allows resuming it (`domain.failure`)."""
        if self.status is not S.FAILED or self.failure_cause is None:
            return False
        try:
            return FailureCause(self.failure_cause).resumable
        except ValueError:  # a cause a newer version wrote: left alone
            return False


@dataclass(frozen=True)
class GameWrite:
    """Insert (`GAME_ADDED`) or update (`GAME_UPDATED`) a game row from the scoreboard; status
    and scores are written only `with_status` (see `_SCHEDULER_OWNS_STATUS`)."""

    change: Change
    game: BoardGame
    with_status: bool
    fields: tuple[str, ...] = ()

    @property
    def game_id(self) -> str:
        """The game written."""
        return self.game.id


@dataclass(frozen=True)
class StreamWrite:
    """Create a stream (`expected` None) or change one that is still `expected` with its
    `expected_at`; the store applies it only if the row is still as planned (a runner may have
    claimed the stream meanwhile)."""

    change: Change
    game_id: str
    status: StreamStatus
    scheduled_at: datetime
    expected: StreamStatus | None = None
    expected_at: datetime | None = None


Action = GameWrite | StreamWrite


@dataclass(frozen=True)
class SchedulePlan:
    """The writes for one league: games first (streams refer to them), then streams."""

    games: tuple[GameWrite, ...] = ()
    streams: tuple[StreamWrite, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every write, in the order to apply them."""
        return (*self.games, *self.streams)

    def __len__(self) -> int:
        return len(self.games) + len(self.streams)


def scoreboard_days(now: datetime, days_ahead: int) -> list[date]:
    """The US Eastern dates from `now`'s to `days_ahead` days later (ESPN's scoreboard days)."""
    today = now.astimezone(EASTERN).date()
    return [today + timedelta(days=offset) for offset in range(days_ahead + 1)]


def plan_schedule(
    board: Iterable[BoardGame],
    games: Mapping[str, KnownGame],
    streams: Mapping[str, KnownStream],
    policy: SchedulePolicy = SchedulePolicy(),
) -> SchedulePlan:
    """The game and stream writes that bring the store in line with the scoreboard.

    A game listed twice (two days' boards) counts once, the later listing winning.
    """
    latest = {game.id: game for game in board}
    game_writes, stream_writes = [], []
    for game in latest.values():
        stream = streams.get(game.id)
        action = plan_stream(game, stream, policy)
        if action is not None:
            stream_writes.append(action)
        # Whose status the game row shows is decided by where the stream ends up, so that the
        # next run, seeing that stream, makes the same call.
        after = action.status if action else stream.status if stream else None
        owns_status = after is None or after in _SCHEDULER_OWNS_STATUS
        write = plan_game(game, games.get(game.id), owns_status)
        if write is not None:
            game_writes.append(write)
    names = {game.id: game.short_name or game.name for game in latest.values()}
    return SchedulePlan(tuple(game_writes), tuple(stream_writes), names)


def plan_game(game: BoardGame, known: KnownGame | None, with_status: bool) -> GameWrite | None:
    """Insert an unknown game; update a known one whose scoreboard data differ, else None."""
    if known is None:
        return GameWrite(Change.GAME_ADDED, game, with_status=True)
    differ = tuple(
        name
        for name, (ours, theirs) in _compared(game, known, with_status).items()
        if ours != theirs
    )
    return GameWrite(Change.GAME_UPDATED, game, with_status, differ) if differ else None


def _compared(game: BoardGame, known: KnownGame, with_status: bool) -> dict[str, tuple[Any, Any]]:
    compared: dict[str, tuple[Any, Any]] = {
        "sport": (game.sport, known.sport),
        "league": (game.league, known.league),
        "name": (game.name, known.name),
        "short_name": (game.short_name, known.short_name),
        "start_time": (game.start, known.start),
        "home": (game.home.to_json(), dict(known.home)),
        "away": (game.away.to_json(), dict(known.away)),
    }
    if with_status:
        compared["status"] = (game.status_json(), dict(known.status or {}))
        compared["home_score"] = (game.home_score, known.home_score)
        compared["away_score"] = (game.away_score, known.away_score)
    return compared


class Outlook(StrEnum):
    """What the scoreboard says of a game's future, for scheduling."""

    PLAYABLE = "playable"  # to be played or being played: it needs a stream
    OVER = "over"  # final (or ended some unknown way): nothing to schedule
    POSTPONED = "postponed"  # postponed or suspended: ESPN will give it a date
    CANCELED = "canceled"


def outlook(game: BoardGame) -> Outlook:
    """Read ESPN's status for scheduling. A postponed or canceled game has state `post` but is
    not final; an unknown name in state pre or in means the game is on ("keep watching")."""
    phase = game.phase
    if phase is Phase.POSTPONED:
        return Outlook.POSTPONED
    if phase is Phase.CANCELED:
        return Outlook.CANCELED
    if phase is Phase.FINAL or game.status.type.state == "post":
        return Outlook.OVER
    return Outlook.PLAYABLE


def plan_stream(
    game: BoardGame, stream: KnownStream | None, policy: SchedulePolicy
) -> StreamWrite | None:
    """The one stream write this game calls for, or None."""
    due = game.start - policy.lead
    seen = outlook(game)
    if stream is None:
        if seen is Outlook.PLAYABLE:
            return _create(game.id, S.SCHEDULED, due, Change.STREAM_CREATED)
        if seen is Outlook.POSTPONED:
            return _create(game.id, S.POSTPONED, due, Change.STREAM_CREATED)
        return None  # finished or canceled before we ever saw it: nothing to follow
    if stream.status is S.SCHEDULED and seen is Outlook.PLAYABLE:
        if abs(stream.scheduled_at - due) > policy.tolerance:
            return _change(stream, S.SCHEDULED, due, Change.STREAM_MOVED)
        return None
    if stream.status in (S.SCHEDULED, S.AWAITING_START):
        if seen is Outlook.POSTPONED:
            return _change(stream, S.POSTPONED, stream.scheduled_at, Change.STREAM_POSTPONED)
        if seen is Outlook.CANCELED:
            return _change(stream, S.CANCELED, stream.scheduled_at, Change.STREAM_CANCELED)
        return None
    if stream.status is S.POSTPONED:
        if seen is Outlook.PLAYABLE:
            return _change(stream, S.SCHEDULED, due, Change.STREAM_RESCHEDULED)
        if seen is Outlook.CANCELED:
            return _change(stream, S.CANCELED, stream.scheduled_at, Change.STREAM_CANCELED)
    live = game.status.type.state == "in" and seen is Outlook.PLAYABLE
    if stream.resumable and live and stream.retry_count < policy.max_retries:
        return _change(stream, S.SCHEDULED, min(due, stream.scheduled_at), Change.STREAM_RESUMED)
    return None  # running or ended: the streamer (or an operator) owns it


def _create(game_id: str, status: StreamStatus, due: datetime, change: Change) -> StreamWrite:
    return StreamWrite(change, game_id, status, due)


def _change(
    stream: KnownStream, target: StreamStatus, due: datetime, change: Change
) -> StreamWrite:
    check_transition(stream.status, target)
    return StreamWrite(
        change, stream.game_id, target, due, expected=stream.status, expected_at=stream.scheduled_at
    )


def count_changes(actions: Sequence[Action]) -> dict[Change, int]:
    """How many actions of each kind, every kind present (zero included), in `Change` order."""
    counts = dict.fromkeys(Change, 0)
    for action in actions:
        counts[action.change] += 1
    return counts
