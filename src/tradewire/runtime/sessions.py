"""The session scheduler: releases held orders at the open, expires DAY orders at the close, flattens
before the close where configured, and records positions carried over each session boundary.

What is due comes from one pure function (`tradewire.sessions.schedule.due`) of the ledger between
the scheduler's last look at the clock and now; this module is the thin loop around it and the
effects, all through the order manager: every order it sends passes the risk gate and the kill switch
again, and every outcome is journaled. `tick(now)` does one step, so tests drive it with a
`ManualClock` and never wait. See docs/sessions.md.
"""

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from tradewire.domain.clock import Clock
from tradewire.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from tradewire.domain.errors import Conflict, NotFound
from tradewire.domain.events import OrderCanceled, OrderHeld, OrderSpec, PositionRolledOver
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.oms.manager import OrderManager
from tradewire.risk.checks import SESSION_CLOSED
from tradewire.sessions import calendar_for
from tradewire.sessions.policy import SessionPolicy, asset_class_names
from tradewire.sessions.schedule import (
    Due,
    ExpireDay,
    FlattenBeforeClose,
    PositionAtClose,
    ReleaseHeld,
    RollOver,
    due,
)

log = logging.getLogger(__name__)

DAY_EXPIRED = "DAY order expired at the session close"
FLATTENED_BY = "session close"
FLATTEN_TRIES = 3
"""How many times the same position is sent to be flattened before one close."""
CATCH_UP = timedelta(days=7)
"""At start-up, session boundaries passed while the engine was down are rolled over, this far back."""


class SessionScheduler:
    def __init__(self, manager: OrderManager, policy: SessionPolicy, clock: Clock) -> None:
        self._manager = manager
        self._policy = policy
        self._clock = clock
        now = clock.now()
        last_seen = manager.ledger.last_event_at
        self.last_tick = max(min(last_seen, now), now - CATCH_UP) if last_seen is not None else now
        """The end of the window already looked at."""
        self._flatten_tries: dict[tuple[AccountId, InstrumentId, datetime], tuple[Decimal, int]] = {}
        """Per position and close: the quantity last sent to flatten it, and how many times in a row
        that same quantity was sent (a flatten refused again and again is not sent every tick)."""

    def prepare(self) -> None:
        """Build every instrument's calendar now, at start-up (building one takes ~0.1 s), and refuse
        a calendar name or a flatten key that names nothing."""
        instruments = self._manager.instruments
        for instrument_id in instruments:
            for venue in instruments.venues_of(instrument_id):
                calendar_for(instruments.at(venue, instrument_id).calendar)
        known = {str(i) for i in instruments} | asset_class_names()
        unknown = sorted(set(self._policy.flatten_before_close) - known)
        if unknown:
            raise ValueError(
                f"sessions.flatten_before_close has unknown keys {unknown}: use an instrument ID "
                f"({', '.join(sorted(str(i) for i in instruments))}) or an asset class "
                f"({', '.join(sorted(asset_class_names()))})"
            )

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick(self._clock.now())
            except (TimeoutError, OSError, Conflict, NotFound) as error:
                log.warning("session scheduler step failed; retrying: %r", error)

    async def tick(self, now: datetime) -> list[Due]:
        """Do what fell due since the last tick; returns it (for logs and tests)."""
        t0, self.last_tick = self.last_tick, max(now, self.last_tick)
        work = self.due(t0, now)
        for item in work:
            if isinstance(item, ExpireDay):
                await self._expire(item)
            elif isinstance(item, ReleaseHeld):
                await self._release(item.held)
            elif isinstance(item, FlattenBeforeClose):
                await self._flatten(item)
            else:
                self._roll_over(item)
        await self._manager.journal.flush()
        return work

    def due(self, t0: datetime, t1: datetime) -> list[Due]:
        manager = self._manager
        ledger = manager.ledger
        instruments = manager.instruments
        listings = {
            (venue, instrument_id): instruments.at(venue, instrument_id)
            for instrument_id in instruments
            for venue in instruments.venues_of(instrument_id)
        }
        return due(
            t0,
            t1,
            policy=self._policy,
            held=list(ledger.held.values()),
            orders=[(o, listings[(o.venue, o.instrument)]) for o in ledger.open_orders.values()],
            positions=self._positions(listings),
            rollovers=ledger.rollovers,
            venues_expiring_day=frozenset(
                venue_id
                for venue_id, venue in manager.venues.items()
                if venue.capabilities.expires_day_orders
            ),
            instruments=listings,
        )

    def _positions(self, listings: dict[tuple[VenueId, InstrumentId], Instrument]) -> list[PositionAtClose]:
        manager = self._manager
        positions = []
        for position in manager.ledger.portfolio.account_positions():
            account = manager.router.accounts.get(position.account)
            listing = listings.get((account.venue, position.instrument)) if account is not None else None
            if listing is None or not position.quantity:
                continue
            reducing = Side.SELL if position.quantity > 0 else Side.BUY
            positions.append(
                PositionAtClose(
                    account=position.account,
                    instrument=listing,
                    quantity=position.quantity,
                    closing=manager.ledger.working.working(reducing, position.instrument, position.account),
                )
            )
        return positions

    # --- the effects ---

    async def _expire(self, item: ExpireDay) -> None:
        manager = self._manager
        order = manager.ledger.orders[item.client_order_id]
        if not item.sent:
            if order.status is OrderStatus.PENDING_NEW:
                manager.record(
                    OrderCanceled(
                        **manager.stamp(),
                        client_order_id=order.client_order_id,
                        reason=f"not sent: {DAY_EXPIRED}",
                    )
                )
            return
        log.info("DAY order %s expired at the %s close; canceling it", order.client_order_id, item.close)
        try:
            await manager.cancel(order.client_order_id, DAY_EXPIRED)
        except Conflict as error:  # it ended (filled, canceled) while we were busy with others
            log.info("DAY order %s not canceled: %s", order.client_order_id, error)

    async def _release(self, held: OrderHeld) -> None:
        """Send a held order at its open, after checking it again as a new order (its own working
        quantity set aside); the kill switch is checked again by `send`."""
        manager = self._manager
        spec = held.spec
        order = manager.ledger.orders[spec.client_order_id]
        if order.status is not OrderStatus.PENDING_NEW:
            return
        instrument = manager.instruments.at(spec.venue, spec.instrument)
        quote = manager.quotes.at(spec.venue, spec.instrument)
        reference = spec.limit_price or spec.stop_price or (quote.touch(spec.side) if quote else None)
        reference = reference or spec.signal_price
        manager.ledger.working.count(order, -1)
        try:
            denial = manager.admit(spec, instrument, reference)
        finally:
            manager.ledger.working.count(order, 1)
        if denial is None:
            log.info("releasing held order %s at the open", spec.client_order_id)
            await manager.send(spec)
            return
        session = manager.view.session_state(instrument, manager.clock.now())
        if denial.code == SESSION_CLOSED and session.next_open is not None:
            # Still closed (the engine was down through the session): wait for the next open.
            manager.record(
                OrderHeld(**manager.stamp(), spec=spec, release_at=session.next_open, reason=denial.reason)
            )
            return
        log.warning("held order %s refused at the open: %s", spec.client_order_id, denial.reason)
        manager.record(
            OrderCanceled(
                **manager.stamp(),
                client_order_id=spec.client_order_id,
                reason=f"not sent: refused when released at the open: {denial.reason}",
            )
        )

    async def _flatten(self, item: FlattenBeforeClose) -> None:
        """Reduce-only market orders for what is left of the position, split among the strategies
        holding it (largest first), through the same gate as any order.

        Again at every tick that finds a position left before the close (what working orders do
        not already close): one opened after the last flatten, or left by a partial fill, is
        flattened too; the same quantity left by a refused flatten is tried `FLATTEN_TRIES` times."""
        key = (item.account, item.instrument.instrument_id, item.close)
        quantity_left = abs(item.quantity)
        last_quantity, tries = self._flatten_tries.get(key, (None, 0))
        tries = tries + 1 if last_quantity == quantity_left else 1
        if tries > FLATTEN_TRIES:
            return
        self._flatten_tries[key] = (quantity_left, tries)
        manager = self._manager
        instrument = item.instrument
        side = Side.SELL if item.quantity > 0 else Side.BUY
        quote = manager.quotes.at(instrument.venue, instrument.instrument_id)
        reference = quote.touch(side) if quote is not None else None
        remaining = abs(item.quantity)
        for strategy, held in self._holders(item.account, instrument.instrument_id, item.quantity > 0):
            quantity = min(held, remaining)
            if quantity <= 0:
                break
            remaining -= quantity
            spec = OrderSpec(
                client_order_id=manager.ids.client_order_id(),
                account=item.account,
                strategy=strategy,
                instrument=instrument.instrument_id,
                venue=instrument.venue,
                side=side,
                order_type=OrderType.MARKET,
                quantity=quantity,
                time_in_force=TimeInForce.GTC,
                reduce_only=True,
                route=f"flatten before the {item.close:%Y-%m-%d %H:%M} UTC close by {FLATTENED_BY}",
            )
            denial = await manager.submit_order(spec, reference)
            log.warning(
                "flatten %s %s %s before the close: %s",
                item.account,
                side,
                quantity,
                "sent" if denial is None else f"denied: {denial.reason}",
            )

    def _holders(
        self, account: AccountId, instrument: InstrumentId, long: bool
    ) -> Iterable[tuple[StrategyId, Decimal]]:
        positions = [
            p
            for p in self._manager.ledger.portfolio.strategy_positions(account)
            if p.instrument == instrument and p.quantity and (p.quantity > 0) == long
        ]
        positions.sort(key=lambda p: (-abs(p.quantity), p.strategy or ""))
        return [(p.strategy or StrategyId("flatten"), abs(p.quantity)) for p in positions]

    def _roll_over(self, item: RollOver) -> None:
        manager = self._manager
        instrument = item.instrument
        manager.record(
            PositionRolledOver(
                **manager.stamp(),
                account=item.account,
                instrument=instrument.instrument_id,
                venue=instrument.venue,
                quantity=item.quantity,
                mark_price=manager.quotes.mark(instrument.instrument_id, instrument.venue),
                calendar=item.calendar,
                session=item.session,
                boundary=item.boundary,
            )
        )
