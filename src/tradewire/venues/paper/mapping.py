"""Pure translation between the paper venue's records and the domain's orders and reports."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from tradewire.domain.enums import VenueOrderStatus
from tradewire.domain.events import OrderSpec
from tradewire.domain.ids import AccountId, ClientOrderId, FillId, InstrumentId, VenueId, VenueOrderId
from tradewire.domain.instruments import Instrument
from tradewire.domain.positions import Position
from tradewire.domain.reports import (
    CancelRejectReport,
    FillReport,
    OrderStatusReport,
    PositionReport,
)
from tradewire.venues.paper.matching import Execution, PaperOrder


def venue_order_id(number: int) -> VenueOrderId:
    return VenueOrderId(f"PV-{number}")


def fill_id(number: int) -> FillId:
    return FillId(f"P-{number}")


def new_order(
    spec: OrderSpec,
    *,
    venue_order: VenueOrderId | None,
    sequence: int,
    now: datetime,
    expires_at: datetime | None = None,
    rejection: str | None = None,
) -> PaperOrder:
    """The venue's record of a submitted order: accepted, or rejected with `rejection` as reason."""
    return PaperOrder(
        client_order_id=spec.client_order_id,
        venue_order_id=venue_order,
        account=spec.account,
        instrument=spec.instrument,
        side=spec.side,
        order_type=spec.order_type,
        time_in_force=spec.time_in_force,
        quantity=spec.quantity,
        limit_price=spec.limit_price,
        stop_price=spec.stop_price,
        reduce_only=spec.reduce_only,
        status=VenueOrderStatus.ACCEPTED if rejection is None else VenueOrderStatus.REJECTED,
        sequence=sequence,
        expires_at=expires_at,
        ts_created=now,
        ts_updated=now,
        reason=rejection,
    )


def status_report(order: PaperOrder, venue: VenueId) -> OrderStatusReport:
    return OrderStatusReport(
        venue=venue,
        account=order.account,
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        instrument=order.instrument,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        filled_quantity=order.filled_quantity,
        status=order.status,
        ts_event=order.ts_updated,
        average_price=order.average_price,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        reason=order.reason,
    )


def duplicate_rejection(spec: OrderSpec, venue: VenueId, now: datetime) -> OrderStatusReport:
    """The answer to a second order with a client order ID the venue already has.

    It is not stored: the venue keeps the first order under that ID, untouched.
    """
    return OrderStatusReport(
        venue=venue,
        account=spec.account,
        client_order_id=spec.client_order_id,
        venue_order_id=None,
        instrument=spec.instrument,
        side=spec.side,
        order_type=spec.order_type,
        quantity=spec.quantity,
        filled_quantity=Decimal(0),
        status=VenueOrderStatus.REJECTED,
        ts_event=now,
        limit_price=spec.limit_price,
        stop_price=spec.stop_price,
        reason=f"duplicate client order id {spec.client_order_id!r}",
    )


def fill_report(
    order: PaperOrder,
    execution: Execution,
    *,
    fill: FillId,
    instrument: Instrument,
    venue: VenueId,
    now: datetime,
) -> FillReport:
    return FillReport(
        venue=venue,
        account=order.account,
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        fill_id=fill,
        instrument=order.instrument,
        side=order.side,
        quantity=execution.quantity,
        price=execution.price,
        fee=execution.fee,
        fee_currency=instrument.quote_currency,
        liquidity=execution.liquidity,
        ts_event=now,
    )


def cancel_reject(
    client_order_id: ClientOrderId,
    reason: str,
    *,
    venue: VenueId,
    now: datetime,
    replace: bool = False,
) -> CancelRejectReport:
    return CancelRejectReport(
        venue=venue, client_order_id=client_order_id, reason=reason, ts_event=now, replace=replace
    )


def position_reports(
    fills: Iterable[FillReport],
    multipliers: Mapping[InstrumentId, Decimal],
    *,
    venue: VenueId,
    now: datetime,
) -> list[PositionReport]:
    """Net position per account and instrument, folded from fills; flat positions are left out."""
    positions: dict[tuple[AccountId, InstrumentId], Position] = {}
    for fill in fills:
        key = (fill.account, fill.instrument)
        position = positions.get(key)
        if position is None:
            multiplier = multipliers.get(fill.instrument, Decimal(1))
            position = positions[key] = Position(fill.account, fill.instrument, None, multiplier)
        position.apply_fill(fill.side, fill.quantity, fill.price, fill.fee)
    return [
        PositionReport(
            venue=venue,
            account=account,
            instrument=instrument,
            quantity=position.quantity,
            average_price=position.average_price,
            ts_event=now,
        )
        for (account, instrument), position in sorted(positions.items())
        if position.quantity != 0
    ]
