"""The order manager: signal -> sizing -> risk -> journal -> venue, and reports -> events -> state.

State changes are synchronous: `record` applies an event to the ledger and appends it to the
journal in one step, so every check sees every order created before it, with no await in
between. Effects that leave the process wait for the journal: an order is durable as pending-new
before its bytes go to the venue, and a signal's answer is durable before it is returned.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

from tradewire.domain.clock import Clock
from tradewire.domain.denials import Denial
from tradewire.domain.enums import CANCELABLE_STATUSES, OrderStatus, TradingState
from tradewire.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, VenueUnavailable
from tradewire.domain.events import (
    CancelOrder,
    IllegalTransition,
    JournalRecord,
    ModifyOrder,
    OrderCanceled,
    OrderCancelRejected,
    OrderCreated,
    OrderDenied,
    OrderModifyDenied,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaceRejected,
    OrderSpec,
    OrderSubmitted,
    TradingDayStarted,
)
from tradewire.domain.ids import ClientOrderId, InstrumentId, VenueId
from tradewire.domain.instruments import Catalog, Instrument
from tradewire.domain.limits import Scope
from tradewire.domain.market import QuoteBook
from tradewire.domain.orders import Order
from tradewire.domain.reports import (
    CancelRejectReport,
    ExecutionReport,
    FillReport,
    OrderStatusReport,
)
from tradewire.execution.routing import Router
from tradewire.execution.sizing import OffGridPolicy
from tradewire.journal.store import JournalStore
from tradewire.oms.exposure import LedgerRiskView, TradingDay
from tradewire.oms.identifiers import IdGenerator, Stamp
from tradewire.oms.ledger import Ledger
from tradewire.oms.reports import (
    Derived,
    event_for_cancel_reject,
    event_for_fill,
    events_for_status,
)
from tradewire.oms.specs import amended_spec, order_ref
from tradewire.risk.checks import check_trading_state
from tradewire.risk.gate import RiskGate
from tradewire.risk.view import OrderFacts
from tradewire.venues.port import VenueClient

log = logging.getLogger(__name__)

Probe = Callable[[str], None]
"""Called at named points of the order path; the crash tests use it to kill the process there."""


def no_probe(_: str) -> None:
    return None


class OrderManager:
    def __init__(
        self,
        *,
        ledger: Ledger,
        journal: JournalStore,
        venues: Mapping[VenueId, VenueClient],
        instruments: Catalog,
        quotes: QuoteBook,
        router: Router,
        risk: RiskGate,
        view: LedgerRiskView,
        trading_day: TradingDay,
        ids: IdGenerator,
        clock: Clock,
        off_grid_prices: OffGridPolicy = "round",
        venue_timeout: float = 5.0,
        probe: Probe = no_probe,
    ) -> None:
        self.ledger = ledger
        self.journal = journal
        self.venues = dict(venues)
        self.instruments = instruments
        self.quotes = quotes
        self.router = router
        self.risk = risk
        self.view = view
        self.trading_day = trading_day
        self.ids = ids
        self.stamp = Stamp(ids, clock)
        self.clock = clock
        self.off_grid_prices = off_grid_prices
        self.venue_timeout = venue_timeout
        self.probe = probe
        self.unknown_reports: list[ExecutionReport] = []

    # --- recording ---

    def record(self, event: JournalRecord) -> int:
        """Apply an event to the state and queue it for the journal; returns its sequence number."""
        self.ledger.apply(event)
        return self.journal.append(event)

    # --- signals ---

    def instrument(self, name: str) -> Instrument:
        instrument = self.instruments.get(InstrumentId(name))
        if instrument is None:
            known = ", ".join(sorted(self.instruments)) or "none configured"
            raise InvalidInput(
                [FieldProblem("instrument", f"{name!r} is not a configured instrument", f"one of: {known}")]
            )
        return instrument

    def admit(self, spec: OrderSpec, instrument: Instrument, reference: Decimal | None) -> Denial | None:
        """The risk gate's verdict on one order; the only way an order becomes pending-new."""
        now = self.clock.now()
        self.roll_trading_days(now)
        facts = OrderFacts(
            spec=spec,
            instrument=instrument,
            reference=reference,
            quote=self.quotes.at(spec.venue, spec.instrument),
            now=now,
        )
        return self.risk.check(facts, self.ledger.limits, self.view)

    def record_order(self, spec: OrderSpec, denial: Denial | None) -> int:
        if denial is None:
            return self.record(OrderCreated(**self.stamp(), spec=spec))
        return self.record(
            OrderDenied(**self.stamp(), spec=spec, reason_code=denial.code, reason=denial.reason)
        )

    async def submit_order(self, spec: OrderSpec, reference: Decimal | None) -> Denial | None:
        """An order the engine itself decided (a flatten): the same gate, journal and send path."""
        denial = self.admit(spec, self.instruments.at(spec.venue, spec.instrument), reference)
        await self.journal.flush(self.record_order(spec, denial))
        if denial is None:
            await self.send(spec)
        return denial

    def roll_trading_days(self, now: datetime) -> None:
        """At a new trading day, record each daily-loss scope's P&L as the day's baseline."""
        today = self.trading_day.of(now)
        for scope_name, limits in self.ledger.limits.scopes.items():
            if limits.max_daily_loss is None:
                continue
            started = self.ledger.trading_days.get(scope_name)
            if started is not None and started.trading_day == today:
                continue
            baseline = self.view.total_pnl(Scope.parse(scope_name))
            if baseline is not None:
                self.record(
                    TradingDayStarted(
                        **self.stamp(), scope=scope_name, trading_day=today, baseline_pnl=baseline
                    )
                )

    def kill_switch_blocks(self, order: Order, spec: OrderSpec) -> Denial | None:
        """Whether the kill switch, as it stands now, refuses this already-admitted order."""
        if all(state is TradingState.ACTIVE for state in self.ledger.trading_states.values()):
            return None  # nothing engaged anywhere: the common case costs one pass over a tiny dict
        facts = OrderFacts(
            spec=spec,
            instrument=self.instruments.at(spec.venue, spec.instrument),
            reference=None,
            quote=None,
            now=self.clock.now(),
        )
        self.ledger.working.count(order, -1)  # judge the order against the others, not itself
        try:
            for scope in facts.scopes():
                denial = check_trading_state(facts, scope, self.view)
                if denial is not None:
                    return denial
            return None
        finally:
            self.ledger.working.count(order, 1)

    async def send(self, spec: OrderSpec) -> None:
        """Hand a durable pending-new order to its venue. Never resends: an unknown outcome is
        settled by asking the venue (reconciliation), not by trying again."""
        self.probe("order.journaled")
        order = self.ledger.orders[spec.client_order_id]
        if not order.can_apply(OrderSubmitted):
            log.warning("order %s is %s; not sent", spec.client_order_id, order.status)
            return
        blocked = self.kill_switch_blocks(order, spec)
        if blocked is not None:
            # The kill switch engaged while this order waited for its journal write.
            self.record(
                OrderCanceled(
                    **self.stamp(), client_order_id=spec.client_order_id, reason=f"not sent: {blocked.reason}"
                )
            )
            return
        self.record(
            OrderSubmitted(
                **self.stamp(),
                client_order_id=spec.client_order_id,
            )
        )
        venue = self.venues[spec.venue]
        try:
            async with asyncio.timeout(self.venue_timeout):
                await venue.submit(spec)
        except VenueUnavailable as error:
            order = self.ledger.orders[spec.client_order_id]
            if order.can_apply(OrderRejected):
                self.record(
                    OrderRejected(
                        **self.stamp(),
                        client_order_id=spec.client_order_id,
                        reason=f"not sent: {error}",
                    )
                )
        except (TimeoutError, OSError) as error:
            # The request may or may not have reached the venue: leave the order submitted and let
            # reconciliation ask the venue by client order ID.
            log.warning("submit of %s has an unknown outcome: %r", spec.client_order_id, error)
        self.probe("order.sent")
        if order.status in CANCELABLE_STATUSES and self.kill_switch_blocks(order, spec) is not None:
            # The switch engaged while the order was on its way; a cancel sent then may have
            # overtaken it at the venue ("unknown order"). Cancel it now that the venue has it.
            await self.cancel(spec.client_order_id, "kill switch")

    # --- cancels ---

    async def cancel(self, client_order_id: ClientOrderId, requested_by: str) -> Order:
        order = self.ledger.orders.get(client_order_id)
        if order is None:
            raise NotFound("order", client_order_id)
        if order.status is OrderStatus.PENDING_CANCEL:
            return order
        if order.status not in CANCELABLE_STATUSES:
            raise Conflict(f"order {client_order_id} is {order.status}; only working orders can be canceled")
        self.record(
            CancelOrder(
                **self.stamp(),
                client_order_id=client_order_id,
                requested_by=requested_by,
            )
        )
        sequence = self.record(
            OrderPendingCancel(
                **self.stamp(),
                client_order_id=client_order_id,
            )
        )
        await self.journal.flush(sequence)
        ref = order_ref(order)
        try:
            async with asyncio.timeout(self.venue_timeout):
                await self.venues[order.venue].cancel(ref)
        except VenueUnavailable as error:
            if order.can_apply(OrderCancelRejected):
                self.record(
                    OrderCancelRejected(
                        **self.stamp(),
                        client_order_id=client_order_id,
                        reason=f"not sent: {error}",
                    )
                )
        except (TimeoutError, OSError) as error:
            log.warning("cancel of %s has an unknown outcome: %r", client_order_id, error)
        await self.journal.flush()
        return order

    # --- amends ---

    async def modify(
        self,
        client_order_id: ClientOrderId,
        requested_by: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> Order | Denial:
        """Amend a working order. The amended order passes the risk gate like a new one (its own
        working quantity set aside), so amending up cannot get round a limit."""
        order = self.ledger.orders.get(client_order_id)
        if order is None:
            raise NotFound("order", client_order_id)
        if order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            raise Conflict(
                f"order {client_order_id} is {order.status}; only an accepted order can be amended"
            )
        venue = self.venues[order.venue]
        if not venue.capabilities.modify:
            raise Conflict(f"venue {order.venue} does not amend orders; cancel and send a new one")
        instrument = self.instruments.at(order.venue, order.instrument)
        spec = amended_spec(order, instrument, quantity, limit_price, stop_price)
        self.ledger.working.count(order, -1)
        try:
            quote = self.quotes.at(order.venue, order.instrument)
            reference = spec.limit_price or spec.stop_price or (quote.touch(spec.side) if quote else None)
            denial = self.admit(spec, instrument, reference)
        finally:
            self.ledger.working.count(order, 1)
        self.record(
            ModifyOrder(
                **self.stamp(),
                client_order_id=client_order_id,
                requested_by=requested_by,
                quantity=spec.quantity,
                limit_price=spec.limit_price,
                stop_price=spec.stop_price,
            )
        )
        if denial is not None:
            await self.journal.flush(
                self.record(
                    OrderModifyDenied(
                        **self.stamp(),
                        client_order_id=client_order_id,
                        quantity=spec.quantity,
                        limit_price=spec.limit_price,
                        stop_price=spec.stop_price,
                        reason_code=denial.code,
                        reason=denial.reason,
                    )
                )
            )
            return denial
        await self.journal.flush(
            self.record(
                OrderPendingReplace(
                    **self.stamp(),
                    client_order_id=client_order_id,
                    quantity=spec.quantity,
                    limit_price=spec.limit_price,
                    stop_price=spec.stop_price,
                )
            )
        )
        try:
            async with asyncio.timeout(self.venue_timeout):
                await venue.modify(order_ref(order), spec.quantity, spec.limit_price, spec.stop_price)
        except VenueUnavailable as error:
            if order.can_apply(OrderReplaceRejected):
                self.record(
                    OrderReplaceRejected(
                        **self.stamp(), client_order_id=client_order_id, reason=f"not sent: {error}"
                    )
                )
        except (TimeoutError, OSError) as error:
            log.warning("amend of %s has an unknown outcome: %r", client_order_id, error)
        await self.journal.flush()
        return order

    # --- reports from venues ---

    def on_report(self, report: ExecutionReport, inferred: bool = False) -> None:
        """Apply one venue report. Safe to call twice with the same report."""
        order = self.ledger.orders.get(report.client_order_id)
        if order is None:
            self.unknown_reports.append(report)
            log.warning("report for an order this engine does not know: %s", report)
            return
        if isinstance(report, FillReport):
            if self.ledger.has_fill(report.venue, report.fill_id):
                return
            self.probe("fill.received")
            instrument = self.instruments.at(order.venue, order.instrument)
            self._record_derived(
                [event_for_fill(order, report, instrument, stamp=self.stamp, inferred=inferred)]
            )
        elif isinstance(report, OrderStatusReport):
            self._record_derived(events_for_status(order, report, self.stamp, inferred))
        elif isinstance(report, CancelRejectReport):
            event = event_for_cancel_reject(order, report, self.stamp)
            if event is not None:
                self.record(event)

    def _record_derived(self, events: list[Derived]) -> None:
        for event in events:
            if isinstance(event, IllegalTransition):
                log.error("illegal transition on %s: %s", event.client_order_id, event.detail)
            self.record(event)
