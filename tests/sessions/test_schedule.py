"""What the session scheduler finds due between two instants: a pure function, so no clock and no waiting.

Dates: US Thanksgiving 2026-11-26 (XNYS closed) and the early close on Friday 2026-11-27 (13:00 New
York); EU DST ends 2026-10-25 and US DST 2026-11-01, so in the week between, 17:00 New York is 21:00
UTC, and after it 22:00 UTC.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import BTCUSDT, EURUSD, PAPER, make_accepted, make_created, make_spec, next_event_id
from tradewire.domain.enums import AssetClass, OrderStatus, TimeInForce
from tradewire.domain.events import OrderHeld, OrderSpec, PositionRolledOver
from tradewire.domain.ids import AccountId, InstrumentId, VenueId
from tradewire.domain.instruments import Instrument
from tradewire.domain.orders import Order
from tradewire.sessions import calendar_for
from tradewire.sessions.policy import SessionPolicy
from tradewire.sessions.schedule import (
    Due,
    ExpireDay,
    FlattenBeforeClose,
    PositionAtClose,
    ReleaseHeld,
    RollOver,
    due,
    session_closes,
)

NEW_YORK = ZoneInfo("America/New_York")
ACCOUNT = AccountId("acct-1")
AAPL = Instrument(
    instrument_id=InstrumentId("AAPL"),
    venue=PAPER,
    asset_class=AssetClass.EQUITY,
    base_currency="AAPL",
    quote_currency="USD",
    tick_size=Decimal("0.01"),
    lot_size=Decimal(1),
    min_quantity=Decimal(1),
    calendar="XNYS",
)
LISTINGS = {(i.venue, i.instrument_id): i for i in (AAPL, EURUSD, BTCUSDT)}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def day_spec(instrument: Instrument = AAPL, time_in_force: TimeInForce = TimeInForce.DAY) -> OrderSpec:
    return make_spec(instrument=instrument, limit_price="190.00", quantity="10", time_in_force=time_in_force)


def working_order(spec: OrderSpec, created_at: datetime) -> Order:
    order = Order.create(make_created(spec, ts=created_at))
    order.apply(make_accepted(spec, ts=created_at))
    return order


def held(spec: OrderSpec, at: datetime, release_at: datetime) -> OrderHeld:
    return OrderHeld(
        event_id=next_event_id(),
        ts_event=at,
        ts_recorded=at,
        spec=spec,
        release_at=release_at,
        reason="closed",
    )


def position(instrument: Instrument, quantity: str, closing: str = "0") -> PositionAtClose:
    return PositionAtClose(
        account=ACCOUNT, instrument=instrument, quantity=Decimal(quantity), closing=Decimal(closing)
    )


def plan(
    t0: datetime,
    t1: datetime,
    *,
    policy: SessionPolicy | None = None,
    holds: tuple[OrderHeld, ...] = (),
    orders: tuple[Order, ...] = (),
    positions: tuple[PositionAtClose, ...] = (),
    rollovers: dict[tuple[AccountId, InstrumentId], PositionRolledOver] | None = None,
    venues_expiring_day: frozenset[VenueId] = frozenset(),
) -> list[Due]:
    return list(
        due(
            t0,
            t1,
            policy=policy or SessionPolicy(),
            held=holds,
            orders=[(o, LISTINGS[(o.venue, o.instrument)]) for o in orders],
            positions=positions,
            rollovers=rollovers or {},
            venues_expiring_day=venues_expiring_day,
            instruments=LISTINGS,
        )
    )


# --- session boundaries ---------------------------------------------------------------------------


def test_thanksgiving_has_no_xnys_close_and_the_friday_after_closes_early() -> None:
    closes = session_closes(calendar_for("XNYS"), utc(2026, 11, 25, 12), utc(2026, 11, 28))
    assert closes == [(utc(2026, 11, 25, 21), date(2026, 11, 25)), (ny(2026, 11, 27, 13), date(2026, 11, 27))]
    assert closes[1][0] == utc(2026, 11, 27, 18)


def test_fx_weekend_has_one_rollover_at_friday_17_00_new_york_and_none_until_monday() -> None:
    closes = session_closes(calendar_for("fx-24x5"), ny(2026, 11, 6, 12), ny(2026, 11, 9, 16, 59))
    assert closes == [(ny(2026, 11, 6, 17), date(2026, 11, 6))]


@pytest.mark.parametrize(
    ("day", "rollover_utc_hour"),
    [
        (date(2026, 10, 27), 21),  # Europe is on winter time, New York still on summer time
        (date(2026, 11, 3), 22),  # both on winter time
    ],
)
def test_fx_rollover_stays_at_17_00_new_york_across_the_dst_weeks(day: date, rollover_utc_hour: int) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    closes = session_closes(calendar_for("fx-24x5"), start, start + timedelta(days=1))
    assert closes == [(utc(day.year, day.month, day.day, rollover_utc_hour), day)]


def test_crypto_positions_are_never_rolled_over() -> None:
    assert plan(utc(2026, 11, 27), utc(2026, 11, 30), positions=(position(BTCUSDT, "1"),)) == []


# --- rollover -----------------------------------------------------------------------------------


def test_an_fx_position_rolls_over_at_21_00_utc_in_the_week_between_the_dst_changes() -> None:
    carried = position(EURUSD, "100000")
    assert plan(utc(2026, 10, 27, 20), utc(2026, 10, 27, 20, 59), positions=(carried,)) == []
    [rolled] = plan(utc(2026, 10, 27, 20, 59), utc(2026, 10, 27, 21), positions=(carried,))
    assert rolled == RollOver(
        account=ACCOUNT,
        instrument=EURUSD,
        quantity=Decimal(100000),
        calendar="fx-24x5",
        session=date(2026, 10, 27),
        boundary=utc(2026, 10, 27, 21),
    )


def test_a_flat_position_is_not_rolled_over() -> None:
    assert plan(utc(2026, 10, 27, 20), utc(2026, 10, 27, 22), positions=(position(EURUSD, "0"),)) == []


def test_a_boundary_the_ledger_already_rolled_over_is_not_rolled_again() -> None:
    boundary = utc(2026, 11, 25, 21)
    recorded = PositionRolledOver(
        event_id=next_event_id(),
        ts_event=boundary,
        ts_recorded=boundary,
        account=ACCOUNT,
        instrument=AAPL.instrument_id,
        venue=PAPER,
        quantity=Decimal(10),
        mark_price=None,
        calendar="XNYS",
        session=date(2026, 11, 25),
        boundary=boundary,
    )
    window = (utc(2026, 11, 25, 20), utc(2026, 11, 27, 19))
    work = plan(
        *window, positions=(position(AAPL, "10"),), rollovers={(ACCOUNT, AAPL.instrument_id): recorded}
    )
    assert [item.boundary for item in work if isinstance(item, RollOver)] == [utc(2026, 11, 27, 18)]


# --- DAY orders -----------------------------------------------------------------------------------


def test_a_day_order_expires_at_the_early_close_not_at_the_regular_one() -> None:
    order = working_order(day_spec(), utc(2026, 11, 27, 15))
    assert plan(utc(2026, 11, 27, 17), utc(2026, 11, 27, 17, 59), orders=(order,)) == []
    assert plan(utc(2026, 11, 27, 17, 59), utc(2026, 11, 27, 18), orders=(order,)) == [
        ExpireDay(client_order_id=order.client_order_id, close=utc(2026, 11, 27, 18), sent=True)
    ]


def test_a_day_order_left_over_from_before_a_restart_is_still_found_expired() -> None:
    order = working_order(day_spec(), utc(2026, 11, 25, 15))
    [expired] = plan(utc(2026, 11, 27, 12), utc(2026, 11, 27, 12, 1), orders=(order,))
    assert expired == ExpireDay(client_order_id=order.client_order_id, close=utc(2026, 11, 25, 21), sent=True)


def test_a_venue_that_expires_day_orders_itself_is_left_to_do_it() -> None:
    order = working_order(day_spec(), utc(2026, 11, 27, 15))
    assert (
        plan(
            utc(2026, 11, 27, 17),
            utc(2026, 11, 27, 19),
            orders=(order,),
            venues_expiring_day=frozenset({PAPER}),
        )
        == []
    )


def test_gtc_orders_do_not_expire_at_the_close() -> None:
    spec = day_spec(time_in_force=TimeInForce.GTC)
    assert (
        plan(
            utc(2026, 11, 27, 17), utc(2026, 11, 27, 19), orders=(working_order(spec, utc(2026, 11, 27, 15)),)
        )
        == []
    )


# --- held orders ----------------------------------------------------------------------------------


def test_an_order_held_over_thanksgiving_is_released_at_friday_s_open() -> None:
    spec = day_spec(time_in_force=TimeInForce.GTC)
    waiting = held(spec, utc(2026, 11, 25, 22), release_at=utc(2026, 11, 27, 14, 30))
    assert plan(utc(2026, 11, 26, 12), utc(2026, 11, 27, 14, 29), holds=(waiting,)) == []
    assert plan(utc(2026, 11, 27, 14, 29), utc(2026, 11, 27, 14, 30), holds=(waiting,)) == [
        ReleaseHeld(held=waiting)
    ]


def test_a_held_day_order_whose_whole_session_passed_expires_unsent() -> None:
    waiting = held(day_spec(), utc(2026, 11, 25, 22), release_at=utc(2026, 11, 27, 14, 30))
    assert plan(utc(2026, 11, 27, 18), utc(2026, 11, 27, 19), holds=(waiting,)) == [
        ExpireDay(client_order_id=waiting.spec.client_order_id, close=utc(2026, 11, 27, 18), sent=False)
    ]


# --- flatten before the close ---------------------------------------------------------------------


def test_a_position_is_flattened_in_the_minutes_before_the_early_close() -> None:
    policy = SessionPolicy(flatten_before_close={"equity": 15})
    held_position = (position(AAPL, "10"),)
    assert (
        plan(utc(2026, 11, 27, 17), utc(2026, 11, 27, 17, 44), policy=policy, positions=held_position) == []
    )
    assert plan(
        utc(2026, 11, 27, 17, 44), utc(2026, 11, 27, 17, 45), policy=policy, positions=held_position
    ) == [
        FlattenBeforeClose(
            account=ACCOUNT, instrument=AAPL, quantity=Decimal(10), close=utc(2026, 11, 27, 18)
        )
    ]


def test_only_what_working_orders_do_not_already_close_is_flattened() -> None:
    policy = SessionPolicy(flatten_before_close={"AAPL": 30})
    moment = (utc(2026, 11, 27, 17, 40), utc(2026, 11, 27, 17, 41))
    [short] = plan(*moment, policy=policy, positions=(position(AAPL, "-10", closing="4"),))
    assert isinstance(short, FlattenBeforeClose) and short.quantity == Decimal(-6)
    assert plan(*moment, policy=policy, positions=(position(AAPL, "10", closing="10"),)) == []


def test_nothing_is_flattened_without_a_configured_window_or_for_crypto() -> None:
    moment = (utc(2026, 11, 27, 17, 58), utc(2026, 11, 27, 17, 59))
    assert plan(*moment, positions=(position(AAPL, "10"),)) == []
    crypto = SessionPolicy(flatten_before_close={"crypto_spot": 60})
    assert (
        plan(
            utc(2026, 11, 27, 23),
            utc(2026, 11, 27, 23, 30),
            policy=crypto,
            positions=(position(BTCUSDT, "1"),),
        )
        == []
    )


def test_an_instrument_s_own_flatten_window_wins_over_its_asset_class() -> None:
    policy = SessionPolicy(flatten_before_close={"equity": 60, "AAPL": 5})
    assert policy.flatten_minutes(AAPL) == 5
    assert (
        plan(
            utc(2026, 11, 27, 17, 1),
            utc(2026, 11, 27, 17, 2),
            policy=policy,
            positions=(position(AAPL, "10"),),
        )
        == []
    )


def test_the_order_status_is_untouched_by_planning() -> None:
    order = working_order(day_spec(), utc(2026, 11, 27, 15))
    plan(utc(2026, 11, 27, 17), utc(2026, 11, 27, 19), orders=(order,))
    assert order.status is OrderStatus.ACCEPTED
