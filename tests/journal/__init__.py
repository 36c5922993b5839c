"""Journal tests. The record factories live here so the crash test's child process imports them too."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradewire.domain.enums import LiquiditySide, OrderType, Side, TimeInForce
from tradewire.domain.events import OrderFilled, OrderSpec
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    EventId,
    FillId,
    InstrumentId,
    SignalId,
    StrategyId,
    VenueId,
    VenueOrderId,
)

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def order_spec(number: int = 1) -> OrderSpec:
    return OrderSpec(
        client_order_id=ClientOrderId(f"order-{number}"),
        account=AccountId("main"),
        strategy=StrategyId("trend"),
        instrument=InstrumentId("EURUSD.paper"),
        venue=VenueId("paper"),
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("1000.00"),
        time_in_force=TimeInForce.GTC,
        limit_price=Decimal("1.10"),
        signal_id=SignalId(f"signal-{number}"),
        signal_price=Decimal("1.1005"),
    )


def numbered_fill(number: int) -> OrderFilled:
    """A distinct, deterministic record per number, so a replayed journal can be checked exactly."""
    return OrderFilled(
        event_id=EventId(f"event-{number}"),
        ts_event=T0 + timedelta(microseconds=number),
        ts_recorded=T0 + timedelta(microseconds=number, milliseconds=1),
        client_order_id=ClientOrderId(f"order-{number}"),
        venue_order_id=VenueOrderId(f"venue-{number}"),
        fill_id=FillId(f"fill-{number}"),
        venue=VenueId("paper"),
        account=AccountId("main"),
        strategy=StrategyId("trend"),
        instrument=InstrumentId("EURUSD.paper"),
        side=Side.SELL if number % 2 else Side.BUY,
        quantity=Decimal(f"{number}.000"),
        price=Decimal(f"1.{number:05d}0"),
        fee=Decimal("0.10"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )
