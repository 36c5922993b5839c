"""What the risk checks may ask about the current state. The order manager's side implements it;
the checks stay pure functions of an order, its limits and these answers."""

from datetime import datetime
from decimal import Decimal
from typing import Protocol

import msgspec

from tradewire.domain.enums import AssetClass, Side, TradingState
from tradewire.domain.events import OrderSpec
from tradewire.domain.health import VenueStatus
from tradewire.domain.ids import AccountId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.limits import Scope, order_scopes
from tradewire.domain.market import Quote


class Exposures(msgspec.Struct, frozen=True):
    """Worst-case gross and net notional of one asset class, in the scope's currency."""

    gross: Decimal
    net: Decimal
    currency: str


class SessionState(msgspec.Struct, frozen=True, kw_only=True):
    """Whether an instrument's session is open at an instant, and if not, when it opens."""

    calendar: str
    open: bool
    next_open: datetime | None = None
    """When the session opens next, if closed; None when the calendar cannot tell (see `problem`)."""
    problem: str | None = None
    """Why the calendar could not answer (e.g. an instant outside its loaded years): treated as closed."""


class RiskView(Protocol):
    def position(self, scope: Scope, instrument: InstrumentId) -> Decimal:
        """Signed position of the scope in the instrument."""
        ...

    def working(self, scope: Scope, instrument: InstrumentId, side: Side) -> Decimal:
        """Quantity the scope's open orders on that side still work."""
        ...

    def strategy_position(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId
    ) -> Decimal:
        """Signed position the strategy holds in one account (its share of the account's)."""
        ...

    def strategy_working(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId, side: Side
    ) -> Decimal:
        """Quantity the strategy's open orders in one account still work on that side."""
        ...

    def open_orders(self, scope: Scope) -> int: ...

    def exposures(self, scope: Scope, asset_class: AssetClass) -> Exposures | str:
        """The scope's exposure, or why it cannot be valued (a missing price or conversion)."""
        ...

    def to_scope_currency(self, scope: Scope, amount: Decimal, currency: str) -> Decimal | None: ...

    def daily_pnl(self, scope: Scope) -> Decimal | None:
        """P&L since the trading day began, net of fees; None when it cannot be valued."""
        ...

    def state(self, scope: Scope) -> TradingState: ...

    def venue_status(self, venue: VenueId) -> VenueStatus | None:
        """The venue's connection health; None for a venue nobody supervises (orders may go)."""
        ...

    def session_state(self, instrument: Instrument, now: datetime) -> SessionState:
        """The instrument's trading session at `now`; always open where sessions are not enforced."""
        ...


class OrderFacts(msgspec.Struct, frozen=True, kw_only=True):
    """One order with what the checks need to know about its market."""

    spec: OrderSpec
    instrument: Instrument
    reference: Decimal | None
    """The price the order is valued at: limit, else stop, else the touch, else the signal price."""
    quote: Quote | None
    now: datetime

    @property
    def valuation_price(self) -> Decimal | None:
        """The price notional limits value the order at: its own price, or the touch when that is
        worse for us (a sell limit far under the bid still sells at the bid)."""
        touch = self.quote.touch(self.spec.side) if self.quote is not None else None
        if self.reference is None or touch is None:
            return self.reference if self.reference is not None else touch
        return max(self.reference, touch)

    @property
    def notional(self) -> Decimal | None:
        price = self.valuation_price
        return None if price is None else self.instrument.notional(self.spec.quantity, price)

    def scopes(self) -> tuple[Scope, ...]:
        return order_scopes(self.spec.account, self.spec.strategy, self.spec.venue)

    @property
    def signed_quantity(self) -> Decimal:
        return self.spec.quantity if self.spec.side is Side.BUY else -self.spec.quantity
