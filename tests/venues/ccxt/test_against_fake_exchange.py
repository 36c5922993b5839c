"""`CcxtVenue` end to end against the local fake exchange: real ccxt, real HTTP and WebSocket, both
protocols (Binance spot, Bybit v5). What the fake does is in docs/testing.md."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.exchange import FakeExchange
from tests.venues.ccxt.on_fake import (
    ACCOUNT,
    BOOK,
    EXCHANGES,
    Received,
    connected,
    fake_venue,
    order_spec,
    orders_at_fake,
    subscribed,
    until,
)
from tradewire.domain.enums import LiquiditySide, OrderType, Side, VenueOrderStatus
from tradewire.domain.errors import VenueAuthFailed, VenueBusy
from tradewire.domain.ids import ClientOrderId, InstrumentId
from tradewire.venues.ccxt.client import CcxtVenue
from tradewire.venues.port import OrderRef


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as running:
        yield running


@pytest.fixture(params=EXCHANGES)
def exchange(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def venue(fake: FakeExchange, exchange: str, tmp_path: Path) -> CcxtVenue:
    return fake_venue(fake, exchange, tmp_path)


@pytest.fixture
async def received(fake: FakeExchange, exchange: str, venue: CcxtVenue) -> AsyncIterator[Received]:
    async with connected(venue) as reports:
        await until(subscribed(fake, exchange), "the user-data subscription")
        yield reports


def venue_order_id(fake: FakeExchange, exchange: str, client_order_id: str) -> int:
    [order] = [
        o for o in fake.engine.orders_of(f"{exchange}:{fake.api_key}") if o.client_order_id == client_order_id
    ]
    return order.order_id


async def test_a_limit_order_is_placed_under_our_client_order_id_and_accepted(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    order = order_spec(exchange, "TWe2e-accept", limit_price="95")

    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is not None)

    [accepted] = received.statuses(order.client_order_id)
    assert accepted.status is VenueOrderStatus.ACCEPTED
    assert accepted.venue_order_id == str(venue_order_id(fake, exchange, "TWe2e-accept"))
    assert (accepted.quantity, accepted.limit_price, accepted.account) == (
        Decimal("0.5"),
        Decimal(95),
        ACCOUNT,
    )
    assert orders_at_fake(fake, exchange, "TWe2e-accept") == 1


async def test_partial_then_full_fill_arrive_over_the_stream_as_exact_fills(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    order = order_spec(exchange, "TWe2e-fills", limit_price="95.5")
    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.ACCEPTED)
    order_id = venue_order_id(fake, exchange, "TWe2e-fills")

    first = fake.fill(order_id, Decimal("0.2"))
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.PARTIALLY_FILLED)
    second = fake.fill(order_id, Decimal("0.3"))
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.FILLED)
    await until(lambda: len(received.fills(order.client_order_id)) == 2, "both fills")

    fills = received.fills(order.client_order_id)
    assert [(f.fill_id, f.quantity, f.price, f.side) for f in fills] == [
        (str(first.trade_id), Decimal("0.2"), Decimal("95.5"), Side.BUY),
        (str(second.trade_id), Decimal("0.3"), Decimal("95.5"), Side.BUY),
    ]
    assert all(isinstance(f.quantity, Decimal) and f.liquidity is LiquiditySide.MAKER for f in fills)
    assert [(s.status, s.filled_quantity) for s in received.statuses(order.client_order_id)] == [
        (VenueOrderStatus.ACCEPTED, 0),
        (VenueOrderStatus.PARTIALLY_FILLED, Decimal("0.2")),
        (VenueOrderStatus.FILLED, Decimal("0.5")),
    ]
    assert received.statuses(order.client_order_id)[-1].average_price == Decimal("95.5")


async def test_a_cancel_ends_the_order_canceled(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    order = order_spec(exchange, "TWe2e-cancel", limit_price="90")
    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.ACCEPTED)

    await venue.cancel(_ref(order.client_order_id))
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.CANCELED)

    assert fake.engine.orders[venue_order_id(fake, exchange, "TWe2e-cancel")].state == "canceled"
    assert [s.status for s in received.statuses(order.client_order_id)] == [
        VenueOrderStatus.ACCEPTED,
        VenueOrderStatus.CANCELED,
    ]


async def test_a_market_order_is_accepted_then_filled_at_the_touch(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    fake.set_price(BOOK, Decimal("199.5"), Decimal("200.5"))
    order = order_spec(exchange, "TWe2e-market", quantity="0.25")

    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.FILLED)
    await until(lambda: bool(received.fills(order.client_order_id)), "the fill")

    statuses = received.statuses(order.client_order_id)
    assert [s.status for s in statuses] == [VenueOrderStatus.ACCEPTED, VenueOrderStatus.FILLED]
    assert statuses[-1].order_type is OrderType.MARKET
    [fill] = received.fills(order.client_order_id)
    assert (fill.quantity, fill.price, fill.liquidity) == (
        Decimal("0.25"),
        Decimal("200.5"),
        LiquiditySide.TAKER,
    )


async def test_order_status_finds_orders_in_every_state_by_client_order_id_alone(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received, tmp_path: Path
) -> None:
    resting, canceled, filled = (
        order_spec(exchange, "TWe2e-open", limit_price="90"),
        order_spec(exchange, "TWe2e-gone", limit_price="91"),
        order_spec(exchange, "TWe2e-done", quantity="0.1"),
    )
    for order in (resting, canceled, filled):
        await venue.submit(order)
    await until(lambda: received.last_status(canceled.client_order_id) is VenueOrderStatus.ACCEPTED)
    await venue.cancel(_ref(canceled.client_order_id))
    await until(lambda: received.last_status(canceled.client_order_id) is VenueOrderStatus.CANCELED)

    # A fresh adapter knows nothing of these orders (as after a restart): it must ask by client ID.
    restarted = fake_venue(fake, exchange, tmp_path, watch=False)
    async with connected(restarted):
        found = {
            o.client_order_id: await restarted.order_status(o.client_order_id)
            for o in (resting, canceled, filled)
        }
        missing = await restarted.order_status(ClientOrderId("TWe2e-never"))

    assert {c: (r.status, r.filled_quantity) for c, r in found.items() if r is not None} == {
        resting.client_order_id: (VenueOrderStatus.ACCEPTED, 0),
        canceled.client_order_id: (VenueOrderStatus.CANCELED, 0),
        filled.client_order_id: (VenueOrderStatus.FILLED, Decimal("0.1")),
    }
    assert found[resting.client_order_id] is not None
    assert found[resting.client_order_id].order_type is OrderType.LIMIT  # type: ignore[union-attr]
    assert missing is None


async def test_open_orders_fills_and_positions_answer_from_the_exchange(
    fake: FakeExchange, exchange: str, tmp_path: Path
) -> None:
    fake.add_account("flat-key", {"USDT": Decimal(100_000)})
    venue = fake_venue(fake, exchange, tmp_path, api_key="flat-key")
    async with connected(venue) as received:
        since = datetime.now(UTC)
        bought, resting = (
            order_spec(exchange, "TWe2e-buy", quantity="0.3"),
            order_spec(exchange, "TWe2e-rest", quantity="0.2", limit_price="50"),
        )
        await venue.submit(bought)
        await venue.submit(resting)
        await until(lambda: received.last_status(resting.client_order_id) is VenueOrderStatus.ACCEPTED)

        open_orders = await venue.open_orders(ACCOUNT)
        fills = await venue.fills_since(since, ACCOUNT)
        positions = await venue.positions(ACCOUNT)

    assert [(o.client_order_id, o.status, o.quantity) for o in open_orders] == [
        (resting.client_order_id, VenueOrderStatus.ACCEPTED, Decimal("0.2"))
    ]
    assert [(f.client_order_id, f.quantity, f.price) for f in fills] == [
        (bought.client_order_id, Decimal("0.3"), Decimal(101))
    ]
    assert [(p.instrument, p.quantity) for p in positions] == [(InstrumentId("BTC/USDT"), Decimal("0.3"))]


async def test_a_rate_limited_create_raises_venue_busy_and_places_nothing(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    fake.fail_next("create", status=429)

    with pytest.raises(VenueBusy):
        await venue.submit(order_spec(exchange, "TWe2e-busy", limit_price="95"))

    assert orders_at_fake(fake, exchange, "TWe2e-busy") == 0
    assert received.statuses(ClientOrderId("TWe2e-busy")) == []


async def test_insufficient_balance_is_a_rejection_report_with_the_reason(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    order = order_spec(exchange, "TWe2e-broke", quantity="20000", limit_price="95")

    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is not None)

    [rejected] = received.statuses(order.client_order_id)
    assert rejected.status is VenueOrderStatus.REJECTED
    assert rejected.reason is not None and "InsufficientFunds" in rejected.reason
    assert orders_at_fake(fake, exchange, "TWe2e-broke") == 0


async def test_a_hung_create_has_an_unknown_outcome_and_is_then_found_never_resent(
    fake: FakeExchange, exchange: str, tmp_path: Path
) -> None:
    venue = fake_venue(fake, exchange, tmp_path, request_timeout=0.3)
    async with connected(venue):
        fake.hang_next_create(3)
        order = order_spec(exchange, "TWe2e-hung", limit_price="95")

        with pytest.raises(TimeoutError):
            await venue.submit(order)
        status = await venue.order_status(order.client_order_id)

    assert status is not None
    assert (status.status, status.quantity, status.limit_price) == (
        VenueOrderStatus.ACCEPTED,
        Decimal("0.5"),
        Decimal(95),
    )
    assert orders_at_fake(fake, exchange, "TWe2e-hung") == 1


async def test_after_a_dropped_stream_the_venue_reconnects_and_the_fill_it_missed_is_queryable(
    fake: FakeExchange, exchange: str, venue: CcxtVenue, received: Received
) -> None:
    order = order_spec(exchange, "TWe2e-drop", limit_price="95")
    await venue.submit(order)
    await until(lambda: received.last_status(order.client_order_id) is VenueOrderStatus.ACCEPTED)

    await fake.drop_websockets()
    missed = fake.fill(venue_order_id(fake, exchange, "TWe2e-drop"), Decimal("0.5"))
    await until(lambda: False in received.connection, "the venue to report the drop")
    await until(lambda: venue.connected and received.connection[-1], "the venue to reconnect")
    await until(subscribed(fake, exchange), "the user-data subscription again")

    fills = await venue.fills_since(datetime(2020, 1, 1, tzinfo=UTC))
    status = await venue.order_status(order.client_order_id)
    assert [(f.fill_id, f.quantity) for f in fills] == [(str(missed.trade_id), Decimal("0.5"))]
    assert status is not None and status.status is VenueOrderStatus.FILLED
    # The stream works again: the next order's acknowledgement arrives.
    after = order_spec(exchange, "TWe2e-after", limit_price="94")
    await venue.submit(after)
    fake.fill(venue_order_id(fake, exchange, "TWe2e-after"), Decimal("0.1"))
    await until(lambda: bool(received.fills(after.client_order_id)), "a fill over the resumed stream")


async def test_refused_credentials_stop_the_venue_with_venue_auth_failed(
    fake: FakeExchange, exchange: str, tmp_path: Path
) -> None:
    venue = fake_venue(fake, exchange, tmp_path, api_key="revoked-key-1234")
    async with connected(venue) as received:
        await until(lambda: venue.stopped_reason is not None, "the stream's authentication to fail")

        with pytest.raises(VenueAuthFailed):
            await venue.submit(order_spec(exchange, "TWe2e-auth", limit_price="95"))
        with pytest.raises(VenueAuthFailed):
            await venue.open_orders()

    assert not venue.connected
    assert received.connection[-1] is False
    assert "revoked-key-1234" not in str(venue.stopped_reason)
    assert "fake-api-secret" not in str(venue.stopped_reason)


def _ref(client_order_id: ClientOrderId) -> OrderRef:
    return OrderRef(
        client_order_id=client_order_id,
        venue_order_id=None,
        account=ACCOUNT,
        instrument=InstrumentId("BTC/USDT"),
    )
