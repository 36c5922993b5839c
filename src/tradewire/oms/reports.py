"""From what a venue says (reports) to what happened to our orders (events). Pure.

The same derivation serves live updates and reconciliation, so a report that arrives twice, late or
out of order yields each event at most once: the order's current state decides what is still news.
A report the lifecycle table cannot accept becomes an `IllegalTransition` for people to look at.
"""

from tradewire.domain.enums import (
    TERMINAL_STATUSES,
    OrderStatus,
    VenueOrderStatus,
)
from tradewire.domain.events import (
    IllegalTransition,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
)
from tradewire.domain.instruments import Instrument
from tradewire.domain.orders import Order
from tradewire.domain.reports import CancelRejectReport, FillReport, OrderStatusReport
from tradewire.oms.identifiers import Stamp

Derived = OrderEvent | IllegalTransition

_UNCONFIRMED = frozenset({OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED})
_ENDINGS: dict[VenueOrderStatus, type[OrderCanceled | OrderExpired]] = {
    VenueOrderStatus.CANCELED: OrderCanceled,
    VenueOrderStatus.EXPIRED: OrderExpired,
}
_SAME_ENDING = {
    VenueOrderStatus.CANCELED: OrderStatus.CANCELED,
    VenueOrderStatus.EXPIRED: OrderStatus.EXPIRED,
    VenueOrderStatus.REJECTED: OrderStatus.REJECTED,
    VenueOrderStatus.FILLED: OrderStatus.FILLED,
}


def _illegal(order: Order, attempted: str, detail: str, stamp: Stamp) -> IllegalTransition:
    return IllegalTransition(
        **stamp(),
        client_order_id=order.client_order_id,
        status=order.status,
        attempted=attempted,
        detail=detail,
    )


def events_for_status(order: Order, report: OrderStatusReport, stamp: Stamp, inferred: bool) -> list[Derived]:
    """Events that bring `order` to the status the venue reports; fills come from fill reports."""
    events: list[Derived] = []
    status = report.status
    if status is VenueOrderStatus.REJECTED:
        if order.status in (*_UNCONFIRMED, OrderStatus.PENDING_CANCEL):
            events.append(
                OrderRejected(
                    **stamp(report.ts_event),
                    client_order_id=order.client_order_id,
                    reason=report.reason or "rejected by the venue",
                    inferred=inferred,
                )
            )
        elif order.status is not OrderStatus.REJECTED:
            events.append(
                _illegal(
                    order,
                    "OrderRejected",
                    f"venue reports rejected, order is {order.status}",
                    stamp,
                )
            )
        return events
    # Also an ack overtaken by our cancel (lost, or found at reconciliation): the order is live.
    unacknowledged = order.status in _UNCONFIRMED or (
        order.status is OrderStatus.PENDING_CANCEL and order.venue_order_id is None
    )
    if unacknowledged and report.venue_order_id is not None:
        events.append(
            OrderAccepted(
                **stamp(report.ts_event),
                client_order_id=order.client_order_id,
                venue_order_id=report.venue_order_id,
                inferred=inferred,
            )
        )
    ending = _ENDINGS.get(status)
    if ending is None:
        # Accepted / partially filled / filled: fills arrive as fill reports. A live order at the
        # quantity our pending amend asked for, and not as it stood before, is that amend, confirmed.
        if _shows_amend(order, report):
            events.append(
                OrderReplaced(
                    **stamp(report.ts_event),
                    client_order_id=order.client_order_id,
                    quantity=report.quantity,
                    limit_price=report.limit_price,
                    stop_price=report.stop_price,
                    inferred=inferred,
                )
            )
        elif order.pending_quantity is not None and status is VenueOrderStatus.FILLED:
            # Filled at the old quantity: the amend came too late, and its refusal may be lost.
            events.append(
                OrderReplaceRejected(
                    **stamp(report.ts_event),
                    client_order_id=order.client_order_id,
                    reason=f"the venue filled the order at {report.quantity} before the amend",
                )
            )
        return events
    if order.status in TERMINAL_STATUSES:
        if order.status is not _SAME_ENDING[status] and order.status is not OrderStatus.FILLED:
            events.append(
                _illegal(
                    order,
                    ending.__name__,
                    f"venue reports {status}, order is {order.status}",
                    stamp,
                )
            )
        return events
    events.append(
        ending(
            **stamp(report.ts_event),
            client_order_id=order.client_order_id,
            inferred=inferred,
        )
    )
    return events


def _shows_amend(order: Order, report: OrderStatusReport) -> bool:
    """Whether `report` is the venue's order after our pending amend: at the amended quantity and
    prices (each price the report carries), and either different from the order as it stood (only
    the amend changes it), or, when identical (an amend that changed nothing), stamped no earlier
    than the amend was requested. A late or repeated report from before an amend of prices only
    has the same quantity but the old prices: it must not pass for the amend, or the ledger would
    keep the old prices while the venue works the new ones."""
    if order.pending_quantity is None or report.quantity != order.pending_quantity:
        return False
    prices = order.pending_prices
    if prices is not None and (
        (report.limit_price is not None and report.limit_price != prices.limit_price)
        or (report.stop_price is not None and report.stop_price != prices.stop_price)
    ):
        return False
    before = (order.quantity, order.limit_price, order.stop_price)
    if (report.quantity, report.limit_price, report.stop_price) != before:
        return True
    return report.ts_event >= order.updated_at


def event_for_fill(
    order: Order,
    report: FillReport,
    instrument: Instrument,
    *,
    stamp: Stamp,
    inferred: bool,
) -> Derived:
    """The fill as an event, or an `IllegalTransition` if the order cannot take a fill now.

    The caller has already dropped fills it has seen (by venue and fill ID)."""
    if not order.can_apply(OrderFilled):
        return _illegal(
            order,
            "OrderFilled",
            f"fill {report.fill_id} of {report.quantity} on a {order.status} order",
            stamp,
        )
    return OrderFilled(
        **stamp(report.ts_event),
        client_order_id=order.client_order_id,
        venue_order_id=report.venue_order_id,
        fill_id=report.fill_id,
        venue=report.venue,
        account=order.account,
        strategy=order.strategy,
        instrument=order.instrument,
        side=order.side,
        quantity=report.quantity,
        price=report.price,
        fee=report.fee,
        fee_currency=report.fee_currency,
        liquidity=report.liquidity,
        multiplier=instrument.multiplier,
        inferred=inferred,
    )


def event_for_cancel_reject(
    order: Order, report: CancelRejectReport, stamp: Stamp
) -> OrderCancelRejected | OrderReplaceRejected | None:
    if report.replace and order.status is OrderStatus.PENDING_REPLACE:
        return OrderReplaceRejected(
            **stamp(report.ts_event),
            client_order_id=order.client_order_id,
            reason=report.reason,
        )
    if not report.replace and order.status is OrderStatus.PENDING_CANCEL:
        return OrderCancelRejected(
            **stamp(report.ts_event),
            client_order_id=order.client_order_id,
            reason=report.reason,
        )
    return None  # the order already moved on (filled or canceled): nothing left to refuse


_LIVE_AT_VENUE = frozenset({VenueOrderStatus.ACCEPTED, VenueOrderStatus.PARTIALLY_FILLED})


def events_for_unanswered_request(
    order: Order, report: OrderStatusReport, stamp: Stamp
) -> list[OrderCancelRejected | OrderReplaceRejected]:
    """At start-up, after `report` was applied: a cancel or amend the venue's live order does not
    reflect never reached it (nothing of ours can be in flight then), so it is refused, not resent.

    While running the same report may simply predate the request, so this is for start-up only."""
    if report.status not in _LIVE_AT_VENUE:
        return []
    if order.status is OrderStatus.PENDING_CANCEL:
        return [
            OrderCancelRejected(
                **stamp(),
                client_order_id=order.client_order_id,
                reason="the venue still works the order at start-up: the cancel never reached it",
            )
        ]
    if order.status is OrderStatus.PENDING_REPLACE and order.pending_quantity is not None:
        return [
            OrderReplaceRejected(
                **stamp(),
                client_order_id=order.client_order_id,
                reason="the venue still works the order unamended at start-up: the amend never reached it",
            )
        ]
    return []
