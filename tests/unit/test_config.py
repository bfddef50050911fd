"""Settings: defaults, PRESSBOX_ variables, refusals naming the variable, the README table."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pressbox.config import Settings, load_settings
from pressbox.domain.documents import DocumentKind
from pressbox.domain.sports import PROFILES
from pressbox.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No PRESSBOX_ variable of the caller's shell and no stray `.env` reach these tests."""
    for name in list(os.environ):
        if name.upper().startswith("PRESSBOX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


def test_defaults_are_the_embedded_ones() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///pressbox.db"
    assert str(settings.espn_core_url).rstrip("/") == "https://sports.core.api.espn.com"
    assert (settings.espn_rate, settings.espn_burst, settings.http_timeout) == (1.0, 5, 10.0)
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.status_pregame_seconds, settings.status_live_seconds) == (20.0, 30.0)
    assert settings.cadences == {}
    assert (settings.retry_cap_seconds, settings.stall_hours, settings.max_stream_hours) == (
        60.0,
        3.0,
        12.0,
    )
    assert (settings.ws_heartbeat_seconds, settings.replay_speed) == (15.0, 60.0)
    assert settings.log_level == "WARNING"


def test_prefixed_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOX_DATABASE_URL", "postgresql+asyncpg://u:p@db.local/pressbox")
    monkeypatch.setenv("PRESSBOX_ESPN_CORE_URL", "http://127.0.0.1:9123")
    monkeypatch.setenv("PRESSBOX_ESPN_RATE", "0.5")
    monkeypatch.setenv("PRESSBOX_PORT", "9000")
    monkeypatch.setenv("PRESSBOX_CADENCES", '{"nfl": {"plays": 8}}')
    monkeypatch.setenv("PRESSBOX_LOG_LEVEL", "debug")
    monkeypatch.setenv("ESPN_RATE", "99")  # unprefixed: not ours
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db.local/pressbox"
    assert str(settings.espn_core_url).rstrip("/") == "http://127.0.0.1:9123"
    assert (settings.espn_rate, settings.port) == (0.5, 9000)
    assert settings.cadences == {"nfl": {DocumentKind.PLAYS: 8.0}}
    assert settings.log_level == "DEBUG"


def test_a_dotenv_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PRESSBOX_PORT=8123\nPRESSBOX_HOST=0.0.0.0\n")
    monkeypatch.setenv("PRESSBOX_HOST", "127.0.0.2")
    settings = load_settings()
    assert (settings.port, settings.host) == (8123, "127.0.0.2")


def test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOX_PORT", "9000")
    assert load_settings(port=9001).port == 9001


def refusal(**env: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigError) as refused:
            load_settings()
    return str(refused.value)


@pytest.mark.parametrize("url", ["sqlite:///pressbox.db", "postgresql://u:p@h/db", "pressbox.db"])
def test_a_sync_driver_url_is_refused(url: str) -> None:
    message = refusal(PRESSBOX_DATABASE_URL=url)
    assert "PRESSBOX_DATABASE_URL" in message and "async driver" in message


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "valid dictionary"),
        ('{"mlb": {"plays": 8}}', "unknown league(s) ['mlb']"),
        ('{"nfl": {"odds": 8}}', "(nfl.odds)"),
        ('{"nfl": {"plays": 0}}', "(nfl.plays): Input should be greater than 0"),
    ],
)
def test_bad_cadences_are_refused_naming_the_variable(value: str, says: str) -> None:
    message = refusal(PRESSBOX_CADENCES=value)
    assert "PRESSBOX_CADENCES" in message and says in message
    # Only variables that exist are named: no PRESSBOX_CADENCES_NFL_... inventions.
    named = set(re.findall(r"PRESSBOX_[A-Z_]+", message))
    assert named == {"PRESSBOX_CADENCES"}


@pytest.mark.parametrize("level", ["verbose", "", "TRACE"])
def test_a_bad_log_level_is_refused(level: str) -> None:
    message = refusal(PRESSBOX_LOG_LEVEL=level)
    assert "PRESSBOX_LOG_LEVEL" in message and "DEBUG, INFO, WARNING or ERROR" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PRESSBOX_ESPN_RATE", "0"),
        ("PRESSBOX_ESPN_BURST", "0"),
        ("PRESSBOX_PORT", "70000"),
        ("PRESSBOX_RETRY_CAP_SECONDS", "0"),
        ("PRESSBOX_ESPN_CORE_URL", "not a url"),
        ("PRESSBOX_MAX_STREAM_HOURS", "-1"),
        ("PRESSBOX_ESPN_BLOCK_MINUTES", "0"),
    ],
)
def test_unsafe_numbers_and_urls_are_refused(name: str, value: str) -> None:
    assert name in refusal(**{name: value})


def test_a_guessable_admin_token_is_refused_and_a_good_one_never_shows() -> None:
    message = refusal(PRESSBOX_ADMIN_TOKEN="hunter2")
    assert "PRESSBOX_ADMIN_TOKEN" in message and "at least 16 characters" in message
    assert "hunter2" not in message
    assert load_settings().admin_token.get_secret_value() == ""  # unset: operations refused
    token = "a-long-operator-token-4f9c"
    settings = load_settings(admin_token=token)
    assert settings.admin_token.get_secret_value() == token
    assert token not in repr(settings) and token not in str(settings.model_dump())


def test_every_problem_is_named_at_once() -> None:
    message = refusal(PRESSBOX_LOG_LEVEL="loud", PRESSBOX_PORT="0")
    assert "PRESSBOX_LOG_LEVEL" in message and "PRESSBOX_PORT" in message


def test_profile_applies_per_league_cadence_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOX_CADENCES", '{"nfl": {"plays": 8, "leaders": 120}}')
    monkeypatch.setenv("PRESSBOX_STATUS_LIVE_SECONDS", "12")
    settings = load_settings()
    nfl = settings.profile("nfl")
    assert nfl.cadence(DocumentKind.PLAYS) == 8.0
    assert nfl.cadence(DocumentKind.LEADERS) == 120.0
    seed = PROFILES["nfl"].cadences
    assert nfl.cadence(DocumentKind.SITUATION) == seed[DocumentKind.SITUATION]
    assert nfl.status_cadence_live == 12.0
    assert nfl.status_cadence_pregame == 20.0
    # Another league keeps its seed cadences, and the seed itself is untouched.
    assert settings.profile("college-football").cadences == PROFILES["college-football"].cadences
    assert seed[DocumentKind.PLAYS] == 10.0


def readme_settings() -> dict[str, str]:
    """`PRESSBOX_*` variable -> its default, from the Settings table of README.md."""
    rows = re.findall(r"^\| `(PRESSBOX_[A-Z_]+)` \| `([^`]*)` \|", README.read_text(), re.M)
    return dict(rows)


def test_every_setting_is_in_the_readme_table_and_nothing_else() -> None:
    documented = readme_settings()
    fields = {f"PRESSBOX_{name.upper()}" for name in Settings.model_fields}
    assert set(documented) == fields


def test_the_readme_defaults_are_the_real_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    for variable, documented in readme_settings().items():
        monkeypatch.setenv(variable, documented)
    assert load_settings() == defaults
