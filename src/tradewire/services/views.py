"""Read models the front ends show: plain frozen structs, built from the ledger, never the live objects."""

from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce, TradingState
from tradewire.domain.events import OrderFilled
from tradewire.domain.health import VenueHealth
from tradewire.domain.orders import Order
from tradewire.domain.positions import Position


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    client_order_id: str
    venue_order_id: str | None
    account: str
    strategy: str
    instrument: str
    venue: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    quantity: Decimal
    filled_quantity: Decimal
    leaves_quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    average_fill_price: Decimal | None
    fees: Decimal
    status: OrderStatus
    reason: str | None
    signal_id: str | None
    signal_price: Decimal | None
    reduce_only: bool
    route: str | None
    """Why this account and venue were chosen."""
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> "OrderView":
        return cls(
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            account=order.account,
            strategy=order.strategy,
            instrument=order.instrument,
            venue=order.venue,
            side=order.side,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            quantity=order.quantity,
            filled_quantity=order.filled_quantity,
            leaves_quantity=order.leaves_quantity,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            average_fill_price=order.average_fill_price,
            fees=order.fees,
            status=order.status,
            reason=order.reason,
            signal_id=order.signal_id,
            signal_price=order.signal_price,
            reduce_only=order.reduce_only,
            route=order.route,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    strategy: str | None
    """None for the account position (the net of its strategies)."""
    instrument: str
    quantity: Decimal
    average_price: Decimal | None
    mark_price: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal
    net_pnl: Decimal | None
    """realized + unrealized - fees."""

    @classmethod
    def of(cls, position: Position, mark: Decimal | None) -> "PositionView":
        unrealized = position.unrealized_pnl(mark)
        return cls(
            account=position.account,
            strategy=position.strategy,
            instrument=position.instrument,
            quantity=position.quantity,
            average_price=position.average_price,
            mark_price=mark,
            realized_pnl=position.realized_pnl,
            unrealized_pnl=unrealized,
            fees=position.fees,
            net_pnl=None if unrealized is None else position.realized_pnl + unrealized - position.fees,
        )


class FillView(msgspec.Struct, frozen=True, kw_only=True):
    fill_id: str
    client_order_id: str
    venue_order_id: str | None
    venue: str
    account: str
    strategy: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    ts_event: datetime
    inferred: bool

    @classmethod
    def of(cls, fill: OrderFilled) -> "FillView":
        return cls(
            fill_id=fill.fill_id,
            client_order_id=fill.client_order_id,
            venue_order_id=fill.venue_order_id,
            venue=fill.venue,
            account=fill.account,
            strategy=fill.strategy,
            instrument=fill.instrument,
            side=fill.side,
            quantity=fill.quantity,
            price=fill.price,
            fee=fill.fee,
            fee_currency=fill.fee_currency,
            liquidity=fill.liquidity,
            ts_event=fill.ts_event,
            inferred=fill.inferred,
        )


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    venue: str
    currency: str
    venue_connected: bool
    open_orders: int
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None
    fees: Decimal


class HealthView(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    """ok, or degraded when a venue is disconnected or the journal failed."""
    trading_state: str
    venues: dict[str, bool]
    journal_sequence: int
    journal_durable_sequence: int
    started_at: datetime
    venue_health: dict[str, VenueHealth] = {}
    """Each venue's health (connected, reconciling, degraded, down); see `GET /api/v1/venues`."""


class VenueView(msgspec.Struct, frozen=True, kw_only=True):
    """One venue's connection and health (see docs/recovery.md, "Connectivity")."""

    venue: str
    health: VenueHealth
    accepts_orders: bool
    """New orders may be sent now (connected or degraded); otherwise they are denied as `venue_not_ready`."""
    connected: bool
    connection: str
    """The active connection: `primary` or a backup's name."""
    on_backup: bool
    reconnect_attempt: int
    """While down: the reconnect attempt under way or next on the active connection; else 0."""
    since: datetime
    """When the health or the active connection last changed."""
    reason: str
    last_reconciliation: str | None
    """`clean`, `differences found`, or `failed: <error>`; None before the first."""
    last_reconciled_at: datetime | None


class TradingStateView(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    state: TradingState
    flat: bool
    """No position and no open order left in the scope."""


class AmendResult(msgspec.Struct, frozen=True, kw_only=True):
    order: OrderView
    denied: bool
    """True when our own checks refused the amend: the order is unchanged and nothing was sent."""
    reason_code: str | None = None
    reason: str | None = None
