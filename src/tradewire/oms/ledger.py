"""The ledger: all trading state as a fold of journal records.

`apply` is the only way state changes, live or on replay, so a restarted engine that replays its
journal holds exactly the state it had. The order manager decides which events to record; the
ledger trusts them (they were checked against the lifecycle table before they were recorded).
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import OPEN_STATUSES, OrderStatus, Side, TradingState
from tradewire.domain.events import (
    CancelOrder,
    IllegalTransition,
    JournalRecord,
    ModifyOrder,
    OrderCreated,
    OrderDenied,
    OrderFilled,
    SignalHandled,
    TradingStateChanged,
)
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, StrategyId, VenueId
from tradewire.domain.orders import Order
from tradewire.domain.values import ZERO, normalize
from tradewire.portfolio.book import Portfolio
from tradewire.risk.checks import Exposure

ANOMALY_HISTORY = 1000


class Ledger:
    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, Order] = {}
        self.open_orders: dict[ClientOrderId, Order] = {}
        self.fills: list[OrderFilled] = []
        self.fill_keys: set[tuple[VenueId, FillId]] = set()
        self.portfolio = Portfolio()
        self.signals_by_key: dict[str, SignalHandled] = {}
        self.trading_state = TradingState.ACTIVE
        self.anomalies: list[IllegalTransition] = []
        self.last_event_at: datetime | None = None
        self.records_applied = 0
        # Running totals of what open orders still work, so a risk check costs O(1), not O(open orders).
        self._working_buy: defaultdict[tuple[AccountId, InstrumentId], Decimal] = defaultdict(Decimal)
        self._working_sell: defaultdict[tuple[AccountId, InstrumentId], Decimal] = defaultdict(Decimal)
        self._strategy_working: defaultdict[tuple[AccountId, StrategyId, InstrumentId], Decimal] = (
            defaultdict(Decimal)
        )
        self._open_count: defaultdict[AccountId, int] = defaultdict(int)

    def apply(self, record: JournalRecord) -> None:
        self.records_applied += 1
        self.last_event_at = record.ts_event
        if isinstance(record, OrderFilled):
            self._apply_fill(record)
        elif isinstance(record, OrderCreated | OrderDenied):
            order = Order.create(record)
            self.orders[order.client_order_id] = order
            self._index(order)
            self._count(order, 1)
        elif isinstance(record, SignalHandled):
            if record.signal.idempotency_key is not None:
                self.signals_by_key[record.signal.idempotency_key] = record
        elif isinstance(record, IllegalTransition):
            self.anomalies.append(record)
            del self.anomalies[:-ANOMALY_HISTORY]
        elif isinstance(record, TradingStateChanged):
            self.trading_state = record.state
        elif isinstance(record, CancelOrder | ModifyOrder):
            pass  # commands are the audit trail; their effects are the events that follow
        else:
            order = self.orders[record.client_order_id]
            self._count(order, -1)
            try:
                order.apply(record)
            finally:
                self._count(order, 1)
            self._index(order)

    def _apply_fill(self, fill: OrderFilled) -> None:
        order = self.orders[fill.client_order_id]
        self._count(order, -1)
        try:
            order.apply(fill)
        finally:
            self._count(order, 1)
        self._index(order)
        self.fill_keys.add((fill.venue, fill.fill_id))
        self.fills.append(fill)
        self.portfolio.apply_fill(fill)

    def _count(self, order: Order, sign: int) -> None:
        """Add (sign 1) or remove (sign -1) what `order` contributes to the working totals."""
        if order.status not in OPEN_STATUSES:
            return
        self._open_count[order.account] += sign
        leaves = order.leaves_quantity * sign
        if not leaves:
            return
        key = (order.account, order.instrument)
        if order.side is Side.BUY:
            self._working_buy[key] += leaves
        else:
            self._working_sell[key] += leaves
        self._strategy_working[(order.account, order.strategy, order.instrument)] += leaves * order.side.sign

    def _index(self, order: Order) -> None:
        if order.status in OPEN_STATUSES:
            self.open_orders[order.client_order_id] = order
        else:
            self.open_orders.pop(order.client_order_id, None)

    # --- queries ---

    def has_fill(self, venue: VenueId, fill_id: FillId) -> bool:
        return (venue, fill_id) in self.fill_keys

    def exposure(self, account: AccountId, instrument: InstrumentId) -> Exposure:
        key = (account, instrument)
        return Exposure(
            position=self.portfolio.account_quantity(account, instrument),
            working_buy=self._working_buy.get(key, ZERO),
            working_sell=self._working_sell.get(key, ZERO),
            open_orders=self._open_count.get(account, 0),
        )

    def strategy_working(self, account: AccountId, strategy: StrategyId, instrument: InstrumentId) -> Decimal:
        """Signed quantity the strategy's open orders on this instrument would still add."""
        return self._strategy_working.get((account, strategy, instrument), ZERO)

    def working_totals_from_scratch(self) -> tuple[dict[object, Decimal], dict[AccountId, int]]:
        """The same totals recomputed by scanning every open order: for tests of the running totals."""
        totals: defaultdict[object, Decimal] = defaultdict(Decimal)
        counts: defaultdict[AccountId, int] = defaultdict(int)
        for order in self.open_orders.values():
            counts[order.account] += 1
            side_key = ("buy" if order.side is Side.BUY else "sell", order.account, order.instrument)
            totals[side_key] += order.leaves_quantity
            totals[("strategy", order.account, order.strategy, order.instrument)] += (
                order.leaves_quantity * order.side.sign
            )
        return {k: v for k, v in totals.items() if v}, dict(counts)

    def working_totals(self) -> tuple[dict[object, Decimal], dict[AccountId, int]]:
        totals: dict[object, Decimal] = {}
        for (account, instrument), value in self._working_buy.items():
            totals[("buy", account, instrument)] = value
        for (account, instrument), value in self._working_sell.items():
            totals[("sell", account, instrument)] = value
        for (account, strategy, instrument), value in self._strategy_working.items():
            totals[("strategy", account, strategy, instrument)] = value
        return {k: v for k, v in totals.items() if v}, {a: n for a, n in self._open_count.items() if n}

    def orders_for_venue(self, venue: VenueId, statuses: frozenset[OrderStatus]) -> Iterator[Order]:
        return (o for o in self.orders.values() if o.venue == venue and o.status in statuses)

    def digest(self) -> str:
        """A hash of everything that matters, to prove a replay rebuilt the same state."""
        orders = [
            (
                o.client_order_id,
                o.status.value,
                o.venue_order_id,
                str(normalize(o.quantity)),
                str(normalize(o.filled_quantity)),
                str(normalize(o.average_fill_price)) if o.average_fill_price is not None else None,
                str(normalize(o.fees)),
            )
            for o in sorted(self.orders.values(), key=lambda o: o.client_order_id)
        ]
        positions = [
            (
                p.account,
                p.strategy,
                p.instrument,
                str(normalize(p.quantity)),
                str(normalize(p.average_price)) if p.average_price is not None else None,
                str(normalize(p.realized_pnl)),
                str(normalize(p.fees)),
            )
            for p in sorted(
                [*self.portfolio.by_account.values(), *self.portfolio.by_strategy.values()],
                key=lambda p: (p.account, p.strategy or "", p.instrument),
            )
        ]
        state = {
            "orders": orders,
            "positions": positions,
            "fills": sorted(f"{venue}/{fill}" for venue, fill in self.fill_keys),
            "signals": sorted(self.signals_by_key),
            "trading_state": self.trading_state.value,
        }
        return hashlib.sha256(msgspec.json.encode(state)).hexdigest()
