"""The in-flight check's verdict on an order that got no answer in time (oms/inflight.py).

Each case applies what the verdict says to the order, so the events are also proven legal in the
lifecycle table.
"""

from datetime import timedelta
from decimal import Decimal

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
from tradewire.domain.events import OrderCancelRejected, OrderRejected, OrderReplaceRejected
from tradewire.domain.ids import VenueId, VenueOrderId
from tradewire.domain.orders import Order
from tradewire.domain.reports import OrderStatusReport
from tradewire.oms.identifiers import IdGenerator, Stamp
from tradewire.oms.inflight import InFlightVerdict, settle_unanswered

SPEC = make_spec(quantity="10", limit_price="5000.25")
STAMP = Stamp(IdGenerator(T0), ManualClock(at(60)))
THRESHOLD = timedelta(seconds=6)


def submitted_order() -> Order:
    order = make_order(SPEC)
    order.apply(make_submitted(SPEC))
    return order


def accepted_order() -> Order:
    order = submitted_order()
    order.apply(make_accepted(SPEC))
    return order


def venue_works_it(quantity: str = "10", limit_price: str = "5000.25") -> OrderStatusReport:
    return venue_says(VenueOrderStatus.ACCEPTED, quantity=quantity, limit_price=limit_price)


def venue_says(
    status: VenueOrderStatus, *, quantity: str = "10", limit_price: str = "5000.25"
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
        filled_quantity=Decimal(0),
        status=status,
        ts_event=T0,
        limit_price=Decimal(limit_price),
    )


def apply(order: Order, verdict: InFlightVerdict) -> None:
    for event in verdict.events:
        order.apply(event)


def test_a_submit_the_venue_does_not_know_never_arrived_and_is_rejected() -> None:
    order = submitted_order()
    verdict = settle_unanswered(order, None, THRESHOLD, STAMP)
    [event] = verdict.events
    assert isinstance(event, OrderRejected)
    assert event.reason == "no answer in 6s and the venue does not know the order: it never arrived"
    assert event.inferred
    assert not verdict.cancel_again
    apply(order, verdict)
    assert order.status is OrderStatus.REJECTED


def test_an_unacknowledged_order_with_a_cancel_pending_that_the_venue_does_not_know_is_rejected() -> None:
    order = submitted_order()
    order.apply(make_pending_cancel(SPEC))
    verdict = settle_unanswered(order, None, THRESHOLD, STAMP)
    assert [type(e) for e in verdict.events] == [OrderRejected]
    assert not verdict.cancel_again
    apply(order, verdict)
    assert order.status is OrderStatus.REJECTED


def test_a_submit_the_venue_knows_is_left_to_its_report() -> None:
    order = submitted_order()
    order.apply(make_accepted(SPEC))  # what the report, applied first, did
    assert settle_unanswered(order, venue_works_it(), THRESHOLD, STAMP) == InFlightVerdict()


def test_an_acknowledged_order_the_venue_no_longer_knows_is_left_for_a_person() -> None:
    order = accepted_order()
    order.apply(make_pending_cancel(SPEC))
    assert settle_unanswered(order, None, THRESHOLD, STAMP) == InFlightVerdict()


def test_a_cancel_the_venue_does_not_reflect_is_refused_and_sent_again() -> None:
    order = accepted_order()
    order.apply(make_pending_cancel(SPEC))
    verdict = settle_unanswered(order, venue_works_it(), THRESHOLD, STAMP)
    [event] = verdict.events
    assert isinstance(event, OrderCancelRejected)
    assert event.reason == "cancel got no answer in 6s; the venue still works the order"
    assert verdict.cancel_again
    apply(order, verdict)
    assert order.status is OrderStatus.ACCEPTED


def test_an_order_the_venue_has_ended_needs_no_settling() -> None:
    order = accepted_order()
    order.apply(make_pending_cancel(SPEC))
    for status in (VenueOrderStatus.CANCELED, VenueOrderStatus.FILLED, VenueOrderStatus.REJECTED):
        assert settle_unanswered(order, venue_says(status), THRESHOLD, STAMP) == InFlightVerdict()


def test_an_amend_the_venue_does_not_reflect_is_refused_and_never_sent_again() -> None:
    order = accepted_order()
    order.apply(make_pending_replace(SPEC, quantity="15", ts=at(10)))
    verdict = settle_unanswered(order, venue_works_it(), THRESHOLD, STAMP)
    [event] = verdict.events
    assert isinstance(event, OrderReplaceRejected)
    assert event.reason.startswith("amend got no answer in 6s")
    assert not verdict.cancel_again
    apply(order, verdict)
    assert order.status is OrderStatus.ACCEPTED
    assert order.quantity == Decimal(10)
    assert order.pending_quantity is None


def test_a_cancel_behind_an_unanswered_amend_settles_both_then_is_sent_again() -> None:
    order = accepted_order()
    order.apply(make_pending_replace(SPEC, quantity="15", ts=at(10)))
    order.apply(make_pending_cancel(SPEC, ts=at(11)))
    verdict = settle_unanswered(order, venue_works_it(), THRESHOLD, STAMP)
    assert [type(e) for e in verdict.events] == [OrderReplaceRejected, OrderCancelRejected]
    assert verdict.cancel_again
    apply(order, verdict)
    assert order.status is OrderStatus.ACCEPTED
    assert order.pending_quantity is None
