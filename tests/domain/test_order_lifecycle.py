"""The order lifecycle table and `Order.apply`, pair by pair and through the races venues produce."""

from decimal import Decimal

import msgspec
import pytest

from tests.factories import (
    ORDER_EVENT_TYPES,
    at,
    make_accepted,
    make_cancel_rejected,
    make_canceled,
    make_created,
    make_denied,
    make_event,
    make_expired,
    make_filled,
    make_order,
    make_pending_cancel,
    make_pending_replace,
    make_rejected,
    make_replace_rejected,
    make_replaced,
    make_spec,
    make_submitted,
    snapshot,
)
from tradewire.domain.enums import OPEN_STATUSES, TERMINAL_STATUSES, OrderStatus, OrderType
from tradewire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCreated,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSpec,
    OrderSubmitted,
)
from tradewire.domain.ids import SignalId
from tradewire.domain.orders import TRANSITIONS, IllegalTransitionError, Order
from tradewire.portfolio.book import Portfolio

S = OrderStatus
SPEC = make_spec(quantity="10", limit_price="5000.25")


def _order_in(status: OrderStatus, spec: OrderSpec = SPEC) -> Order:
    """An order of 10 brought to `status` by the shortest realistic history."""
    if status is S.DENIED:
        return Order.create(make_denied(spec))
    histories: dict[OrderStatus, list[OrderEvent]] = {
        S.PENDING_NEW: [],
        S.SUBMITTED: [make_submitted(spec)],
        S.ACCEPTED: [make_submitted(spec), make_accepted(spec)],
        S.PARTIALLY_FILLED: [
            make_submitted(spec),
            make_accepted(spec),
            make_filled(spec, quantity="4", price="5000", fill_id="f-setup"),
        ],
        S.FILLED: [
            make_submitted(spec),
            make_accepted(spec),
            make_filled(spec, quantity="10", price="5000", fill_id="f-setup"),
        ],
        S.PENDING_CANCEL: [make_submitted(spec), make_accepted(spec), make_pending_cancel(spec)],
        S.PENDING_REPLACE: [
            make_submitted(spec),
            make_accepted(spec),
            make_pending_replace(spec, quantity="12"),
        ],
        S.CANCELED: [make_submitted(spec), make_accepted(spec), make_canceled(spec)],
        S.REJECTED: [make_submitted(spec), make_rejected(spec)],
        S.EXPIRED: [make_submitted(spec), make_accepted(spec), make_expired(spec)],
    }
    order = make_order(spec)
    for event in histories[status]:
        order.apply(event)
    assert status_of(order) is status
    return order


def status_of(order: Order) -> OrderStatus:
    """The order's status, read through a call so mypy does not carry narrowing across `apply`."""
    return order.status


# What a representative event (see `make_event`: a fill is 3 of 10) does from each status, written
# out independently of `TRANSITIONS`. A pair missing here must be refused.
EXPECTED: dict[tuple[OrderStatus, type[OrderEvent]], OrderStatus] = {
    (S.PENDING_NEW, OrderSubmitted): S.SUBMITTED,
    (S.PENDING_NEW, OrderAccepted): S.ACCEPTED,
    (S.PENDING_NEW, OrderRejected): S.REJECTED,
    (S.PENDING_NEW, OrderFilled): S.PARTIALLY_FILLED,
    (S.PENDING_NEW, OrderCanceled): S.CANCELED,
    (S.PENDING_NEW, OrderExpired): S.EXPIRED,
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    (S.SUBMITTED, OrderFilled): S.PARTIALLY_FILLED,
    (S.SUBMITTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.SUBMITTED, OrderCanceled): S.CANCELED,
    (S.SUBMITTED, OrderExpired): S.EXPIRED,
    (S.ACCEPTED, OrderFilled): S.PARTIALLY_FILLED,
    (S.ACCEPTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.ACCEPTED, OrderPendingReplace): S.PENDING_REPLACE,
    (S.ACCEPTED, OrderCanceled): S.CANCELED,
    (S.ACCEPTED, OrderExpired): S.EXPIRED,
    (S.PARTIALLY_FILLED, OrderFilled): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, OrderPendingReplace): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, OrderAccepted): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderCanceled): S.CANCELED,
    (S.PARTIALLY_FILLED, OrderExpired): S.EXPIRED,
    (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderFilled): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderCancelRejected): S.ACCEPTED,
    (S.PENDING_CANCEL, OrderCanceled): S.CANCELED,
    (S.PENDING_CANCEL, OrderExpired): S.EXPIRED,
    (S.PENDING_CANCEL, OrderRejected): S.REJECTED,
    (S.PENDING_CANCEL, OrderReplaced): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderReplaceRejected): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, OrderAccepted): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, OrderFilled): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, OrderReplaced): S.ACCEPTED,
    (S.PENDING_REPLACE, OrderReplaceRejected): S.ACCEPTED,
    (S.PENDING_REPLACE, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, OrderCanceled): S.CANCELED,
    (S.PENDING_REPLACE, OrderExpired): S.EXPIRED,
    (S.CANCELED, OrderFilled): S.CANCELED,
    (S.EXPIRED, OrderFilled): S.EXPIRED,
    (S.FILLED, OrderFilled): S.FILLED,
    # the answer to an amend that the cancel ack or the last fill overtook
    (S.CANCELED, OrderReplaced): S.CANCELED,
    (S.CANCELED, OrderReplaceRejected): S.CANCELED,
    (S.EXPIRED, OrderReplaced): S.EXPIRED,
    (S.EXPIRED, OrderReplaceRejected): S.EXPIRED,
    (S.FILLED, OrderReplaced): S.FILLED,
    (S.FILLED, OrderReplaceRejected): S.FILLED,
}
AMEND_ANSWERS = (OrderReplaced, OrderReplaceRejected)
"""Legal only while an amend is pending; of the histories in `_order_in` only PENDING_REPLACE's."""
ALL_PAIRS = [(status, event_type) for status in S for event_type in ORDER_EVENT_TYPES]
FILLABLE = sorted({status for status, event_type in EXPECTED if event_type is OrderFilled})


def _pair_id(pair: tuple[OrderStatus, type[OrderEvent]]) -> str:
    return f"{pair[0]}-{pair[1].__name__}"


def test_the_event_types_under_test_are_every_order_event() -> None:
    assert len(ORDER_EVENT_TYPES) == 13
    assert OrderCreated in ORDER_EVENT_TYPES
    assert OrderFilled in ORDER_EVENT_TYPES


def test_the_transition_table_allows_exactly_the_expected_pairs() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=_pair_id)
def test_every_status_and_event_pair_moves_as_expected_or_changes_nothing(
    pair: tuple[OrderStatus, type[OrderEvent]],
) -> None:
    status, event_type = pair
    order = _order_in(status)
    event = make_event(event_type, SPEC, ts=at(60))
    before = snapshot(order)
    expected = EXPECTED.get(pair)
    unasked = event_type in AMEND_ANSWERS and status is not S.PENDING_REPLACE

    if expected is None or unasked:
        with pytest.raises(IllegalTransitionError) as raised:
            order.apply(event)
        assert snapshot(order) == before
        assert raised.value.status is status
        assert raised.value.attempted == event_type.__name__
        assert raised.value.client_order_id == SPEC.client_order_id
        if expected is None:
            assert f"is not allowed from {status}" in str(raised.value)
        else:
            assert "no amend is pending" in str(raised.value)
        assert not order.can_apply(event_type)
    else:
        assert order.can_apply(event_type)
        order.apply(event)
        assert status_of(order) is expected
        assert order.updated_at == at(60)


@pytest.mark.parametrize("status", [s for s in FILLABLE if s not in (S.PENDING_REPLACE, S.FILLED)], ids=str)
def test_a_fill_of_the_remaining_quantity_fills_the_order_from_any_status_that_takes_fills(
    status: OrderStatus,
) -> None:
    order = _order_in(status)
    remaining = Decimal("10") - order.filled_quantity
    order.apply(make_filled(SPEC, quantity=remaining, price="5000"))
    assert status_of(order) is S.FILLED
    assert order.filled_quantity == Decimal("10")
    assert order.leaves_quantity == 0
    assert not order.overfilled


def _order_with_amend_up_in_flight(status: OrderStatus) -> Order:
    """An accepted order of 10 with an amend to 12 sent, then brought to `status`."""
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="12"))
    then: dict[OrderStatus, list[OrderEvent]] = {
        S.PENDING_REPLACE: [],
        S.PENDING_CANCEL: [make_pending_cancel(SPEC)],
        S.FILLED: [make_filled(SPEC, quantity="12", price="5000")],
        S.CANCELED: [make_pending_cancel(SPEC), make_canceled(SPEC)],
        S.EXPIRED: [make_expired(SPEC)],
    }
    for event in then[status]:
        order.apply(event)
    assert status_of(order) is status
    return order


@pytest.mark.parametrize(
    ("status", "answer", "expected_status", "expected_quantity", "overfilled"),
    [
        (S.PENDING_REPLACE, OrderReplaced, S.ACCEPTED, "12", False),
        (S.PENDING_REPLACE, OrderReplaceRejected, S.ACCEPTED, "10", False),
        (S.PENDING_CANCEL, OrderReplaced, S.PENDING_CANCEL, "12", False),
        # 12 were filled: confirmed, the amend covers them; refused, the venue overfilled
        (S.FILLED, OrderReplaced, S.FILLED, "12", False),
        (S.FILLED, OrderReplaceRejected, S.FILLED, "10", True),
        (S.CANCELED, OrderReplaced, S.CANCELED, "12", False),
        (S.CANCELED, OrderReplaceRejected, S.CANCELED, "10", False),
        (S.EXPIRED, OrderReplaced, S.EXPIRED, "12", False),
        (S.EXPIRED, OrderReplaceRejected, S.EXPIRED, "10", False),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else str(value),
)
def test_the_answer_to_an_amend_in_flight_is_applied_whatever_overtook_it(
    status: OrderStatus,
    answer: type[OrderEvent],
    expected_status: OrderStatus,
    expected_quantity: str,
    overfilled: bool,
) -> None:
    order = _order_with_amend_up_in_flight(status)
    if answer is OrderReplaced:
        order.apply(make_replaced(SPEC, quantity="12"))
    else:
        order.apply(make_replace_rejected(SPEC))
    assert status_of(order) is expected_status
    assert order.quantity == Decimal(expected_quantity)
    assert order.pending_quantity is None
    assert order.overfilled is overfilled


def test_an_amend_refused_while_a_cancel_is_pending_does_not_leave_the_order_waiting() -> None:
    order = _order_in(S.PARTIALLY_FILLED)  # 4 of 10
    order.apply(make_pending_replace(SPEC, quantity="3"))
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_replace_rejected(SPEC, reason="quantity below filled"))
    order.apply(make_cancel_rejected(SPEC, reason="modification in progress"))
    assert status_of(order) is S.PARTIALLY_FILLED
    assert order.pending_quantity is None


# --- fills and their arithmetic ---


def test_a_fill_before_the_ack_counts_and_records_the_venue_order_id() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_filled(SPEC, quantity="4", price="5000", venue_order_id="V-77"))
    assert status_of(order) is S.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal("4")
    assert order.venue_order_id == "V-77"
    assert order.leaves_quantity == Decimal("6")


def test_the_ack_that_a_fill_overtook_is_absorbed_without_an_anomaly() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_filled(SPEC, quantity="4", price="5000"))
    order.apply(make_accepted(SPEC, venue_order_id="V-1"))
    assert status_of(order) is S.PARTIALLY_FILLED


def test_the_average_fill_price_is_the_quantity_weighted_mean() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_filled(SPEC, quantity="2", price="5000.00"))
    order.apply(make_filled(SPEC, quantity="3", price="5001.50"))
    order.apply(make_filled(SPEC, quantity="5", price="4999.25"))
    # (2 * 5000 + 3 * 5001.50 + 5 * 4999.25) / 10 = (10_000 + 15_004.50 + 24_996.25) / 10
    assert order.average_fill_price == Decimal("5000.075")
    assert order.filled_quantity == Decimal("10")
    assert status_of(order) is S.FILLED


def test_fees_accumulate_over_fills() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_filled(SPEC, quantity="4", price="5000", fee="2.10"))
    order.apply(make_filled(SPEC, quantity="6", price="5000", fee="3.15"))
    assert order.fees == Decimal("5.25")


def test_a_fill_beyond_the_quantity_sets_overfilled_and_fills_the_order() -> None:
    order = _order_in(S.PARTIALLY_FILLED)  # 4 of 10
    order.apply(make_filled(SPEC, quantity="7", price="5000"))
    assert order.filled_quantity == Decimal("11")
    assert order.overfilled
    assert status_of(order) is S.FILLED
    assert order.leaves_quantity == 0


def test_a_fill_of_exactly_the_quantity_is_not_an_overfill() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    order.apply(make_filled(SPEC, quantity="6", price="5000"))
    assert status_of(order) is S.FILLED
    assert not order.overfilled


def test_a_venue_overfill_arriving_as_a_separate_fill_is_still_counted() -> None:
    order = _order_in(S.FILLED)
    order.apply(make_filled(SPEC, quantity="1", price="5000", fill_id="f-extra"))
    assert order.filled_quantity == Decimal("11")
    assert order.overfilled


def test_a_zero_quantity_fill_is_refused_without_changing_the_order() -> None:
    order = _order_in(S.SUBMITTED)
    before = snapshot(order)
    with pytest.raises(IllegalTransitionError):
        order.apply(make_filled(SPEC, quantity="0", price="5000", venue_order_id="V-9"))
    assert snapshot(order) == before


# --- cancels and the fills that race them ---


def test_a_fill_after_the_cancel_ack_counts_and_the_order_stays_canceled() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    portfolio = Portfolio()
    portfolio.apply_fill(make_filled(SPEC, quantity="4", price="5000", fill_id="f-setup"))
    order.apply(make_canceled(SPEC))

    late = make_filled(SPEC, quantity="3", price="5000.50", fill_id="f-late")
    order.apply(late)
    portfolio.apply_fill(late)

    assert status_of(order) is S.CANCELED
    assert order.filled_quantity == Decimal("7")
    assert order.leaves_quantity == 0
    assert portfolio.account_quantity(SPEC.account, SPEC.instrument) == Decimal("7")


def test_a_late_fill_that_completes_a_canceled_order_makes_it_filled() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    order.apply(make_canceled(SPEC))
    order.apply(make_filled(SPEC, quantity="6", price="5000"))
    assert status_of(order) is S.FILLED
    assert order.filled_quantity == Decimal("10")


def test_a_late_fill_on_an_expired_order_counts_and_it_stays_expired() -> None:
    order = _order_in(S.EXPIRED)
    order.apply(make_filled(SPEC, quantity="2", price="5000"))
    assert status_of(order) is S.EXPIRED
    assert order.filled_quantity == Decimal("2")


def test_a_fill_while_the_cancel_is_pending_keeps_the_order_pending_cancel() -> None:
    order = _order_in(S.PENDING_CANCEL)
    order.apply(make_filled(SPEC, quantity="3", price="5000"))
    assert status_of(order) is S.PENDING_CANCEL
    assert order.filled_quantity == Decimal("3")
    assert order.leaves_quantity == Decimal("7")


def test_an_ack_after_the_cancel_request_keeps_the_cancel_pending_and_records_the_venue_id() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_accepted(SPEC, venue_order_id="V-5"))
    assert status_of(order) is S.PENDING_CANCEL
    assert order.venue_order_id == "V-5"
    order.apply(make_canceled(SPEC))
    assert status_of(order) is S.CANCELED


def test_a_rejected_cancel_returns_an_accepted_order_to_accepted_with_the_reason() -> None:
    order = _order_in(S.PENDING_CANCEL)
    order.apply(make_cancel_rejected(SPEC, reason="unknown order"))
    assert status_of(order) is S.ACCEPTED
    assert order.reason == "unknown order"
    assert order.leaves_quantity == Decimal("10")


def test_a_rejected_cancel_returns_a_partially_filled_order_to_partially_filled() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal("4")


def test_a_rejected_cancel_after_a_fill_while_pending_returns_to_partially_filled() -> None:
    order = _order_in(S.PENDING_CANCEL)  # was ACCEPTED, nothing filled
    order.apply(make_filled(SPEC, quantity="3", price="5000"))
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.PARTIALLY_FILLED


def test_a_rejected_cancel_of_a_submitted_order_returns_it_to_submitted() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.SUBMITTED


def test_a_rejected_cancel_after_an_ack_that_raced_it_returns_the_order_to_accepted() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_accepted(SPEC))
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.ACCEPTED


def test_a_fill_completing_the_order_while_the_cancel_is_pending_makes_it_filled() -> None:
    order = _order_in(S.PENDING_CANCEL)
    order.apply(make_filled(SPEC, quantity="10", price="5000"))
    assert status_of(order) is S.FILLED


# --- replaces ---


def test_a_replace_changes_quantity_and_prices_only_when_the_venue_confirms_it() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="12", limit_price="5001.00"))
    assert status_of(order) is S.PENDING_REPLACE
    assert order.quantity == Decimal("10")
    assert order.limit_price == Decimal("5000.25")

    order.apply(make_replaced(SPEC, quantity="12", limit_price="5001.00"))
    assert status_of(order) is S.ACCEPTED
    assert order.quantity == Decimal("12")
    assert order.limit_price == Decimal("5001.00")
    assert order.leaves_quantity == Decimal("12")


def test_a_rejected_replace_keeps_the_quantity_and_returns_to_the_previous_status() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    order.apply(make_pending_replace(SPEC, quantity="6"))
    order.apply(make_replace_rejected(SPEC, reason="quantity below filled"))
    assert status_of(order) is S.PARTIALLY_FILLED
    assert order.quantity == Decimal("10")
    assert order.reason == "quantity below filled"


def test_a_replace_down_to_the_filled_quantity_completes_the_order() -> None:
    order = _order_in(S.PARTIALLY_FILLED)  # 4 of 10
    order.apply(make_pending_replace(SPEC, quantity="4"))
    order.apply(make_replaced(SPEC, quantity="4"))
    assert status_of(order) is S.FILLED
    assert order.leaves_quantity == 0
    assert not order.overfilled


def test_a_fill_while_the_replace_is_pending_counts_and_the_replace_then_lands_on_partial() -> None:
    order = _order_in(S.PENDING_REPLACE)  # amend 10 -> 12 pending
    order.apply(make_filled(SPEC, quantity="5", price="5000"))
    assert status_of(order) is S.PENDING_REPLACE
    order.apply(make_replaced(SPEC, quantity="12"))
    assert status_of(order) is S.PARTIALLY_FILLED
    assert order.leaves_quantity == Decimal("7")


def test_a_replace_nobody_asked_for_is_refused_and_changes_nothing() -> None:
    """Only a pending amend can be confirmed; a stray or redelivered ack must not move the quantity."""
    order = _order_in(S.PARTIALLY_FILLED)
    before = snapshot(order)
    with pytest.raises(IllegalTransitionError):
        order.apply(make_replaced(SPEC, quantity="8"))
    assert snapshot(order) == before


def test_fills_while_an_amend_up_is_pending_hold_until_the_new_quantity_is_reached() -> None:
    order = _order_in(S.PENDING_REPLACE)  # amend 10 -> 12 pending
    order.apply(make_filled(SPEC, quantity="10", price="5000", fill_id="f-1"))
    assert status_of(order) is S.PENDING_REPLACE
    order.apply(make_replace_rejected(SPEC))
    assert status_of(order) is S.FILLED
    assert not order.overfilled


def test_a_cancel_refused_during_a_replace_leaves_the_replace_pending_until_it_is_answered() -> None:
    order = _order_in(S.PARTIALLY_FILLED)
    order.apply(make_pending_replace(SPEC, quantity="12"))
    order.apply(make_pending_cancel(SPEC))
    assert status_of(order) is S.PENDING_CANCEL
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.PENDING_REPLACE
    order.apply(make_replace_rejected(SPEC))
    assert status_of(order) is S.PARTIALLY_FILLED


def test_a_fill_that_overtakes_the_ack_of_an_amend_up_is_not_lost() -> None:
    order = _order_in(S.PENDING_REPLACE)  # amend 10 -> 12 pending
    portfolio = Portfolio()
    # The venue amended to 12, then executed 10 and 2; the amend ack is delivered after the first.
    first = make_filled(SPEC, quantity="10", price="5000", fill_id="f-1")
    second = make_filled(SPEC, quantity="2", price="5000", fill_id="f-2")
    order.apply(first)
    portfolio.apply_fill(first)
    assert status_of(order) is S.PENDING_REPLACE  # 10 may be only part of the amended 12
    order.apply(make_replaced(SPEC, quantity="12"))
    assert status_of(order) is S.PARTIALLY_FILLED
    order.apply(second)
    portfolio.apply_fill(second)
    assert status_of(order) is S.FILLED
    assert order.quantity == Decimal("12")
    assert order.filled_quantity == Decimal("12")
    assert not order.overfilled
    assert portfolio.account_quantity(SPEC.account, SPEC.instrument) == Decimal("12")


def test_an_amend_confirmed_while_a_cancel_is_pending_updates_the_quantity() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="6"))
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_replaced(SPEC, quantity="6"))
    assert status_of(order) is S.PENDING_CANCEL
    assert order.quantity == Decimal("6")
    order.apply(make_cancel_rejected(SPEC))
    assert status_of(order) is S.ACCEPTED
    assert order.quantity == Decimal("6")


def test_a_redelivered_ack_of_an_earlier_amend_does_not_restore_the_old_quantity() -> None:
    order = _order_in(S.ACCEPTED)
    first_ack = make_replaced(SPEC, quantity="12")
    order.apply(make_pending_replace(SPEC, quantity="12"))
    order.apply(first_ack)
    order.apply(make_pending_replace(SPEC, quantity="8"))
    order.apply(make_replaced(SPEC, quantity="8"))
    before = snapshot(order)
    with pytest.raises(IllegalTransitionError):
        order.apply(first_ack)
    assert snapshot(order) == before
    assert order.quantity == Decimal("8")


def test_the_ack_of_an_amend_up_that_fills_already_completed_is_applied() -> None:
    order = _order_in(S.PENDING_REPLACE)  # amend 10 -> 12 pending
    order.apply(make_filled(SPEC, quantity="12", price="5000"))
    order.apply(make_replaced(SPEC, quantity="12"))
    assert status_of(order) is S.FILLED
    assert order.quantity == Decimal("12")
    assert order.pending_quantity is None
    assert not order.overfilled


def test_a_fill_beyond_both_the_quantity_and_a_pending_amend_is_an_overfill() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="6"))
    order.apply(make_filled(SPEC, quantity="11", price="5000"))
    assert status_of(order) is S.FILLED
    assert order.overfilled


def test_an_overfill_after_a_too_late_amend_is_flagged() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="6"))
    order.apply(make_filled(SPEC, quantity="10", price="5000", fill_id="f-1"))
    order.apply(make_replace_rejected(SPEC, reason="order is filled"))
    order.apply(make_filled(SPEC, quantity="1", price="5000", fill_id="f-2"))
    assert order.filled_quantity == Decimal("11")
    assert order.overfilled


def test_an_amend_ack_overtaken_by_the_cancel_ack_still_records_the_amended_quantity() -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(make_pending_replace(SPEC, quantity="6"))
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_canceled(SPEC))
    order.apply(make_replaced(SPEC, quantity="6"))
    assert status_of(order) is S.CANCELED
    assert order.quantity == Decimal("6")


# --- terminal states ---


def test_a_filled_order_accepts_only_a_further_fill_which_is_flagged_as_an_overfill() -> None:
    accepted = {t for t in ORDER_EVENT_TYPES if _order_in(S.FILLED).can_apply(t)}
    assert accepted == {OrderFilled}
    order = _order_in(S.FILLED)
    order.apply(make_filled(SPEC, quantity="1", price="5000", fill_id="f-extra"))
    assert (order.filled_quantity, order.overfilled, status_of(order)) == (Decimal("11"), True, S.FILLED)


@pytest.mark.parametrize("status", [S.REJECTED, S.DENIED], ids=str)
def test_rejected_and_denied_orders_accept_no_event_at_all(status: OrderStatus) -> None:
    for event_type in ORDER_EVENT_TYPES:
        order = _order_in(status)
        before = snapshot(order)
        with pytest.raises(IllegalTransitionError):
            order.apply(make_event(event_type, SPEC, ts=at(5)))
        assert snapshot(order) == before


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED], ids=str)
def test_canceled_and_expired_orders_accept_only_late_fills(status: OrderStatus) -> None:
    accepted = {t for t in ORDER_EVENT_TYPES if _order_in(status).can_apply(t)}
    assert accepted == {OrderFilled}


def test_a_created_order_carries_every_field_of_its_spec() -> None:
    spec = msgspec.structs.replace(
        make_spec(order_type=OrderType.STOP_LIMIT, limit_price="5001.25", stop_price="5000.75"),
        signal_id=SignalId("sig-1"),
        signal_price=Decimal("5000.50"),
        reduce_only=True,
        route="default account of strategy trend",
    )
    created = make_created(spec, ts=at(3))

    order = Order.create(created)

    assert {field: getattr(order, field) for field in msgspec.structs.asdict(spec)} == msgspec.structs.asdict(
        spec
    )
    assert (order.status, order.reason, order.created_at, order.updated_at) == (
        S.PENDING_NEW,
        None,
        created.ts_event,
        created.ts_event,
    )


def test_a_denied_order_keeps_its_reason_and_has_nothing_working() -> None:
    order = Order.create(make_denied(SPEC, reason="daily loss limit reached"))
    assert status_of(order) is S.DENIED
    assert order.reason == "daily loss limit reached"
    assert order.leaves_quantity == 0
    assert order.venue_order_id is None


def test_a_venue_rejection_records_its_reason() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_rejected(SPEC, reason="price outside band"))
    assert status_of(order) is S.REJECTED
    assert order.reason == "price outside band"
    assert order.leaves_quantity == 0


def test_the_terminal_and_open_status_sets_partition_every_status() -> None:
    assert set(S) == TERMINAL_STATUSES | OPEN_STATUSES
    assert not TERMINAL_STATUSES & OPEN_STATUSES
    assert {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED, S.DENIED} == TERMINAL_STATUSES


def test_an_ack_keeps_the_first_venue_order_id() -> None:
    order = _order_in(S.SUBMITTED)
    order.apply(make_pending_cancel(SPEC))
    order.apply(make_accepted(SPEC, venue_order_id="V-1"))
    order.apply(make_accepted(SPEC, venue_order_id="V-2"))
    assert order.venue_order_id == "V-1"


def test_creating_an_order_starts_it_pending_new_with_nothing_filled() -> None:
    spec = make_spec(quantity="3", limit_price="4999.75")
    order = make_order(spec)
    assert status_of(order) is S.PENDING_NEW
    assert order.quantity == Decimal("3")
    assert order.limit_price == Decimal("4999.75")
    assert order.filled_quantity == 0
    assert order.average_fill_price is None
    assert order.leaves_quantity == Decimal("3")
