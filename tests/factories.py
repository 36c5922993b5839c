"""Small factories for domain objects: instruments with realistic rules, order specs and events.

Every factory takes keyword overrides and fills the rest with plain defaults, so a test names only
what it is about. Decimals are built from strings: a `str` argument goes through `Decimal(str)`.
Times come from a fixed start (`T0`) so tests never read the wall clock.
"""

import itertools
import typing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tradewire.domain.enums import AssetClass, LiquiditySide, OrderType, Side, TimeInForce
from tradewire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCreated,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSpec,
    OrderSubmitted,
)
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    EventId,
    FillId,
    InstrumentId,
    StrategyId,
    VenueId,
    VenueOrderId,
)
from tradewire.domain.instruments import Instrument
from tradewire.domain.orders import Order

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
"""A Monday afternoon in UTC: every market in the factories is open."""

PAPER = VenueId("paper")
ACCOUNT = AccountId("acct-1")
STRATEGY = StrategyId("trend-1")

EURUSD = Instrument(
    instrument_id=InstrumentId("EUR/USD"),
    venue=PAPER,
    asset_class=AssetClass.FX,
    base_currency="EUR",
    quote_currency="USD",
    tick_size=Decimal("0.00001"),
    lot_size=Decimal("1000"),
    min_quantity=Decimal("1000"),
    max_quantity=Decimal("50000000"),
    calendar="fx-24x5",
)
BTCUSDT = Instrument(
    instrument_id=InstrumentId("BTC/USDT"),
    venue=PAPER,
    asset_class=AssetClass.CRYPTO_SPOT,
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.00001"),
    min_quantity=Decimal("0.00001"),
    max_quantity=Decimal("9000"),
    min_notional=Decimal("5"),
    maker_fee_rate=Decimal("0.001"),
    taker_fee_rate=Decimal("0.001"),
    calendar="24/7",
)
ES = Instrument(
    instrument_id=InstrumentId("ESH6"),
    venue=PAPER,
    asset_class=AssetClass.FUTURE,
    base_currency="USD",
    quote_currency="USD",
    tick_size=Decimal("0.25"),
    lot_size=Decimal("1"),
    min_quantity=Decimal("1"),
    max_quantity=Decimal("1000"),
    multiplier=Decimal("50"),
    calendar="CMES",
    venue_symbol="ES",
)
"""E-mini S&P 500 (March 2026): quarter-point tick, $50 per point."""

_sequence = itertools.count(1)


def _decimal(value: Decimal | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def next_event_id() -> EventId:
    return EventId(f"evt-{next(_sequence)}")


def at(seconds: float = 0) -> datetime:
    """`T0` plus some seconds: readable event times."""
    return T0 + timedelta(seconds=seconds)


def make_spec(
    *,
    client_order_id: str = "ord-1",
    account: AccountId = ACCOUNT,
    strategy: StrategyId = STRATEGY,
    instrument: Instrument = ES,
    side: Side = Side.BUY,
    order_type: OrderType = OrderType.LIMIT,
    quantity: Decimal | str = "10",
    limit_price: Decimal | str | None = "5000.25",
    stop_price: Decimal | str | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
) -> OrderSpec:
    """An order spec; a limit buy of 10 ES at 5000.25 unless told otherwise."""
    return OrderSpec(
        client_order_id=ClientOrderId(client_order_id),
        account=account,
        strategy=strategy,
        instrument=instrument.instrument_id,
        venue=instrument.venue,
        side=side,
        order_type=order_type,
        quantity=_decimal(quantity),
        time_in_force=time_in_force,
        limit_price=None if limit_price is None else _decimal(limit_price),
        stop_price=None if stop_price is None else _decimal(stop_price),
        reduce_only=reduce_only,
    )


def make_created(spec: OrderSpec | None = None, *, ts: datetime = T0) -> OrderCreated:
    return OrderCreated(event_id=next_event_id(), ts_event=ts, ts_recorded=ts, spec=spec or make_spec())


def make_denied(
    spec: OrderSpec | None = None,
    *,
    reason_code: str = "max_position",
    reason: str = "position limit 100 would be exceeded",
    ts: datetime = T0,
) -> OrderDenied:
    return OrderDenied(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        spec=spec or make_spec(),
        reason_code=reason_code,
        reason=reason,
    )


def make_order(spec: OrderSpec | None = None) -> Order:
    """A fresh order in PENDING_NEW."""
    return Order.create(make_created(spec))


def make_submitted(spec: OrderSpec, *, ts: datetime = T0) -> OrderSubmitted:
    return OrderSubmitted(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
    )


def make_accepted(spec: OrderSpec, *, venue_order_id: str = "V-1", ts: datetime = T0) -> OrderAccepted:
    return OrderAccepted(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        venue_order_id=VenueOrderId(venue_order_id),
    )


def make_rejected(
    spec: OrderSpec, *, reason: str = "insufficient margin", ts: datetime = T0
) -> OrderRejected:
    return OrderRejected(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        reason=reason,
    )


def make_pending_cancel(spec: OrderSpec, *, ts: datetime = T0) -> OrderPendingCancel:
    return OrderPendingCancel(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
    )


def make_cancel_rejected(
    spec: OrderSpec, *, reason: str = "too late to cancel", ts: datetime = T0
) -> OrderCancelRejected:
    return OrderCancelRejected(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        reason=reason,
    )


def make_canceled(spec: OrderSpec, *, ts: datetime = T0) -> OrderCanceled:
    return OrderCanceled(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
    )


def make_expired(spec: OrderSpec, *, ts: datetime = T0) -> OrderExpired:
    return OrderExpired(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
    )


def make_pending_replace(
    spec: OrderSpec,
    *,
    quantity: Decimal | str,
    limit_price: Decimal | str | None = None,
    ts: datetime = T0,
) -> OrderPendingReplace:
    return OrderPendingReplace(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        quantity=_decimal(quantity),
        limit_price=spec.limit_price if limit_price is None else _decimal(limit_price),
        stop_price=spec.stop_price,
    )


def make_replaced(
    spec: OrderSpec,
    *,
    quantity: Decimal | str,
    limit_price: Decimal | str | None = None,
    ts: datetime = T0,
) -> OrderReplaced:
    """The venue's ack of an amend; the limit price stays the spec's unless given."""
    return OrderReplaced(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        quantity=_decimal(quantity),
        limit_price=spec.limit_price if limit_price is None else _decimal(limit_price),
        stop_price=spec.stop_price,
    )


def make_replace_rejected(
    spec: OrderSpec, *, reason: str = "order not found", ts: datetime = T0
) -> OrderReplaceRejected:
    return OrderReplaceRejected(
        event_id=next_event_id(),
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        reason=reason,
    )


def make_filled(
    spec: OrderSpec,
    *,
    quantity: Decimal | str,
    price: Decimal | str,
    fill_id: str | None = None,
    fee: Decimal | str = "0",
    side: Side | None = None,
    multiplier: Decimal | str | None = None,
    venue_order_id: str | None = "V-1",
    liquidity: LiquiditySide = LiquiditySide.TAKER,
    ts: datetime = T0,
) -> OrderFilled:
    """One execution of the spec's order; side, account and strategy come from the spec.

    The multiplier defaults to the spec's instrument's when it is one of the factory instruments.
    """
    event_id = next_event_id()
    if multiplier is None:
        known = {i.instrument_id: i.multiplier for i in (EURUSD, BTCUSDT, ES)}
        multiplier = known.get(spec.instrument, Decimal(1))
    return OrderFilled(
        event_id=event_id,
        ts_event=ts,
        ts_recorded=ts,
        client_order_id=spec.client_order_id,
        venue_order_id=None if venue_order_id is None else VenueOrderId(venue_order_id),
        fill_id=FillId(fill_id or f"fill-{event_id}"),
        venue=spec.venue,
        account=spec.account,
        strategy=spec.strategy,
        instrument=spec.instrument,
        side=side or spec.side,
        quantity=_decimal(quantity),
        price=_decimal(price),
        fee=_decimal(fee),
        fee_currency="USD",
        liquidity=liquidity,
        multiplier=_decimal(multiplier),
    )


def make_event(event_type: type[OrderEvent], spec: OrderSpec, *, ts: datetime = T0) -> OrderEvent:
    """A representative event of any lifecycle type for the spec's order (fills: 3 at the limit)."""
    price = spec.limit_price or Decimal("5000")
    builders: dict[type[OrderEvent], Callable[[], OrderEvent]] = {
        OrderCreated: lambda: make_created(spec, ts=ts),
        OrderDenied: lambda: make_denied(spec, ts=ts),
        OrderSubmitted: lambda: make_submitted(spec, ts=ts),
        OrderAccepted: lambda: make_accepted(spec, ts=ts),
        OrderRejected: lambda: make_rejected(spec, ts=ts),
        OrderPendingCancel: lambda: make_pending_cancel(spec, ts=ts),
        OrderCancelRejected: lambda: make_cancel_rejected(spec, ts=ts),
        OrderCanceled: lambda: make_canceled(spec, ts=ts),
        OrderExpired: lambda: make_expired(spec, ts=ts),
        OrderPendingReplace: lambda: make_pending_replace(spec, quantity=spec.quantity, ts=ts),
        OrderReplaced: lambda: make_replaced(spec, quantity=spec.quantity, ts=ts),
        OrderReplaceRejected: lambda: make_replace_rejected(spec, ts=ts),
        OrderFilled: lambda: make_filled(spec, quantity="3", price=price, ts=ts),
    }
    return builders[event_type]()


ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = typing.get_args(OrderEvent)
"""Every member of the `OrderEvent` union, for table-driven tests."""


def snapshot(order: Order) -> dict[str, object]:
    """Every slot of an order, to prove an event changed nothing."""
    return {name: getattr(order, name) for name in Order.__struct_fields__}
