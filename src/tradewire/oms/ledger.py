"""The ledger: all trading state as a fold of journal records.

`apply` is the only way state changes, live or on replay, so a restarted engine that replays its
journal holds exactly the state it had. The order manager decides which events to record; the
ledger trusts them (they were checked against the lifecycle table before they were recorded).
"""

import hashlib
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

    def apply(self, record: JournalRecord) -> None:
        self.records_applied += 1
        self.last_event_at = record.ts_event
        if isinstance(record, OrderFilled):
            self._apply_fill(record)
        elif isinstance(record, OrderCreated | OrderDenied):
            order = Order.create(record)
            self.orders[order.client_order_id] = order
            if order.status in OPEN_STATUSES:
                self.open_orders[order.client_order_id] = order
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
            order.apply(record)
            self._index(order)

    def _apply_fill(self, fill: OrderFilled) -> None:
        order = self.orders[fill.client_order_id]
        order.apply(fill)
        self._index(order)
        self.fill_keys.add((fill.venue, fill.fill_id))
        self.fills.append(fill)
        self.portfolio.apply_fill(fill)

    def _index(self, order: Order) -> None:
        if order.status in OPEN_STATUSES:
            self.open_orders[order.client_order_id] = order
        else:
            self.open_orders.pop(order.client_order_id, None)

    # --- queries ---

    def has_fill(self, venue: VenueId, fill_id: FillId) -> bool:
        return (venue, fill_id) in self.fill_keys

    def exposure(self, account: AccountId, instrument: InstrumentId) -> Exposure:
        working_buy = working_sell = ZERO
        open_count = 0
        for order in self.open_orders.values():
            if order.account != account:
                continue
            open_count += 1
            if order.instrument == instrument:
                if order.side is Side.BUY:
                    working_buy += order.leaves_quantity
                else:
                    working_sell += order.leaves_quantity
        return Exposure(
            position=self.portfolio.account_quantity(account, instrument),
            working_buy=working_buy,
            working_sell=working_sell,
            open_orders=open_count,
        )

    def strategy_working(self, account: AccountId, strategy: StrategyId, instrument: InstrumentId) -> Decimal:
        """Signed quantity the strategy's open orders on this instrument would still add."""
        total = ZERO
        for order in self.open_orders.values():
            if (order.account, order.strategy, order.instrument) == (account, strategy, instrument):
                total += order.leaves_quantity * order.side.sign
        return total

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
