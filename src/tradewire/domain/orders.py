"""The order lifecycle: one transition table and one `apply(event)`.

A transition not in the table is illegal: `apply` raises `IllegalTransitionError` and changes
nothing; the order manager journals an `IllegalTransition` event and alerts. Two targets are
computed rather than fixed: a fill goes to FILLED or PARTIALLY_FILLED (or keeps a pending or
terminal status for a fill that races a cancel), and the end of a pending cancel or replace returns
to the status the order had before it.
"""

from datetime import datetime
from decimal import Decimal
from typing import Final, cast, get_args

import msgspec

from tradewire.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from tradewire.domain.errors import TradewireError
from tradewire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCreated,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSubmitted,
)
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    SignalId,
    StrategyId,
    VenueId,
    VenueOrderId,
)
from tradewire.domain.sharing import interned, shared, shared_or_none
from tradewire.domain.values import ZERO

S = OrderStatus
FILL: Final = "fill"
"""Target computed from the quantities (see `_fill_target`)."""
PREVIOUS: Final = "previous"
"""Target is the status before the pending cancel/replace (adjusted for fills since)."""

Target = OrderStatus | str
_LIVE = (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED)
_WORKING = frozenset({*_LIVE, S.PENDING_NEW, S.PENDING_CANCEL, S.PENDING_REPLACE})
"""Statuses in which some quantity may still execute at the venue."""

TRANSITIONS: Final[dict[tuple[OrderStatus, type[OrderEvent]], Target]] = {
    (S.PENDING_NEW, OrderSubmitted): S.SUBMITTED,
    (S.PENDING_NEW, OrderAccepted): S.ACCEPTED,
    (S.PENDING_NEW, OrderRejected): S.REJECTED,
    (S.PENDING_NEW, OrderFilled): FILL,
    (S.PENDING_NEW, OrderCanceled): S.CANCELED,
    (S.PENDING_NEW, OrderExpired): S.EXPIRED,
    (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
    (S.SUBMITTED, OrderRejected): S.REJECTED,
    (S.SUBMITTED, OrderFilled): FILL,
    (S.SUBMITTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.SUBMITTED, OrderCanceled): S.CANCELED,
    (S.SUBMITTED, OrderExpired): S.EXPIRED,
    (S.ACCEPTED, OrderFilled): FILL,
    (S.ACCEPTED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.ACCEPTED, OrderPendingReplace): S.PENDING_REPLACE,
    (S.ACCEPTED, OrderCanceled): S.CANCELED,
    (S.ACCEPTED, OrderExpired): S.EXPIRED,
    (S.PARTIALLY_FILLED, OrderFilled): FILL,
    # The ack that a fill overtook: expected, nothing left to change.
    (S.PARTIALLY_FILLED, OrderAccepted): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, OrderPendingReplace): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, OrderCanceled): S.CANCELED,
    (S.PARTIALLY_FILLED, OrderExpired): S.EXPIRED,
    # A cancel is in flight: the venue may still ack, fill, refuse the cancel or reject the order.
    (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderFilled): FILL,
    (S.PENDING_CANCEL, OrderCancelRejected): PREVIOUS,
    (S.PENDING_CANCEL, OrderCanceled): S.CANCELED,
    (S.PENDING_CANCEL, OrderExpired): S.EXPIRED,
    (S.PENDING_CANCEL, OrderRejected): S.REJECTED,
    # An amend in flight when the cancel was requested can still be confirmed or refused.
    (S.PENDING_CANCEL, OrderReplaced): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, OrderReplaceRejected): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, OrderAccepted): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, OrderFilled): FILL,
    (S.PENDING_REPLACE, OrderReplaced): PREVIOUS,
    (S.PENDING_REPLACE, OrderReplaceRejected): PREVIOUS,
    (S.PENDING_REPLACE, OrderPendingCancel): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, OrderCanceled): S.CANCELED,
    (S.PENDING_REPLACE, OrderExpired): S.EXPIRED,
    # A fill can arrive after the cancel is acknowledged: it happened at the venue, so it counts.
    (S.CANCELED, OrderFilled): FILL,
    (S.EXPIRED, OrderFilled): FILL,
    # The answer to an amend can arrive after the order ended (the cancel ack or the last fill
    # overtook it); it is applied only while an amend is pending (see `apply`).
    (S.CANCELED, OrderReplaced): S.CANCELED,
    (S.CANCELED, OrderReplaceRejected): S.CANCELED,
    (S.EXPIRED, OrderReplaced): S.EXPIRED,
    (S.EXPIRED, OrderReplaceRejected): S.EXPIRED,
    (S.FILLED, OrderReplaced): S.FILLED,
    (S.FILLED, OrderReplaceRejected): S.FILLED,
    # The venue executed more than the order's quantity: real money, so it counts (and is flagged).
    (S.FILLED, OrderFilled): FILL,
}

_HOLD_ON_PARTIAL = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, S.CANCELED, S.EXPIRED})
_ENDED = frozenset({S.FILLED, S.CANCELED, S.EXPIRED})
_AMEND_ANSWERS: frozenset[type[OrderEvent]] = frozenset({OrderReplaced, OrderReplaceRejected})
"""Legal only while an amend is pending: a stray or redelivered answer must not move anything."""
_EventWithReason = OrderRejected | OrderCancelRejected | OrderReplaceRejected | OrderCanceled
_WITH_REASON: frozenset[type[OrderEvent]] = frozenset(get_args(_EventWithReason))
"""Events that carry the venue's reason, kept on the order."""
_UNCONFIRMED = frozenset({S.PENDING_NEW, S.SUBMITTED})
_PENDING_CHANGE = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE})
"""A cancel or an amend in flight: entering one keeps the status to return to (`previous_status`)."""


class IllegalTransitionError(TradewireError):
    def __init__(self, order: "Order", event: OrderEvent, detail: str = "") -> None:
        self.client_order_id = order.client_order_id
        self.status = order.status
        self.attempted = type(event).__name__
        self.detail = detail or f"{self.attempted} is not allowed from {order.status}"
        super().__init__(f"order {order.client_order_id}: {self.detail}")


class AmendPrices(msgspec.Struct, frozen=True, gc=False):
    """The prices an amend in flight asks for: with its quantity, what tells the venue's amended
    order from the order as it stood (an amend of prices only keeps the quantity)."""

    limit_price: Decimal | None
    stop_price: Decimal | None


class Order(msgspec.Struct, eq=False, gc=False):
    """One order's state, changed only by `apply`. A fold of its events.

    A struct rather than a plain class for memory: a restarted engine holds every order it ever
    journaled. `gc=False` because an order holds only immutable values (it can be in no reference
    cycle), so hundreds of thousands of closed orders cost the garbage collector nothing;
    `eq=False` keeps identity equality and hashing, as for any mutable object.
    """

    client_order_id: ClientOrderId
    account: AccountId
    strategy: StrategyId
    instrument: InstrumentId
    venue: VenueId
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    signal_id: SignalId | None
    signal_price: Decimal | None
    reduce_only: bool
    route: str | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    previous_status: OrderStatus | None = None
    venue_order_id: VenueOrderId | None = None
    filled_quantity: Decimal = ZERO
    average_fill_price: Decimal | None = None
    fees: Decimal = ZERO
    reason: str | None = None
    overfilled: bool = False
    pending_quantity: Decimal | None = None
    """The quantity an amend in flight asks for."""
    pending_prices: AmendPrices | None = None
    """Its prices; set and cleared with `pending_quantity` (one slot, empty but while amending)."""

    @classmethod
    def create(cls, event: OrderCreated | OrderDenied) -> "Order":
        spec = event.spec
        status, reason = (S.DENIED, event.reason) if isinstance(event, OrderDenied) else (S.PENDING_NEW, None)
        # Names every order of an account repeats are kept once (a replayed journal decodes a fresh
        # copy of each per record), and so are its numbers. Positional, in the order of the fields
        # above: CPython compiles a call with more than 15 keyword arguments into building a dict
        # first, which made building an order several times as costly (0.8 us instead of 0.15).
        return cls(
            spec.client_order_id,
            interned(spec.account),
            interned(spec.strategy),
            interned(spec.instrument),
            interned(spec.venue),
            spec.side,
            spec.order_type,
            shared(spec.quantity),
            shared_or_none(spec.limit_price),
            shared_or_none(spec.stop_price),
            spec.time_in_force,
            spec.signal_id,
            shared_or_none(spec.signal_price),
            spec.reduce_only,
            None if spec.route is None else interned(spec.route),
            status,
            event.ts_event,
            event.ts_event,
            reason=reason,
        )

    @property
    def worst_case_leaves(self) -> Decimal:
        """What may still execute: with an amend in flight, the larger of the two quantities.

        Written out rather than built on `leaves_quantity`: the working totals read it twice per
        event of an open order."""
        if self.status not in _WORKING:
            return ZERO
        leaves = self.quantity - self.filled_quantity
        if leaves <= 0:
            return ZERO
        if self.pending_quantity is None:
            return leaves
        return max(self.quantity, self.pending_quantity) - self.filled_quantity

    @property
    def leaves_quantity(self) -> Decimal:
        """Quantity still working at the venue (zero once terminal)."""
        if self.status not in _WORKING:
            return ZERO
        return max(self.quantity - self.filled_quantity, ZERO)

    def can_apply(self, event_type: type[OrderEvent]) -> bool:
        if event_type in _AMEND_ANSWERS and self.pending_quantity is None:
            return False
        return (self.status, event_type) in TRANSITIONS

    def apply(self, event: OrderEvent) -> None:
        """Move the order by one event, or raise `IllegalTransitionError` and change nothing.

        Tells the events apart by their exact type (`type(event) is`), as `TRANSITIONS` does:
        replay runs this for every journaled event, and `isinstance` against a union of record
        types costs more than the rest of the method.
        """
        kind = type(event)
        target = TRANSITIONS.get((self.status, kind))
        if target is None:
            raise IllegalTransitionError(self, event)
        if kind in _AMEND_ANSWERS:
            if self.pending_quantity is None:
                raise IllegalTransitionError(self, event, f"{kind.__name__} but no amend is pending")
            self.pending_quantity = None
            self.pending_prices = None
        if type(event) is OrderFilled:
            if event.quantity <= ZERO:
                raise IllegalTransitionError(self, event, f"a fill of {event.quantity} is not a fill")
            self._apply_fill(event)
        elif type(event) is OrderReplaced:
            self._apply_replace(event)
        else:
            if type(event) is OrderAccepted:
                if self.previous_status in _UNCONFIRMED:
                    # The ack raced our cancel/amend: if that is refused, the order is live, not in flight.
                    self.previous_status = S.ACCEPTED
                if self.venue_order_id is None:
                    self.venue_order_id = event.venue_order_id
            elif type(event) is OrderPendingReplace:
                self.pending_quantity = event.quantity
                self.pending_prices = AmendPrices(event.limit_price, event.stop_price)
            elif kind in _WITH_REASON:
                self.reason = cast(_EventWithReason, event).reason or self.reason
            if self.status in _ENDED:
                self.overfilled = self.filled_quantity > self.quantity  # a refused amend on an ended order
            elif kind is OrderReplaceRejected and self.status is S.PENDING_CANCEL:
                if self.filled_quantity >= self.quantity:
                    self.status = S.FILLED  # fills held for the refused amend had completed the order
            else:
                self._move(target)
        self.updated_at = event.ts_event

    def _move(self, target: Target) -> None:
        if not isinstance(target, OrderStatus):  # PREVIOUS
            if self.status is S.PENDING_CANCEL and self.pending_quantity is not None:
                self.status = S.PENDING_REPLACE  # the cancel was refused; the amend is still in flight
                return
            self.status = self._status_before_pending()
            self.previous_status = None
        else:
            if target in _PENDING_CHANGE and self.status not in _PENDING_CHANGE:
                self.previous_status = self.status
            self.status = target

    def _status_before_pending(self) -> OrderStatus:
        if self.filled_quantity >= self.quantity:
            return S.FILLED
        if self.filled_quantity > 0:
            return S.PARTIALLY_FILLED
        return self.previous_status or S.ACCEPTED

    def _apply_fill(self, fill: OrderFilled) -> None:
        if fill.venue_order_id is not None and self.venue_order_id is None:
            self.venue_order_id = fill.venue_order_id
        if self.filled_quantity:
            total = self.filled_quantity + fill.quantity
            previous_average = self.average_fill_price or ZERO
            self.average_fill_price = (
                previous_average * self.filled_quantity + fill.price * fill.quantity
            ) / total
            self.fees += fill.fee
        else:
            # The first fill's own numbers, shared rather than recomputed to equal values: every
            # order stays in memory for the life of the engine, and most have a single fill.
            total = fill.quantity
            self.average_fill_price = fill.price
            self.fees = fill.fee
        self.filled_quantity = total
        # An amend in flight may already be live at the venue: complete at the larger quantity.
        complete_at = max(self.quantity, self.pending_quantity or self.quantity)
        if total > complete_at:
            self.overfilled = True  # the venue executed more than we asked for: still real money
        if total >= complete_at:
            self.status = S.FILLED
        elif self.status not in _HOLD_ON_PARTIAL:
            self.status = S.PARTIALLY_FILLED

    def _apply_replace(self, event: OrderReplaced) -> None:
        self.quantity = event.quantity
        self.limit_price = event.limit_price
        self.stop_price = event.stop_price
        self.overfilled = self.filled_quantity > self.quantity
        if self.status is S.PENDING_REPLACE:
            self._move(PREVIOUS)
        elif self.status is S.PENDING_CANCEL and self.filled_quantity >= self.quantity:
            self.status = S.FILLED  # confirmed while a cancel is pending; fills completed it
        # An ended order keeps its status: the amend only corrects the record of what was working.
