"""The in-flight check's verdict on an order that got no answer in time. Pure.

A submit, cancel or amend whose outcome is unknown (a timeout, a dropped connection, a 5xx) is
never sent again blindly: after `threshold` without an answer the engine asks the venue by client
order ID, applies what the venue says (the same derivation as a live report, `oms/reports.py`),
and then calls `settle_unanswered` with the order as that left it. What is still pending then is
a request the venue shows no trace of:

- a submit the venue does not know never arrived: the order is rejected. Should it arrive after
  all, the venue works an order the ledger has as rejected; see docs/recovery.md ("In-flight
  check") for what catches it;
- a cancel while the venue still works the order is refused here, and the caller sends the cancel
  again (`cancel_again`): repeating a cancel is safe, since at worst the venue refuses the second
  one as "unknown order" or "already canceled", which changes nothing;
- an amend while the venue still works the order on its old terms is refused; an amend is never
  repeated (a person or a strategy decides again, on a fresh market).
"""

from datetime import timedelta

import msgspec

from tradewire.domain.enums import OrderStatus, VenueOrderStatus
from tradewire.domain.events import OrderCancelRejected, OrderRejected, OrderReplaceRejected
from tradewire.domain.orders import Order
from tradewire.domain.reports import OrderStatusReport
from tradewire.oms.identifiers import Stamp

AWAITING_ANSWER = frozenset({OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE})
"""Statuses in which the engine waits for the venue to answer a request of ours."""
_UNCONFIRMED = frozenset({OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED})
_LIVE_AT_VENUE = frozenset({VenueOrderStatus.ACCEPTED, VenueOrderStatus.PARTIALLY_FILLED})

Settlement = OrderRejected | OrderCancelRejected | OrderReplaceRejected


class InFlightVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """The events to record, in order, and whether to send the cancel again after them."""

    events: tuple[Settlement, ...] = ()
    cancel_again: bool = False


NOTHING = InFlightVerdict()


def settle_unanswered(
    order: Order, report: OrderStatusReport | None, threshold: timedelta, stamp: Stamp
) -> InFlightVerdict:
    """What `order`, unanswered for longer than `threshold`, has become, given what the venue says
    now (`report`, already applied to `order`; None when the venue does not know the order)."""
    waited = f"{threshold.total_seconds():g}s"
    client_order_id = order.client_order_id
    if report is None:
        if _never_acknowledged(order):
            reason = f"no answer in {waited} and the venue does not know the order: it never arrived"
            return InFlightVerdict(
                events=(
                    OrderRejected(**stamp(), client_order_id=client_order_id, reason=reason, inferred=True),
                )
            )
        return NOTHING  # acknowledged, yet unknown now: a person looks (reconciliation logs it)
    if report.status not in _LIVE_AT_VENUE:
        return NOTHING  # ended at the venue: the report itself settled the order
    events: list[Settlement] = []
    if order.status in (OrderStatus.PENDING_REPLACE, OrderStatus.PENDING_CANCEL) and (
        order.pending_quantity is not None
    ):
        # Still pending after the report was applied: the venue's order does not show the amend.
        reason = f"amend got no answer in {waited}; the venue still works the order on its old terms"
        events.append(OrderReplaceRejected(**stamp(), client_order_id=client_order_id, reason=reason))
    if order.status is OrderStatus.PENDING_CANCEL:
        reason = f"cancel got no answer in {waited}; the venue still works the order"
        events.append(OrderCancelRejected(**stamp(), client_order_id=client_order_id, reason=reason))
        return InFlightVerdict(events=tuple(events), cancel_again=True)
    return InFlightVerdict(events=tuple(events))


def _never_acknowledged(order: Order) -> bool:
    """Sent and never acknowledged, possibly with a cancel on its heels."""
    if order.status is OrderStatus.SUBMITTED:
        return True
    return (
        order.status is OrderStatus.PENDING_CANCEL
        and order.previous_status in _UNCONFIRMED
        and order.venue_order_id is None
    )
