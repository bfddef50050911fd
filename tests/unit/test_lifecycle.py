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
RUNNING_OR_ENDING = {S.ACTIVE, S.PAUSED, S.DELAYED, S.POSTPONED, S.CANCELED, S.COMPLETED, S.FAILED}
LEGAL = (
    {(S.SCHEDULED, t) for t in RUNNING_OR_ENDING | {S.AWAITING_START}}
    | {(S.AWAITING_START, t) for t in RUNNING_OR_ENDING | {S.SCHEDULED}}
    | {(S.ACTIVE, t) for t in RUNNING_OR_ENDING - {S.ACTIVE}}
    | {(S.PAUSED, t) for t in RUNNING_OR_ENDING - {S.PAUSED}}
    | {(S.DELAYED, t) for t in (RUNNING_OR_ENDING - {S.DELAYED}) | {S.AWAITING_START}}
    | {(S.POSTPONED, S.SCHEDULED), (S.POSTPONED, S.CANCELED), (S.POSTPONED, S.FAILED)}
    # Ended streams leave only by an operator's restart.
    | {(S.CANCELED, S.SCHEDULED), (S.COMPLETED, S.SCHEDULED), (S.FAILED, S.SCHEDULED)}
)
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


def test_ended_states_leave_only_by_a_restart() -> None:
    assert {s for s in S if s.is_final} == {S.COMPLETED, S.FAILED, S.CANCELED}
    for ended in (S.COMPLETED, S.FAILED, S.CANCELED):
        assert TRANSITIONS[ended] == frozenset({S.SCHEDULED})


def test_running_states_are_the_ones_a_streamer_follows() -> None:
    assert {s for s in S if s.is_running} == {S.AWAITING_START, S.ACTIVE, S.PAUSED, S.DELAYED}


CURRENTS = (S.SCHEDULED, S.AWAITING_START, S.ACTIVE, S.PAUSED, S.DELAYED)
# What each phase asks of a stream that is Scheduled / AwaitingStart / Active / Paused / Delayed.
PHASE_TARGETS = {
    Phase.PREGAME: (S.AWAITING_START, S.AWAITING_START, S.ACTIVE, S.PAUSED, S.AWAITING_START),
    Phase.LIVE: (S.ACTIVE,) * 5,
    Phase.BREAK: (S.PAUSED,) * 5,
    Phase.HALFTIME: (S.PAUSED,) * 5,
    Phase.DELAYED: (S.DELAYED,) * 5,
    Phase.FINAL: (S.COMPLETED,) * 5,
    Phase.POSTPONED: (S.POSTPONED,) * 5,
    Phase.CANCELED: (S.CANCELED,) * 5,
    # Unknown keeps watching: the stream stays where it is.
    Phase.UNKNOWN: CURRENTS,
}


def test_every_phase_is_covered() -> None:
    assert set(PHASE_TARGETS) == set(Phase)


@pytest.mark.parametrize("phase", list(Phase))
def test_status_for_phase(phase: Phase) -> None:
    got = tuple(status_for_phase(current, phase) for current in CURRENTS)
    assert got == PHASE_TARGETS[phase]
    for current, target in zip(CURRENTS, got, strict=True):
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


@pytest.mark.parametrize(
    ("name", "ends"),
    [
        ("STATUS_POSTPONED", S.POSTPONED),
        ("STATUS_SUSPENDED", S.POSTPONED),
        ("STATUS_CANCELED", S.CANCELED),
    ],
)
def test_post_but_not_final_never_completes_or_fails_a_stream(name: str, ends: S) -> None:
    phase = phase_of(name, "post", False, 0.0, "")
    assert phase is not Phase.FINAL
    assert status_for_phase(S.ACTIVE, phase) is ends


@pytest.mark.parametrize("state", ["pre", "in", "post", ""])
def test_an_unknown_name_never_fails_a_stream(state: str) -> None:
    phase = phase_of("STATUS_NEVER_SEEN", state, False, 10.0, "")
    for current in CURRENTS:
        assert status_for_phase(current, phase) is not S.FAILED
