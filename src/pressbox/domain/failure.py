"""When a stream ends Failed: judged by time and by the game's phase, never by a count. Pure.

Upstream errors of any kind (5xx, timeouts, refused connections, an IP block, torn or malformed
bodies) only ever degrade a stream: ESPN outages of half an hour happen on a busy Saturday, and a
game that is still on must be followed through them. A stream ends Failed for a named reason
only:

- `LIMIT`: it ran longer than the hard cap (`max_duration`, from the stream's start);
- `STALL`: the game status stood still for `stall_timeout` of time in which ESPN *answered*
  (an outage neither counts towards a stall nor ends one: after it, the count starts over);
  not while the game is delayed (a rain delay waits), and before the game from its scheduled
  start only;
- `TAKEOVERS`: the runners holding it died too often (`PRESSBOX_MAX_RETRIES`, the leases');
- `UPSTREAM`: only older databases hold it (a budget of failed polls once ended streams so);
  such a stream may be resumed while its game is live (`domain.schedule`).

An operator ends a stream as Canceled (`POST /api/streams/{id}/cancel`), not Failed.

A `FailureJudge` is the state one streamer keeps of this: when it began, when the status last
moved, whether and since when the upstream fails. The streamer tells it every poll's outcome and
asks it for a `verdict` before each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pressbox.domain.sports import Phase


class FailureCause(StrEnum):
    """Why a stream ended Failed (persisted beside the reason)."""

    LIMIT = "limit"
    STALL = "stall"
    TAKEOVERS = "takeovers"
    UPSTREAM = "upstream"

    @property
    def resumable(self) -> bool:
        """Whether a stream failed for this may be resumed while its game is live."""
        return self is FailureCause.UPSTREAM


@dataclass(frozen=True)
class Failure:
    """A verdict: end the stream Failed, for `cause`, saying `reason`."""

    cause: FailureCause
    reason: str


@dataclass(frozen=True)
class FailureLimits:
    """The hard cap on a stream's run and how long the status may stand still while ESPN
    answers."""

    stall_timeout: timedelta = timedelta(hours=3)
    max_duration: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class Outage:
    """An upstream outage that just ended: when it began, how long, how many polls failed."""

    began: datetime
    lasted: timedelta
    failures: int


#: Phases in which a standing status is expected, not a stall.
_WAITING = frozenset({Phase.DELAYED})
#: Phases after which nothing is left to fail: the stream ends by itself.
_OVER = frozenset({Phase.FINAL, Phase.POSTPONED, Phase.CANCELED})


@dataclass
class FailureJudge:
    """One stream's failure judgement: told each poll's outcome, asked for a verdict."""

    limits: FailureLimits
    began: datetime
    #: When the status last changed, or an outage last ended (the stall counts from there).
    progressed: datetime
    #: When the current outage began (None: the upstream answers).
    failing_since: datetime | None = None
    failures: int = 0

    @classmethod
    def starting(cls, limits: FailureLimits, began: datetime, now: datetime) -> FailureJudge:
        """The judgement of a stream that began at `began` (earlier, if resumed) and is
        (re)started `now`."""
        return cls(limits, began, now)

    @property
    def failing(self) -> bool:
        """Whether the upstream fails now."""
        return self.failing_since is not None

    def answered(self, now: datetime, changed: bool) -> Outage | None:
        """A poll succeeded at `now`; `changed`: it showed a change of the game. Returns the
        outage it ended, if any."""
        ended = None
        if self.failing_since is not None:
            ended = Outage(self.failing_since, now - self.failing_since, self.failures)
            self.failing_since, self.failures = None, 0
            self.progressed = max(self.progressed, now)  # the outage is not a stall
        if changed:
            self.progressed = now
        return ended

    def failed(self, now: datetime) -> bool:
        """A poll failed at `now`; True if this begins an outage."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = now
            return True
        return False

    def verdict(
        self, now: datetime, phase: Phase | None, start: datetime | None = None
    ) -> Failure | None:
        """Whether the stream must end Failed `now`, in `phase` (None: not known yet), for a
        game scheduled to start at `start` (None: unknown). None: go on."""
        if now - self.began > self.limits.max_duration:
            return Failure(
                FailureCause.LIMIT,
                f"stream ran longer than the limit of {self.limits.max_duration}",
            )
        if self.failing or phase in _WAITING or phase in _OVER:
            return None
        since = self.progressed
        if phase in (Phase.PREGAME, None) and start is not None:
            since = max(since, start)  # waiting for a kickoff still ahead is not a stall
        stalled = now - since
        if stalled > self.limits.stall_timeout:
            return Failure(
                FailureCause.STALL,
                f"game status has not changed for {_rounded(stalled)} while ESPN answered; "
                "stopped watching",
            )
        return None


def _rounded(span: timedelta) -> timedelta:
    return timedelta(seconds=round(span.total_seconds()))
