"""The stream lifecycle: states, the one table of legal transitions, and how game phases move it."""

from __future__ import annotations

import logging
from enum import StrEnum

from pressbox.domain.sports import Phase

log = logging.getLogger(__name__)


class StreamStatus(StrEnum):
    """Persisted status of a game's stream."""

    SCHEDULED = "Scheduled"  # waiting for its start time (start - lead)
    AWAITING_START = "AwaitingStart"  # streamer running, game not started
    ACTIVE = "Active"  # play is on: every document worker runs
    PAUSED = "Paused"  # halftime or a break between periods: only the status loop runs
    DELAYED = "Delayed"  # weather or rain delay: waits without timing out
    POSTPONED = "Postponed"  # postponed or suspended: scheduled again when ESPN gives a date
    CANCELED = "Canceled"  # the game will not be played
    COMPLETED = "Completed"  # final
    FAILED = "Failed"  # ended with a persisted reason

    @property
    def is_final(self) -> bool:
        """True for the states in which no streamer runs until an operator restarts the stream."""
        return self in _ENDED

    @property
    def is_running(self) -> bool:
        """True for the states a streamer follows (a runner holds them)."""
        return self in _RUNNING


S = StreamStatus
_ENDED = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})
_RUNNING = frozenset({S.AWAITING_START, S.ACTIVE, S.PAUSED, S.DELAYED})
_IN_GAME = frozenset({S.ACTIVE, S.PAUSED, S.DELAYED})
_ENDINGS = frozenset({S.POSTPONED, S.CANCELED, S.COMPLETED, S.FAILED})

TRANSITIONS: dict[StreamStatus, frozenset[StreamStatus]] = {
    S.SCHEDULED: frozenset({S.AWAITING_START} | _IN_GAME | _ENDINGS),
    S.AWAITING_START: frozenset({S.SCHEDULED} | _IN_GAME | _ENDINGS),
    S.ACTIVE: frozenset({S.PAUSED, S.DELAYED} | _ENDINGS),
    S.PAUSED: frozenset({S.ACTIVE, S.DELAYED} | _ENDINGS),
    S.DELAYED: frozenset({S.AWAITING_START, S.ACTIVE, S.PAUSED} | _ENDINGS),
    # A postponed game is scheduled again when ESPN gives it a new date.
    S.POSTPONED: frozenset({S.SCHEDULED, S.CANCELED, S.FAILED}),
    # Ended streams leave only by an operator's restart.
    S.CANCELED: frozenset({S.SCHEDULED}),
    S.COMPLETED: frozenset({S.SCHEDULED}),
    S.FAILED: frozenset({S.SCHEDULED}),
}


class IllegalTransition(ValueError):
    """A transition the lifecycle table does not allow."""


def check_transition(current: StreamStatus, target: StreamStatus) -> StreamStatus:
    """Return `target` if moving there from `current` is legal, else raise IllegalTransition."""
    if target == current:
        return current
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"stream cannot go from {current} to {target}")
    log.info("stream transition %s -> %s", current, target)
    return target


_PHASE_STATUS = {
    Phase.LIVE: S.ACTIVE,
    Phase.BREAK: S.PAUSED,
    Phase.HALFTIME: S.PAUSED,
    Phase.DELAYED: S.DELAYED,
    Phase.POSTPONED: S.POSTPONED,
    Phase.CANCELED: S.CANCELED,
    Phase.FINAL: S.COMPLETED,
}


def status_for_phase(current: StreamStatus, phase: Phase) -> StreamStatus:
    """The stream status a game phase calls for. Unknown phases keep the stream as it is, and
    a pregame status only moves a Scheduled stream to AwaitingStart."""
    if phase is Phase.PREGAME:
        return S.AWAITING_START if current in (S.SCHEDULED, S.DELAYED) else current
    target = _PHASE_STATUS.get(phase, current)
    return target if target in TRANSITIONS[current] else current
