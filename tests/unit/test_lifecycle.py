"""The stream lifecycle table, how game phases move a stream, and how ESPN status names read."""

from __future__ import annotations

import itertools

import pytest

from pressbox.domain.lifecycle import (
    TRANSITIONS,
    IllegalTransition,
    StreamStatus,
    check_transition,
    status_for_phase,
)
from pressbox.domain.sports import Phase, phase_of

S = StreamStatus

#: The legal transitions as docs/architecture.md states them, written out independently of the code.
LEGAL = {
    (S.SCHEDULED, S.AWAITING_START),
    (S.SCHEDULED, S.ACTIVE),
    (S.SCHEDULED, S.COMPLETED),
    (S.SCHEDULED, S.FAILED),
    (S.AWAITING_START, S.ACTIVE),
    (S.AWAITING_START, S.COMPLETED),
    (S.AWAITING_START, S.FAILED),
    (S.ACTIVE, S.COMPLETED),
    (S.ACTIVE, S.FAILED),
}
MOVES = [(a, b) for a, b in itertools.product(S, S) if a is not b]


def test_the_table_is_the_documented_one() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == LEGAL
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_transitions_return_the_target(current: S, target: S) -> None:
    assert check_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), [m for m in MOVES if m not in LEGAL])
def test_every_illegal_transition_raises(current: S, target: S) -> None:
    with pytest.raises(IllegalTransition, match=f"from {current} to {target}"):
        check_transition(current, target)


@pytest.mark.parametrize("status", list(S))
def test_staying_put_is_always_allowed(status: S) -> None:
    assert check_transition(status, status) is status


def test_final_states_have_no_way_out() -> None:
    assert {s for s in S if s.is_final} == {S.COMPLETED, S.FAILED}
    for final in (S.COMPLETED, S.FAILED):
        assert TRANSITIONS[final] == frozenset()
        for target in S:
            if target is not final:
                with pytest.raises(IllegalTransition):
                    check_transition(final, target)


# What each phase asks of a stream that is Scheduled / AwaitingStart / Active.
PHASE_TARGETS = {
    Phase.PREGAME: (S.AWAITING_START, S.AWAITING_START, S.ACTIVE),
    Phase.LIVE: (S.ACTIVE, S.ACTIVE, S.ACTIVE),
    Phase.BREAK: (S.ACTIVE, S.ACTIVE, S.ACTIVE),
    Phase.HALFTIME: (S.ACTIVE, S.ACTIVE, S.ACTIVE),
    Phase.DELAYED: (S.ACTIVE, S.ACTIVE, S.ACTIVE),
    Phase.FINAL: (S.COMPLETED, S.COMPLETED, S.COMPLETED),
    # Postponed, canceled and unknown keep watching: the stream stays where it is.
    Phase.POSTPONED: (S.SCHEDULED, S.AWAITING_START, S.ACTIVE),
    Phase.CANCELED: (S.SCHEDULED, S.AWAITING_START, S.ACTIVE),
    Phase.UNKNOWN: (S.SCHEDULED, S.AWAITING_START, S.ACTIVE),
}


def test_every_phase_is_covered() -> None:
    assert set(PHASE_TARGETS) == set(Phase)


@pytest.mark.parametrize("phase", list(Phase))
def test_status_for_phase(phase: Phase) -> None:
    currents = (S.SCHEDULED, S.AWAITING_START, S.ACTIVE)
    got = tuple(status_for_phase(current, phase) for current in currents)
    assert got == PHASE_TARGETS[phase]
    for current, target in zip(currents, got, strict=True):
        check_transition(current, target)  # what a phase asks for is always a legal move


# (name, state, completed, clock, detail) as ESPN's status document carries them.
STATUSES = [
    ("STATUS_SCHEDULED", "pre", False, 0.0, "Thu, August 28th at 7:30 PM EDT", Phase.PREGAME),
    ("STATUS_IN_PROGRESS", "in", False, 900.0, "15:00 - 1st Quarter", Phase.LIVE),
    ("STATUS_IN_PROGRESS", "in", False, 864.0, "14:24 - 1st Quarter", Phase.LIVE),
    ("STATUS_IN_PROGRESS", "in", False, 0.0, "End of 1st Quarter", Phase.BREAK),
    ("STATUS_IN_PROGRESS", "in", False, 0.0, "End of 2nd Quarter", Phase.BREAK),
    # Clock at zero without "End of": the last play of the period is still being run.
    ("STATUS_IN_PROGRESS", "in", False, 0.0, "0:00 - 4th Quarter", Phase.LIVE),
    ("STATUS_HALFTIME", "in", False, 0.0, "Halftime", Phase.HALFTIME),
    ("STATUS_END_PERIOD", "in", False, 0.0, "End of 3rd Quarter", Phase.BREAK),
    ("STATUS_DELAYED", "in", False, 312.0, "Delayed", Phase.DELAYED),
    ("STATUS_RAIN_DELAY", "in", False, 312.0, "Rain Delay", Phase.DELAYED),
    ("STATUS_POSTPONED", "post", False, 0.0, "Postponed", Phase.POSTPONED),
    ("STATUS_SUSPENDED", "post", False, 0.0, "Suspended", Phase.POSTPONED),
    ("STATUS_CANCELED", "post", False, 0.0, "Canceled", Phase.CANCELED),
    ("STATUS_FINAL", "post", True, 0.0, "Final", Phase.FINAL),
    ("STATUS_FINAL_OT", "post", True, 0.0, "Final/OT", Phase.FINAL),
    ("STATUS_SOMETHING_NEW", "in", False, 420.0, "7:00 - 2nd Quarter", Phase.LIVE),
    ("STATUS_SOMETHING_NEW", "pre", False, 0.0, "Soon", Phase.PREGAME),
    ("STATUS_SOMETHING_NEW", "post", False, 0.0, "Who knows", Phase.UNKNOWN),
]


@pytest.mark.parametrize(("name", "state", "completed", "clock", "detail", "expected"), STATUSES)
def test_phase_of_espn_statuses(
    name: str, state: str, completed: bool, clock: float, detail: str, expected: Phase
) -> None:
    assert phase_of(name, state, completed, clock, detail) is expected


@pytest.mark.parametrize("name", ["STATUS_POSTPONED", "STATUS_SUSPENDED", "STATUS_CANCELED"])
def test_post_but_not_final_never_completes_a_stream(name: str) -> None:
    phase = phase_of(name, "post", False, 0.0, "")
    assert phase is not Phase.FINAL
    assert status_for_phase(S.ACTIVE, phase) is S.ACTIVE


@pytest.mark.parametrize("state", ["pre", "in", "post", ""])
def test_an_unknown_name_never_fails_a_stream(state: str) -> None:
    phase = phase_of("STATUS_NEVER_SEEN", state, False, 10.0, "")
    for current in (S.SCHEDULED, S.AWAITING_START, S.ACTIVE):
        assert status_for_phase(current, phase) is not S.FAILED
