"""The stream lifecycle: states, the one table of legal transitions, and how game phases move it."""

from __future__ import annotations

import logging
from enum import StrEnum

from pressbox.domain.sports import Phase

log = logging.getLogger(__name__)


class StreamStatus(StrEnum):
    """Persisted status of a game's stream."""

    SCHEDULED = "Scheduled"
    AWAITING_START = "AwaitingStart"
    ACTIVE = "Active"
    COMPLETED = "Completed"
    FAILED = "Failed"

    @property
    def is_final(self) -> bool:
        """True for the states a stream never leaves."""
        return self in (StreamStatus.COMPLETED, StreamStatus.FAILED)


S = StreamStatus
TRANSITIONS: dict[StreamStatus, frozenset[StreamStatus]] = {
    S.SCHEDULED: frozenset({S.AWAITING_START, S.ACTIVE, S.COMPLETED, S.FAILED}),
    S.AWAITING_START: frozenset({S.ACTIVE, S.COMPLETED, S.FAILED}),
    S.ACTIVE: frozenset({S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
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


def status_for_phase(current: StreamStatus, phase: Phase) -> StreamStatus:
    """The stream status a game phase calls for; unknown and postponed phases keep watching."""
    if phase is Phase.FINAL:
        return StreamStatus.COMPLETED
    if phase in (Phase.LIVE, Phase.BREAK, Phase.HALFTIME, Phase.DELAYED):
        return StreamStatus.ACTIVE
    if phase is Phase.PREGAME and current is StreamStatus.SCHEDULED:
        return StreamStatus.AWAITING_START
    return current
