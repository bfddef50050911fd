"""Game <-> market mapping on real ESPN scoreboards and the real Kalshi event; price math."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pressbox.config import load_settings
from pressbox.domain.kalshi import Market, MarketsPage, parse
from pressbox.domain.market import (
    EventTicker,
    MarketGame,
    Side,
    guess_markets,
    implied_home,
    is_event_ticker,
    kalshi_code,
    match_game,
    override_markets,
    parse_event_ticker,
    point,
    point_of_market,
    resolve_markets,
    yes_price,
)
from pressbox.domain.market_events import MarketState, MarketStatus
from pressbox.domain.scoreboard import parse_scoreboard
from pressbox.errors import ConfigError

EVENT = "KXNBAGAME-26JUN13NYKSAS"
SAS, NYK = f"{EVENT}-SAS", f"{EVENT}-NYK"
#: Game 5, New York at San Antonio: 8:30 pm Eastern on June 13 is 00:30Z on June 14.
FINALS_G5 = MarketGame(
    "finals-g5",
    "nba",
    datetime(2026, 6, 14, 0, 30, tzinfo=UTC),
    home="SA",
    away="NY",
    home_name="San Antonio Spurs",
    away_name="New York Knicks",
)


@pytest.fixture(scope="module")
def site_api(recordings_dir: Path) -> Path:
    return recordings_dir / "espn-docs" / "site-api"


@pytest.fixture(scope="module")
def finals_markets(recordings_dir: Path) -> list[Market]:
    raw = (
        recordings_dir / "kalshi" / "zane180-nba-market-engine" / "kalshi_markets.json"
    ).read_bytes()
    return parse(MarketsPage, raw, "markets").markets


def test_event_ticker_parses_date_and_away_then_home() -> None:
    parsed = parse_event_ticker(EVENT)
    assert parsed == EventTicker("KXNBAGAME", date(2026, 6, 13), away="NYK", home="SAS")
    assert str(parsed) == EVENT
    assert parsed.market("SAS") == SAS
    assert parse_event_ticker("KXNBAGAME-25JAN28LALBOS").home == "BOS"


def test_event_ticker_variants() -> None:
    nfl = parse_event_ticker("KXNFLGAME-26JAN10GBCHI", ["GB", "CHI"])
    assert (nfl.away, nfl.home) == ("GB", "CHI")
    one_hint = parse_event_ticker("KXNFLGAME-25NOV30LACAR", ["CAR"])
    assert (one_hint.away, one_hint.home) == ("LA", "CAR")
    timed = parse_event_ticker("KXMLBGAME-26MAY291845SDWSH", ["SD", "WSH"])
    assert (timed.time, timed.away, timed.home, timed.date) == (
        "1845",
        "SD",
        "WSH",
        date(2026, 5, 29),
    )
    assert str(timed) == "KXMLBGAME-26MAY291845SDWSH"
    with pytest.raises(ValueError, match="teams"):
        parse_event_ticker("KXNFLGAME-26JAN10GBCHI")  # odd length, no hints: ambiguous
    for bad in ("KXNBAGAME-26XYZ13NYKSAS", "NBA-26JUN13NYKSAS", "KXNBAGAME-26JUN32NYKSAS", ""):
        with pytest.raises(ValueError):
            parse_event_ticker(bad)
        assert not is_event_ticker(bad)
    assert is_event_ticker(EVENT)
    assert not is_event_ticker(EVENT.lower())


@pytest.mark.parametrize(
    ("espn", "kalshi"),
    [("GS", "GSW"), ("NY", "NYK"), ("SA", "SAS"), ("NO", "NOP"), ("UTAH", "UTA"), ("WSH", "WAS")],
)
def test_nba_abbreviations_differing_between_espn_and_kalshi(espn: str, kalshi: str) -> None:
    assert kalshi_code("nba", espn) == kalshi
    assert kalshi_code("nba", "PHX") == "PHX" and kalshi_code("nba", "bkn") == "BKN"


def test_tickers_built_for_every_game_of_the_real_nba_scoreboard(site_api: Path) -> None:
    board = parse_scoreboard(
        (site_api / "nba_scoreboard_20241215.json").read_bytes(), "basketball", "nba"
    )
    built = {game.short_name: guess_markets(MarketGame.of(game)) for game in board.games}
    # Late games start on December 16 in UTC: the ticker carries the US Eastern date.
    assert {name: m.event_ticker for name, m in built.items()} == {
        "NO @ IND": "KXNBAGAME-24DEC15NOPIND",
        "BOS @ WSH": "KXNBAGAME-24DEC15BOSWAS",
        "NY @ ORL": "KXNBAGAME-24DEC15NYKORL",
        "MIN @ SA": "KXNBAGAME-24DEC15MINSAS",
        "POR @ PHX": "KXNBAGAME-24DEC15PORPHX",
        "DAL @ GS": "KXNBAGAME-24DEC15DALGSW",
        "MEM @ LAL": "KXNBAGAME-24DEC15MEMLAL",
    }
    dal_gs = built["DAL @ GS"]
    assert (dal_gs.home_ticker, dal_gs.away_ticker) == (
        "KXNBAGAME-24DEC15DALGSW-GSW",
        "KXNBAGAME-24DEC15DALGSW-DAL",
    )
    assert built["NY @ ORL"].away_ticker == "KXNBAGAME-24DEC15NYKORL-NYK"
    assert {m.source for m in built.values()} == {"guess"}
    for markets in built.values():  # what we build, we can read back
        parsed = parse_event_ticker(markets.event_ticker)
        assert parsed.market(parsed.home) == markets.home_ticker


def test_pregame_finals_board_builds_the_eastern_date(site_api: Path) -> None:
    board = parse_scoreboard(
        (site_api / "generic_basketball_nba_scoreboard.json").read_bytes(), "basketball", "nba"
    )
    (game,) = board.games  # IND @ OKC, 00:30Z on June 6 = June 5 Eastern
    assert guess_markets(MarketGame.of(game)).event_ticker == "KXNBAGAME-25JUN05INDOKC"


def test_the_real_finals_event_is_matched_with_each_side(finals_markets: list[Market]) -> None:
    found = match_game(FINALS_G5, finals_markets)
    assert found is not None
    assert (found.event_ticker, found.home_ticker, found.away_ticker, found.source) == (
        EVENT,
        SAS,
        NYK,
        "kalshi",
    )
    assert (found.side_of(SAS), found.side_of(NYK), found.side_of("X")) == (
        Side.HOME,
        Side.AWAY,
        None,
    )


def test_a_real_event_carries_no_notes_and_a_derived_market_says_so(
    finals_markets: list[Market],
) -> None:
    real = match_game(FINALS_G5, finals_markets)
    assert real is not None and real.notes == ()
    derived = [
        m.model_copy(update={"pressbox_note": "derived as 100 − the other"})
        if m.ticker == SAS
        else m
        for m in finals_markets
    ]
    found = match_game(FINALS_G5, derived)
    assert found is not None and found.notes == (f"{SAS}: derived as 100 − the other",)
    status = MarketStatus.of(MarketState.LIVE, found)
    assert MarketStatus.from_json(status.to_json()) == status


def test_matching_by_team_names_when_codes_differ(finals_markets: list[Market]) -> None:
    odd_codes = MarketGame(
        "g", "nba", FINALS_G5.start, "SPURS", "KNICKS", "San Antonio Spurs", "New York Knicks"
    )
    found = match_game(odd_codes, finals_markets)
    assert found is not None and (found.home_ticker, found.away_ticker) == (SAS, NYK)


def test_no_match_on_another_day_or_league_falls_back_to_the_guess(
    finals_markets: list[Market],
) -> None:
    next_day = MarketGame("g", "nba", datetime(2026, 6, 15, 0, 30, tzinfo=UTC), "SA", "NY")
    assert match_game(next_day, finals_markets) is None
    assert resolve_markets(next_day, finals_markets).event_ticker == "KXNBAGAME-26JUN14NYKSAS"
    nfl = MarketGame("g", "nfl", FINALS_G5.start, "SA", "NY")
    assert match_game(nfl, finals_markets) is None
    other_teams = MarketGame("g", "nba", FINALS_G5.start, "BOS", "LAL", "Boston", "Los Angeles")
    assert match_game(other_teams, finals_markets) is None
    assert resolve_markets(FINALS_G5, finals_markets).source == "kalshi"


def test_override_wins_and_sides_come_from_markets_or_the_ticker(
    finals_markets: list[Market],
) -> None:
    bare = override_markets(FINALS_G5, EVENT)
    assert (bare.home_ticker, bare.away_ticker, bare.source) == (SAS, NYK, "override")
    listed = resolve_markets(FINALS_G5, finals_markets, override=EVENT)
    assert (listed.home_ticker, listed.away_ticker, listed.source) == (SAS, NYK, "override")


def test_the_kalshi_settings_are_validated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("PRESSBOX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PRESSBOX_KALSHI_MARKETS", '{"401736812": "KXNBAGAME-24DEC15MINSAS"}')
    assert load_settings().kalshi_markets == {"401736812": "KXNBAGAME-24DEC15MINSAS"}
    monkeypatch.setenv("PRESSBOX_KALSHI_MARKETS", '{"401736812": "MIN at SA"}')
    with pytest.raises(ConfigError, match="PRESSBOX_KALSHI_MARKETS"):
        load_settings()
    monkeypatch.delenv("PRESSBOX_KALSHI_MARKETS")
    monkeypatch.setenv("PRESSBOX_KALSHI_KEY_ID", "key-1")
    with pytest.raises(ConfigError, match="PRESSBOX_KALSHI_PRIVATE_KEY_PATH"):
        load_settings()
    monkeypatch.setenv("PRESSBOX_KALSHI_PRIVATE_KEY_PATH", "/nonexistent/key.pem")
    with pytest.raises(ConfigError, match="no Kalshi private key file"):
        load_settings()
    monkeypatch.setenv("PRESSBOX_KALSHI_WS_URL", "https://example.test/ws")
    with pytest.raises(ConfigError, match="PRESSBOX_KALSHI_WS_URL"):
        load_settings()


def d(text: str) -> Decimal:
    return Decimal(text)


def test_yes_price_prefers_a_narrow_book_then_the_last_trade() -> None:
    assert yes_price(d("0.64"), d("0.65"), d("0.50")) == d("0.645")
    assert yes_price(d("0.30"), d("0.70"), d("0.52")) == d("0.52")  # wide: the last trade
    assert yes_price(d("0.30"), d("0.70"), None) == d("0.50")
    assert yes_price(d("0"), d("1"), d("0.01")) == d("0.01")  # empty book (settled)
    assert yes_price(None, None, d("0.99")) == d("0.99")
    assert yes_price(None, None, None) is None


def test_implied_home_from_either_side() -> None:
    assert implied_home(Side.HOME, d("0.645")) == d("0.645")
    assert implied_home(Side.AWAY, d("0.645")) == d("0.355")
    assert implied_home(Side.AWAY, None) is None
    at = datetime(2026, 6, 12, 22, tzinfo=UTC)
    home = point(SAS, Side.HOME, at, d("0.64"), d("0.65"), d("0.64"), d("73570.84"))
    away = point(NYK, Side.AWAY, at, d("0.35"), d("0.36"), d("0.36"), None)
    assert (home.bid, home.ask, home.last, home.implied_home) == (0.64, 0.65, 0.64, 0.645)
    assert away.implied_home == 0.645 and away.side is Side.AWAY
    assert home.to_json() == {
        "ticker": SAS,
        "time": "2026-06-12T22:00:00+00:00",
        "side": "home",
        "bid": 0.64,
        "ask": 0.65,
        "last": 0.64,
        "implied_home": 0.645,
        "volume": 73570.84,
    }


def test_both_settled_recorded_markets_imply_the_same_home_probability(
    finals_markets: list[Market],
) -> None:
    at = datetime(2026, 6, 14, 3, 32, tzinfo=UTC)
    by_ticker = {m.ticker: m for m in finals_markets}
    from_home = point_of_market(by_ticker[SAS], Side.HOME, at)
    from_away = point_of_market(by_ticker[NYK], Side.AWAY, at)
    assert from_home.implied_home == pytest.approx(0.01)
    assert from_away.implied_home == pytest.approx(0.01)
    assert (from_home.last, from_away.last) == (0.01, 0.99)
    assert from_away.volume == 107027102.30
