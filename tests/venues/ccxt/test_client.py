"""The adapter's behaviour at the boundary: errors translated, unknown outcomes never resent, the
user-data stream delivered and reconnected, secrets kept out of logs and reprs."""

import asyncio
import logging
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from tests.factories import make_spec
from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import VenueOrderStatus
from tradewire.domain.errors import VenueAuthFailed, VenueBusy, VenueUnavailable
from tradewire.domain.ids import ClientOrderId, InstrumentId
from tradewire.domain.reports import CancelRejectReport, FillReport, OrderStatusReport
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.port import OrderRef

from .support import API_KEY, CREDENTIALS, SECRET, Received, RecordingFetch, config, connected_venue

OUR_ID = ClientOrderId("TWmifx3k2a-7")


def raising(error: Exception) -> RecordingFetch:
    def answer(request: Any) -> Any:
        raise error

    return RecordingFetch(answer=answer)


async def submit_one(venue: CcxtVenue) -> None:
    [instrument] = venue.instruments()
    await venue.submit(
        make_spec(client_order_id=OUR_ID, instrument=instrument, quantity="50", limit_price="0.1")
    )


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    "error", [ccxt.InsufficientFunds("balance"), ccxt.InvalidOrder("qty"), ccxt.DuplicateOrderId("dup")]
)
async def test_a_refused_create_becomes_a_rejection_report_with_the_reason(error: Exception) -> None:
    venue, received = await connected_venue("bybit", ("ADA/USDT",), raising(error))

    await submit_one(venue)
    await settle()

    [report] = received.reports
    assert isinstance(report, OrderStatusReport)
    assert report.status is VenueOrderStatus.REJECTED
    assert report.client_order_id == OUR_ID
    assert report.reason is not None and type(error).__name__ in report.reason
    await venue.close()


@pytest.mark.parametrize(
    "error", [ccxt.RateLimitExceeded("429"), ccxt.DDoSProtection("slow"), ccxt.OnMaintenance("m")]
)
async def test_a_create_refused_for_now_raises_venue_busy_and_is_sent_once(error: Exception) -> None:
    fetch = raising(error)
    venue, received = await connected_venue("bybit", ("ADA/USDT",), fetch)

    with pytest.raises(VenueBusy):
        await submit_one(venue)

    assert len(fetch.requests) == 1
    assert received.reports == []
    await venue.close()


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (ccxt.RequestTimeout("slow"), TimeoutError),
        (ccxt.NetworkError("reset"), OSError),
        (ccxt.ExchangeNotAvailable("503"), OSError),
    ],
)
async def test_a_create_with_an_unknown_outcome_raises_and_is_never_resent(
    error: Exception, raised: type[Exception]
) -> None:
    fetch = raising(error)
    venue, received = await connected_venue("bybit", ("ADA/USDT",), fetch)

    with pytest.raises(raised):
        await submit_one(venue)
    await settle()

    assert len(fetch.requests) == 1
    assert received.reports == []
    assert not issubclass(raised, VenueUnavailable)
    await venue.close()


async def test_refused_credentials_stop_the_venue_and_keep_the_key_out_of_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch = raising(ccxt.AuthenticationError(f'{{"retMsg":"invalid api_key {API_KEY}"}}'))
    venue, received = await connected_venue("bybit", ("ADA/USDT",), fetch)

    with caplog.at_level(logging.DEBUG), pytest.raises(VenueAuthFailed) as raised:
        await submit_one(venue)

    assert received.connection == [True, False]
    assert not venue.connected
    assert venue.stopped_reason is not None
    assert API_KEY not in str(raised.value)
    assert API_KEY not in caplog.text and SECRET not in caplog.text
    assert "credentials" in caplog.text
    with pytest.raises(VenueAuthFailed):
        await submit_one(venue)
    assert len(fetch.requests) == 1
    await venue.close()


async def test_a_cancel_of_an_order_the_exchange_does_not_know_is_a_cancel_reject() -> None:
    venue, received = await connected_venue("bybit", ("ADA/USDT",), raising(ccxt.OrderNotFound("gone")))
    ref = OrderRef(
        client_order_id=OUR_ID,
        venue_order_id=None,
        account=venue_account(),
        instrument=InstrumentId("ADA/USDT"),
    )

    await venue.cancel(ref)
    await settle()

    [report] = received.reports
    assert isinstance(report, CancelRejectReport)
    assert report.client_order_id == OUR_ID
    assert "OrderNotFound" in report.reason
    await venue.close()


async def test_binance_refuses_amends_rather_than_cancel_replacing_under_a_new_id() -> None:
    venue, received = await connected_venue("binance", ("LTC/USDT",), raising(AssertionError("no request")))
    ref = OrderRef(
        client_order_id=OUR_ID,
        venue_order_id=None,
        account=venue_account(),
        instrument=InstrumentId("LTC/USDT"),
    )

    await venue.modify(ref, quantity=Decimal("1"), limit_price=None, stop_price=None)
    await settle()

    [report] = received.reports
    assert isinstance(report, CancelRejectReport) and report.replace
    assert not venue.capabilities.modify
    await venue.close()


def venue_account() -> Any:
    return "bybit-1"


async def test_requests_before_connecting_are_certainly_not_sent() -> None:
    venue = CcxtVenue(config("bybit", ("ADA/USDT",)), ManualClock(), CREDENTIALS)

    with pytest.raises(VenueUnavailable):
        await submit_one(venue)


class FakeStream:
    """Stands in for ccxt.pro's watch methods: hands out queued batches (or raises queued errors)."""

    def __init__(self) -> None:
        self.batches: asyncio.Queue[list[dict[str, Any]] | Exception] = asyncio.Queue()

    async def __call__(self, symbol: str | None = None, *args: Any) -> list[dict[str, Any]]:
        item = await self.batches.get()
        if isinstance(item, Exception):
            raise item
        return item


async def test_order_and_fill_updates_from_the_stream_become_reports_and_a_drop_is_reconnected() -> None:
    orders, trades = FakeStream(), FakeStream()
    venue, received = await stream_venue(orders, trades)
    order = {
        "id": "V1",
        "clientOrderId": OUR_ID,
        "symbol": "ADA/USDT",
        "side": "buy",
        "type": "limit",
        "amount": 50,
        "filled": 20,
        "price": 0.1,
        "status": "open",
        "timestamp": 1700000000000,
    }
    trade = {
        "id": "F1",
        "order": "V1",
        "symbol": "ADA/USDT",
        "side": "buy",
        "amount": 20,
        "price": 0.1,
        "fee": {"cost": 0.01, "currency": "USDT"},
        "takerOrMaker": "maker",
        "timestamp": 1700000000000,
    }

    await orders.batches.put([order, order])  # a repeat of the same state is delivered once
    await trades.batches.put([trade])
    await until(lambda: len(received.reports) >= 2)
    await orders.batches.put(ccxt.NetworkError("socket closed"))
    await until(lambda: received.connection[-1] is True and False in received.connection)

    statuses = [r for r in received.reports if isinstance(r, OrderStatusReport)]
    fills = [r for r in received.reports if isinstance(r, FillReport)]
    assert [(s.client_order_id, s.status) for s in statuses] == [(OUR_ID, VenueOrderStatus.PARTIALLY_FILLED)]
    assert [(f.client_order_id, f.fill_id, str(f.quantity)) for f in fills] == [(OUR_ID, "F1", "20")]
    assert received.connection == [True, False, True]
    await venue.close()


async def stream_venue(orders: FakeStream, trades: FakeStream) -> tuple[CcxtVenue, Received]:
    venue = CcxtVenue(
        config("bybit", ("ADA/USDT",), watch=True, reconnect_delay=0.01), ManualClock(), CREDENTIALS
    )
    venue.exchange.fetch = raising(AssertionError("no REST in this test"))
    venue.exchange.watch_orders, venue.exchange.watch_my_trades = orders, trades
    received = Received()
    await venue.connect(
        received.reports.append, lambda quote: None, lambda _venue, up: received.connection.append(up)
    )
    return venue, received


async def until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 (the reports arrive through callbacks, not an event)
            await asyncio.sleep(0.005)


async def test_connecting_again_is_a_reconnect_attempt_with_fresh_subscriptions() -> None:
    orders, trades = FakeStream(), FakeStream()
    venue, received = await stream_venue(orders, trades)
    order: dict[str, Any] = {"id": "V2", "clientOrderId": OUR_ID, "symbol": "ADA/USDT", "side": "buy"}
    order |= {
        "type": "limit",
        "amount": 50,
        "filled": 0,
        "price": 0.1,
        "status": "open",
        "timestamp": 1700000000000,
    }

    await venue.connect(
        received.reports.append, lambda quote: None, lambda _venue, up: received.connection.append(up)
    )
    await orders.batches.put([order])
    await until(lambda: len(received.reports) == 1)

    assert venue.connected
    assert received.connection == [True, True]
    await venue.close()
