"""The ledger: all trading state as a fold of journal records.

`apply` is the only way state changes, live or on replay, so a restarted engine that replays its
journal holds exactly the state it had. The order manager decides which events to record; the
ledger trusts them (they were checked against the lifecycle table before they were recorded).
"""

import hashlib
from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import OPEN_STATUSES, Side, TradingState
from tradewire.domain.events import (
    CancelOrder,
    IllegalTransition,
    InternalCross,
    JournalRecord,
    ModifyOrder,
    OrderCreated,
    OrderDenied,
    OrderFilled,
    OrderModifyDenied,
    RiskLimitsChanged,
    SignalHandled,
    TradingDayStarted,
    TradingStateChanged,
)
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, StrategyId, VenueId
from tradewire.domain.limits import LimitBook, Limits, Scope
from tradewire.domain.orders import Order
from tradewire.domain.values import normalize
from tradewire.oms.working import WorkingBook
from tradewire.portfolio.book import Portfolio

ANOMALY_HISTORY = 1000
CONFIG_FILE = "config"
"""`changed_by` of limits that came from the config file."""


class Ledger:
    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, Order] = {}
        self.open_orders: dict[ClientOrderId, Order] = {}
        self.fills: list[OrderFilled] = []
        self.fill_keys: set[tuple[VenueId, FillId]] = set()
        self.portfolio = Portfolio()
        self.signals_by_key: dict[str, SignalHandled] = {}
        self.anomalies: list[IllegalTransition] = []
        self.last_event_at: datetime | None = None
        self.records_applied = 0
        self.working = WorkingBook()
        self.trading_states: dict[str, TradingState] = {}
        """Kill-switch state per scope (`portfolio`, `account:<id>`, `strategy:<id>`); absent is active."""
        self.limits = LimitBook()
        self.configured_limits: dict[str, Limits] = {}
        """The limits last applied from the config file, per scope."""
        self.trading_days: dict[str, TradingDayStarted] = {}

    def apply(self, record: JournalRecord) -> None:
        self.records_applied += 1
        self.last_event_at = record.ts_event
        if isinstance(record, OrderFilled):
            self._apply_fill(record)
        elif isinstance(record, InternalCross):
            for fill in record.fills:
                self._apply_fill(fill)
        elif isinstance(record, OrderCreated | OrderDenied):
            order = Order.create(record)
            self.orders[order.client_order_id] = order
            self._index(order)
            self.working.count(order, 1)
        elif isinstance(record, SignalHandled):
            if record.signal.idempotency_key is not None:
                self.signals_by_key[record.signal.idempotency_key] = record
        elif isinstance(record, IllegalTransition):
            self.anomalies.append(record)
            del self.anomalies[:-ANOMALY_HISTORY]
        elif isinstance(record, TradingStateChanged):
            self.trading_states[record.scope] = record.state
        elif isinstance(record, RiskLimitsChanged):
            self.limits = self.limits.with_limits(Scope.parse(record.scope), record.limits)
            if record.changed_by == CONFIG_FILE:
                self.configured_limits[record.scope] = record.limits
        elif isinstance(record, TradingDayStarted):
            self.trading_days[record.scope] = record
        elif isinstance(record, CancelOrder | ModifyOrder | OrderModifyDenied):
            pass  # commands are the audit trail; their effects are the events that follow
        else:
            order = self.orders[record.client_order_id]
            self.working.count(order, -1)
            try:
                order.apply(record)
            finally:
                self.working.count(order, 1)
            self._index(order)

    def _apply_fill(self, fill: OrderFilled) -> None:
        order = self.orders[fill.client_order_id]
        self.working.count(order, -1)
        try:
            order.apply(fill)
        finally:
            self.working.count(order, 1)
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

    def strategy_working(self, account: AccountId, strategy: StrategyId, instrument: InstrumentId) -> Decimal:
        """Signed quantity the strategy's open orders on this instrument would still add."""
        return self.working.working(Side.BUY, instrument, account, strategy) - self.working.working(
            Side.SELL, instrument, account, strategy
        )

    def state_of(self, scope: Scope) -> TradingState:
        return self.trading_states.get(str(scope), TradingState.ACTIVE)

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
            "trading_states": sorted((k, v.value) for k, v in self.trading_states.items()),
            "limits": msgspec.to_builtins(self.limits),
        }
        return hashlib.sha256(msgspec.json.encode(state)).hexdigest()
