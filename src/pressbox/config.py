"""All settings in one place, from `PRESSBOX_*` environment variables (or a `.env` file).

Defaults are the embedded ones: a SQLite file, the in-process bus, live ESPN URLs. Unsafe or
malformed settings fail at start with a message that names the variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from pressbox.domain.documents import DocumentKind
from pressbox.domain.market import is_event_ticker
from pressbox.domain.sports import PROFILES, SportProfile
from pressbox.errors import ConfigError

Positive = Annotated[float, Field(gt=0)]
#: A shorter admin token is guessable: refused at start.
MIN_ADMIN_TOKEN = 16


class Settings(BaseSettings):
    """Pressbox settings; every field is `PRESSBOX_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="PRESSBOX_", env_file=".env", extra="ignore", validate_default=True
    )

    database_url: str = Field(
        "sqlite+aiosqlite:///pressbox.db",
        description="SQLAlchemy async URL of the database (sqlite+aiosqlite, postgresql+asyncpg).",
    )
    bus_url: str = Field(
        "memory://",
        description="The bus: memory:// (in-process) or a Redis server, redis://host:port/db "
        "(rediss:// for TLS), shared by runner and web processes.",
    )
    espn_core_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://sports.core.api.espn.com"),
        description="Base URL of ESPN's core API; the replay server's URL in a replay.",
    )
    espn_site_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://site.api.espn.com"),
        description="Base URL of ESPN's site API (scoreboards); its own host and budget.",
    )
    leagues: Annotated[list[str], NoDecode] = Field(
        ["college-football", "nfl", "nba"],
        description="Leagues the scheduler follows, comma-separated ESPN slugs.",
    )
    schedule_days: int = Field(
        1, ge=0, le=14, description="Days after today the scheduler looks ahead (1: tomorrow)."
    )
    schedule_lead_minutes: float = Field(
        10.0, ge=0, description="A stream is scheduled this many minutes before the start."
    )
    schedule_move_minutes: float = Field(
        5.0, ge=0, description="A start moving more than this moves its Scheduled stream."
    )
    schedule_interval_seconds: Positive = Field(
        300.0, description="Seconds between two scheduler runs inside `serve`."
    )
    espn_rate: Positive = Field(1.0, description="ESPN request budget, requests per second.")
    espn_burst: int = Field(5, ge=1, le=100, description="Requests the ESPN budget allows at once.")
    fetch_policy: Literal["edge", "seed"] = Field(
        "edge",
        description="When documents are fetched: edge (a cheap sentinel, then only the live "
        "edge of what changed; whole reads to reconcile) or seed (every document whole on "
        "its fixed cadence: the benchmarks' baseline).",
    )
    reconcile_minutes: Positive = Field(
        10.0,
        description="Edge policy: minutes between two whole reads of plays, probabilities and "
        "drives (corrections on older pages); one more at every break and at the end.",
    )
    http_timeout: Positive = Field(
        10.0, description="Seconds before an upstream request times out."
    )
    espn_block_minutes: Positive = Field(
        5.0, description="After an HTTP 403 (ESPN's IP block), minutes with no request to it."
    )
    kalshi_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://api.elections.kalshi.com/trade-api/v2"),
        description="Base URL of Kalshi's REST API (…/trade-api/v2); its own host and budget.",
    )
    kalshi_ws_url: str = Field(
        "wss://api.elections.kalshi.com/trade-api/ws/v2",
        description="Kalshi's WebSocket URL (ticker and trade channels), used with a key.",
    )
    kalshi_rate: Positive = Field(5.0, description="Kalshi request budget, requests per second.")
    kalshi_key_id: str = Field("", description="Kalshi API key id; unset: REST polling.")
    kalshi_private_key_path: str = Field(
        "", description="PEM file of the Kalshi API key's RSA private key (with the key id)."
    )
    kalshi_poll_seconds: Positive = Field(
        5.0, description="Seconds between two REST polls of a game's markets without a key."
    )
    kalshi_markets: dict[str, str] = Field(
        default_factory=dict,
        description='ESPN game id -> Kalshi event ticker, JSON: {"401736812": '
        '"KXNBAGAME-24DEC15MINSAS"}; overrides the matching of that game.',
    )
    markets: Literal["on", "off"] = Field(
        "on",
        description="Follow each game's Kalshi market line (on) or not at all (off: no "
        "Kalshi request, no market events).",
    )
    admin_token: SecretStr = Field(
        SecretStr(""),
        description="Bearer token of the operator endpoints (cancel, restart, webhooks); unset: "
        "refused.",
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    status_pregame_seconds: Positive = Field(20.0, description="Status poll before the game, s.")
    status_live_seconds: Positive = Field(30.0, description="Status poll during the game, s.")
    cadences: dict[str, dict[DocumentKind, Positive]] = Field(
        default_factory=dict,
        description='Per-league document cadences in seconds, JSON: {"nfl": {"plays": 8}}; '
        "unset documents keep the seed cadences.",
    )
    retry_cap_seconds: Positive = Field(
        60.0,
        description="Longest wait between two attempts at a failing ESPN read, s (jittered "
        "backoff up to it). Upstream errors of any kind only degrade a stream, never end it.",
    )
    stall_hours: Positive = Field(
        3.0,
        description="A stream whose game status stands still this long while ESPN answers "
        "ends Failed (an outage does not count; a delayed game waits).",
    )
    max_stream_hours: Positive = Field(
        12.0, description="A stream running longer ends Failed, outage or not (the hard cap)."
    )
    ws_heartbeat_seconds: Positive = Field(15.0, description="WebSocket heartbeat interval, s.")
    ws_dead_peer_seconds: Positive = Field(
        60.0, description="A live client silent this long (no message, not even a ping) is closed."
    )
    ws_send_buffer_bytes: int = Field(
        262_144, ge=1024, description="Bytes queued to one live client before it is closed (4008)."
    )
    ws_history_events: int = Field(
        1000, ge=1, description="Recent events per game kept in memory to serve resumes."
    )
    ws_resume_max_events: int = Field(
        5000, ge=0, description="A resume missing more events than this gets a snapshot."
    )
    ws_max_connections: int = Field(
        20_000, ge=1, description="Live WebSocket connections one web process accepts."
    )
    ws_max_connections_per_ip: int = Field(
        100, ge=1, description="Live WebSocket connections from one client address."
    )
    ws_admission_rate: Positive = Field(
        2000.0, description="New live connections admitted per second (a token bucket)."
    )
    ws_admission_burst: int = Field(
        1000, ge=1, description="New live connections admitted at once before the rate applies."
    )
    ws_max_message_bytes: int = Field(
        4096, ge=64, le=65536, description="Largest client message; a larger one closes (1009)."
    )
    ws_allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed besides the same origin, comma-separated; * any.",
    )
    replay_speed: Positive = Field(60.0, description="Default replay speed (x real time).")
    lease_ttl_seconds: Positive = Field(
        30.0, description="A runner's lease on a stream lasts this long unless renewed, s."
    )
    max_retries: int = Field(
        5,
        ge=0,
        description="Takeovers of a stream whose runner died before it ends Failed; also how "
        "often a stream that ended Failed for the upstream is resumed while its game is live.",
    )
    runner_poll_seconds: Positive = Field(5.0, description="How often a runner claims streams, s.")
    runner_max_streams: int = Field(
        20, ge=1, le=1000, description="Streams one runner process follows at once."
    )
    webhook_poll_seconds: Positive = Field(
        1.0,
        description="How often a dispatcher looks for events to deliver to each webhook it "
        "holds, s (and how often a runner looks for webhooks no dispatcher holds: its poll).",
    )
    webhook_batch_events: int = Field(
        100, ge=1, le=1000, description="Most events in one webhook delivery (one POST)."
    )
    webhook_timeout_seconds: Positive = Field(
        10.0, description="Seconds a webhook receiver has to answer a delivery."
    )
    webhook_retry_cap_seconds: Positive = Field(
        60.0,
        description="Longest wait between two attempts at a failing webhook delivery, s "
        "(jittered exponential backoff from 1 s up to it).",
    )
    webhook_failing_after_seconds: Positive = Field(
        600.0,
        description="A webhook whose deliveries have all failed this long shows as failing; it "
        "is still retried (at the cap) and is active again after its next success.",
    )
    log_level: str = Field(
        "WARNING",
        description="Logging level: DEBUG, INFO (adds every upstream request and lifecycle "
        "step), WARNING (the default: what needs attention), ERROR.",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text, or as JSON objects with game and runner ids."
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "use an async driver URL: sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user:pass@host/db"
            )
        return value

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if value == "memory://" or (scheme in ("redis", "rediss") and sep and rest.strip("/")):
            return value
        raise ValueError("use memory:// (in-process) or redis://host:port/db (rediss:// for TLS)")

    @field_validator("kalshi_ws_url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("use a ws:// or wss:// URL")
        return value

    @field_validator("kalshi_markets")
    @classmethod
    def _event_tickers(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {game: ticker for game, ticker in value.items() if not is_event_ticker(ticker)}
        if bad:
            raise ValueError(f"not Kalshi event tickers (e.g. KXNBAGAME-26JUN13NYKSAS): {bad}")
        return value

    @field_validator("kalshi_private_key_path")
    @classmethod
    def _kalshi_key(cls, value: str, info: ValidationInfo) -> str:
        if bool(value) != bool(info.data.get("kalshi_key_id")):
            raise ValueError("set it together with PRESSBOX_KALSHI_KEY_ID (or neither)")
        if value and not Path(value).is_file():
            raise ValueError(f"no Kalshi private key file at {value}")
        return value

    @field_validator("ws_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("leagues", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("leagues")
    @classmethod
    def _supported_leagues(cls, value: list[str]) -> list[str]:
        unknown = [league for league in value if league not in PROFILES]
        if unknown or not value:
            raise ValueError(f"leagues must be some of {sorted(PROFILES)}, got {value}")
        return list(dict.fromkeys(value))

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < MIN_ADMIN_TOKEN:
            raise ValueError(f"use at least {MIN_ADMIN_TOKEN} characters (or leave it unset)")
        return value

    @field_validator("cadences")
    @classmethod
    def _known_leagues(
        cls, value: dict[str, dict[DocumentKind, float]]
    ) -> dict[str, dict[DocumentKind, float]]:
        unknown = sorted(set(value) - set(PROFILES))
        if unknown:
            raise ValueError(f"unknown league(s) {unknown}; known: {sorted(PROFILES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    def profile(self, league: str) -> SportProfile:
        """The sport profile of `league` with this configuration's cadences applied."""
        base = PROFILES[league]
        return SportProfile(
            base.sport,
            base.league,
            self.status_pregame_seconds,
            self.status_live_seconds,
            {**base.cadences, **self.cadences.get(league, {})},
        )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with `overrides` on top; ConfigError says what is wrong."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(_problem(err["loc"], err["msg"]) for err in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc
    except SettingsError as exc:
        # A JSON setting that is not JSON fails before validation; pydantic names only the field.
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"PRESSBOX_{field[1].upper()}" if field else "a PRESSBOX_ variable"
        raise ConfigError(
            f"invalid settings: {name}: not valid JSON ({exc.__cause__ or exc})"
        ) from exc


def _problem(loc: tuple[int | str, ...], msg: str) -> str:
    """`PRESSBOX_CADENCES (nfl.odds): ...`: the variable, then where inside its value."""
    inside = ".".join(str(part) for part in loc[1:] if part != "[key]")
    return f"PRESSBOX_{str(loc[0]).upper()}{f' ({inside})' if inside else ''}: {msg}"
