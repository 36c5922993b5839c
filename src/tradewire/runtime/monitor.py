"""The kill switch's automatic triggers, checked every second.

- a scope's daily loss limit reached: that scope halts (or reduces, or flattens, by config);
- a venue disconnected longer than `venue_down_seconds`: that venue halts;
- the share of rejections among the last `reject_window` venue answers reaches `reject_rate`:
  everything halts;
- quotes older than `stale_quote_seconds` for an instrument with a position or an open order:
  its venue halts.
A trigger fires only on an ACTIVE scope and never re-arms anything: a person resumes.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from tradewire.domain.clock import Clock
from tradewire.domain.enums import OrderStatus, TradingState
from tradewire.domain.ids import VenueId
from tradewire.domain.limits import PORTFOLIO, Scope, ScopeKind
from tradewire.oms.controls import TradingControls
from tradewire.oms.manager import OrderManager
from tradewire.runtime.settings import KillSwitchSettings

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0
_ANSWERED = frozenset(
    {
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)


class KillSwitchMonitor:
    def __init__(self, manager: OrderManager, settings: KillSwitchSettings, clock: Clock) -> None:
        self._manager = manager
        self._controls = TradingControls(manager)
        self._settings = settings
        self._clock = clock
        self._down_since: dict[VenueId, datetime] = {}
        self._rejects_counted_from = 0
        self.flat_confirmed: set[str] = set()
        """Engaged scopes already reported flat (reported once per engagement)."""

    def venue_connection(self, venue: VenueId, connected: bool) -> None:
        if connected:
            self._down_since.pop(venue, None)
        else:
            self._down_since.setdefault(venue, self._clock.now())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL)
            await self.check(self._clock.now())

    async def check(self, now: datetime) -> None:
        await self._check_daily_loss()
        await self._check_venues(now)
        await self._check_reject_rate()
        await self._check_quotes(now)
        self._report_flat()

    def _report_flat(self) -> None:
        """Say once when an engaged scope has no position and no open order left."""
        states = self._manager.ledger.trading_states
        for scope_name, state in states.items():
            if state is TradingState.ACTIVE:
                self.flat_confirmed.discard(scope_name)
            elif scope_name not in self.flat_confirmed and self._controls.is_flat(Scope.parse(scope_name)):
                self.flat_confirmed.add(scope_name)
                log.warning("kill switch: %s is flat (no position, no open order)", scope_name)

    async def _engage(self, scope: Scope, rule: str, reason: str, *, flatten: bool = False) -> None:
        if self._manager.ledger.state_of(scope) is not TradingState.ACTIVE:
            return  # already engaged: latched until a person resumes
        state = TradingState.REDUCING if flatten else TradingState.HALTED
        log.error("kill switch engaged automatically at %s: %s", scope, reason)
        await self._controls.engage(
            scope,
            state,
            reason,
            f"auto:{rule}",
            cancel_working=self._settings.cancel_working,
            flatten=flatten,
        )

    async def _check_daily_loss(self) -> None:
        manager = self._manager
        manager.roll_trading_days(self._clock.now())
        for scope_name, limits in list(manager.ledger.limits.scopes.items()):
            if limits.max_daily_loss is None:
                continue
            scope = Scope.parse(scope_name)
            pnl = manager.view.daily_pnl(scope)
            if pnl is None or -pnl < limits.max_daily_loss:
                continue
            action = self._settings.on_daily_loss
            reason = f"today's P&L {pnl} reached the daily loss limit {limits.max_daily_loss}"
            if action == "reduce":
                await self._set_reducing(scope, reason)
            else:
                await self._engage(scope, "daily_loss", reason, flatten=action == "flatten")

    async def _set_reducing(self, scope: Scope, reason: str) -> None:
        if self._manager.ledger.state_of(scope) is TradingState.ACTIVE:
            await self._controls.engage(
                scope,
                TradingState.REDUCING,
                reason,
                "auto:daily_loss",
                cancel_working=self._settings.cancel_working,
            )

    async def _check_venues(self, now: datetime) -> None:
        limit = self._settings.venue_down_seconds
        if limit is None:
            return
        for venue, since in list(self._down_since.items()):
            if now - since > timedelta(seconds=limit):
                down = (now - since).total_seconds()
                await self._engage(
                    Scope(ScopeKind.VENUE, venue), "venue_down", f"venue {venue} disconnected for {down:.0f}s"
                )

    async def _check_reject_rate(self) -> None:
        rate, window = self._settings.reject_rate, self._settings.reject_window
        if rate is None:
            return
        orders = list(self._manager.ledger.orders.values())[self._rejects_counted_from :]
        answered = [o for o in orders if o.status in _ANSWERED][-window:]
        if len(answered) < window:
            return
        rejected = sum(1 for o in answered if o.status is OrderStatus.REJECTED)
        if rejected / window >= rate:
            self._rejects_counted_from += len(orders)  # the next trigger needs fresh evidence
            await self._engage(
                PORTFOLIO, "reject_rate", f"{rejected} of the last {window} venue answers were rejections"
            )

    async def _check_quotes(self, now: datetime) -> None:
        limit = self._settings.stale_quote_seconds
        if limit is None:
            return
        manager = self._manager
        accounts = manager.router.accounts
        held = manager.ledger.portfolio.by_account.values()
        exposed = {(accounts[p.account].venue, p.instrument) for p in held if p.quantity}
        exposed |= {(o.venue, o.instrument) for o in manager.ledger.open_orders.values()}
        for venue, instrument_id in sorted(exposed):
            quote = manager.quotes.at(venue, instrument_id)
            age = None if quote is None else (now - quote.ts_event).total_seconds()
            if age is None or age > limit:
                shown = "no quote" if age is None else f"last quote {age:.1f}s old"
                await self._engage(
                    Scope(ScopeKind.VENUE, venue),
                    "stale_quotes",
                    f"market data for {instrument_id} is stale: {shown}",
                )
