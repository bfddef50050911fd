"""A recorded game as it stood at any instant: which plays were out, and what ESPN's status said.

A play is out once its `wallclock` has passed (and every play before it is out: ESPN publishes in
game order, so a wall time that runs backwards waits for the plays before it). Everything a client
can read about the game at t follows from the plays out at t plus the stage of the game, so a
`Moment` (revealed count, stage) is the key under which synthesized documents are cached. Pure.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from itertools import accumulate

from pressbox.replay.record import DriveRecord, GameRecord, PlayRecord, ProbabilityRecord

#: How long after the last play ESPN still says "in progress" before the final status.
FINAL_DELAY = timedelta(seconds=60)
#: How long "End of 2nd Quarter" stands after the end-of-half play before STATUS_HALFTIME.
HALFTIME_DELAY = timedelta(seconds=60)

_PERIOD_END_TYPES = frozenset(
    {"end period", "end of period", "end of half", "end half", "end of game", "end game"}
)
_PERIOD_END_TEXT = re.compile(
    r"^\s*end\s+(?:of\s+(?:the\s+)?)?"
    r"(?:quarter|half|game|period|regulation|overtime|\d*ot\b|\d+(?:st|nd|rd|th)\b)",
    re.IGNORECASE,
)
_TWO_HALVES = frozenset({"mens-college-basketball", "womens-college-basketball"})


class Stage(StrEnum):
    """Where a replayed game is, beyond which plays are out."""

    PRE = "pre"
    LIVE = "live"
    HALFTIME = "halftime"
    FINAL = "final"


@dataclass(frozen=True)
class Moment:
    """What of a game was out at one instant: how many plays, and the stage."""

    revealed: int
    stage: Stage


@dataclass(frozen=True)
class GameStatus:
    """ESPN's status of a game at a moment (the fields of a core-API status document)."""

    type_id: str
    name: str
    state: str
    completed: bool
    description: str
    detail: str
    short_detail: str
    period: int
    clock: float
    display_clock: str


@dataclass(frozen=True)
class DriveAt:
    """A drive at a moment: its record, the plays of it that are out, and whether it is over."""

    drive: DriveRecord
    plays: tuple[PlayRecord, ...]
    complete: bool


def is_period_end(play: PlayRecord) -> bool:
    """Whether a play ends a period ("End Period", "End of Half", "End of 1st Quarter", ...)."""
    if play.type_text and play.type_text.strip().lower() in _PERIOD_END_TYPES:
        return True
    return bool(_PERIOD_END_TEXT.match(play.text))


def is_timeout(play: PlayRecord) -> bool:
    """A team timeout (not an official or TV timeout)."""
    return (play.type_text or "").strip().lower() == "timeout" or play.type_id == "21"


def ordinal(number: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def regulation_periods(league: str) -> int:
    """Periods of regulation: four quarters, or two halves in college basketball."""
    return 2 if league in _TWO_HALVES else 4


def clock_seconds(play: PlayRecord) -> float:
    """The game clock of a play in seconds: its recorded value, else read off "12:01" / "26.1"."""
    if play.clock_seconds is not None:
        return float(play.clock_seconds)
    text = play.clock.strip()
    try:
        if ":" in text:
            minutes, seconds = text.split(":", 1)
            return int(minutes) * 60 + float(seconds)
        return float(text)
    except ValueError:
        return 0.0


def zero_clock(sport: str) -> str:
    """How ESPN shows a stopped clock: "0:00" in football, "0.0" in basketball."""
    return "0.0" if sport == "basketball" else "0:00"


def eastern(moment: datetime) -> datetime:
    """An aware time in US Eastern time (EDT/EST by the US rule since 2007), tz-named."""
    utc = moment.astimezone(UTC)
    dst_start = datetime.combine(_nth_sunday(utc.year, 3, 2), time(7), UTC)
    dst_end = datetime.combine(_nth_sunday(utc.year, 11, 1), time(6), UTC)
    if dst_start <= utc < dst_end:
        return utc.astimezone(timezone(timedelta(hours=-4), "EDT"))
    return utc.astimezone(timezone(timedelta(hours=-5), "EST"))


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def scheduled_details(start: datetime) -> tuple[str, str]:
    """ESPN's pregame wording: ("Sun, September 1st at 7:30 PM EDT", "9/1 - 7:30 PM EDT")."""
    local = eastern(start)
    hour = f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    zone = local.tzname()
    detail = f"{local:%a}, {local:%B} {ordinal(local.day)} at {hour} {zone}"
    return detail, f"{local.month}/{local.day} - {hour} {zone}"


def season_year(record: GameRecord) -> int:
    """ESPN's season of a game: football seasons are named by their autumn, basketball seasons
    by the year they end in (an NBA game in December 2022 is season 2023)."""
    local = eastern(record.start_time)
    if record.sport == "football":
        return local.year if local.month >= 3 else local.year - 1
    if record.sport == "basketball":
        return local.year + 1 if local.month >= 8 else local.year
    return local.year


class GameTimeline:
    """One recorded game on its own clock: the moment at any time, and the game at a moment."""

    def __init__(self, record: GameRecord) -> None:
        if not record.plays:
            raise ValueError(f"game {record.id} has no plays to replay")
        self.record = record
        self.regulation = regulation_periods(record.league)
        self.half = self.regulation // 2
        plays = record.plays
        self._reveal = list(accumulate((p.wallclock for p in plays), max))
        self._index = {p.id: i for i, p in enumerate(plays)}
        paired = sorted(
            ((self._index[p.play_id], p) for p in record.probabilities if p.play_id in self._index),
            key=lambda pair: pair[0],
        )
        self._probability_plays = [index for index, _ in paired]
        self._probabilities = tuple(p for _, p in paired)
        self._drive_plays = [
            sorted(self._index[i] for i in d.play_ids if i in self._index) for d in record.drives
        ]

    @property
    def first_reveal(self) -> datetime:
        """When the first play comes out."""
        return self._reveal[0]

    @property
    def final_at(self) -> datetime:
        """When the game turns final."""
        return self._reveal[-1] + FINAL_DELAY

    def moment(self, at: datetime) -> Moment:
        """The game at time `at`: how many plays are out, and its stage."""
        revealed = bisect.bisect_right(self._reveal, at)
        if revealed == 0:
            return Moment(0, Stage.PRE)
        total = len(self._reveal)
        if revealed == total and at >= self.final_at:
            return Moment(revealed, Stage.FINAL)
        last = self.record.plays[revealed - 1]
        if (
            revealed < total
            and last.period == self.half
            and is_period_end(last)
            and at >= self._reveal[revealed - 1] + HALFTIME_DELAY
        ):
            return Moment(revealed, Stage.HALFTIME)
        return Moment(revealed, Stage.LIVE)

    def plays(self, moment: Moment) -> Sequence[PlayRecord]:
        """The plays out at `moment`, in game order."""
        return self.record.plays[: moment.revealed]

    def last_play(self, moment: Moment) -> PlayRecord | None:
        """The newest play out at `moment`."""
        return self.record.plays[moment.revealed - 1] if moment.revealed else None

    def play_index(self, play_id: str) -> int | None:
        """The position of a play in game order."""
        return self._index.get(play_id)

    def probabilities(self, moment: Moment) -> tuple[ProbabilityRecord, ...]:
        """The win probabilities out at `moment` (each comes out with its play), in play order."""
        return self._probabilities[: bisect.bisect_left(self._probability_plays, moment.revealed)]

    def drives(self, moment: Moment) -> list[DriveAt]:
        """The drives whose first play is out, with their plays that are out."""
        found = []
        plays = self.record.plays
        for drive, indices in zip(self.record.drives, self._drive_plays, strict=True):
            out = tuple(plays[i] for i in indices if i < moment.revealed)
            if out:
                found.append(DriveAt(drive, out, len(out) == len(indices)))
        return found

    def score(self, moment: Moment) -> tuple[int, int]:
        """(home, away) at `moment`; the record's final score once final."""
        if moment.stage is Stage.FINAL:
            return self.record.home.score, self.record.away.score
        last = self.last_play(moment)
        return (last.home_score, last.away_score) if last else (0, 0)

    def winner(self, moment: Moment, side: str) -> bool | None:
        """Whether the `home` or `away` side won; None until the game is final."""
        if moment.stage is not Stage.FINAL:
            return None
        team = self.record.home if side == "home" else self.record.away
        if team.winner is not None:
            return team.winner
        home, away = self.score(moment)
        return home > away if side == "home" else away > home

    def status(self, moment: Moment) -> GameStatus:
        """What ESPN's status document said at `moment`."""
        zero = zero_clock(self.record.sport)
        last = self.last_play(moment)
        if last is None:
            detail, short = scheduled_details(self.record.start_time)
            pre = ("1", "STATUS_SCHEDULED", "pre", False, "Scheduled", detail, short)
            return GameStatus(*pre, period=0, clock=0.0, display_clock=zero)
        if moment.stage is Stage.FINAL:
            final = self._final_detail(last.period)
            done = ("3", self.record.final_status, "post", True, "Final", final, final)
            return GameStatus(*done, period=last.period, clock=0.0, display_clock=zero)
        if moment.stage is Stage.HALFTIME:
            half = ("23", "STATUS_HALFTIME", "in", False, "Halftime", "Halftime", "Halftime")
            return GameStatus(*half, period=last.period, clock=0.0, display_clock=zero)
        live = ("2", "STATUS_IN_PROGRESS", "in", False, "In Progress")
        if is_period_end(last):
            name, short_name = self._period_names(last.period)
            ended = (f"End of {name}", f"End of {short_name}")
            return GameStatus(*live, *ended, period=last.period, clock=0.0, display_clock=zero)
        return GameStatus(
            *live,
            *self._running_details(last),
            period=last.period,
            clock=clock_seconds(last),
            display_clock=last.clock,
        )

    def timeouts(self, moment: Moment) -> tuple[int, int] | None:
        """Football: (home, away) timeouts left, counted from the timeout plays of the current
        half (3 each) or overtime period (college 1, NFL 2); None elsewhere."""
        last = self.last_play(moment)
        if self.record.sport != "football":
            return None
        period = last.period if last else 1
        if period > self.regulation:
            segment, allowed = {period}, 1 if self.record.league == "college-football" else 2
        else:
            half = 1 if period <= self.half else 2
            segment = set(range(1, self.half + 1)) if half == 1 else {3, 4}
            allowed = 3
        used = {"home": 0, "away": 0}
        for play in self.plays(moment):
            if play.period in segment and is_timeout(play):
                side = self._timeout_side(play)
                if side:
                    used[side] += 1
        return max(0, allowed - used["home"]), max(0, allowed - used["away"])

    def _timeout_side(self, play: PlayRecord) -> str | None:
        """Who called a timeout: the team the text names ("Timeout #1 by ATL", "Timeout Kansas
        State"), else the play's team."""
        named = [
            side
            for side, team in (("home", self.record.home), ("away", self.record.away))
            if _names_team(play.text, team.abbreviation, team.name)
        ]
        if len(named) == 1:
            return named[0]
        if play.team_id == self.record.home.id:
            return "home"
        return "away" if play.team_id == self.record.away.id else None

    def _period_names(self, period: int) -> tuple[str, str]:
        """("2nd Quarter", "2nd"), ("1st Half", "1st") or ("OT", "OT"), ("2OT", "2OT")."""
        if period > self.regulation:
            extra = period - self.regulation
            label = "OT" if extra == 1 else f"{extra}OT"
            return label, label
        unit = "Half" if self.regulation == 2 else "Quarter"
        return f"{ordinal(period)} {unit}", ordinal(period)

    def _running_details(self, play: PlayRecord) -> tuple[str, str]:
        """("8:29 - 1st Quarter", "8:29 - 1st"); untimed college-football overtime: ("OT", "OT")."""
        name, short = self._period_names(play.period)
        if play.period > self.regulation and self.record.league == "college-football":
            return name, short
        return f"{play.clock} - {name}", f"{play.clock} - {short}"

    def _final_detail(self, period: int) -> str:
        """ "Final", "Final/OT", "Final/2OT"."""
        if period <= self.regulation:
            return "Final"
        return f"Final/{self._period_names(period)[0]}"


def _names_team(text: str, abbreviation: str, display_name: str) -> bool:
    if abbreviation and re.search(rf"\b{re.escape(abbreviation)}\b", text):
        return True
    location = display_name.rsplit(" ", 1)[0] if " " in display_name else display_name
    return bool(location) and location.lower() in text.lower()
