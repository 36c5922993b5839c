"""The pure matching rules, one by one, against hand-built books."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import msgspec
import pytest

from tradewire.domain.enums import (
    LiquiditySide,
    OrderType,
    Side,
    TimeInForce,
    VenueOrderStatus,
)
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.instruments import Instrument
from tradewire.domain.values import normalize
from tradewire.venues.paper.catalog import DEFAULT_INSTRUMENTS
from tradewire.venues.paper.matching import (
    Book,
    Level,
    PaperOrder,
    fee,
    match_order,
    next_day_close,
)

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
CATALOG = {s.instrument_id: s.to_instrument(VenueId("paper")) for s in DEFAULT_INSTRUMENTS}
AAPL = CATALOG["AAPL"]


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], instrument: str = "AAPL") -> Book:
    return Book(
        instrument=InstrumentId(instrument),
        bids=tuple(Level(Decimal(p), Decimal(s)) for p, s in bids),
        asks=tuple(Level(Decimal(p), Decimal(s)) for p, s in asks),
        ts_event=NOW,
    )


DEEP = book(
    bids=[("99.99", "100"), ("99.98", "200"), ("99.97", "300")],
    asks=[("100.01", "100"), ("100.02", "200"), ("100.03", "300")],
)


def order(
    *,
    side: Side = Side.BUY,
    quantity: str = "100",
    order_type: OrderType = OrderType.MARKET,
    time_in_force: TimeInForce = TimeInForce.GTC,
    limit_price: str | None = None,
    stop_price: str | None = None,
    instrument: str = "AAPL",
    expires_at: datetime | None = None,
) -> PaperOrder:
    return PaperOrder(
        client_order_id=ClientOrderId("c-1"),
        venue_order_id=VenueOrderId("PV-1"),
        account=AccountId("acct-1"),
        instrument=InstrumentId(instrument),
        side=side,
        order_type=order_type,
        time_in_force=time_in_force,
        quantity=Decimal(quantity),
        limit_price=None if limit_price is None else Decimal(limit_price),
        stop_price=None if stop_price is None else Decimal(stop_price),
        status=VenueOrderStatus.ACCEPTED,
        sequence=1,
        expires_at=expires_at,
        ts_created=NOW,
        ts_updated=NOW,
    )


def fills(result_executions: object) -> list[tuple[str, str]]:
    assert isinstance(result_executions, tuple)
    return [(str(normalize(e.quantity)), str(e.price)) for e in result_executions]


def test_market_buy_walks_the_asks_with_one_fill_per_level_at_that_levels_price() -> None:
    result = match_order(order(quantity="250"), DEEP, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("100", "100.01"), ("150", "100.02")]
    assert all(e.liquidity is LiquiditySide.TAKER for e in result.executions)
    assert result.order.status is VenueOrderStatus.FILLED
    assert result.order.average_price == (100 * Decimal("100.01") + 150 * Decimal("100.02")) / 250


def test_market_sell_walks_the_bids_downwards() -> None:
    result = match_order(order(side=Side.SELL, quantity="150"), DEEP, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("100", "99.99"), ("50", "99.98")]


def test_consumed_displayed_size_makes_the_next_market_order_pay_the_next_level() -> None:
    first = match_order(order(quantity="100"), DEEP, AAPL, NOW, arriving=True)
    assert first.book is not None
    second = match_order(order(quantity="100"), first.book, AAPL, NOW, arriving=True)

    assert fills(second.executions) == [("100", "100.02")]


def test_market_order_larger_than_the_book_fills_in_parts_and_a_gtc_remainder_keeps_working() -> None:
    result = match_order(order(quantity="700"), DEEP, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("100", "100.01"), ("200", "100.02"), ("300", "100.03")]
    assert result.order.status is VenueOrderStatus.PARTIALLY_FILLED
    assert result.order.remaining == 100
    later = match_order(result.order, DEEP, AAPL, NOW, arriving=False)
    assert fills(later.executions) == [("100", "100.01")]
    assert later.order.status is VenueOrderStatus.FILLED
    assert later.order.filled_quantity == 700


def test_day_market_remainder_also_keeps_working() -> None:
    result = match_order(order(quantity="700", time_in_force=TimeInForce.DAY), DEEP, AAPL, NOW, arriving=True)

    assert result.order.status is VenueOrderStatus.PARTIALLY_FILLED


def test_ioc_market_order_larger_than_the_book_cancels_the_remainder() -> None:
    result = match_order(order(quantity="700", time_in_force=TimeInForce.IOC), DEEP, AAPL, NOW, arriving=True)

    assert result.order.filled_quantity == 600
    assert result.order.status is VenueOrderStatus.CANCELED
    assert result.order.reason is not None


def test_fok_order_larger_than_the_book_expires_with_no_fill_and_consumes_nothing() -> None:
    result = match_order(order(quantity="700", time_in_force=TimeInForce.FOK), DEEP, AAPL, NOW, arriving=True)

    assert result.executions == ()
    assert result.order.status is VenueOrderStatus.EXPIRED
    assert result.order.filled_quantity == 0
    assert result.book == DEEP


def test_fok_order_that_the_book_can_fill_fills_completely() -> None:
    result = match_order(order(quantity="600", time_in_force=TimeInForce.FOK), DEEP, AAPL, NOW, arriving=True)

    assert result.order.status is VenueOrderStatus.FILLED


def test_fok_limit_counts_only_the_levels_within_its_limit() -> None:
    limit = order(
        quantity="200",
        order_type=OrderType.LIMIT,
        limit_price="100.01",
        time_in_force=TimeInForce.FOK,
    )
    result = match_order(limit, DEEP, AAPL, NOW, arriving=True)

    assert result.executions == ()
    assert result.order.status is VenueOrderStatus.EXPIRED


def test_marketable_limit_takes_levels_at_or_better_than_its_limit_then_rests() -> None:
    limit = order(quantity="500", order_type=OrderType.LIMIT, limit_price="100.02")
    result = match_order(limit, DEEP, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("100", "100.01"), ("200", "100.02")]
    assert all(e.liquidity is LiquiditySide.TAKER for e in result.executions)
    assert result.order.status is VenueOrderStatus.PARTIALLY_FILLED
    assert result.order.remaining == 200


def test_marketable_ioc_limit_cancels_what_its_limit_does_not_reach() -> None:
    limit = order(
        quantity="500",
        order_type=OrderType.LIMIT,
        limit_price="100.01",
        time_in_force=TimeInForce.IOC,
    )
    result = match_order(limit, DEEP, AAPL, NOW, arriving=True)

    assert result.order.filled_quantity == 100
    assert result.order.status is VenueOrderStatus.CANCELED


def test_limit_below_the_ask_rests_without_filling() -> None:
    limit = order(order_type=OrderType.LIMIT, limit_price="100.00")
    result = match_order(limit, DEEP, AAPL, NOW, arriving=True)

    assert result.executions == ()
    assert result.order.status is VenueOrderStatus.ACCEPTED


def test_resting_buy_limit_fills_as_maker_at_its_limit_when_the_ask_drops_to_it() -> None:
    resting = order(quantity="150", order_type=OrderType.LIMIT, limit_price="100.00")
    lower = book(bids=[("99.97", "100")], asks=[("99.99", "100"), ("100.00", "100")])
    result = match_order(resting, lower, AAPL, NOW, arriving=False)

    assert fills(result.executions) == [("150", "100.00")]
    assert result.executions[0].liquidity is LiquiditySide.MAKER
    assert result.order.status is VenueOrderStatus.FILLED


def test_resting_limit_fills_only_up_to_the_displayed_size_that_crosses_it() -> None:
    resting = order(quantity="500", order_type=OrderType.LIMIT, limit_price="100.00")
    lower = book(bids=[("99.97", "100")], asks=[("100.00", "120"), ("100.01", "900")])
    result = match_order(resting, lower, AAPL, NOW, arriving=False)

    assert fills(result.executions) == [("120", "100.00")]
    assert result.order.status is VenueOrderStatus.PARTIALLY_FILLED
    assert result.book is not None
    assert result.book.asks[0].size == 0


def test_resting_sell_limit_fills_as_maker_when_the_bid_rises_to_it() -> None:
    resting = order(side=Side.SELL, quantity="100", order_type=OrderType.LIMIT, limit_price="100.05")
    higher = book(bids=[("100.06", "300")], asks=[("100.08", "100")])
    result = match_order(resting, higher, AAPL, NOW, arriving=False)

    assert fills(result.executions) == [("100", "100.05")]
    assert result.executions[0].liquidity is LiquiditySide.MAKER


def test_buy_stop_waits_until_the_ask_reaches_the_stop_then_trades_as_a_market_order() -> None:
    stop = order(order_type=OrderType.STOP, stop_price="100.05")
    waiting = match_order(stop, DEEP, AAPL, NOW, arriving=True)
    assert waiting.executions == ()
    assert not waiting.order.triggered

    higher = book(bids=[("100.04", "100")], asks=[("100.05", "60"), ("100.06", "100")])
    triggered = match_order(waiting.order, higher, AAPL, NOW, arriving=False)

    assert triggered.order.triggered
    assert fills(triggered.executions) == [("60", "100.05"), ("40", "100.06")]
    assert all(e.liquidity is LiquiditySide.TAKER for e in triggered.executions)


def test_sell_stop_triggers_when_the_bid_falls_to_the_stop() -> None:
    stop = order(side=Side.SELL, order_type=OrderType.STOP, stop_price="99.95")
    assert match_order(stop, DEEP, AAPL, NOW, arriving=True).executions == ()

    lower = book(bids=[("99.95", "500")], asks=[("99.97", "100")])
    result = match_order(stop, lower, AAPL, NOW, arriving=False)

    assert fills(result.executions) == [("100", "99.95")]


def test_stop_limit_becomes_a_limit_order_when_triggered_and_then_rests_as_maker() -> None:
    stop_limit = order(order_type=OrderType.STOP_LIMIT, stop_price="100.05", limit_price="100.05")
    gapped = book(bids=[("100.07", "100")], asks=[("100.08", "100")])
    triggered = match_order(stop_limit, gapped, AAPL, NOW, arriving=False)

    assert triggered.order.triggered
    assert triggered.executions == ()
    assert triggered.order.status is VenueOrderStatus.ACCEPTED

    back = book(bids=[("100.02", "100")], asks=[("100.04", "100")])
    filled = match_order(triggered.order, back, AAPL, NOW, arriving=False)
    assert fills(filled.executions) == [("100", "100.05")]
    assert filled.executions[0].liquidity is LiquiditySide.MAKER


def test_stop_limit_that_is_marketable_when_triggered_takes_as_a_taker() -> None:
    stop_limit = order(order_type=OrderType.STOP_LIMIT, stop_price="100.01", limit_price="100.02")
    result = match_order(stop_limit, DEEP, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("100", "100.01")]
    assert result.executions[0].liquidity is LiquiditySide.TAKER


def test_day_order_expires_when_the_day_closes() -> None:
    close = next_day_close(NOW, time(21, 0))
    resting = order(
        order_type=OrderType.LIMIT,
        limit_price="90.00",
        time_in_force=TimeInForce.DAY,
        expires_at=close,
    )
    before = match_order(resting, DEEP, AAPL, close - timedelta(seconds=1), arriving=False)
    assert before.order.status is VenueOrderStatus.ACCEPTED

    after = match_order(resting, DEEP, AAPL, close, arriving=False)
    assert after.order.status is VenueOrderStatus.EXPIRED


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 1, 5, 14, 30, tzinfo=UTC), datetime(2026, 1, 5, 21, 0, tzinfo=UTC)),
        (datetime(2026, 1, 5, 21, 0, tzinfo=UTC), datetime(2026, 1, 6, 21, 0, tzinfo=UTC)),
        (datetime(2026, 1, 5, 23, 0, tzinfo=UTC), datetime(2026, 1, 6, 21, 0, tzinfo=UTC)),
    ],
)
def test_the_day_close_is_the_first_close_strictly_after_acceptance(
    now: datetime, expected: datetime
) -> None:
    assert next_day_close(now, time(21, 0)) == expected


def test_taker_fee_is_the_taker_rate_times_the_notional() -> None:
    btc = CATALOG["BTC/USDT"]
    assert fee(btc, Decimal("0.5"), Decimal("60000.00"), LiquiditySide.TAKER) == Decimal("12")
    assert fee(btc, Decimal("0.5"), Decimal("60000.00"), LiquiditySide.MAKER) == Decimal("6")


def test_fee_notional_includes_the_contract_multiplier() -> None:
    es: Instrument = msgspec.structs.replace(CATALOG["ESZ6"], taker_fee_rate=Decimal("0.0001"))
    # 2 contracts * 6000 * 50 = 600,000 notional
    assert fee(es, Decimal(2), Decimal("6000.00"), LiquiditySide.TAKER) == Decimal("60")


def test_executions_carry_the_fee_for_their_liquidity() -> None:
    btc = CATALOG["BTC/USDT"]
    btc_book = book(
        bids=[("59999.00", "1")], asks=[("60000.00", "0.5"), ("60001.00", "1")], instrument="BTC/USDT"
    )
    result = match_order(order(quantity="0.5", instrument="BTC/USDT"), btc_book, btc, NOW, arriving=True)

    assert result.executions[0].fee == Decimal("0.5") * Decimal("60000.00") * Decimal("0.0004")


def test_fill_quantity_rounds_down_to_the_lot_when_the_displayed_size_is_off_lot() -> None:
    odd = book(bids=[("99.99", "10")], asks=[("100.01", "2.5"), ("100.02", "10")])
    result = match_order(order(quantity="5"), odd, AAPL, NOW, arriving=True)

    assert fills(result.executions) == [("2", "100.01"), ("3", "100.02")]


def test_market_order_with_no_book_keeps_working_when_gtc_and_is_canceled_when_ioc() -> None:
    gtc = match_order(order(), None, AAPL, NOW, arriving=True)
    ioc = match_order(order(time_in_force=TimeInForce.IOC), None, AAPL, NOW, arriving=True)

    assert gtc.order.status is VenueOrderStatus.ACCEPTED
    assert ioc.order.status is VenueOrderStatus.CANCELED


def test_finished_orders_do_not_trade() -> None:
    done = msgspec.structs.replace(order(), status=VenueOrderStatus.CANCELED)

    assert match_order(done, DEEP, AAPL, NOW, arriving=False).executions == ()


def test_a_taker_consumes_the_levels_it_reached_and_leaves_the_rest_of_the_book_as_it_was() -> None:
    result = match_order(order(quantity="150"), DEEP, AAPL, NOW, arriving=True)

    assert result.book == book(
        bids=[("99.99", "100"), ("99.98", "200"), ("99.97", "300")],
        asks=[("100.01", "0"), ("100.02", "150"), ("100.03", "300")],
    )


def test_a_limit_that_reaches_no_level_leaves_the_book_unchanged() -> None:
    result = match_order(
        order(order_type=OrderType.LIMIT, limit_price="100.00"), DEEP, AAPL, NOW, arriving=True
    )

    assert result.executions == ()
    assert result.book == DEEP


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_the_touch_is_the_quotes_touch_and_there_is_none_without_both_sides(side: Side) -> None:
    quote = DEEP.top()
    assert quote is not None
    assert DEEP.touch(side) == quote.touch(side)
    assert book(bids=[], asks=[("100.01", "1")]).touch(side) is None
    assert book(bids=[("99.99", "1")], asks=[]).touch(side) is None
