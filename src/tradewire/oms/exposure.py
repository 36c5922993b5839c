"""The risk view over the ledger: positions, working orders, exposure and daily P&L per scope.

Scopes: the portfolio (every account, valued in the base currency), an account (its currency), a
strategy (across accounts, base currency) and a venue. Prices are the venues' mids; a currency is
converted with the mid of a configured pair in either direction (EURUSD, USDJPY, BTC/USDT), and
currencies declared equivalent (USDT and USD by default) convert at 1.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tradewire.domain.enums import AssetClass, Side, TradingState
from tradewire.domain.health import VenueHealthBoard, VenueStatus
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Catalog, Instrument
from tradewire.domain.limits import Scope, ScopeKind
from tradewire.domain.market import QuoteBook
from tradewire.domain.positions import Position
from tradewire.domain.values import ZERO
from tradewire.oms.ledger import Ledger
from tradewire.risk.view import Exposures, SessionState
from tradewire.sessions import calendar_for
from tradewire.sessions.policy import SessionPolicy


class TradingDay:
    """Trading days start at a local time in a time zone (default 17:00 New York, the FX roll).

    A day is named by the calendar date it ends on: Monday's session starts Sunday 17:00."""

    def __init__(self, start: time, zone: str) -> None:
        self.start = start
        self.zone = ZoneInfo(zone)
        self._minute: float | None = None
        self._day: date | None = None

    def of(self, moment: datetime) -> date:
        """Asked for every order, so the last answer is kept for the rest of its minute: the day
        turns on a whole local minute, and time zones are whole minutes off UTC."""
        minute = moment.timestamp() // 60
        if minute != self._minute or self._day is None:
            self._day = self._day_of(moment)
            self._minute = minute
        return self._day

    def _day_of(self, moment: datetime) -> date:
        local = moment.astimezone(self.zone)
        shifted = local - timedelta(hours=self.start.hour, minutes=self.start.minute)
        return shifted.date() + (timedelta(days=1) if self.start != time(0) else timedelta(0))


class LedgerRiskView:
    def __init__(
        self,
        *,
        ledger: Ledger,
        quotes: QuoteBook,
        instruments: Mapping[InstrumentId, Instrument] | Catalog,
        account_currencies: Mapping[AccountId, str],
        account_venues: Mapping[AccountId, VenueId] | None = None,
        base_currency: str,
        equivalents: Mapping[str, str],
        sessions: SessionPolicy | None = None,
        venue_health: VenueHealthBoard | None = None,
    ) -> None:
        self._ledger = ledger
        self._quotes = quotes
        self._instruments = instruments if isinstance(instruments, Catalog) else Catalog(instruments.values())
        self._account_venues = dict(account_venues or {})
        self._account_currencies = account_currencies
        self._base = base_currency
        self._equivalents = equivalents
        self.sessions = sessions or SessionPolicy()
        self._venue_health = venue_health or VenueHealthBoard()

    # --- positions and working orders ---

    def _positions(self, scope: Scope) -> Iterable[Position]:
        portfolio = self._ledger.portfolio
        if scope.kind is ScopeKind.ACCOUNT:
            return portfolio.account_positions(AccountId(scope.id or ""))
        if scope.kind is ScopeKind.STRATEGY:
            return (p for p in portfolio.by_strategy.values() if p.strategy == scope.id)
        if scope.kind is ScopeKind.VENUE:
            return (
                p
                for p in portfolio.by_account.values()
                if self._venue_of(p.account, p.instrument) == scope.id
            )
        return portfolio.by_account.values()

    def position(self, scope: Scope, instrument: InstrumentId) -> Decimal:
        return sum((p.quantity for p in self._positions(scope) if p.instrument == instrument), ZERO)

    def strategy_position(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId
    ) -> Decimal:
        return self._ledger.portfolio.strategy_quantity(account, strategy, instrument)

    def strategy_working(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId, side: Side
    ) -> Decimal:
        return self._ledger.working.working(side, instrument, account, strategy)

    def working(self, scope: Scope, instrument: InstrumentId, side: Side) -> Decimal:
        working = self._ledger.working
        if scope.kind is ScopeKind.ACCOUNT:
            return working.working(side, instrument, account=AccountId(scope.id or ""))
        if scope.kind is ScopeKind.STRATEGY:
            return working.working(side, instrument, strategy=StrategyId(scope.id or ""))
        if scope.kind is ScopeKind.VENUE:
            return sum(
                (
                    quantity
                    for (key_side, account, _, key_instrument), quantity in working.quantities.items()
                    if key_side is side
                    and key_instrument == instrument
                    and self._venue_of(account, instrument) == scope.id
                ),
                ZERO,
            )
        return working.working(side, instrument)

    def _venue_of(self, account: AccountId, instrument: InstrumentId) -> VenueId:
        venue = self._account_venues.get(account)
        return venue if venue is not None else self._instruments[instrument].venue

    def _listing(self, account: AccountId | None, instrument: InstrumentId) -> Instrument | None:
        if instrument not in self._instruments:
            return None
        if account is None:
            return self._instruments[instrument]
        venue = self._venue_of(account, instrument)
        return (
            self._instruments.at(venue, instrument)
            if self._instruments.listed_at(venue, instrument)
            else None
        )

    def open_orders(self, scope: Scope) -> int:
        working = self._ledger.working
        ident = scope.id or ""
        if scope.kind is ScopeKind.ACCOUNT:
            return working.open_orders(account=AccountId(ident))
        if scope.kind is ScopeKind.STRATEGY:
            return working.open_orders(strategy=StrategyId(ident))
        if scope.kind is ScopeKind.VENUE:
            return working.open_orders(venue=VenueId(ident))
        return working.open_orders()

    def state(self, scope: Scope) -> TradingState:
        if not self._ledger.trading_states:  # never engaged: the answer for most orders, at every scope
            return TradingState.ACTIVE
        return self._ledger.state_of(scope)

    def venue_status(self, venue: VenueId) -> VenueStatus | None:
        return self._venue_health.get(venue)

    def session_state(self, instrument: Instrument, now: datetime) -> SessionState:
        name = instrument.calendar
        if not self.sessions.enforce:
            return SessionState(calendar=name, open=True)
        try:
            calendar = calendar_for(name)
            if calendar.is_open(now):
                return SessionState(calendar=name, open=True)
            return SessionState(calendar=name, open=False, next_open=calendar.next_open(now))
        except ValueError as error:  # an unknown calendar, or an instant outside its loaded years
            return SessionState(calendar=name, open=False, problem=str(error))

    # --- valuation ---

    def currency(self, scope: Scope) -> str:
        if scope.kind is ScopeKind.ACCOUNT:
            return self._account_currencies.get(AccountId(scope.id or ""), self._base)
        return self._base

    def to_scope_currency(self, scope: Scope, amount: Decimal, currency: str) -> Decimal | None:
        return self.convert(amount, currency, self.currency(scope))

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal | None:
        source, target = self._equivalents.get(source, source), self._equivalents.get(target, target)
        if source == target:
            return amount
        for pair in (f"{source}{target}", f"{source}/{target}"):
            mid = self._quotes.mark(InstrumentId(pair))
            if mid is not None:
                return amount * mid
        for pair in (f"{target}{source}", f"{target}/{source}"):
            mid = self._quotes.mark(InstrumentId(pair))
            if mid:
                return amount / mid
        return None

    def exposures(self, scope: Scope, asset_class: AssetClass) -> Exposures | str:
        """Gross: every position and working order at its full size; net: positions plus working
        buys minus working sells. Valued at the mid, in the scope's currency."""
        target = self.currency(scope)
        instruments = {p.instrument for p in self._positions(scope)} | {
            key[3] for key in self._ledger.working.quantities
        }
        gross = net = ZERO
        for instrument_id in instruments:
            account = AccountId(scope.id) if scope.kind is ScopeKind.ACCOUNT and scope.id else None
            instrument = self._listing(account, instrument_id)
            if instrument is None or instrument.asset_class is not asset_class:
                continue
            position = self.position(scope, instrument_id)
            buys = self.working(scope, instrument_id, Side.BUY)
            sells = self.working(scope, instrument_id, Side.SELL)
            if not (position or buys or sells):
                continue
            mid = self._quotes.mark(instrument_id, instrument.venue)
            if mid is None:
                mid = self._quotes.mark(instrument_id)  # the portfolio values a listing anywhere
            if mid is None:
                return f"no price for {instrument_id}"
            unit = self.convert(mid * instrument.multiplier, instrument.quote_currency, target)
            if unit is None:
                return f"no rate to convert {instrument.quote_currency} to {target}"
            gross += (abs(position) + buys + sells) * unit
            net += (position + buys - sells) * unit
        return Exposures(gross, net, target)

    def total_pnl(self, scope: Scope) -> Decimal | None:
        """Realized + unrealized P&L net of fees of everything the scope ever held, in its currency."""
        target = self.currency(scope)
        total = ZERO
        positions = self._ledger.portfolio.by_strategy.values() if scope.kind is ScopeKind.STRATEGY else None
        for position in positions if positions is not None else self._positions(scope):
            if scope.kind is ScopeKind.STRATEGY and position.strategy != scope.id:
                continue
            venue = self._venue_of(position.account, position.instrument)
            unrealized = position.unrealized_pnl(self._quotes.mark(position.instrument, venue))
            if unrealized is None:
                return None
            instrument = self._instruments.at(venue, position.instrument)
            value = self.convert(
                position.realized_pnl + unrealized - position.fees, instrument.quote_currency, target
            )
            if value is None:
                return None
            total += value
        return total

    def daily_pnl(self, scope: Scope) -> Decimal | None:
        total = self.total_pnl(scope)
        if total is None:
            return None
        started = self._ledger.trading_days.get(str(scope))
        return total - (started.baseline_pnl if started is not None else ZERO)
