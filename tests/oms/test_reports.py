"""Reports that race an amend or a cancel: found by the fault-injection harness (docs/recovery.md).

A late or repeated report from before an amend must not pass for the amend; a fill at the old
quantity settles an amend the venue never applied; at start-up a cancel or amend the venue's live
order does not reflect never reached it.
"""

from datetime import datetime
from decimal import Decimal

import msgspec

from tests.factories import (
    T0,
    at,
    make_accepted,
    make_order,
    make_pending_cancel,
    make_pending_replace,
    make_spec,
    make_submitted,
)
from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderStatus, VenueOrderStatus
from tradewire.domain.events import OrderAccepted, OrderCancelRejected, OrderReplaced, OrderReplaceRejected
from tradewire.domain.ids import VenueId, VenueOrderId
from tradewire.domain.orders import AmendPrices, Order
from tradewire.domain.reports import OrderStatusReport
from tradewire.oms.identifiers import IdGenerator, Stamp
from tradewire.oms.reports import events_for_status, events_for_unanswered_request

SPEC = make_spec(quantity="10", limit_price="5000.25")
STAMP = Stamp(IdGenerator(T0), ManualClock(at(60)))


def accepted_order() -> Order:
    order = make_order(SPEC)
    order.apply(make_submitted(SPEC))
    order.apply(make_accepted(SPEC))
    return order


def amending(limit_price: str = "5000.25", quantity: str = "10") -> Order:
    order = accepted_order()
    order.apply(make_pending_replace(SPEC, quantity=quantity, limit_price=limit_price, ts=at(10)))
    return order


def venue_says(
    status: VenueOrderStatus,
    *,
    quantity: str = "10",
    limit_price: str = "5000.25",
    filled: str = "0",
    ts: datetime = T0,
) -> OrderStatusReport:
    return OrderStatusReport(
        venue=VenueId("paper"),
        account=SPEC.account,
        client_order_id=SPEC.client_order_id,
        venue_order_id=VenueOrderId("V-1"),
        instrument=SPEC.instrument,
        side=SPEC.side,
        order_type=SPEC.order_type,
        quantity=Decimal(quantity),
        filled_quantity=Decimal(filled),
        status=status,
        ts_event=ts,
        limit_price=Decimal(limit_price),
    )


def test_a_report_from_before_a_price_amend_does_not_confirm_it() -> None:
    order = amending(limit_price="5000.00")
    stale = venue_says(VenueOrderStatus.ACCEPTED, ts=at(0))
    assert events_for_status(order, stale, STAMP, inferred=False) == []


def test_the_venue_order_at_the_amended_price_confirms_the_amend() -> None:
    order = amending(limit_price="5000.00")
    [event] = events_for_status(
        order, venue_says(VenueOrderStatus.ACCEPTED, limit_price="5000.00"), STAMP, False
    )
    assert isinstance(event, OrderReplaced)
    assert event.limit_price == Decimal("5000.00")


def test_an_amend_that_changed_nothing_is_confirmed_by_a_report_stamped_after_it() -> None:
    order = amending()
    assert events_for_status(order, venue_says(VenueOrderStatus.ACCEPTED, ts=at(5)), STAMP, False) == []
    [event] = events_for_status(order, venue_says(VenueOrderStatus.ACCEPTED, ts=at(11)), STAMP, False)
    assert isinstance(event, OrderReplaced)


def test_a_fill_at_the_old_quantity_refuses_the_amend_the_venue_never_applied() -> None:
    order = amending(quantity="15")
    report = venue_says(VenueOrderStatus.FILLED, filled="10")
    [event] = events_for_status(order, report, STAMP, inferred=True)
    assert isinstance(event, OrderReplaceRejected)
    order.apply(event)
    assert order.status is OrderStatus.ACCEPTED and order.pending_quantity is None


def test_a_fill_at_the_amended_quantity_confirms_the_amend() -> None:
    order = amending(quantity="15")
    [event] = events_for_status(
        order, venue_says(VenueOrderStatus.FILLED, quantity="15", filled="15"), STAMP, True
    )
    assert isinstance(event, OrderReplaced)


def test_at_start_up_a_cancel_the_live_venue_order_does_not_reflect_is_refused() -> None:
    order = accepted_order()
    order.apply(make_pending_cancel(SPEC))
    [event] = events_for_unanswered_request(order, venue_says(VenueOrderStatus.ACCEPTED), STAMP)
    assert isinstance(event, OrderCancelRejected)
    order.apply(event)
    assert order.status is OrderStatus.ACCEPTED


def test_at_start_up_an_amend_the_live_venue_order_does_not_reflect_is_refused() -> None:
    order = amending(quantity="15")
    [event] = events_for_unanswered_request(order, venue_says(VenueOrderStatus.ACCEPTED), STAMP)
    assert isinstance(event, OrderReplaceRejected)


def test_an_ended_venue_order_leaves_nothing_to_refuse() -> None:
    order = accepted_order()
    order.apply(make_pending_cancel(SPEC))
    assert events_for_unanswered_request(order, venue_says(VenueOrderStatus.CANCELED), STAMP) == []


def test_an_ack_overtaken_by_our_cancel_is_recorded_so_a_refused_cancel_leaves_the_order_live() -> None:
    order = make_order(SPEC)
    order.apply(make_submitted(SPEC))
    order.apply(make_pending_cancel(SPEC))
    [accepted] = events_for_status(order, venue_says(VenueOrderStatus.ACCEPTED), STAMP, inferred=True)
    assert isinstance(accepted, OrderAccepted)
    order.apply(accepted)
    [refused] = events_for_unanswered_request(order, venue_says(VenueOrderStatus.ACCEPTED), STAMP)
    order.apply(refused)
    assert (order.status, order.venue_order_id) == (OrderStatus.ACCEPTED, "V-1")


def test_a_report_from_before_a_price_amend_stamped_in_the_same_instant_does_not_confirm_it() -> None:
    order = amending(limit_price="5000.00")  # requested at(10)
    for ts in (at(10), at(11)):  # the same instant (a manual clock), or a repeat stamped later
        stale = venue_says(VenueOrderStatus.ACCEPTED, ts=ts)
        assert events_for_status(order, stale, STAMP, inferred=False) == []


def test_the_pending_amend_keeps_its_prices_until_it_is_answered() -> None:
    order = amending(limit_price="5000.00")
    pending = order.pending_prices
    assert pending == AmendPrices(Decimal("5000.00"), SPEC.stop_price)
    [event] = events_for_status(
        order, venue_says(VenueOrderStatus.ACCEPTED, limit_price="5000.00"), STAMP, False
    )
    assert isinstance(event, OrderReplaced)
    order.apply(event)
    assert (order.limit_price, order.pending_quantity, order.pending_prices) == (
        Decimal("5000.00"),
        None,
        None,
    )


def test_a_report_without_prices_at_the_amended_quantity_confirms_a_quantity_amend() -> None:
    order = amending(quantity="15")
    report = msgspec.structs.replace(
        venue_says(VenueOrderStatus.ACCEPTED, quantity="15"), limit_price=None, stop_price=None
    )
    [event] = events_for_status(order, report, STAMP, False)
    assert isinstance(event, OrderReplaced)
