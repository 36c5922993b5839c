"""Reports: snapshots of what a venue says is true. Live updates and reconciliation use the same types."""

from datetime import datetime
from decimal import Decimal

import msgspec

from tradewire.domain.enums import LiquiditySide, OrderType, Side, VenueOrderStatus
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    FillId,
    InstrumentId,
    VenueId,
    VenueOrderId,
)


class OrderStatusReport(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    venue: VenueId
    account: AccountId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None
    instrument: InstrumentId
    side: Side
    order_type: OrderType
    quantity: Decimal
    filled_quantity: Decimal
    status: VenueOrderStatus
    ts_event: datetime
    average_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    reason: str | None = None


class FillReport(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    venue: VenueId
    account: AccountId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None
    fill_id: FillId
    instrument: InstrumentId
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquiditySide
    ts_event: datetime


class PositionReport(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    venue: VenueId
    account: AccountId
    instrument: InstrumentId
    quantity: Decimal
    """Signed: positive long, negative short."""
    average_price: Decimal | None
    ts_event: datetime


class CancelRejectReport(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The venue refused a cancel or replace (the order is unknown or already done)."""

    venue: VenueId
    client_order_id: ClientOrderId
    reason: str
    ts_event: datetime
    replace: bool = False


ExecutionReport = OrderStatusReport | FillReport | CancelRejectReport
