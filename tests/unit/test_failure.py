"""The failure judgement (`domain.failure`): time- and phase-based, never a count of errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pressbox.domain.failure import FailureCause, FailureJudge, FailureLimits, Outage
from pressbox.domain.sports import Phase

T0 = datetime(2025, 8, 23, 16, 0, tzinfo=UTC)
LIMITS = FailureLimits(stall_timeout=timedelta(hours=3), max_duration=timedelta(hours=12))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def judge() -> FailureJudge:
    return FailureJudge.starting(LIMITS, T0, T0)


def test_an_outage_of_any_length_within_the_hard_cap_never_fails_a_live_game() -> None:
    watch = judge()
    assert watch.failed(minutes(10)) is True  # the outage begins
    for n in range(11, 11 * 60):  # one failed poll a minute for eleven hours
        assert watch.failed(minutes(n)) is False
        assert watch.verdict(minutes(n), Phase.LIVE) is None
    assert watch.failing and watch.failures == 11 * 60 - 10


@pytest.mark.parametrize("phase", [Phase.PREGAME, Phase.LIVE, Phase.HALFTIME, Phase.BREAK, None])
def test_the_hard_cap_ends_the_stream_in_any_phase_outage_or_not(phase: Phase | None) -> None:
    watch = judge()
    watch.failed(minutes(60))
    assert watch.verdict(minutes(12 * 60), phase) is None  # at the cap, not past it
    failure = watch.verdict(minutes(12 * 60 + 1), phase)
    assert failure is not None and failure.cause is FailureCause.LIMIT
    assert failure.reason == "stream ran longer than the limit of 12:00:00"


def test_a_resumed_stream_counts_the_hard_cap_from_its_first_start() -> None:
    watch = FailureJudge.starting(LIMITS, began=T0, now=minutes(11 * 60))
    assert watch.verdict(minutes(11 * 60 + 30), Phase.LIVE) is None
    failure = watch.verdict(minutes(12 * 60 + 1), Phase.LIVE)
    assert failure is not None and failure.cause is FailureCause.LIMIT


def test_a_standing_status_while_espn_answers_is_a_stall() -> None:
    watch = judge()
    watch.answered(minutes(5), changed=True)
    for n in range(6, 185):
        watch.answered(minutes(n), changed=False)
    assert watch.verdict(minutes(185), Phase.LIVE) is None  # exactly three hours: not yet
    failure = watch.verdict(minutes(186), Phase.LIVE)
    assert failure is not None and failure.cause is FailureCause.STALL
    assert failure.reason == (
        "game status has not changed for 3:01:00 while ESPN answered; stopped watching"
    )


def test_an_outage_neither_counts_towards_a_stall_nor_ends_one() -> None:
    watch = judge()
    watch.answered(minutes(60), changed=True)
    watch.failed(minutes(61))
    assert watch.verdict(minutes(60 + 4 * 60), Phase.LIVE) is None  # four hours of outage
    ended = watch.answered(minutes(60 + 4 * 60), changed=False)
    assert ended == Outage(minutes(61), timedelta(hours=4, minutes=-1), 1)
    assert not watch.failing and watch.failures == 0
    # The stall counts from the outage's end: three hours of answers with no change.
    assert watch.verdict(minutes(300 + 179), Phase.LIVE) is None
    failure = watch.verdict(minutes(300 + 181), Phase.LIVE)
    assert failure is not None and failure.cause is FailureCause.STALL


def test_a_success_that_ends_no_outage_reports_none_and_a_change_resets_the_stall() -> None:
    watch = judge()
    assert watch.answered(minutes(1), changed=False) is None
    watch.answered(minutes(170), changed=True)
    assert watch.verdict(minutes(170 + 179), Phase.LIVE) is None


@pytest.mark.parametrize("phase", [Phase.DELAYED, Phase.FINAL, Phase.POSTPONED, Phase.CANCELED])
def test_a_delayed_or_finished_game_never_stalls(phase: Phase) -> None:
    watch = judge()
    watch.answered(minutes(1), changed=False)
    assert watch.verdict(minutes(11 * 60), phase) is None


def test_before_the_game_the_stall_counts_from_the_scheduled_start() -> None:
    """A stream starts before kickoff; the wait for a kickoff still ahead is not a stall."""
    watch = judge()
    start = minutes(120)  # kickoff two hours after the stream began
    watch.answered(minutes(1), changed=True)
    assert watch.verdict(minutes(120 + 179), Phase.PREGAME, start) is None
    assert watch.verdict(minutes(120 + 179), None, start) is None  # phase not known yet
    failure = watch.verdict(minutes(120 + 181), Phase.PREGAME, start)
    assert failure is not None and failure.cause is FailureCause.STALL
    # Once the game is on, the start excuses nothing: 181 minutes since the last change.
    stalled = watch.verdict(minutes(182), Phase.LIVE, start)
    assert stalled is not None and stalled.cause is FailureCause.STALL


def test_only_a_failure_for_the_upstream_is_resumable() -> None:
    assert [c for c in FailureCause if c.resumable] == [FailureCause.UPSTREAM]
