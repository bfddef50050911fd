"""What a sport's documents mean: leagues, polling cadences and the meaning of ESPN status names."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pressbox.domain.documents import DocumentKind


class Phase(StrEnum):
    """Where a game is, read off its ESPN status document."""

    PREGAME = "pregame"
    LIVE = "live"
    BREAK = "break"
    HALFTIME = "halftime"
    DELAYED = "delayed"
    FINAL = "final"
    POSTPONED = "postponed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


_NAMED_PHASES = {
    "STATUS_HALFTIME": Phase.HALFTIME,
    "STATUS_END_PERIOD": Phase.BREAK,
    "STATUS_END_OF_PERIOD": Phase.BREAK,
    "STATUS_DELAYED": Phase.DELAYED,
    "STATUS_RAIN_DELAY": Phase.DELAYED,
    "STATUS_WEATHER_DELAY": Phase.DELAYED,
    "STATUS_POSTPONED": Phase.POSTPONED,
    "STATUS_SUSPENDED": Phase.POSTPONED,
    "STATUS_CANCELED": Phase.CANCELED,
    "STATUS_CANCELLED": Phase.CANCELED,
    "STATUS_FORFEIT": Phase.FINAL,
}


def phase_of(name: str, state: str, completed: bool, clock: float, detail: str) -> Phase:
    """Interpret an ESPN status. Unknown names map by `state`, so they mean "keep watching".

    ESPN reports the end of a quarter as STATUS_IN_PROGRESS with clock 0 and a detail such as
    "End of 1st Quarter"; that is a break, not live play.
    """
    named = _NAMED_PHASES.get(name)
    if named is not None:
        return named
    if completed or name.startswith("STATUS_FINAL"):
        return Phase.FINAL
    if state == "pre":
        return Phase.PREGAME
    if state == "in":
        if clock <= 0 and detail.lower().startswith("end of"):
            return Phase.BREAK
        return Phase.LIVE
    return Phase.UNKNOWN


@dataclass(frozen=True)
class SportProfile:
    """Everything sport-specific the streamer needs: which league, and how often to poll what."""

    sport: str
    league: str
    status_cadence_pregame: float = 20.0
    status_cadence_live: float = 30.0
    cadences: dict[DocumentKind, float] = field(default_factory=dict)

    def cadence(self, kind: DocumentKind) -> float:
        """Seconds between two polls of `kind` while the game is live."""
        return self.cadences[kind]


SEED_FOOTBALL_CADENCES = {
    DocumentKind.SITUATION: 5.0,
    DocumentKind.PLAYS: 10.0,
    DocumentKind.DRIVES: 15.0,
    DocumentKind.PROBABILITIES: 15.0,
    DocumentKind.LEADERS: 60.0,
}

SEED_BASKETBALL_CADENCES = {
    DocumentKind.SITUATION: 5.0,
    DocumentKind.PLAYS: 10.0,
    DocumentKind.PROBABILITIES: 15.0,
    DocumentKind.LEADERS: 60.0,
}

PROFILES: dict[str, SportProfile] = {
    "college-football": SportProfile(
        "football", "college-football", cadences=dict(SEED_FOOTBALL_CADENCES)
    ),
    "nfl": SportProfile("football", "nfl", cadences=dict(SEED_FOOTBALL_CADENCES)),
    "nba": SportProfile("basketball", "nba", cadences=dict(SEED_BASKETBALL_CADENCES)),
}


def profile_for(league: str) -> SportProfile:
    """The profile of an ESPN league slug; a clear error names the supported ones."""
    try:
        return PROFILES[league]
    except KeyError:
        supported = ", ".join(sorted(PROFILES))
        raise ValueError(f"unsupported league {league!r}; supported: {supported}") from None
