import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.domain.enums import (
    AssetClass,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    SignalOutcome,
    TimeInForce,
    TradingState,
)
from tradewire.domain.events import (
    CancelOrder,
    IllegalTransition,
    InternalCross,
    JournalRecord,
    ModifyOrder,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderCreated,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderHeld,
    OrderModifyDenied,
    OrderPendingCancel,
    OrderPendingReplace,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderSpec,
    OrderSubmitted,
    PositionRolledOver,
    RiskLimitsChanged,
    SignalHandled,
    TradingDayStarted,
    TradingStateChanged,
    VenueHealthChanged,
    VenueRequestRetried,
)
from tradewire.domain.health import VenueHealth
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
from tradewire.domain.limits import Limits
from tradewire.domain.signals import Signal
from tradewire.journal.codec import decode, encode, record_kind

from . import T0, numbered_fill, order_spec

ORDER = ClientOrderId("order-1")
RECORDED = T0 + timedelta(milliseconds=3)


def one_of_each() -> list[JournalRecord]:
    spec = order_spec()
    signal = Signal(
        strategy="trend",
        instrument="EURUSD.paper",
        side=Side.BUY,
        quantity=Decimal("1000.00"),
        order_type=OrderType.LIMIT,
        limit_price=Decimal("1.10"),
        signal_price=Decimal("1.1005"),
        idempotency_key="key-1",
    )

    def event(name: str) -> EventId:
        return EventId(f"event-{name}")

    return [
        CancelOrder(
            event_id=event("cancel"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            requested_by="api",
        ),
        ModifyOrder(
            event_id=event("modify"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            requested_by="dashboard",
            quantity=Decimal("500.0"),
            limit_price=Decimal("1.10"),
        ),
        SignalHandled(
            event_id=event("signal"),
            ts_event=T0,
            ts_recorded=RECORDED,
            signal_id=SignalId("signal-1"),
            signal=signal,
            outcome=SignalOutcome.ACCEPTED,
            client_order_ids=(ORDER, ClientOrderId("order-2")),
        ),
        OrderCreated(event_id=event("created"), ts_event=T0, ts_recorded=RECORDED, spec=spec),
        OrderDenied(
            event_id=event("denied"),
            ts_event=T0,
            ts_recorded=RECORDED,
            spec=spec,
            reason_code="max_notional",
            reason="too big",
        ),
        OrderSubmitted(event_id=event("submitted"), ts_event=T0, ts_recorded=RECORDED, client_order_id=ORDER),
        OrderAccepted(
            event_id=event("accepted"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            venue_order_id=VenueOrderId("venue-1"),
            inferred=True,
        ),
        OrderRejected(
            event_id=event("rejected"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            reason="margin",
        ),
        OrderPendingCancel(
            event_id=event("pending-cancel"), ts_event=T0, ts_recorded=RECORDED, client_order_id=ORDER
        ),
        OrderCancelRejected(
            event_id=event("cancel-rejected"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            reason="too late",
        ),
        OrderCanceled(event_id=event("canceled"), ts_event=T0, ts_recorded=RECORDED, client_order_id=ORDER),
        OrderExpired(
            event_id=event("expired"), ts_event=T0, ts_recorded=RECORDED, client_order_id=ORDER, inferred=True
        ),
        OrderPendingReplace(
            event_id=event("pending-replace"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            quantity=Decimal("2.50"),
            stop_price=Decimal("1.0900"),
        ),
        OrderReplaced(
            event_id=event("replaced"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            quantity=Decimal("2.50"),
            limit_price=Decimal("1.10"),
        ),
        OrderReplaceRejected(
            event_id=event("replace-rejected"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            reason="filled",
        ),
        numbered_fill(1),
        IllegalTransition(
            event_id=event("illegal"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            status=OrderStatus.FILLED,
            attempted="OrderCanceled",
            detail="cancel acknowledged after the last fill",
        ),
        TradingStateChanged(
            event_id=event("halted"),
            ts_event=T0,
            ts_recorded=RECORDED,
            state=TradingState.HALTED,
            reason="journal write failed",
            changed_by="engine",
            scope="account:acc-1",
        ),
        RiskLimitsChanged(
            event_id=event("limits"),
            ts_event=T0,
            ts_recorded=RECORDED,
            scope="strategy:trend",
            limits=Limits(
                max_order_notional=Decimal("250000.00"),
                max_gross_exposure={AssetClass.FX: Decimal("1000000")},
                max_orders_per_second=Decimal("2.5"),
            ),
            changed_by="api:alice",
        ),
        VenueHealthChanged(
            event_id=event("health"),
            ts_event=T0,
            ts_recorded=RECORDED,
            venue=VenueId("paper"),
            health=VenueHealth.DOWN,
            connection="backup-1",
            attempt=3,
            reason="reconnecting on connection backup-1, attempt 3",
        ),
        TradingDayStarted(
            event_id=event("day"),
            ts_event=T0,
            ts_recorded=RECORDED,
            scope="account:acc-1",
            trading_day=date(2026, 1, 5),
            baseline_pnl=Decimal("-1250.50"),
        ),
        OrderHeld(
            event_id=event("held"),
            ts_event=T0,
            ts_recorded=RECORDED,
            spec=spec,
            release_at=T0 + timedelta(hours=16),
            reason="AAPL's session (XNYS) is closed: opens 2026-01-06 14:30 UTC",
        ),
        PositionRolledOver(
            event_id=event("rolled"),
            ts_event=T0,
            ts_recorded=RECORDED,
            account=AccountId("acc-1"),
            instrument=InstrumentId("EUR/USD"),
            venue=VenueId("paper"),
            quantity=Decimal("-100000.00"),
            mark_price=Decimal("1.085005"),
            calendar="fx-24x5",
            session=date(2026, 1, 5),
            boundary=T0,
        ),
        InternalCross(
            event_id=event("cross"),
            ts_event=T0,
            ts_recorded=RECORDED,
            account=AccountId("acc-1"),
            instrument=InstrumentId("EUR/USD"),
            price=Decimal("1.085005"),
            fills=(numbered_fill(7), numbered_fill(8)),
        ),
        OrderModifyDenied(
            event_id=event("modify-denied"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            quantity=Decimal("20"),
            limit_price=Decimal("1.10"),
            stop_price=None,
            reason_code="position_limit",
            reason="position 0 + working buy 0 + order 20 > limit 10 AAPL, account:acc-1",
        ),
        VenueRequestRetried(
            event_id=event("retried"),
            ts_event=T0,
            ts_recorded=RECORDED,
            client_order_id=ORDER,
            request="submit",
            attempt=2,
            reason="paper is busy (simulated rate limit)",
            delay=timedelta(milliseconds=250),
        ),
    ]


def exact_form(record: JournalRecord) -> bytes:
    """JSON keeps what equality forgives: "1.10" is not "1.1", and a UTC time ends in Z."""
    return msgspec.json.encode(record)


def test_the_examples_cover_every_journal_record_type() -> None:
    assert {type(record) for record in one_of_each()} == set(typing.get_args(JournalRecord))


@pytest.mark.parametrize("record", one_of_each(), ids=lambda record: type(record).__name__)
def test_every_record_type_round_trips_exactly(record: JournalRecord) -> None:
    decoded = decode(encode(record))

    assert type(decoded) is type(record)
    assert decoded == record
    assert exact_form(decoded) == exact_form(record)
    assert decoded.ts_event.utcoffset() == timedelta(0)
    assert decoded.ts_recorded.utcoffset() == timedelta(0)
    assert record_kind(decoded) == type(record).__name__


def test_decimals_keep_their_exact_digits() -> None:
    decoded = decode(encode(numbered_fill(7)))

    assert isinstance(decoded, OrderFilled)
    assert str(decoded.fee) == "0.10"
    assert str(decoded.quantity) == "7.000"
    assert str(decoded.price) == "1.000070"


def test_a_time_in_another_zone_comes_back_as_the_same_instant_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    record = OrderSubmitted(
        event_id=EventId("event-1"),
        ts_event=datetime(2026, 1, 5, 15, 30, tzinfo=paris),
        ts_recorded=T0,
        client_order_id=ORDER,
    )

    decoded = decode(encode(record))

    assert decoded.ts_event == T0
    assert decoded.ts_event.tzinfo is UTC


def test_a_naive_timestamp_is_refused() -> None:
    record = OrderSubmitted(
        event_id=EventId("event-1"),
        ts_event=datetime(2026, 1, 5, 14, 30),  # noqa: DTZ001 - the mistake under test
        ts_recorded=T0,
        client_order_id=ORDER,
    )

    with pytest.raises(ValueError, match="timezone-aware"):
        encode(record)


def test_garbage_is_a_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode(b"\xc1")


names = st.text(min_size=1, max_size=20)
decimals = st.decimals()
maybe_decimals = st.none() | decimals
utc_times = st.datetimes(timezones=st.just(UTC))

order_specs = st.builds(
    OrderSpec,
    client_order_id=names.map(ClientOrderId),
    account=names.map(AccountId),
    strategy=names.map(StrategyId),
    instrument=names.map(InstrumentId),
    venue=names.map(VenueId),
    side=st.sampled_from(Side),
    order_type=st.sampled_from(OrderType),
    quantity=decimals,
    time_in_force=st.sampled_from(TimeInForce),
    limit_price=maybe_decimals,
    stop_price=maybe_decimals,
    signal_id=st.none() | names.map(SignalId),
    signal_price=maybe_decimals,
    reduce_only=st.booleans(),
)
orders_created = st.builds(
    OrderCreated,
    event_id=names.map(EventId),
    ts_event=utc_times,
    ts_recorded=utc_times,
    spec=order_specs,
)
fills = st.builds(
    OrderFilled,
    event_id=names.map(EventId),
    ts_event=utc_times,
    ts_recorded=utc_times,
    client_order_id=names.map(ClientOrderId),
    venue_order_id=st.none() | names.map(VenueOrderId),
    fill_id=names.map(FillId),
    venue=names.map(VenueId),
    account=names.map(AccountId),
    strategy=names.map(StrategyId),
    instrument=names.map(InstrumentId),
    side=st.sampled_from(Side),
    quantity=decimals,
    price=decimals,
    fee=decimals,
    fee_currency=names,
    liquidity=st.sampled_from(LiquiditySide),
    multiplier=decimals,
    inferred=st.booleans(),
)


@given(record=orders_created | fills)
def test_generated_fills_and_order_specs_round_trip_exactly(record: JournalRecord) -> None:
    decoded = decode(encode(record))

    assert type(decoded) is type(record)
    assert exact_form(decoded) == exact_form(record)
    assert encode(decoded) == encode(record)
