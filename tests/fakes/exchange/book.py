"""The fake exchange's matching model, shared by every protocol front end.

Deliberately simple and deterministic, so a test can say exactly what the venue does next:

- each symbol has a top of book the test controls (`set_price(symbol, bid, ask)`);
- a market order fills completely at the top (a buy at the ask, a sell at the bid);
- a limit order that crosses the top when it arrives fills at once as a taker; otherwise it rests,
  and fills at its own price when a later `set_price` crosses it, or when the test calls `fill`;
- `max_fill_per_step` caps how much of a resting order one price step fills, so a test can see
  partial fills without hand-crafting them.

Balances are real: a spot buy locks quote, a spot sell locks base, fills move both, a cancel unlocks
the rest; an order that cannot be covered is refused with `InsufficientBalance`. Orders in the
`linear` category (perpetuals) need no balance and move a signed position instead.

Everything is `Decimal`; times are integer milliseconds, as every exchange protocol speaks them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)


class InsufficientBalance(Exception):
    """The account cannot cover the order; front ends answer with their venue's error."""


class UnknownOrder(Exception):
    """No order with that id (or client id) for that account."""


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderKind(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class OrderState(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"


OPEN_STATES = frozenset({OrderState.NEW, OrderState.PARTIALLY_FILLED})


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str


@dataclass
class FakeOrder:
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    category: str
    side: Side
    kind: OrderKind
    quantity: Decimal
    price: Decimal | None
    time_in_force: str
    created_ms: int
    updated_ms: int
    filled: Decimal = ZERO
    filled_cost: Decimal = ZERO
    state: OrderState = OrderState.NEW
    locked: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def average_price(self) -> Decimal:
        return self.filled_cost / self.filled if self.filled else ZERO


@dataclass(frozen=True)
class Execution:
    trade_id: int
    order_id: int
    account: str
    symbol: str
    category: str
    side: Side
    price: Decimal
    quantity: Decimal
    is_maker: bool
    time_ms: int
    fee: Decimal
    fee_asset: str


@dataclass
class Account:
    api_key: str
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    positions: dict[str, Decimal] = field(default_factory=dict)
    position_cost: dict[str, Decimal] = field(default_factory=dict)

    def balance(self, asset: str) -> Decimal:
        return self.free.get(asset, ZERO)


OrderListener = Callable[[FakeOrder, Execution | None], None]
"""Called synchronously after every change to an order, with the fill that caused it, if any."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class MatchingEngine:
    def __init__(self) -> None:
        self.instruments: dict[str, Instrument] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, FakeOrder] = {}
        self.executions: list[Execution] = []
        self.max_fill_per_step: dict[str, Decimal] = {}
        self._tops: dict[str, tuple[Decimal, Decimal]] = {}
        self._listeners: list[OrderListener] = []
        # Exchange order ids are large integers; starting high makes them look like one and keeps
        # them from being confused with a list index in a test.
        self._order_ids = itertools.count(5_000_001)
        self._trade_ids = itertools.count(9_000_001)

    # -- set-up ---------------------------------------------------------------------------------------
    def add_instrument(self, symbol: str, base: str, quote: str, bid: Decimal, ask: Decimal) -> None:
        self.instruments[symbol] = Instrument(symbol, base, quote)
        self._tops[symbol] = (bid, ask)

    def add_account(self, api_key: str, balances: dict[str, Decimal]) -> Account:
        account = Account(api_key, free=dict(balances))
        self.accounts[api_key] = account
        return account

    def subscribe(self, listener: OrderListener) -> None:
        self._listeners.append(listener)

    def top(self, symbol: str) -> tuple[Decimal, Decimal]:
        return self._tops[self.instrument(symbol).symbol]

    def instrument(self, symbol: str) -> Instrument:
        try:
            return self.instruments[symbol]
        except KeyError:
            raise KeyError(f"unknown symbol {symbol!r}; known: {sorted(self.instruments)}") from None

    # -- orders ---------------------------------------------------------------------------------------
    def place(
        self,
        *,
        account: str,
        symbol: str,
        side: Side,
        kind: OrderKind,
        quantity: Decimal,
        price: Decimal | None,
        client_order_id: str,
        category: str = "spot",
        time_in_force: str = "GTC",
    ) -> FakeOrder:
        """Accept an order, lock what it needs, and fill what crosses the top right away."""
        instrument = self.instrument(symbol)
        if kind is OrderKind.LIMIT and price is None:
            raise ValueError("a limit order needs a price")
        wallet = self.accounts[account]
        stamp = now_ms()
        order = FakeOrder(
            order_id=next(self._order_ids),
            client_order_id=client_order_id,
            account=account,
            symbol=instrument.symbol,
            category=category,
            side=side,
            kind=kind,
            quantity=quantity,
            price=price,
            time_in_force=time_in_force,
            created_ms=stamp,
            updated_ms=stamp,
        )
        if category == "spot":
            self._lock(wallet, instrument, order)
        self.orders[order.order_id] = order
        self._notify(order, None)
        bid, ask = self._tops[instrument.symbol]
        if kind is OrderKind.MARKET:
            self._execute(order, ask if side is Side.BUY else bid, order.remaining, is_maker=False)
        elif self._crosses(order, bid, ask):
            step = self._step_quantity(order)
            self._execute(order, ask if side is Side.BUY else bid, step, is_maker=False)
        return order

    def cancel(
        self, account: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> FakeOrder:
        order = self.find(account, order_id, client_order_id)
        if not order.is_open:
            raise UnknownOrder(f"order {order.order_id} is {order.state}, not open")
        order.state = OrderState.CANCELED
        order.updated_ms = now_ms()
        self._unlock(order)
        self._notify(order, None)
        return order

    def find(
        self, account: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> FakeOrder:
        for order in self.orders.values():
            if order.account != account:
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if order_id is None and client_order_id is not None and order.client_order_id == client_order_id:
                return order
        raise UnknownOrder(f"no order id={order_id} client id={client_order_id} for this account")

    def orders_of(
        self, account: str, symbol: str | None = None, category: str | None = None
    ) -> list[FakeOrder]:
        return [
            order
            for order in self.orders.values()
            if order.account == account
            and (symbol is None or order.symbol == symbol)
            and (category is None or order.category == category)
        ]

    def executions_of(
        self, account: str, symbol: str | None = None, category: str | None = None
    ) -> list[Execution]:
        return [
            execution
            for execution in self.executions
            if execution.account == account
            and (symbol is None or execution.symbol == symbol)
            and (category is None or execution.category == category)
        ]

    # -- market moves the test drives -----------------------------------------------------------------
    def set_price(self, symbol: str, bid: Decimal, ask: Decimal) -> None:
        """Move the top of book; every resting order it crosses fills one step at its own price."""
        if bid > ask:
            raise ValueError(f"bid {bid} above ask {ask}")
        instrument = self.instrument(symbol)
        self._tops[instrument.symbol] = (bid, ask)
        for order in list(self.orders.values()):
            if order.symbol == instrument.symbol and order.is_open and self._crosses(order, bid, ask):
                assert order.price is not None
                self._execute(order, order.price, self._step_quantity(order), is_maker=True)

    def fill(self, order_id: int, quantity: Decimal, price: Decimal | None = None) -> Execution:
        """Fill part of an open order now, whatever the top of book says (at its price by default)."""
        order = self.orders.get(order_id)
        if order is None or not order.is_open:
            raise UnknownOrder(f"order {order_id} is not open")
        fill_price = price if price is not None else order.price
        if fill_price is None:
            raise ValueError("a market order needs an explicit fill price")
        return self._execute(order, fill_price, min(quantity, order.remaining), is_maker=True)

    # -- internals ------------------------------------------------------------------------------------
    @staticmethod
    def _crosses(order: FakeOrder, bid: Decimal, ask: Decimal) -> bool:
        if order.price is None:
            return False
        return order.price >= ask if order.side is Side.BUY else order.price <= bid

    def _step_quantity(self, order: FakeOrder) -> Decimal:
        cap = self.max_fill_per_step.get(order.symbol)
        return order.remaining if cap is None else min(cap, order.remaining)

    def _lock(self, wallet: Account, instrument: Instrument, order: FakeOrder) -> None:
        if order.side is Side.BUY:
            ask = self._tops[instrument.symbol][1]
            asset, need = instrument.quote, order.quantity * (order.price if order.price is not None else ask)
        else:
            asset, need = instrument.base, order.quantity
        if wallet.balance(asset) < need:
            raise InsufficientBalance(f"{asset} free {wallet.balance(asset)} < {need}")
        wallet.free[asset] = wallet.balance(asset) - need
        wallet.locked[asset] = wallet.locked.get(asset, ZERO) + need
        order.locked = need

    def _unlock(self, order: FakeOrder) -> None:
        if order.category != "spot" or not order.locked:
            return
        instrument = self.instruments[order.symbol]
        wallet = self.accounts[order.account]
        asset = instrument.quote if order.side is Side.BUY else instrument.base
        wallet.locked[asset] -= order.locked
        wallet.free[asset] = wallet.balance(asset) + order.locked
        order.locked = ZERO

    def _execute(self, order: FakeOrder, price: Decimal, quantity: Decimal, is_maker: bool) -> Execution:
        instrument = self.instruments[order.symbol]
        wallet = self.accounts[order.account]
        cost = price * quantity
        if order.category == "spot":
            spent_asset, spent = (
                (instrument.quote, cost) if order.side is Side.BUY else (instrument.base, quantity)
            )
            got_asset, got = (
                (instrument.base, quantity) if order.side is Side.BUY else (instrument.quote, cost)
            )
            # A market buy locked at the old ask; settle the difference from free balance.
            taken = min(spent, order.locked)
            order.locked -= taken
            wallet.locked[spent_asset] -= taken
            wallet.free[spent_asset] = wallet.balance(spent_asset) - (spent - taken)
            wallet.free[got_asset] = wallet.balance(got_asset) + got
        else:
            signed = quantity if order.side is Side.BUY else -quantity
            wallet.positions[order.symbol] = wallet.positions.get(order.symbol, ZERO) + signed
            wallet.position_cost[order.symbol] = wallet.position_cost.get(order.symbol, ZERO) + price * signed
        order.filled += quantity
        order.filled_cost += cost
        order.updated_ms = now_ms()
        order.state = OrderState.FILLED if order.remaining <= ZERO else OrderState.PARTIALLY_FILLED
        if order.state is OrderState.FILLED:
            self._unlock(order)
        execution = Execution(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            account=order.account,
            symbol=order.symbol,
            category=order.category,
            side=order.side,
            price=price,
            quantity=quantity,
            is_maker=is_maker,
            time_ms=order.updated_ms,
            fee=ZERO,
            fee_asset=instrument.quote,
        )
        self.executions.append(execution)
        self._notify(order, execution)
        return execution

    def _notify(self, order: FakeOrder, execution: Execution | None) -> None:
        for listener in self._listeners:
            listener(order, execution)
