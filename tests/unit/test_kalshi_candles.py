"""Recorded Kalshi candles as a replay source: the candle CSV and candlestick JSON loaders (real
files), their validation, the pairing with a replayed game (also when the replay moves it), and
what the fake Kalshi answers for it at replay time, read back through our own Kalshi parsers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pressbox.domain.kalshi import Candlesticks, EventDoc, MarketDoc, MarketsPage, parse
from pressbox.errors import RecordingError
from pressbox.replay.candles import load_candles
from pressbox.replay.kalshi import KalshiData, rest_reply
from pressbox.replay.kalshi_event import ReplayedEvent
from pressbox.replay.plan import plan_replay

EVENT = "KXNBAGAME-25MAY31NYKIND"
NYK, IND = f"{EVENT}-NYK", f"{EVENT}-IND"
CSV_NAME = f"kalshi_{NYK}_1min_candles.csv"
HEADER = "game_id,ticker,timestamp,datetime,open,high,low,close,volume\n"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def csv_file(recordings_dir: Path) -> Path:
    return recordings_dir / "kalshi" / "plourr03-in-game-trading" / CSV_NAME


@pytest.fixture(scope="module")
def summary(recordings_dir: Path) -> Path:
    return recordings_dir / "games" / "nba-401772994" / "summary.json"


@pytest.fixture(scope="module")
def event(summary: Path) -> ReplayedEvent:
    (found,) = plan_replay([summary]).markets  # found beside the game by its event ticker
    return found


def test_the_real_csv_loads_every_row_and_skips_minutes_without_a_trade(csv_file: Path) -> None:
    candles = load_candles(csv_file)
    assert (candles.ticker, candles.event_ticker, candles.team) == (NYK, EVENT, "NYK")
    assert candles.period == timedelta(minutes=1) and candles.derived_from is None
    assert len(candles.candles) == 1214  # every row
    assert len(candles.priced) == 1113
    assert candles.candles[0].end == at("2025-05-31T00:00:00")
    assert candles.candles[-1].end == at("2025-06-01T02:45:00")
    empty = [c for c in candles.candles if not c.priced]
    assert len(empty) == 101
    assert all(c.price is None and c.volume == 0 for c in empty)
    first = candles.candles[0]
    assert first.price is not None and first.price.close == Decimal(39)  # cents, as recorded
    assert first.volume == 365 and first.yes_bid is None and first.yes_ask is None


def test_the_price_at_a_time_is_the_last_trade_known_then(csv_file: Path) -> None:
    candles = load_candles(csv_file)
    assert candles.price_at(at("2025-05-30T23:59:59")) is None  # before the first candle ended
    assert candles.price_at(at("2025-05-31T00:00:00")) == 39
    assert candles.price_at(at("2025-06-01T01:04:00")) == 32
    assert candles.price_at(at("2025-06-01T01:34:00")) == 17
    assert candles.price_at(at("2025-06-01T02:04:00")) == 7
    assert candles.price_at(at("2025-06-01T02:24:00")) == 1
    # 00:15 had no trade: the price stays the 00:14 close; a candle counts once it has ended.
    assert not next(c for c in candles.candles if c.end == at("2025-05-31T00:15:00")).priced
    assert candles.price_at(at("2025-05-31T00:15:00")) == candles.price_at(
        at("2025-05-31T00:14:00")
    )
    assert candles.price_at(at("2025-06-01T00:10:59")) == 45  # the 00:10 candle's close
    assert candles.price_at(at("2025-06-01T00:09:59")) == 41


def test_the_candlestick_json_reads_dollar_strings_in_cents(recordings_dir: Path) -> None:
    path = recordings_dir / "kalshi" / "zane180-nba-market-engine" / "kalshi_candlesticks.json"
    candles = load_candles(path)
    assert candles.ticker == "KXNBAGAME-26JUN13NYKSAS-SAS"
    assert candles.period == timedelta(hours=1) and len(candles.candles) == 3
    first = candles.candles[0]
    assert first.price is not None and first.yes_bid is not None and first.yes_ask is not None
    assert (first.price.open, first.price.close) == (Decimal(65), Decimal(64))
    assert (first.yes_bid.close, first.yes_ask.close) == (Decimal(64), Decimal(65))
    assert first.volume == Decimal("73570.84")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,{t},1748649660,x,39,39,39,abc,5", "line 3: close is not a number: 'abc'"),
        ("1,{t},1748649660,x,39,39,39,,5", "all given or all empty"),
        ("1,{t},1748649660,x,,,,,5", "a volume of 5 without a price"),
        ("1,{t},1748649660,x,39,39,39,140,5", "close must be a price in cents within 0..100"),
        ("1,{t},1748649660,x,39,38,39,39,5", "between low and high"),
        ("1,{t},2025-05-31,x,39,39,39,39,5", "timestamp must be Unix seconds"),
        ("1,{t},1748649660,x,39,39,39,39", "expected 9 fields"),
        ("1,{t}X,1748649660,x,39,39,39,39,5", "another market"),
        ("1,{t},1748649600,x,39,39,39,39,5", "out of order"),
    ],
)
def test_a_malformed_row_names_the_file_and_the_line(
    tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "candles.csv"
    good = f"1,{NYK},1748649600,x,39,39,39,39,365\n"
    path.write_text(HEADER + good + row.format(t=NYK) + "\n")
    with pytest.raises(RecordingError) as caught:
        load_candles(path)
    assert str(path) in str(caught.value) and message in str(caught.value)
    if "out of order" not in message:
        assert "line 3" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ticker,timestamp,close\n", "not a Kalshi candle CSV (no column open, high, low, volume)"),
        (HEADER, "without a row"),
        (HEADER + "1,NOTATICKER,1748649600,x,1,1,1,1,1\n", "not a Kalshi game market ticker"),
        ('{"markets": []}', "not a Kalshi candlestick document"),
        ('{"ticker": "T", "candlesticks": [{"end_period_ts": "x"}]}', "unexpected shape"),
    ],
)
def test_a_file_of_another_shape_says_what_is_supported(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "market.csv"
    path.write_text(text)
    with pytest.raises(RecordingError) as caught:
        load_candles(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_the_other_team_is_derived_as_100_minus_and_says_so(event: ReplayedEvent) -> None:
    nyk, ind = event.market(NYK), event.market(IND)
    assert nyk is not None and ind is not None
    assert (nyk.derived_from, ind.derived_from) == (None, NYK)
    for mine, other in zip(nyk.candles, ind.candles, strict=True):
        assert mine.end == other.end and mine.priced == other.priced
        if mine.price is not None and other.price is not None:
            assert (other.price.close, other.price.high, other.price.low) == (
                100 - mine.price.close,
                100 - mine.price.low,
                100 - mine.price.high,
            )
        assert other.volume is None  # the IND market's trades are not recorded
    doc = event.market_doc(ind, at("2025-06-01T01:04:00"))
    assert doc["last_price"] == 68 and doc["last_price_dollars"] == "0.6800"
    assert doc["pressbox_derived_from"] == NYK and "derived as 100" in doc["pressbox_note"]
    assert "volume" not in doc and "yes_bid" not in doc


def test_the_fake_answers_in_kalshis_shapes_as_of_replay_time(event: ReplayedEvent) -> None:
    data = KalshiData(replayed=[event])
    now = at("2025-06-01T01:04:30")

    def get(path: str, **query: str) -> bytes:
        reply = rest_reply(data, path, query, now)
        assert reply.status == 200, reply.body
        return reply.body

    page = parse(MarketsPage, get("/markets", event_ticker=EVENT), "markets")
    prices = {m.ticker: m.last_price for m in page.markets}
    assert prices == {NYK: Decimal("0.32"), IND: Decimal("0.68")}
    nyk = parse(MarketDoc, get(f"/markets/{NYK}"), "market").market
    assert nyk.status == "active" and nyk.yes_bid is None and nyk.volume == 2983167
    found = parse(EventDoc, get(f"/events/{EVENT}"), "event")
    assert found.event.sub_title == "NYK at IND (May 31)"
    assert {m.ticker for m in found.all_markets} == {NYK, IND}
    start, end = (
        int(at("2025-06-01T00:00:00").timestamp()),
        int(at("2025-06-02T00:00:00").timestamp()),
    )
    path = f"/series/KXNBAGAME/markets/{NYK}/candlesticks"
    body = get(path, start_ts=str(start), end_ts=str(end), period_interval="1")
    candles = parse(Candlesticks, body, "candlesticks").candlesticks
    assert candles[0].end == at("2025-06-01T00:00:00")
    assert candles[-1].end == at("2025-06-01T01:04:00")  # none after replay time
    assert candles[-1].price.close == Decimal("0.32") and candles[-1].yes_bid.close is None
    query = {"start_ts": "0", "end_ts": str(end), "period_interval": "60"}
    hourly = rest_reply(data, path, query, now)
    assert hourly.status == 400 and b"period_interval=1" in hourly.body
    assert rest_reply(data, f"/markets/{NYK}/orderbook", {}, now).status == 404  # not recorded
    later = parse(MarketDoc, rest_reply(data, f"/markets/{IND}", {}, at("2025-06-02")).body, "m")
    assert later.market.status == "closed" and later.market.last_price == Decimal("0.99")


def test_a_ticker_frame_comes_at_each_candle_with_a_trade(event: ReplayedEvent) -> None:
    frames = event.ticker_frames()
    assert len(frames) == 2 * 1113
    assert [moment for moment, _ in frames] == sorted(moment for moment, _ in frames)
    moment, msg = next(f for f in frames if f[1]["market_ticker"] == NYK)
    assert msg == {
        "market_ticker": NYK,
        "price": 39,
        "price_dollars": "0.3900",
        "volume": 365,
        "volume_fp": "365.00",
        "ts": int(moment.timestamp()),
    }


def test_a_staggered_game_moves_its_market_and_takes_its_new_date(
    recordings_dir: Path, summary: Path, event: ReplayedEvent
) -> None:
    other = recordings_dir / "games" / "nba-401468642" / "summary.json"  # 2022-12-24T01:00Z
    plan = plan_replay([other, summary], stagger=timedelta(minutes=20))
    (moved,) = plan.markets  # Dallas at Houston has no market file
    (_, record) = plan.records
    delta = record.start_time - at("2025-06-01T00:00:00")
    assert moved.event_ticker == "KXNBAGAME-22DEC23NYKIND"  # Eastern date of the moved tip
    assert moved.recorded_event == EVENT
    ind = moved.market("KXNBAGAME-22DEC23NYKIND-IND")
    assert ind is not None and ind.derived_from == "KXNBAGAME-22DEC23NYKIND-NYK"
    original = event.market(NYK)
    shifted = moved.market("KXNBAGAME-22DEC23NYKIND-NYK")
    assert original is not None and shifted is not None
    assert [c.end - delta for c in shifted.candles] == [c.end for c in original.candles]
    moment = at("2025-06-01T01:34:00")
    assert shifted.price_at(moment + delta) == original.price_at(moment) == 17


def test_a_market_file_is_paired_only_with_its_game(
    recordings_dir: Path, csv_file: Path, tmp_path: Path
) -> None:
    other = recordings_dir / "games" / "nba-401468642" / "summary.json"
    with pytest.raises(RecordingError) as caught:
        plan_replay([other], kalshi=[csv_file])
    message = str(caught.value)
    assert str(csv_file) in message and NYK in message
    assert "401468642 (DAL @ HOU, event KXNBAGAME-22DEC23DALHOU)" in message
    # Both sides recorded: nothing is derived.
    ind_file = tmp_path / "ind.json"
    rows = [
        {"end_period_ts": 1748736000, "price": {"close": 61, "open": 61, "high": 61, "low": 61}}
    ]
    ind_file.write_text(json.dumps({"ticker": IND, "candlesticks": rows}))
    summary = recordings_dir / "games" / "nba-401772994" / "summary.json"
    (both,) = plan_replay([summary], kalshi=[csv_file, ind_file]).markets
    assert [m.derived_from for m in both.markets] == [None, None]
    with pytest.raises(RecordingError, match="given twice"):
        plan_replay([summary], kalshi=[csv_file, csv_file])
    assert plan_replay([summary], find_markets=False).markets == []
