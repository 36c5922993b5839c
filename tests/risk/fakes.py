"""A tiny in-memory `RiskView` for the pure risk tests, a factory for `OrderFacts`, and for the
engine tests a spy on what the paper venue received, signals and settling.

Every answer is keyed by the scope's text (`portfolio`, `account:acct-1`, ...); a test sets only
what it is about and everything else reads as flat, idle and active.
"""

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.factories import ES, T0, make_spec
from tests.runtime.engines import paper_of
from tradewire.domain.enums import AssetClass, OrderType, Side, TradingState
from tradewire.domain.events import OrderSpec
from tradewire.domain.health import VenueStatus
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, StrategyId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.limits import Scope
from tradewire.domain.market import Quote
from tradewire.domain.values import ZERO
from tradewire.risk.view import Exposures, OrderFacts, SessionState
from tradewire.runtime.node import Engine
from tradewire.venues.port import OrderRef


class FakeRiskView:
    def __init__(self) -> None:
        self.positions: dict[tuple[str, InstrumentId], Decimal] = {}
        self.working_quantities: dict[tuple[str, InstrumentId, Side], Decimal] = {}
        self.open_counts: dict[str, int] = {}
        self.exposure: dict[tuple[str, AssetClass], Exposures | str] = {}
        self.rates: dict[tuple[str, str], Decimal] = {}
        """Multiply an amount in the first currency by the rate to get the second."""
        self.currencies: dict[str, str] = {}
        self.pnl: dict[str, Decimal | None] = {}
        self.states: dict[str, TradingState] = {}
        self.sessions: dict[InstrumentId, SessionState] = {}
        self.venue_statuses: dict[VenueId, VenueStatus] = {}
        """Venues not listed are not supervised: orders to them may go."""

    # --- arranging ---

    def hold(self, scope: str, quantity: str, instrument: Instrument = ES) -> "FakeRiskView":
        self.positions[(scope, instrument.instrument_id)] = Decimal(quantity)
        return self

    def work(self, scope: str, side: Side, quantity: str, instrument: Instrument = ES) -> "FakeRiskView":
        self.working_quantities[(scope, instrument.instrument_id, side)] = Decimal(quantity)
        return self

    # --- RiskView ---

    def position(self, scope: Scope, instrument: InstrumentId) -> Decimal:
        return self.positions.get((str(scope), instrument), ZERO)

    def working(self, scope: Scope, instrument: InstrumentId, side: Side) -> Decimal:
        return self.working_quantities.get((str(scope), instrument, side), ZERO)

    # The fake has one account: a strategy's position in it is the strategy's position.

    def strategy_position(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId
    ) -> Decimal:
        return self.position(Scope.parse(f"strategy:{strategy}"), instrument)

    def strategy_working(
        self, account: AccountId, strategy: StrategyId, instrument: InstrumentId, side: Side
    ) -> Decimal:
        return self.working(Scope.parse(f"strategy:{strategy}"), instrument, side)

    def open_orders(self, scope: Scope) -> int:
        return self.open_counts.get(str(scope), 0)

    def exposures(self, scope: Scope, asset_class: AssetClass) -> Exposures | str:
        return self.exposure.get(
            (str(scope), asset_class), Exposures(ZERO, ZERO, self.currencies.get(str(scope), "USD"))
        )

    def to_scope_currency(self, scope: Scope, amount: Decimal, currency: str) -> Decimal | None:
        target = self.currencies.get(str(scope), "USD")
        if currency == target:
            return amount
        rate = self.rates.get((currency, target))
        return None if rate is None else amount * rate

    def daily_pnl(self, scope: Scope) -> Decimal | None:
        return self.pnl.get(str(scope), ZERO)

    def state(self, scope: Scope) -> TradingState:
        return self.states.get(str(scope), TradingState.ACTIVE)

    def venue_status(self, venue: VenueId) -> VenueStatus | None:
        return self.venue_statuses.get(venue)

    def session_state(self, instrument: Instrument, now: datetime) -> SessionState:
        return self.sessions.get(
            instrument.instrument_id, SessionState(calendar=instrument.calendar, open=True)
        )


def quote_of(
    bid: str,
    ask: str,
    *,
    bid_size: str = "100",
    ask_size: str = "100",
    ts: datetime = T0,
    instrument: Instrument = ES,
) -> Quote:
    return Quote(
        instrument=instrument.instrument_id,
        bid=Decimal(bid),
        ask=Decimal(ask),
        bid_size=Decimal(bid_size),
        ask_size=Decimal(ask_size),
        ts_event=ts,
    )


def facts_of(
    *,
    side: Side = Side.BUY,
    quantity: str = "1",
    order_type: OrderType = OrderType.MARKET,
    limit_price: str | None = None,
    stop_price: str | None = None,
    reference: str | None = "5000",
    quote: Quote | None = None,
    now: datetime = T0,
    account: str = "acct-1",
    strategy: str = "trend-1",
    reduce_only: bool = False,
    instrument: Instrument = ES,
    client_order_id: str = "ord-1",
) -> OrderFacts:
    """A market order for 1 ES (multiplier 50) valued at 5000 unless told otherwise."""
    spec = make_spec(
        client_order_id=client_order_id,
        account=AccountId(account),
        strategy=StrategyId(strategy),
        instrument=instrument,
        side=side,
        order_type=order_type,
        quantity=quantity,
        limit_price=limit_price,
        stop_price=stop_price,
        reduce_only=reduce_only,
    )
    return OrderFacts(
        spec=spec,
        instrument=instrument,
        reference=None if reference is None else Decimal(reference),
        quote=quote,
        now=now,
    )


# --- the in-process engine ---


async def settle(rounds: int = 10) -> None:
    """Let the paper venue's scheduled reports arrive."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def signal(
    strategy: str, side: str, quantity: str, instrument: str = "AAPL", **fields: Any
) -> dict[str, Any]:
    return {"strategy": strategy, "instrument": instrument, "side": side, "quantity": quantity, **fields}


def passive_buy(engine: Engine, strategy: str, quantity: str, **fields: Any) -> dict[str, Any]:
    """A buy limit a dollar under the bid: it rests at the paper venue and stays working."""
    quote = engine.manager.quotes.get(InstrumentId("AAPL"))
    assert quote is not None
    price = str(quote.bid - Decimal(1))
    return signal(strategy, "buy", quantity, order_type="limit", limit_price=price, **fields)


class VenueSpy:
    """Everything the paper venue was asked to do, in order: the orders and the amends it received."""

    def __init__(self, engine: Engine, submit_delay: float = 0) -> None:
        """`submit_delay` makes each submit take that long, like a request over a network."""
        venue = paper_of(engine)
        self.submitted: list[OrderSpec] = []
        self.started: list[OrderSpec] = []
        """Submits begun (on the wire), in order; `submitted` are those that reached the venue."""
        self.submitting = asyncio.Event()
        """Set when a submit begins (a delayed one, before it reaches the venue)."""
        self.amended: list[tuple[ClientOrderId, Decimal]] = []
        submit, modify = venue.submit, venue.modify

        async def spying_submit(order: OrderSpec) -> None:
            self.started.append(order)
            self.submitting.set()
            if submit_delay:
                await asyncio.sleep(submit_delay)
            self.submitted.append(order)
            await submit(order)

        async def spying_modify(
            order: OrderRef, quantity: Decimal, limit_price: Decimal | None, stop_price: Decimal | None
        ) -> None:
            self.amended.append((order.client_order_id, quantity))
            await modify(order, quantity, limit_price, stop_price)

        venue.submit = spying_submit  # type: ignore[method-assign]
        venue.modify = spying_modify  # type: ignore[method-assign]

    @property
    def submitted_ids(self) -> set[str]:
        return {spec.client_order_id for spec in self.submitted}


async def venue_working(engine: Engine, account: str | None = None) -> Decimal:
    """Signed quantity the venue's open orders still work (buys positive)."""
    reports = await paper_of(engine).open_orders()
    return sum(
        (
            (r.quantity - r.filled_quantity) * r.side.sign
            for r in reports
            if account is None or r.account == account
        ),
        Decimal(0),
    )


async def venue_position(engine: Engine, account: str, instrument: str = "AAPL") -> Decimal:
    reports = await paper_of(engine).positions()
    return sum(
        (r.quantity for r in reports if r.account == account and r.instrument == instrument), Decimal(0)
    )
