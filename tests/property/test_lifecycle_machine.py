"""A model venue and an engine harness, driven through random interleavings by hypothesis.

The venue holds the truth for a few orders (quantity, the fills it executed, whether it acked,
canceled, expired or amended them) and emits reports. The machine delivers those reports to the
`Order`s and one `Portfolio` in any order, and again (duplicates), while the engine side requests
cancels and amends that race the venue. The harness does what the engine does: it applies its own
commands' pending events directly, dedupes fills by fill ID, and skips (records as an anomaly) any
report the lifecycle table refuses, after checking the refusal changed nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.factories import (
    ACCOUNT,
    ES,
    ORDER_EVENT_TYPES,
    make_accepted,
    make_cancel_rejected,
    make_canceled,
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
from tradewire.domain.enums import (
    CANCELABLE_STATUSES,
    TERMINAL_STATUSES,
    OrderStatus,
    Side,
)
from tradewire.domain.events import (
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSpec,
)
from tradewire.domain.ids import FillId, StrategyId
from tradewire.domain.orders import IllegalTransitionError, Order
from tradewire.portfolio.book import Portfolio

S = OrderStatus
rarely = st.sampled_from([False, False, False, True])
"""Gates a rule so that orders get time to work before a cancel, expiry or probe ends them."""
SPECS = (
    make_spec(client_order_id="ord-A", strategy=StrategyId("trend"), side=Side.BUY, quantity="10"),
    make_spec(client_order_id="ord-B", strategy=StrategyId("revert"), side=Side.SELL, quantity="6"),
    make_spec(client_order_id="ord-C", strategy=StrategyId("trend"), side=Side.SELL, quantity="3"),
)
AVERAGE_TOLERANCE = Decimal("1e-20")
LATE_FILL_STATUSES = frozenset({S.CANCELED, S.EXPIRED})
HOLD_ON_PARTIAL_FILL = frozenset({S.PENDING_CANCEL, S.PENDING_REPLACE, *LATE_FILL_STATUSES})
"""A cancel or amend in flight, or an order the venue ended, stays so on a partial (late) fill."""


@dataclass
class VenueOrder:
    """What the venue knows about one order: the truth the engine's view is checked against."""

    spec: OrderSpec
    quantity: Decimal
    live: bool = False
    acked: bool = False
    done: bool = False
    filled: Decimal = Decimal(0)
    overfilled: bool = False
    fill_count: int = 0
    cancel_requested: bool = False
    replace_requested: Decimal | None = None

    @property
    def leaves(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def working(self) -> bool:
        return self.live and not self.done


@dataclass
class EngineOrder:
    """The engine's side of one order: the `Order` and the fills it applied."""

    order: Order
    applied_fills: list[OrderFilled] = field(default_factory=list)
    refused: list[OrderEvent] = field(default_factory=list)
    amend_in_flight: Decimal | None = None
    """The quantity of an amend we sent whose outcome the order has not applied yet."""
    history: list[str] = field(default_factory=list)
    """What happened to the order, for the failure message."""

    def record(self, event: OrderEvent, outcome: str) -> None:
        quantity = getattr(event, "quantity", None)
        shown = type(event).__name__ + ("" if quantity is None else f"({quantity})")
        self.history.append(f"{shown} -> {outcome}")

    def story(self) -> str:
        return f"{self.order.client_order_id}: " + ", ".join(self.history)

    @property
    def complete_at(self) -> Decimal:
        """The filled quantity that completes the order; an amend in flight may have raised it."""
        if self.amend_in_flight is None:
            return self.order.quantity
        return max(self.order.quantity, self.amend_in_flight)


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.venue = [VenueOrder(spec=spec, quantity=spec.quantity) for spec in SPECS]
        self.engine = [EngineOrder(order=make_order(spec)) for spec in SPECS]
        self.portfolio = Portfolio()
        self.applied_fill_ids: set[FillId] = set()
        self.undelivered: list[tuple[int, OrderEvent]] = []
        self.delivered: list[tuple[int, OrderEvent]] = []

    # --- helpers ---

    def _indices(self, predicate: Callable[[int], bool]) -> list[int]:
        return [i for i in range(len(SPECS)) if predicate(i)]

    def _emit(self, index: int, event: OrderEvent) -> None:
        self.undelivered.append((index, event))

    def _apply_own(self, index: int, event: OrderEvent) -> None:
        """An event the engine derives from its own command: always legal when it is sent."""
        order = self.engine[index].order
        before = order.status
        order.apply(event)
        self.engine[index].record(event, order.status)
        self._check_move(before, order.status, event)

    def _deliver(self, index: int, event: OrderEvent) -> None:
        engine = self.engine[index]
        order = engine.order
        if isinstance(event, OrderFilled) and event.fill_id in self.applied_fill_ids:
            engine.record(event, "duplicate")
            return  # the engine dedupes by fill ID before the order sees it
        before = snapshot(order)
        try:
            order.apply(event)
        except IllegalTransitionError:
            assert snapshot(order) == before, f"a refused {type(event).__name__} changed the order"
            engine.refused.append(event)
            engine.record(event, "refused")
            return
        engine.record(event, order.status)
        if isinstance(event, OrderFilled):
            self.applied_fill_ids.add(event.fill_id)
            engine.applied_fills.append(event)
            self.portfolio.apply_fill(event)
        if isinstance(event, OrderReplaced | OrderReplaceRejected):
            engine.amend_in_flight = None
        status_before = before["status"]
        assert isinstance(status_before, OrderStatus)
        self._check_move(status_before, order.status, event)
        if isinstance(event, OrderFilled):
            self._check_fill_move(status_before, engine)

    @staticmethod
    def _check_move(before: OrderStatus, after: OrderStatus, event: OrderEvent) -> None:
        """A terminal status never reopens; only a late fill moves CANCELED/EXPIRED, to FILLED."""
        if before not in TERMINAL_STATUSES:
            return
        late_fill = isinstance(event, OrderFilled) and before in LATE_FILL_STATUSES
        assert after == before or (late_fill and after is S.FILLED), (
            f"{type(event).__name__} moved a {before} order to {after}"
        )

    @staticmethod
    def _check_fill_move(before: OrderStatus, engine: EngineOrder) -> None:
        """A fill completes the order, or keeps a pending or ended status, or makes it partial."""
        order = engine.order
        if order.filled_quantity >= engine.complete_at:
            expected = S.FILLED
        elif before in HOLD_ON_PARTIAL_FILL:
            expected = before
        else:
            expected = S.PARTIALLY_FILLED
        assert order.status is expected, f"a fill moved a {before} order to {order.status}"

    # --- the engine's commands ---

    @initialize()
    def submit_every_order(self) -> None:
        for index, spec in enumerate(SPECS):
            self._apply_own(index, make_submitted(spec))
            self.venue[index].live = True

    @precondition(
        lambda self: any(
            e.order.status in CANCELABLE_STATUSES and not v.cancel_requested
            for e, v in zip(self.engine, self.venue, strict=True)
        )
    )
    @rule(data=st.data(), now=rarely)
    def request_cancel(self, data: st.DataObject, now: bool) -> None:
        if not now:
            return
        index = data.draw(
            st.sampled_from(
                self._indices(
                    lambda i: (
                        self.engine[i].order.status in CANCELABLE_STATUSES
                        and not self.venue[i].cancel_requested
                    )
                )
            )
        )
        self._apply_own(index, make_pending_cancel(SPECS[index]))
        self.venue[index].cancel_requested = True

    @precondition(
        lambda self: any(
            e.order.status in (S.ACCEPTED, S.PARTIALLY_FILLED)
            and v.replace_requested is None
            and not v.cancel_requested
            for e, v in zip(self.engine, self.venue, strict=True)
        )
    )
    @rule(data=st.data(), new_quantity=st.integers(min_value=1, max_value=16))
    def request_amend(self, data: st.DataObject, new_quantity: int) -> None:
        index = data.draw(
            st.sampled_from(
                self._indices(
                    lambda i: (
                        self.engine[i].order.status in (S.ACCEPTED, S.PARTIALLY_FILLED)
                        and self.venue[i].replace_requested is None
                        and not self.venue[i].cancel_requested
                    )
                )
            )
        )
        order = self.engine[index].order
        # the engine amends up or down, but never below what it knows is filled
        quantity = max(Decimal(new_quantity), order.filled_quantity + 1)
        self._apply_own(index, make_pending_replace(SPECS[index], quantity=quantity))
        self.engine[index].amend_in_flight = quantity
        self.venue[index].replace_requested = quantity

    # --- the venue ---

    @precondition(lambda self: any(v.working and not v.acked for v in self.venue))
    @rule(data=st.data(), reject=rarely)
    def venue_acks_or_rejects(self, data: st.DataObject, reject: bool) -> None:
        index = data.draw(
            st.sampled_from(self._indices(lambda i: self.venue[i].working and not self.venue[i].acked))
        )
        venue, spec = self.venue[index], SPECS[index]
        if reject:
            venue.done = True
            self._emit(index, make_rejected(spec, reason="price outside band"))
        else:
            venue.acked = True
            self._emit(index, make_accepted(spec, venue_order_id=f"V-{index}"))

    @precondition(lambda self: any(v.working and v.acked for v in self.venue))
    @rule(
        data=st.data(),
        size=st.integers(min_value=1, max_value=8),
        ticks=st.integers(min_value=-20, max_value=20),
        overfill=st.integers(min_value=0, max_value=2) | st.just(0),
    )
    def venue_fills(self, data: st.DataObject, size: int, ticks: int, overfill: int) -> None:
        """An execution of up to the leaves quantity; rarely the venue overfills in that fill."""
        index = data.draw(
            st.sampled_from(self._indices(lambda i: self.venue[i].working and self.venue[i].acked))
        )
        venue = self.venue[index]
        quantity = min(Decimal(size), venue.leaves)
        if quantity == venue.leaves and overfill:
            quantity += overfill
            venue.overfilled = True
        self._emit(index, self._execute(index, quantity, ticks))

    def _execute(self, index: int, quantity: Decimal, ticks: int) -> OrderFilled:
        venue, spec = self.venue[index], SPECS[index]
        venue.filled += quantity
        venue.fill_count += 1
        if venue.filled >= venue.quantity:
            venue.done = True
        return make_filled(
            spec,
            quantity=quantity,
            price=Decimal("5000") + Decimal(ticks) * ES.tick_size,
            fee=quantity * Decimal("1.25"),
            fill_id=f"{spec.client_order_id}-fill-{venue.fill_count}",
            venue_order_id=f"V-{index}",
        )

    @precondition(lambda self: any(v.live and v.filled >= v.quantity for v in self.venue))
    @rule(data=st.data(), now=rarely, size=st.integers(min_value=1, max_value=3))
    def venue_overfills_a_filled_order(self, data: st.DataObject, now: bool, size: int) -> None:
        """A venue bug: one more execution for an order it had already filled completely."""
        if not now:
            return
        index = data.draw(
            st.sampled_from(
                self._indices(lambda i: self.venue[i].live and self.venue[i].filled >= self.venue[i].quantity)
            )
        )
        self.venue[index].overfilled = True
        self._emit(index, self._execute(index, Decimal(size), ticks=-1))

    @precondition(lambda self: any(v.cancel_requested for v in self.venue))
    @rule(data=st.data(), crossing_fill=st.booleans())
    def venue_processes_cancel(self, data: st.DataObject, crossing_fill: bool) -> None:
        """Cancel or refuse; a fill may cross the cancel, its report arriving after the cancel ack."""
        index = data.draw(st.sampled_from(self._indices(lambda i: self.venue[i].cancel_requested)))
        venue, spec = self.venue[index], SPECS[index]
        venue.cancel_requested = False
        if not venue.working:
            self._emit(index, make_cancel_rejected(spec, reason="order already closed"))
            return
        fill = None
        if crossing_fill and venue.acked and venue.leaves > 1:
            fill = self._execute(index, venue.leaves - 1, ticks=1)
        venue.done = True
        self._emit(index, make_canceled(spec))
        if fill is not None:
            self._emit(index, fill)

    @precondition(lambda self: any(v.replace_requested is not None for v in self.venue))
    @rule(data=st.data())
    def venue_processes_amend(self, data: st.DataObject) -> None:
        index = data.draw(
            st.sampled_from(self._indices(lambda i: self.venue[i].replace_requested is not None))
        )
        venue, spec = self.venue[index], SPECS[index]
        quantity = venue.replace_requested
        assert quantity is not None
        venue.replace_requested = None
        if venue.working and quantity > venue.filled:
            venue.quantity = quantity
            self._emit(index, make_replaced(spec, quantity=quantity))
        else:
            self._emit(index, make_replace_rejected(spec, reason="cannot amend below filled"))

    @precondition(lambda self: any(v.working and v.acked for v in self.venue))
    @rule(data=st.data(), now=rarely, expire=st.booleans())
    def venue_ends_the_order(self, data: st.DataObject, now: bool, expire: bool) -> None:
        """The end of the day, or a cancel nobody here asked for (self-trade prevention, a halt)."""
        if not now:
            return
        index = data.draw(
            st.sampled_from(self._indices(lambda i: self.venue[i].working and self.venue[i].acked))
        )
        self.venue[index].done = True
        spec = SPECS[index]
        self._emit(index, make_expired(spec) if expire else make_canceled(spec))

    # --- delivery: in order, out of order, twice ---

    @precondition(lambda self: bool(self.undelivered))
    @rule()
    def deliver_the_oldest_report(self) -> None:
        index, event = self.undelivered.pop(0)
        self.delivered.append((index, event))
        self._deliver(index, event)

    @precondition(lambda self: bool(self.undelivered))
    @rule()
    def deliver_the_newest_report(self) -> None:
        """Overtaking: the last report out of the venue arrives before the ones in flight."""
        index, event = self.undelivered.pop()
        self.delivered.append((index, event))
        self._deliver(index, event)

    @precondition(lambda self: bool(self.undelivered))
    @rule(pick=st.integers(min_value=0))
    def deliver_any_report(self, pick: int) -> None:
        index, event = self.undelivered.pop(pick % len(self.undelivered))
        self.delivered.append((index, event))
        self._deliver(index, event)

    @precondition(lambda self: any(isinstance(e, OrderFilled | OrderAccepted) for _, e in self.delivered))
    @rule(pick=st.integers(min_value=0))
    def deliver_a_fill_or_ack_again(self, pick: int) -> None:
        """Venues resend: the same fill (same fill ID) or ack arrives a second time."""
        repeatable = [(i, e) for i, e in self.delivered if isinstance(e, OrderFilled | OrderAccepted)]
        index, event = repeatable[pick % len(repeatable)]
        self._deliver(index, event)

    @rule(data=st.data(), now=rarely)
    def a_report_the_table_refuses_changes_nothing(self, data: st.DataObject, now: bool) -> None:
        """Any order, any event its status does not take: refused, and the order is untouched."""
        if not now:
            return
        index = data.draw(st.integers(min_value=0, max_value=len(SPECS) - 1))
        order = self.engine[index].order
        refused = [t for t in ORDER_EVENT_TYPES if not order.can_apply(t)]
        event = make_event(data.draw(st.sampled_from(refused)), SPECS[index])
        before = snapshot(order)
        with pytest.raises(IllegalTransitionError):
            order.apply(event)
        assert snapshot(order) == before

    @precondition(lambda self: bool(self.undelivered))
    @rule(now=rarely)
    def everything_in_flight_arrives_in_order(self, now: bool) -> None:
        """Once every report is delivered, in venue order, the order agrees with the venue.

        No fill the venue executed is missing, and the quantity is the venue's whenever no amend
        is still waiting to be processed there.
        """
        if not now:
            return
        for index, event in self.undelivered:
            self.delivered.append((index, event))
            self._deliver(index, event)
        self.undelivered.clear()
        for engine, venue in zip(self.engine, self.venue, strict=True):
            order = engine.order
            assert order.filled_quantity == venue.filled, "lost fill: " + engine.story()
            if venue.replace_requested is None:
                assert order.quantity == venue.quantity, (
                    f"order quantity {order.quantity}, venue {venue.quantity}: " + engine.story()
                )

    # --- invariants ---

    @invariant()
    def filled_quantity_is_the_sum_of_distinct_applied_fills_and_never_beyond_the_venue(
        self,
    ) -> None:
        for engine, venue in zip(self.engine, self.venue, strict=True):
            order = engine.order
            fill_ids = [fill.fill_id for fill in engine.applied_fills]
            assert len(fill_ids) == len(set(fill_ids))
            applied = sum((fill.quantity for fill in engine.applied_fills), Decimal(0))
            assert order.filled_quantity == applied
            assert order.filled_quantity <= venue.filled
            assert order.fees == sum((fill.fee for fill in engine.applied_fills), Decimal(0))
            assert order.leaves_quantity >= 0

    @invariant()
    def an_order_never_fills_beyond_a_quantity_it_knows_unless_the_venue_overfilled(self) -> None:
        for engine, venue in zip(self.engine, self.venue, strict=True):
            order = engine.order
            # The order cannot know an amended-up quantity whose ack it has not (yet) applied; fills
            # for it are held in pending-replace until the amend is answered.
            if venue.overfilled or venue.quantity > order.quantity:
                continue
            assert order.filled_quantity <= order.quantity
            assert not order.overfilled

    @invariant()
    def an_order_is_filled_once_its_quantity_is_reached_and_only_then(self) -> None:
        """FILLED needs the quantity; reaching it (and any amend in flight) means FILLED.

        Between the two an order may be FILLED at its quantity while an amend up is still in
        flight: a venue that refused our cancel because the order was done will refuse the amend
        too.
        """
        for engine in self.engine:
            order = engine.order
            story = f"{order.filled_quantity} of {order.quantity} filled; " + engine.story()
            if order.status is S.FILLED:
                assert order.filled_quantity >= order.quantity, story
            if order.filled_quantity > 0 and order.filled_quantity >= engine.complete_at:
                assert order.status is S.FILLED, story

    @invariant()
    def an_open_status_agrees_with_the_filled_quantity(self) -> None:
        for engine in self.engine:
            order = engine.order
            if order.status in (S.PENDING_NEW, S.SUBMITTED, S.ACCEPTED):
                assert order.filled_quantity == 0, engine.story()
            if order.status is S.PARTIALLY_FILLED:
                assert 0 < order.filled_quantity < engine.complete_at, engine.story()

    @invariant()
    def the_average_fill_price_is_the_weighted_mean_of_applied_fills(self) -> None:
        for engine in self.engine:
            fills = engine.applied_fills
            if not fills:
                assert engine.order.average_fill_price is None
                continue
            quantity = sum((f.quantity for f in fills), Decimal(0))
            notional = sum((f.quantity * f.price for f in fills), Decimal(0))
            average = engine.order.average_fill_price
            assert average is not None
            assert abs(average - notional / quantity) <= AVERAGE_TOLERANCE

    @invariant()
    def positions_are_exactly_the_signed_sum_of_applied_fills(self) -> None:
        fills = [fill for engine in self.engine for fill in engine.applied_fills]
        signed = sum((f.quantity if f.side is Side.BUY else -f.quantity for f in fills), Decimal(0))
        assert self.portfolio.account_quantity(ACCOUNT, ES.instrument_id) == signed
        strategies = {spec.strategy for spec in SPECS}
        by_strategy = sum(
            (self.portfolio.strategy_quantity(ACCOUNT, s, ES.instrument_id) for s in strategies),
            Decimal(0),
        )
        assert by_strategy == signed
        assert sum((p.quantity for p in self.portfolio.strategy_positions(ACCOUNT)), Decimal(0)) == signed


LifecycleMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestLifecycleMachine = LifecycleMachine.TestCase
