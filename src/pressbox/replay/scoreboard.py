"""ESPN's site-API scoreboard (`/apis/site/v2/sports/{sport}/{league}/scoreboard`) over replayed
games: every game of a league and US Eastern date with its status, scores and, while it is on,
the situation with the last play and its win probability. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pressbox.replay.items import uid_prefix
from pressbox.replay.synthesis import GameDocuments
from pressbox.replay.timeline import Moment, eastern, season_year

#: ESPN quietly answers a scoreboard `limit` of 600 or more with 25 events.
LIMIT_TRUNCATED_FROM = 600
TRUNCATED_LIMIT = 25

#: (id, name, abbreviation) of the leagues ESPN's scoreboards name.
LEAGUES = {
    "college-football": ("23", "NCAA - Football", "NCAAF"),
    "nfl": ("28", "National Football League", "NFL"),
    "nba": ("46", "National Basketball Association", "NBA"),
    "wnba": ("59", "Women's National Basketball Association", "WNBA"),
}
SEASON_SLUGS = {1: "preseason", 2: "regular-season", 3: "post-season", 4: "off-season"}


def eastern_date(moment: datetime) -> date:
    """The US Eastern calendar date of an instant (ESPN's scoreboard day)."""
    return eastern(moment).date()


def parse_dates(value: str) -> tuple[date, date]:
    """`dates=YYYYMMDD` or `YYYYMMDD-YYYYMMDD` as an inclusive range.

    Raises:
        ValueError: not one of those forms.
    """
    first, _, last = value.strip().partition("-")
    try:
        start = datetime.strptime(first, "%Y%m%d").date()
        end = datetime.strptime(last, "%Y%m%d").date() if last else start
    except ValueError:
        raise ValueError(f"dates must be YYYYMMDD or YYYYMMDD-YYYYMMDD, got {value!r}") from None
    return start, end


def scoreboard_limit(limit: int | None) -> int | None:
    """How many events ESPN answers for `limit` (None: all of them)."""
    if limit is not None and limit >= LIMIT_TRUNCATED_FROM:
        return TRUNCATED_LIMIT
    return limit


def scoreboard(
    sport: str, league: str, day: date, games: Sequence[tuple[GameDocuments, Moment]]
) -> dict[str, Any]:
    """The scoreboard document of `games` (already chosen and ordered) on `day`."""
    league_id, name, abbreviation = LEAGUES.get(league, ("0", league, league.upper()))
    document: dict[str, Any] = {
        "leagues": [
            {
                "id": league_id,
                "uid": uid_prefix(sport, league),
                "name": name,
                "abbreviation": abbreviation,
                "slug": league,
            }
        ]
    }
    if games:
        document["season"] = _season(games[0][0])
        del document["season"]["slug"]
    document["day"] = {"date": day.isoformat()}
    document["events"] = [scoreboard_event(docs, moment) for docs, moment in games]
    return document


def scoreboard_event(docs: GameDocuments, moment: Moment) -> dict[str, Any]:
    """One event of the scoreboard: the game's status, competitors and situation at `moment`."""
    record = docs.record
    uid = uid_prefix(record.sport, record.league)
    status = {k: v for k, v in docs.status(moment).items() if k != "$ref"}
    when = record.start_time.strftime("%Y-%m-%dT%H:%MZ")
    competition: dict[str, Any] = {
        "id": record.id,
        "uid": f"{uid}~e:{record.id}~c:{record.id}",
        "date": when,
        "startDate": when,
        "timeValid": True,
        "status": status,
        "competitors": _competitors(docs, moment),
    }
    if status["type"]["state"] == "in":
        competition["situation"] = _situation(docs, moment)
    return {
        "id": record.id,
        "uid": f"{uid}~e:{record.id}",
        "date": when,
        "name": record.name,
        "shortName": record.short_name,
        "season": _season(docs),
        "competitions": [competition],
        "status": status,
    }


def _season(docs: GameDocuments) -> dict[str, Any]:
    season_type = docs.record.extra.get("season_type", 2)
    kind = season_type if isinstance(season_type, int) else 2
    return {
        "year": season_year(docs.record),
        "type": kind,
        "slug": SEASON_SLUGS.get(kind, "regular-season"),
    }


def _competitors(docs: GameDocuments, moment: Moment) -> list[dict[str, Any]]:
    record = docs.record
    home, away = docs.timeline.score(moment)
    competitors = []
    for order, (team, score) in enumerate(((record.home, home), (record.away, away))):
        team_doc = docs.team(team.id) or {}
        competitor: dict[str, Any] = {
            "id": team.id,
            "uid": team_doc.get("uid"),
            "type": "team",
            "order": order,
            "homeAway": team.home_away,
        }
        winner = docs.timeline.winner(moment, team.home_away)
        if winner is not None:
            competitor["winner"] = winner
        competitor["team"] = {k: v for k, v in team_doc.items() if k != "$ref"}
        competitor["score"] = str(score)
        competitors.append(competitor)
    return competitors


def _situation(docs: GameDocuments, moment: Moment) -> dict[str, Any]:
    """The core-API situation with its last play embedded, and `possession` for `team`."""
    situation = docs.situation(moment)
    team = situation.pop("team", None)
    last = docs.timeline.last_play(moment)
    if last is not None:
        situation["lastPlay"] = _last_play(docs, moment, docs.items.play(moment, last.id) or {})
    if isinstance(team, Mapping):
        situation["possession"] = _ref_id(team["$ref"])
    return situation


def _last_play(docs: GameDocuments, moment: Moment, item: Mapping[str, Any]) -> dict[str, Any]:
    """A play item as the scoreboard embeds it: ids instead of links, the win probability."""
    play: dict[str, Any] = {
        "id": item.get("id"),
        "type": item.get("type", {}),
        "text": item.get("text", ""),
        "scoreValue": item.get("scoreValue", 0),
    }
    if "team" in item:
        play["team"] = {"id": _ref_id(item["team"]["$ref"])}
    own = docs.items.probability(moment, str(play["id"]))
    if own is not None:  # ESPN embeds the play's own point (a play may have none)
        play["probability"] = {
            key: own[key] for key in ("tiePercentage", "homeWinPercentage", "awayWinPercentage")
        }
    for key in ("start", "end"):
        position = item.get(key)
        if isinstance(position, Mapping) and "yardLine" in position:
            embedded: dict[str, Any] = {"yardLine": position["yardLine"]}
            if "team" in position:
                embedded["team"] = {"id": _ref_id(position["team"]["$ref"])}
            play[key] = embedded
    return play


def _ref_id(ref: str) -> str:
    return ref.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
