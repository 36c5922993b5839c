"""Venue-side validation: every reason the paper venue rejects an order for, and duplicates."""

from decimal import Decimal

import pytest

from tradewire.domain.enums import OrderType, Side, TimeInForce, VenueOrderStatus
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import ClientOrderId

from .support import connected_venue, settle, spec


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (spec("r-1", instrument="NOPE"), "unknown instrument 'NOPE'"),
        (spec("r-2", quantity="10.5"), "not a multiple of the lot size 1"),
        (spec("r-3", instrument="EURUSD", quantity="1500"), "not a multiple of the lot size"),
        (spec("r-4", instrument="BTC/USDT", quantity="0.000001"), "not a multiple of the lot"),
        (spec("r-5", instrument="EURUSD", quantity="0"), "must be positive"),
        (spec("r-6", quantity="-5"), "must be positive"),
        (spec("r-7", quantity="2000000"), "above the maximum 1000000"),
        (
            spec("r-8", order_type=OrderType.LIMIT, limit_price="100.005"),
            "limit price 100.005 is not on the tick size 0.01",
        ),
        (
            spec("r-9", order_type=OrderType.STOP, stop_price="100.001"),
            "stop price 100.001 is not on the tick size",
        ),
        (spec("r-10", order_type=OrderType.LIMIT), "needs a limit price"),
        (spec("r-11", order_type=OrderType.STOP_LIMIT, limit_price="100.00"), "needs a stop price"),
        (spec("r-12", limit_price="100.00"), "a market order takes no limit price"),
        (
            spec("r-13", order_type=OrderType.LIMIT, limit_price="-1.00"),
            "limit price -1.00 must be positive",
        ),
        (
            spec("r-14", instrument="BTC/USDT", quantity="0.00001"),
            "below the minimum 5",
        ),
        (spec("r-15", venue="elsewhere"), "for venue 'elsewhere'"),
        (spec("r-" + "x" * 70), "1 to 64 characters"),
        (spec("r-16", reduce_only=True), "reduce-only order would increase the position"),
        (spec("r-17", quantity="NaN"), "quantity NaN is not a finite number"),
        (spec("r-18", quantity="1e999999999"), "not a multiple of the lot size"),
        (
            spec("r-19", order_type=OrderType.LIMIT, limit_price="Infinity"),
            "limit price Infinity is not a finite number",
        ),
        (
            spec("r-20", order_type=OrderType.LIMIT, limit_price="1e999999999"),
            "not on the tick size",
        ),
    ],
)
async def test_an_invalid_order_is_rejected_with_a_reason_that_says_why(
    order: OrderSpec, reason: str
) -> None:
    venue, recorder, _ = await connected_venue()

    await venue.submit(order)
    await settle()

    report = recorder.last_status(order.client_order_id)
    assert report.status is VenueOrderStatus.REJECTED
    assert report.reason is not None
    assert reason in report.reason
    assert recorder.fills() == []
    assert await venue.open_orders() == []


async def test_quantity_below_the_instrument_minimum_is_rejected() -> None:
    venue, recorder, _ = await connected_venue()

    await venue.submit(spec("min-1", instrument="EURUSD", quantity="0"))
    await venue.submit(spec("min-2", instrument="ESZ6", quantity="0.5"))
    await settle()

    assert recorder.last_status("min-1").status is VenueOrderStatus.REJECTED
    assert recorder.last_status("min-2").status is VenueOrderStatus.REJECTED


async def test_an_order_type_the_venue_does_not_support_is_rejected() -> None:
    venue, recorder, _ = await connected_venue(
        order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
        time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC}),
    )

    await venue.submit(spec("u-1", order_type=OrderType.STOP, stop_price="200.00"))
    await venue.submit(spec("u-2", time_in_force=TimeInForce.FOK))
    await settle()

    assert recorder.last_status("u-1").reason == "order type stop is not supported"
    assert recorder.last_status("u-2").reason == "time in force fok is not supported"
    assert OrderType.STOP not in venue.capabilities.order_types


async def test_a_duplicate_client_order_id_is_rejected_and_the_first_order_is_untouched() -> None:
    venue, recorder, _ = await connected_venue()
    first = spec("dup-1", order_type=OrderType.LIMIT, limit_price="150.00")
    await venue.submit(first)
    await settle()

    await venue.submit(spec("dup-1", side=Side.SELL, quantity="5"))
    await settle()

    assert recorder.statuses("dup-1") == [VenueOrderStatus.ACCEPTED, VenueOrderStatus.REJECTED]
    assert "duplicate client order id" in (recorder.last_status("dup-1").reason or "")
    status = await venue.order_status(ClientOrderId("dup-1"))
    assert status is not None
    assert status.status is VenueOrderStatus.ACCEPTED
    assert status.side is Side.BUY
    assert status.quantity == 100
    assert len(await venue.open_orders()) == 1


async def test_a_client_order_id_is_never_accepted_twice_even_after_the_first_order_is_done() -> None:
    venue, recorder, _ = await connected_venue()
    await venue.submit(spec("once"))
    await settle()
    assert recorder.last_status("once").status is VenueOrderStatus.FILLED

    await venue.submit(spec("once"))
    await settle()

    assert recorder.last_status("once").status is VenueOrderStatus.REJECTED
    assert len(recorder.fills("once")) >= 1
    assert sum(f.quantity for f in recorder.fills("once")) == 100


async def test_a_rejected_client_order_id_cannot_be_reused_either() -> None:
    venue, recorder, _ = await connected_venue()
    await venue.submit(spec("bad", quantity="0"))
    await venue.submit(spec("bad"))
    await settle()

    assert recorder.statuses("bad") == [VenueOrderStatus.REJECTED, VenueOrderStatus.REJECTED]
    assert "duplicate client order id" in (recorder.last_status("bad").reason or "")
    assert recorder.fills() == []


async def test_reduce_only_order_that_reduces_the_position_is_accepted_and_one_that_flips_it_is_not() -> None:
    venue, recorder, _ = await connected_venue()
    await venue.submit(spec("open", quantity="50"))
    await venue.submit(spec("reduce", side=Side.SELL, quantity="30", reduce_only=True))
    await venue.submit(spec("flip", side=Side.SELL, quantity="30", reduce_only=True))
    await venue.submit(spec("add", side=Side.BUY, quantity="1", reduce_only=True))
    await settle()

    assert recorder.last_status("reduce").status is VenueOrderStatus.FILLED
    assert recorder.last_status("flip").status is VenueOrderStatus.REJECTED
    assert recorder.last_status("add").status is VenueOrderStatus.REJECTED
    [position] = await venue.positions()
    assert position.quantity == 20


async def test_simulated_rejects_follow_the_configured_probability_and_seed() -> None:
    async def rejected_ids(seed: int) -> list[str]:
        venue, recorder, _ = await connected_venue(reject_probability=Decimal("0.5"), seed=seed)
        for n in range(40):
            await venue.submit(spec(f"s-{n}", quantity="1"))
        await settle()
        return [f"s-{n}" for n in range(40) if recorder.last_status(f"s-{n}").reason == "simulated reject"]

    first = await rejected_ids(7)
    assert 5 < len(first) < 35
    assert first == await rejected_ids(7)


async def test_no_simulated_rejects_when_the_probability_is_zero() -> None:
    venue, recorder, _ = await connected_venue()
    for n in range(20):
        await venue.submit(spec(f"z-{n}", quantity="1"))
    await settle()

    assert VenueOrderStatus.REJECTED not in [s for n in range(20) for s in recorder.statuses(f"z-{n}")]
