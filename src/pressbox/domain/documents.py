"""ESPN documents as they arrive (bytes and a digest) and the validated shapes we read from them.

Validation happens here, at the upstream boundary: a body that is not the JSON we expect raises
`UpstreamDataError`; a single malformed item of a collection is skipped, not fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pressbox.errors import UpstreamDataError

log = logging.getLogger(__name__)


class DocumentKind(StrEnum):
    """The ESPN core-API documents a streamer polls."""

    EVENT = "event"
    COMPETITION = "competition"
    STATUS = "status"
    SITUATION = "situation"
    PLAYS = "plays"
    PROBABILITIES = "probabilities"
    DRIVES = "drives"
    LEADERS = "leaders"
    TEAM = "team"


@dataclass(frozen=True, slots=True)
class Document:
    """One fetched document: its parsed body and a digest of its bytes (ESPN sends no ETag)."""

    kind: DocumentKind
    body: Any
    digest: str
    fetched_at: datetime
    size: int = 0

    @classmethod
    def parse(cls, kind: DocumentKind, raw: bytes, fetched_at: datetime) -> Document:
        """Parse one response body; raises UpstreamDataError if it is not JSON."""
        return cls(kind, _loads(kind, raw), hashlib.sha256(raw).hexdigest(), fetched_at, len(raw))

    @classmethod
    def merge(cls, pages: list[Document]) -> Document:
        """Merge the pages of an ESPN collection into one document with every item."""
        if len(pages) == 1:
            return pages[0]
        first = dict(pages[0].body)
        first["items"] = [item for page in pages for item in page.body.get("items", [])]
        if "count" in pages[-1].body:  # the last page read knows the latest count
            first["count"] = pages[-1].body["count"]
        digest = hashlib.sha256("".join(p.digest for p in pages).encode()).hexdigest()
        size = sum(p.size for p in pages)
        return cls(pages[0].kind, first, digest, pages[-1].fetched_at, size)

    @property
    def items(self) -> list[Any]:
        """The `items` of a collection ([] for anything else)."""
        items = self.body.get("items") if isinstance(self.body, dict) else None
        return items if isinstance(items, list) else []

    @property
    def count(self) -> int | None:
        """`count` of a paged collection: its items on every page (None when absent)."""
        value = self.body.get("count") if isinstance(self.body, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def complete(self) -> bool:
        """Whether this document holds every item of its collection (a whole read), so that an
        item missing from it was removed upstream. True for a document that is no collection."""
        count = self.count
        return count is None or len(self.items) >= count

    @property
    def page_count(self) -> int:
        """`pageCount` of a paged collection (1 when absent or malformed)."""
        value = self.body.get("pageCount", 1) if isinstance(self.body, dict) else 1
        return value if isinstance(value, int) and value > 0 else 1


def _loads(kind: DocumentKind, raw: bytes) -> Any:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpstreamDataError(f"{kind} document is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise UpstreamDataError(f"{kind} document is not a JSON object")
    return body


def ref_id(ref: str | None) -> str | None:
    """The last path segment of an ESPN `$ref` URL: `.../teams/66?lang=en` -> `66`."""
    if not ref:
        return None
    path = ref.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or None


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Ref(_Model):
    """An ESPN link to another document."""

    ref: str = Field(alias="$ref")

    @property
    def id(self) -> str | None:
        return ref_id(self.ref)


class StatusType(_Model):
    """`status.type`: ESPN's status name, its state (pre, in, post) and whether it is final."""

    name: str
    state: str
    completed: bool = False
    detail: str = ""
    short_detail: str = Field("", alias="shortDetail")


class StatusDoc(_Model):
    """`/competitions/{id}/status`, and an event's `status` on a scoreboard."""

    clock: float = 0.0
    display_clock: str = Field("", alias="displayClock")
    period: int = 0
    type: StatusType


class SituationFields(_Model):
    """What a football situation says, in the situation document and on the scoreboard alike."""

    down: int | None = None
    distance: int | None = None
    yard_line: int | None = Field(None, alias="yardLine")
    down_distance_text: str | None = Field(None, alias="downDistanceText")
    possession_text: str | None = Field(None, alias="possessionText")
    is_red_zone: bool = Field(False, alias="isRedZone")
    home_timeouts: int | None = Field(None, alias="homeTimeouts")
    away_timeouts: int | None = Field(None, alias="awayTimeouts")


class SituationDoc(SituationFields):
    """`/competitions/{id}/situation` (football): the team in possession and the last play as
    links."""

    last_play: Ref | None = Field(None, alias="lastPlay")
    team: Ref | None = None


class Named(_Model):
    text: str | None = None


class PeriodRef(_Model):
    number: int = 0


class ClockValue(_Model):
    display_value: str = Field("", alias="displayValue")


class PlayItem(_Model):
    """One item of `/competitions/{id}/plays`."""

    id: str
    sequence: int = Field(alias="sequenceNumber")
    type: Named | None = None
    text: str = ""
    short_text: str | None = Field(None, alias="shortText")
    away_score: int = Field(0, alias="awayScore")
    home_score: int = Field(0, alias="homeScore")
    period: PeriodRef = PeriodRef()
    clock: ClockValue = ClockValue()
    scoring: bool = Field(False, alias="scoringPlay")
    score_value: int = Field(0, alias="scoreValue")
    modified: str | None = None
    wallclock: str | None = None
    team: Ref | None = None
    drive: Ref | None = None


class ProbabilityItem(_Model):
    """One item of `/competitions/{id}/probabilities`; percentages are already 0..1.

    `sequenceNumber` is not unique (several items share one); an item is identified by its own
    `$ref` (which ends with its play id), else by its play.
    """

    ref: str | None = Field(None, alias="$ref")
    sequence: int = Field(alias="sequenceNumber")
    home: float = Field(alias="homeWinPercentage", ge=0, le=1)
    away: float = Field(alias="awayWinPercentage", ge=0, le=1)
    tie: float = Field(0.0, alias="tiePercentage", ge=0, le=1)
    seconds_left: int | None = Field(None, alias="secondsLeft")
    play: Ref | None = None

    @property
    def id(self) -> str:
        return ref_id(self.ref) or (self.play.id if self.play else None) or str(self.sequence)


class DriveItem(_Model):
    """One item of `/competitions/{id}/drives` (its embedded plays are not read here)."""

    id: str
    team: Ref | None = None
    description: str | None = None
    display_result: str | None = Field(None, alias="displayResult")
    is_score: bool = Field(False, alias="isScore")
    offensive_plays: int = Field(0, alias="offensivePlays")
    start: dict[str, Any] = {}
    end: dict[str, Any] = {}


class CompetitorRef(_Model):
    id: str
    home_away: str = Field(alias="homeAway")
    team: Ref | None = None


class CompetitionDoc(_Model):
    """`/events/{id}/competitions/{id}`: where the streamer discovers every other document."""

    id: str
    date: str | None = None
    competitors: list[CompetitorRef] = []
    status: Ref | None = None
    situation: Ref | None = None
    details: Ref | None = None
    probabilities: Ref | None = None
    drives: Ref | None = None
    leaders: Ref | None = None

    def competitor(self, side: str) -> CompetitorRef | None:
        """The `home` or `away` competitor."""
        return next((c for c in self.competitors if c.home_away == side), None)


class EventDoc(_Model):
    """`/events/{id}`."""

    id: str
    name: str = ""
    short_name: str = Field("", alias="shortName")
    date: str | None = None
    competitions: list[Ref] = []


class TeamDoc(_Model):
    """`/seasons/{y}/teams/{id}`."""

    id: str
    display_name: str = Field("", alias="displayName")
    abbreviation: str = ""


M = TypeVar("M", bound=BaseModel)


def read(model: type[M], body: Any, what: str) -> M:
    """Validate a whole document; raises UpstreamDataError naming what was wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UpstreamDataError(f"{what} document has an unexpected shape: {exc}") from exc


def read_items(model: type[M], body: Any, what: str) -> list[M]:
    """Validate each item of a collection; malformed items are logged and skipped."""
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise UpstreamDataError(f"{what} document has no items list")
    return list(_valid(model, items, what))


def _valid(model: type[M], items: Iterable[Any], what: str) -> Iterable[M]:
    for index, item in enumerate(items):
        try:
            yield model.model_validate(item)
        except ValidationError as exc:
            log.warning("skipping malformed %s item %d: %s", what, index, exc.errors()[:1])
