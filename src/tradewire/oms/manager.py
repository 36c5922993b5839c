"""The order manager: signal -> sizing -> risk -> journal -> venue, and reports -> events -> state.

State changes are synchronous: `record` applies an event to the ledger and appends it to the
journal in one step, so every check sees every order created before it, with no await in
between. Effects that leave the process wait for the journal: an order is durable as pending-new
before its bytes go to the venue, and a signal's answer is durable before it is returned.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from tradewire.domain.clock import Clock
from tradewire.domain.denials import Denial
from tradewire.domain.enums import CANCELABLE_STATUSES, OrderStatus, TradingState
from tradewire.domain.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    VenueAuthFailed,
    VenueBusy,
    VenueRefused,
)
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
    TradingStateChanged,
    VenueRequestRetried,
)
from tradewire.domain.ids import ClientOrderId, InstrumentId, VenueId
from tradewire.domain.instruments import Catalog, Instrument
from tradewire.domain.limits import LimitBook, Scope, ScopeKind
from tradewire.domain.market import QuoteBook
from tradewire.domain.orders import Order
from tradewire.domain.reports import (
    CancelRejectReport,
    ExecutionReport,
    FillReport,
    OrderStatusReport,
)
from tradewire.domain.throttle import RetryPolicy
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
from tradewire.oms.retries import Failed, GaveUp, Outcome, Sent, Stopped, Unknown, VenueCaller
from tradewire.oms.specs import amended_spec, order_ref
from tradewire.risk.checks import check_trading_state
from tradewire.risk.gate import RiskGate
from tradewire.risk.view import OrderFacts
from tradewire.venues.port import VenueClient
from tradewire.venues.throttle import UNLIMITED, RateBudget

log = logging.getLogger(__name__)

Probe = Callable[[str], None]
RequestKind = Literal["submit", "cancel", "modify"]
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
        retries: RetryPolicy | None = None,
        rate_budgets: Mapping[VenueId, RateBudget] | None = None,
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
        self.caller = VenueCaller(retries or RetryPolicy(), venue_timeout)
        self.rate_budgets = dict(rate_budgets or {})
        self._daily_loss_book: LimitBook | None = None
        self._daily_loss_names: tuple[str, ...] = ()
        self._held: set[ClientOrderId] = set()
        """Submitted orders between busy tries: the venue certainly does not have them (in memory
        only: after a restart every submitted order counts as possibly at the venue)."""

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
        scope_names = self._daily_loss_scopes()
        if not scope_names:
            return
        today = self.trading_day.of(now)
        for scope_name in scope_names:
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

    def _daily_loss_scopes(self) -> tuple[str, ...]:
        """The scopes with a daily loss limit, worked out again only when the limits change."""
        book = self.ledger.limits
        if book is not self._daily_loss_book:
            self._daily_loss_book = book
            self._daily_loss_names = tuple(
                name for name, limits in book.scopes.items() if limits.max_daily_loss is not None
            )
        return self._daily_loss_names

    def kill_switch_blocks(self, order: Order, spec: OrderSpec) -> Denial | None:
        """Whether the kill switch, as it stands now, refuses this already-admitted order."""
        states = self.ledger.trading_states
        if not states or all(state is TradingState.ACTIVE for state in states.values()):
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
        client_order_id = spec.client_order_id
        self.record(OrderSubmitted(**self.stamp(), client_order_id=client_order_id))
        venue = self.venues[spec.venue]

        async def submit() -> None:
            self._held.discard(client_order_id)  # from here on the venue may have it
            await venue.submit(spec)

        def proceed() -> str | None:
            # Checked before every try: the switch may have engaged, or the order been canceled,
            # while it waited for its rate budget or a retry.
            if order.status is not OrderStatus.SUBMITTED:
                return f"the order is {order.status}"
            blocked = self.kill_switch_blocks(order, spec)
            return None if blocked is None else blocked.reason

        def retrying(attempt: int, error: VenueBusy, delay: float) -> None:
            self._held.add(client_order_id)
            self._record_retry(client_order_id, "submit", attempt, error, delay)

        self._held.add(client_order_id)
        try:
            outcome = await self.caller.call(
                submit, self._budget(spec.venue), proceed=proceed, retrying=retrying
            )
        finally:
            self._held.discard(client_order_id)
        # An unknown outcome (timeout, I/O error) leaves the order submitted, never resent: the
        # in-flight check and reconciliation ask the venue by client order ID.
        if isinstance(outcome, Sent):
            reason = None
        else:
            reason = await self._not_done(spec.venue, outcome, f"submit of {client_order_id}")
        if isinstance(outcome, Stopped):
            if order.status is OrderStatus.SUBMITTED:  # the kill switch: never sent, so canceled here
                self.record(OrderCanceled(**self.stamp(), client_order_id=client_order_id, reason=reason))
        elif reason is not None and order.can_apply(OrderRejected):
            self.record(OrderRejected(**self.stamp(), client_order_id=client_order_id, reason=reason))
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
        if client_order_id in self.ledger.held:
            return await self._cancel_held(order, requested_by, "while it was held for its session to open")
        if order.status is OrderStatus.PENDING_CANCEL:
            return order
        if order.status not in CANCELABLE_STATUSES:
            raise Conflict(f"order {client_order_id} is {order.status}; only working orders can be canceled")
        if client_order_id in self._held:
            return await self._cancel_held(order, requested_by, "while it waited for a busy venue")
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
        venue = self.venues[order.venue]
        outcome = await self.caller.call(
            lambda: venue.cancel(ref),
            self._budget(order.venue),
            proceed=lambda: (
                None if order.status is OrderStatus.PENDING_CANCEL else f"the order is {order.status}"
            ),
            retrying=lambda attempt, error, delay: self._record_retry(
                client_order_id, "cancel", attempt, error, delay
            ),
        )
        reason = await self._not_done(order.venue, outcome, f"cancel of {client_order_id}")
        if reason is not None and order.can_apply(OrderCancelRejected):
            self.record(OrderCancelRejected(**self.stamp(), client_order_id=client_order_id, reason=reason))
        await self.journal.flush()
        return order

    async def _cancel_held(self, order: Order, requested_by: str, held: str) -> Order:
        """Cancel an order the engine holds (for its session to open, for its rate budget, or to
        retry a busy venue): nothing reached the venue, so it is canceled here and never sent."""
        client_order_id = order.client_order_id
        self.record(CancelOrder(**self.stamp(), client_order_id=client_order_id, requested_by=requested_by))
        reason = f"not sent: canceled by {requested_by} {held}"
        await self.journal.flush(
            self.record(OrderCanceled(**self.stamp(), client_order_id=client_order_id, reason=reason))
        )
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
        ref = order_ref(order)

        def proceed() -> str | None:
            if order.status is not OrderStatus.PENDING_REPLACE:
                return f"the order is {order.status}"
            blocked = self.kill_switch_blocks(order, spec)
            return None if blocked is None else blocked.reason

        outcome = await self.caller.call(
            lambda: venue.modify(ref, spec.quantity, spec.limit_price, spec.stop_price),
            self._budget(order.venue),
            proceed=proceed,
            retrying=lambda attempt, error, delay: self._record_retry(
                client_order_id, "modify", attempt, error, delay
            ),
        )
        reason = await self._not_done(order.venue, outcome, f"amend of {client_order_id}")
        if reason is not None and order.can_apply(OrderReplaceRejected):
            self.record(OrderReplaceRejected(**self.stamp(), client_order_id=client_order_id, reason=reason))
        await self.journal.flush()
        return order

    # --- venue requests: budgets, retries, and what a refusal means ---

    def _budget(self, venue: VenueId) -> RateBudget:
        return self.rate_budgets.get(venue, UNLIMITED)

    def _record_retry(
        self,
        client_order_id: ClientOrderId,
        request: RequestKind,
        attempt: int,
        error: VenueBusy,
        delay: float,
    ) -> None:
        log.info(
            "%s of %s: busy at try %d, again in %.3fs: %s", request, client_order_id, attempt, delay, error
        )
        self.record(
            VenueRequestRetried(
                **self.stamp(),
                client_order_id=client_order_id,
                request=request,
                attempt=attempt,
                reason=str(error),
                delay=timedelta(seconds=delay),
            )
        )

    async def _not_done(self, venue: VenueId, outcome: Outcome, what: str) -> str | None:
        """Why a request did not reach the venue, to record as its rejection; None when it was sent
        or its outcome is unknown (then the venue is asked, never sent the request again)."""
        match outcome:
            case Sent():
                return None
            case Unknown(error=error):
                log.warning("%s has an unknown outcome: %r", what, error)
                return None
            case GaveUp():
                reason = outcome.reason
            case Stopped(reason=stopped):
                reason = f"not sent: {stopped}"
            case Failed(error=VenueRefused() as refused):
                reason = refused.reason
            case Failed(error=VenueAuthFailed() as error):
                reason = f"not sent: {error}"
                await self._halt_venue(venue, error)
            case Failed(error=error):
                reason = f"not sent: {error}"
        log.warning("%s: %s", what, reason)
        return reason

    async def _halt_venue(self, venue: VenueId, error: VenueAuthFailed) -> None:
        """Credentials refused: nothing will work until a person fixes them and resumes the venue."""
        scope = Scope(ScopeKind.VENUE, venue)
        if self.ledger.state_of(scope) is TradingState.HALTED:
            return
        log.error("kill switch: halting %s, the venue refused our credentials: %s", scope, error)
        reason = f"the venue refused our credentials: {error}"
        await self.journal.flush(
            self.record(
                TradingStateChanged(
                    **self.stamp(),
                    scope=str(scope),
                    state=TradingState.HALTED,
                    reason=reason,
                    changed_by="auto:venue_auth",
                )
            )
        )

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
