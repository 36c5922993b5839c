"""Quote feeds: the seeded random walk and CSV replay."""

from decimal import Decimal
from pathlib import Path

import pytest

from tradewire.domain.ids import InstrumentId, VenueId
from tradewire.venues.paper import DEFAULT_INSTRUMENTS, QuoteFileError
from tradewire.venues.paper.feed import CsvQuoteFeed, RandomWalkFeed

from .support import START, make_venue, write_quotes

CATALOG = {InstrumentId(s.instrument_id): s.to_instrument(VenueId("paper")) for s in DEFAULT_INSTRUMENTS}


def walk(seed: int, steps: int) -> list[tuple[InstrumentId, Decimal, Decimal]]:
    feed = RandomWalkFeed(DEFAULT_INSTRUMENTS, seed=seed, depth=5, now=START, saved={})
    quotes = []
    for _ in range(steps):
        for book in feed.step(START):
            top = book.top()
            assert top is not None
            quotes.append((book.instrument, top.bid, top.ask))
    return quotes


def test_the_same_seed_gives_the_same_quotes() -> None:
    assert walk(42, 50) == walk(42, 50)


def test_a_different_seed_gives_different_quotes() -> None:
    assert walk(1, 50) != walk(2, 50)


def test_walk_prices_stay_on_the_tick_grid_with_the_configured_spread_and_depth() -> None:
    feed = RandomWalkFeed(DEFAULT_INSTRUMENTS, seed=3, depth=5, now=START, saved={})
    by_id = {s.instrument_id: s for s in DEFAULT_INSTRUMENTS}
    for _ in range(200):
        for book in feed.step(START):
            simulated = by_id[book.instrument]
            tick = simulated.tick_size
            assert len(book.asks) == 5
            assert book.asks[0].price - book.bids[0].price == simulated.spread_ticks * tick
            for level in book.bids + book.asks:
                assert level.price % tick == 0
                assert level.price > 0
                assert level.size % simulated.level_quantity == 0
            assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
            assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)


def test_the_mid_moves_by_at_most_the_volatility_in_whole_ticks() -> None:
    feed = RandomWalkFeed(DEFAULT_INSTRUMENTS, seed=9, depth=1, now=START, saved={})
    by_id = {s.instrument_id: s for s in DEFAULT_INSTRUMENTS}
    previous = {i: b.bids[0].price for i, b in feed.books().items()}
    for _ in range(100):
        for book in feed.step(START):
            simulated = by_id[book.instrument]
            move = (book.bids[0].price - previous[book.instrument]) / simulated.tick_size
            assert move == move.to_integral_value()
            assert abs(move) <= simulated.volatility_ticks
            previous[book.instrument] = book.bids[0].price


def test_the_walk_starts_at_the_start_price() -> None:
    venue, _ = make_venue()
    quote = venue.current_quote(InstrumentId("EURUSD"))

    assert quote is not None
    assert quote.mid == Decimal("1.08500")


async def test_a_reopened_venue_continues_from_the_last_mid(tmp_path: Path) -> None:
    path = tmp_path / "venue.sqlite"
    first, _ = make_venue(path=path, seed=5)
    await first.step(30)
    last = first.current_quote(InstrumentId("BTC/USDT"))
    await first.close()

    second, _ = make_venue(path=path, seed=5)
    reopened = second.current_quote(InstrumentId("BTC/USDT"))

    assert last is not None
    assert reopened is not None
    assert reopened.mid == last.mid
    assert reopened.mid != Decimal("65000.00")


def test_a_csv_feed_replays_one_timestamp_per_step_in_order(tmp_path: Path) -> None:
    path = write_quotes(
        tmp_path / "q.csv",
        [
            "2026-01-05T14:30:00Z,AAPL,99.99,100.01,100,200",
            "2026-01-05T14:30:00Z,EURUSD,1.08500,1.08502,100000,100000",
            "2026-01-05T15:30:01+01:00,AAPL,100.00,100.02,300,400",
        ],
    )
    feed = CsvQuoteFeed(path, CATALOG, {})
    assert set(feed.books()) == {"AAPL", "EURUSD"}

    [book] = feed.step(START)

    assert book.instrument == "AAPL"
    assert (book.bids[0].price, book.asks[0].size) == (Decimal("100.00"), Decimal(400))
    assert book.ts_event.utcoffset() is not None
    assert book.ts_event.isoformat() == "2026-01-05T14:30:01+00:00"
    assert feed.step(START) == []
    assert feed.books()[InstrumentId("AAPL")] == book


def test_a_reopened_csv_feed_continues_after_the_last_replayed_row(tmp_path: Path) -> None:
    path = write_quotes(
        tmp_path / "q.csv",
        [
            "2026-01-05T14:30:00Z,AAPL,99.99,100.01,100,200",
            "2026-01-05T14:30:01Z,AAPL,100.00,100.02,100,200",
            "2026-01-05T14:30:02Z,AAPL,100.01,100.03,100,200",
        ],
    )
    feed = CsvQuoteFeed(path, CATALOG, {})
    feed.step(START)

    again = CsvQuoteFeed(path, CATALOG, feed.state())

    assert again.books() == feed.books()
    [book] = again.step(START)
    assert book.bids[0].price == Decimal("100.01")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2026-01-05T14:30:01Z,AAPL,abc,100.01,100,100", "bid 'abc' is not a number"),
        ("yesterday,AAPL,99.99,100.01,100,100", "ts 'yesterday' is not an ISO-8601 time"),
        ("2026-01-05T14:30:01,AAPL,99.99,100.01,100,100", "has no UTC offset"),
        ("2026-01-05T14:30:01Z,XYZ,99.99,100.01,100,100", "unknown instrument 'XYZ'"),
        ("2026-01-05T14:30:01Z,AAPL,99.99,100.01,100", "expected 6 columns, got 5"),
        ("2026-01-05T14:30:01Z,AAPL,99.995,100.01,100,100", "not on the tick size"),
        ("2026-01-05T14:30:01Z,AAPL,100.01,99.99,100,100", "is not below ask"),
        ("2026-01-05T14:30:01Z,AAPL,99.99,100.01,0,100", "bid_size '0' must be positive"),
        ("2026-01-05T14:29:00Z,AAPL,99.99,100.01,100,100", "timestamps go backwards"),
        ("2026-01-05T14:30:01Z,AAPL,99.99,NaN,100,100", "ask 'NaN' is not a number"),
    ],
)
def test_a_malformed_csv_row_is_refused_with_an_error_naming_its_line(
    tmp_path: Path, row: str, problem: str
) -> None:
    path = write_quotes(tmp_path / "q.csv", ["2026-01-05T14:30:00Z,AAPL,99.99,100.01,100,100", row])

    with pytest.raises(QuoteFileError) as raised:
        CsvQuoteFeed(path, CATALOG, {})

    assert raised.value.line == 3
    assert problem in str(raised.value)
    assert "line 3" in str(raised.value)


def test_a_csv_without_the_expected_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("time,symbol,bid,ask\n")

    with pytest.raises(QuoteFileError, match="line 1: the header must be"):
        CsvQuoteFeed(path, CATALOG, {})


def test_a_venue_built_on_a_bad_csv_fails_at_start(tmp_path: Path) -> None:
    path = write_quotes(tmp_path / "q.csv", ["2026-01-05T14:30:00Z,AAPL,x,100.01,100,100"])

    with pytest.raises(QuoteFileError, match="line 2"):
        make_venue(quotes_csv=path)
