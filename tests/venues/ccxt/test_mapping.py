"""Pure translation: recorded ccxt responses to our reports, orders to requests, errors to handling."""

from datetime import UTC, datetime
from decimal import Decimal

import ccxt
import msgspec
import pytest

from tests.factories import BTCUSDT, make_spec
from tradewire.domain.enums import AssetClass, LiquiditySide, OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.venues.ccxt import mapping
from tradewire.venues.ccxt.exchanges import PROFILES
from tradewire.venues.ccxt.mapping import ErrorHandling, OrderRefused

from .support import recorded_case

NOW = datetime(2026, 1, 2, tzinfo=UTC)
VENUE, ACCOUNT = VenueId("x"), AccountId("acct")


def test_a_recorded_bybit_order_that_was_partly_filled_then_canceled_maps_to_canceled() -> None:
    order = recorded_case("bybit", "response", "fetchOrder", "fetch spot buy closed order")["parsedResponse"]

    report = mapping.status_report(
        order,
        venue=VENUE,
        account=ACCOUNT,
        client_order_id=ClientOrderId("c"),
        instrument=InstrumentId("BTC/USDT"),
        now=NOW,
    )

    assert report.venue_order_id == "1609602210852247040"
    assert report.side is Side.BUY
    assert report.order_type is OrderType.MARKET
    assert report.filled_quantity == Decimal(str(order["filled"]))
    assert report.status is (
        VenueOrderStatus.FILLED if order["filled"] >= order["amount"] else VenueOrderStatus.CANCELED
    )
    assert report.status is VenueOrderStatus.CANCELED
    assert report.average_price == Decimal("30966.41")
    assert report.ts_event == datetime.fromtimestamp(order["lastUpdateTimestamp"] / 1000, tz=UTC)


def test_a_recorded_binance_trade_maps_to_a_fill_with_fee_and_liquidity() -> None:
    [trade] = recorded_case("binance", "response", "fetchMyTrades", "Spot private trade")["parsedResponse"]

    fill = mapping.fill_report(
        trade,
        venue=VENUE,
        account=ACCOUNT,
        client_order_id=ClientOrderId("c"),
        instrument=InstrumentId("LTC/USDT"),
        quote_currency="USDT",
        now=NOW,
    )

    assert (fill.fill_id, fill.venue_order_id) == ("309520010", "3784695242")
    assert (fill.side, fill.quantity, fill.price) == (Side.SELL, Decimal("0.2"), Decimal("69.63"))
    assert (fill.fee, fill.fee_currency, fill.liquidity) == (Decimal("0.013926"), "USDT", LiquiditySide.TAKER)
    assert fill.ts_event == datetime(2023, 10, 24, 9, 16, 32, 358000, tzinfo=UTC)


def test_a_recorded_okx_position_maps_to_signed_contracts() -> None:
    positions = recorded_case("okx", "response", "fetchPositions", "linear swap position")["parsedResponse"]

    [report] = mapping.net_positions(
        positions, {"LTC/USDT:USDT": InstrumentId("LTC-PERP")}, venue=VENUE, account=ACCOUNT, now=NOW
    )

    assert report.instrument == "LTC-PERP"
    assert report.quantity == Decimal("1")
    assert report.average_price == Decimal("68.24")


def test_hedged_long_and_short_legs_net_to_one_position() -> None:
    legs = [
        {"symbol": "BTC/USDT:USDT", "contracts": 3, "side": "long", "entryPrice": 100},
        {"symbol": "BTC/USDT:USDT", "contracts": 5, "side": "short", "entryPrice": 110},
    ]

    [report] = mapping.net_positions(
        legs, {"BTC/USDT:USDT": InstrumentId("P")}, venue=VENUE, account=ACCOUNT, now=NOW
    )

    assert report.quantity == Decimal("-2")


def test_a_spot_balance_is_attributed_once_per_base_currency() -> None:
    balances = {"total": {"BTC": 0.5, "USDT": 100}}
    bases = [(InstrumentId("BTC/USDT"), "BTC"), (InstrumentId("BTC/USDC"), "BTC")]

    reports = mapping.spot_positions(balances, bases, venue=VENUE, account=ACCOUNT, now=NOW)

    assert [(r.instrument, r.quantity) for r in reports] == [("BTC/USDT", Decimal("0.5"))]


@pytest.mark.parametrize(
    ("raw", "filled", "expected"),
    [
        ("open", "0", VenueOrderStatus.ACCEPTED),
        ("open", "1", VenueOrderStatus.PARTIALLY_FILLED),
        ("closed", "2", VenueOrderStatus.FILLED),
        ("closed", "1", VenueOrderStatus.CANCELED),
        ("canceled", "0", VenueOrderStatus.CANCELED),
        ("expired", "0", VenueOrderStatus.EXPIRED),
        ("rejected", "0", VenueOrderStatus.REJECTED),
        (None, "0", VenueOrderStatus.ACCEPTED),
    ],
)
def test_ccxt_statuses_map_to_venue_statuses(
    raw: str | None, filled: str, expected: VenueOrderStatus
) -> None:
    assert mapping.venue_status(raw, Decimal(filled), Decimal(2)) is expected


@pytest.mark.parametrize(
    ("error", "creating", "expected"),
    [
        (ccxt.InsufficientFunds, True, ErrorHandling.REJECTED),
        (ccxt.InvalidOrder, True, ErrorHandling.REJECTED),
        (ccxt.DuplicateOrderId, True, ErrorHandling.REJECTED),
        (ccxt.BadSymbol, True, ErrorHandling.REJECTED),
        (ccxt.ExchangeError, True, ErrorHandling.REJECTED),
        (ccxt.OrderNotFound, False, ErrorHandling.NOT_FOUND),
        (ccxt.RateLimitExceeded, True, ErrorHandling.RETRY_LATER),
        (ccxt.DDoSProtection, True, ErrorHandling.RETRY_LATER),
        (ccxt.OnMaintenance, True, ErrorHandling.RETRY_LATER),
        (ccxt.ExchangeNotAvailable, False, ErrorHandling.RETRY_LATER),
        (ccxt.ExchangeNotAvailable, True, ErrorHandling.UNKNOWN_OUTCOME),
        (ccxt.AuthenticationError, True, ErrorHandling.AUTH_FAILED),
        (ccxt.PermissionDenied, True, ErrorHandling.AUTH_FAILED),
        (ccxt.AccountSuspended, False, ErrorHandling.AUTH_FAILED),
        (ccxt.NetworkError, True, ErrorHandling.UNKNOWN_OUTCOME),
        (ccxt.RequestTimeout, True, ErrorHandling.UNKNOWN_OUTCOME),
        (ccxt.BadResponse, True, ErrorHandling.UNKNOWN_OUTCOME),
        (ccxt.BaseError, True, ErrorHandling.UNKNOWN_OUTCOME),
    ],
)
def test_each_ccxt_error_has_its_handling(
    error: type[Exception], creating: bool, expected: ErrorHandling
) -> None:
    assert mapping.error_handling(error("boom"), creating=creating) is expected


PERPETUAL = msgspec.structs.replace(
    BTCUSDT,
    instrument_id=InstrumentId("BTC/USDT:USDT"),
    asset_class=AssetClass.CRYPTO_PERPETUAL,
    tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"),
    min_quantity=Decimal("0.001"),
)


def test_a_stop_on_a_bybit_perpetual_carries_the_trigger_price_direction_and_reduce_only() -> None:
    spec = make_spec(
        instrument=PERPETUAL,
        side=Side.SELL,
        order_type=OrderType.STOP,
        quantity="0.002",
        limit_price=None,
        stop_price="50000.5",
        reduce_only=True,
    )

    request = mapping.create_order_request(
        spec, symbol="BTC/USDT:USDT", instrument=PERPETUAL, profile=PROFILES["bybit"]
    )

    assert (request.type, request.side, request.amount, request.price) == (
        "market",
        "sell",
        Decimal("0.002"),
        None,
    )
    assert request.params == {
        "clientOrderId": "ord-1",
        "triggerPrice": 50000.5,
        "triggerDirection": "below",
        "reduceOnly": True,
    }


def test_an_ioc_limit_names_its_time_in_force_and_gtc_is_left_to_the_default() -> None:
    ioc = make_spec(instrument=PERPETUAL, quantity="1", limit_price="100", time_in_force=TimeInForce.IOC)
    gtc = make_spec(instrument=PERPETUAL, quantity="1", limit_price="100")

    assert (
        mapping.create_order_request(
            ioc, symbol="S", instrument=PERPETUAL, profile=PROFILES["binance"]
        ).params["timeInForce"]
        == "IOC"
    )
    assert (
        "timeInForce"
        not in mapping.create_order_request(
            gtc, symbol="S", instrument=PERPETUAL, profile=PROFILES["binance"]
        ).params
    )


@pytest.mark.parametrize(
    ("overrides", "exchange", "message"),
    [
        ({"quantity": "0.0015"}, "bybit", "lot"),
        ({"limit_price": "100.05"}, "bybit", "tick"),
        (
            {"order_type": OrderType.STOP, "stop_price": "100", "limit_price": None},
            "okx",
            "does not take stop",
        ),
        ({"time_in_force": TimeInForce.DAY}, "binance", "time in force day"),
        ({"time_in_force": TimeInForce.FOK}, "kraken", "time in force fok"),
    ],
)
def test_an_order_the_venue_would_refuse_is_refused_before_sending(
    overrides: dict[str, object], exchange: str, message: str
) -> None:
    fields: dict[str, object] = {"instrument": PERPETUAL, "quantity": "1", "limit_price": "100", **overrides}
    spec = make_spec(**fields)  # type: ignore[arg-type]

    with pytest.raises(OrderRefused, match=message):
        mapping.create_order_request(spec, symbol="S", instrument=PERPETUAL, profile=PROFILES[exchange])  # type: ignore[index]


@pytest.mark.parametrize("exchange", ["binance", "bybit", "okx", "kraken", "coinbase"])
@pytest.mark.parametrize("client_order_id", ["TWmifx3k2a-1", "TWmifx3k2a-zz9", "Zorro-Z5A"])
def test_client_order_ids_survive_the_round_trip_through_each_venue(
    exchange: str, client_order_id: str
) -> None:
    rule = PROFILES[exchange].client_id  # type: ignore[index]

    wire = mapping.encode_client_order_id(ClientOrderId(client_order_id), rule)

    assert len(wire) <= rule.max_length
    assert mapping.decode_client_order_id(wire, rule) == client_order_id


def test_a_client_order_id_too_long_for_kraken_is_refused_with_the_limit() -> None:
    with pytest.raises(OrderRefused, match="1-18"):
        mapping.encode_client_order_id(ClientOrderId("TWmifx3k2a-123456789"), PROFILES["kraken"].client_id)


def test_secrets_are_redacted_from_an_error_message() -> None:
    assert mapping.redact("bad key abc123 in request", ["abc123"]) == "bad key ********** in request"


def test_ccxt_rounding_is_a_final_check_that_refuses_a_changed_amount() -> None:
    spec = make_spec(instrument=PERPETUAL, quantity="1.001", limit_price="100")
    request = mapping.create_order_request(spec, symbol="S", instrument=PERPETUAL, profile=PROFILES["bybit"])

    mapping.check_precision(request, lambda symbol, value: repr(value), lambda symbol, value: repr(value))
    with pytest.raises(OrderRefused, match=r"amount 1.001 would be sent as 1"):
        mapping.check_precision(request, lambda symbol, value: "1", lambda symbol, value: repr(value))
