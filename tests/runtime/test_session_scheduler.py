"""Sessions in the order path, end to end with a `ManualClock`: deny or hold outside the session, release
at the open, DAY orders expired at the close, flatten before it, positions rolled over each boundary.

The paper venue runs with `sessions = true` (real calendars: XNYS for AAPL, fx-24x5 for EURUSD); the
scheduler's loop is slowed to once an hour, so only the tests' own `tick` calls move it.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.risk.fakes import VenueSpy, settle
from tests.runtime.engines import engine_settings, paper_of
from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderStatus, SignalOutcome, TradingState
from tradewire.domain.events import CancelOrder, JournalRecord, OrderDenied, OrderHeld, PositionRolledOver
from tradewire.domain.ids import AccountId, ClientOrderId, InstrumentId, VenueId
from tradewire.journal.sqlite import sqlite_journal
from tradewire.runtime.node import Engine
from tradewire.runtime.sessions import DAY_EXPIRED, FLATTEN_TRIES, SessionScheduler
from tradewire.sessions.schedule import Due, ExpireDay, FlattenBeforeClose, ReleaseHeld, RollOver
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig
from tradewire.venues.port import VenueCapabilities, VenueClient

ACCOUNT = AccountId("paper-1")
WEDNESDAY_EVENING = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
"""After the XNYS close on the eve of Thanksgiving (2026-11-26, closed)."""
FRIDAY_OPEN = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
FRIDAY_EARLY_CLOSE = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
"""13:00 New York."""


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class VenueWithoutDayExpiry(PaperVenue):
    """A paper venue declaring that it leaves DAY orders working past the close (as some brokers do),
    so the engine has to cancel them itself."""

    @property
    def capabilities(self) -> VenueCapabilities:
        return msgspec.structs.replace(super().capabilities, expires_day_orders=False)


@asynccontextmanager
async def session_engine(
    data_dir: Path,
    clock: ManualClock,
    *,
    sessions: Mapping[str, Any] | None = None,
    venues: Mapping[VenueId, VenueClient] | None = None,
    paper: Mapping[str, Any] | None = None,
) -> AsyncIterator[Engine]:
    settings = engine_settings(
        data_dir,
        paper={"sessions": True, **(paper or {})},
        sessions={"check_interval": 3600, **(sessions or {})},
    )
    async with Engine(settings, clock=clock, venues=venues) as engine:
        await paper_of(engine).step()
        yield engine


def scheduler(engine: Engine) -> SessionScheduler:
    assert engine.sessions is not None
    return engine.sessions


async def tick_at(engine: Engine, clock: ManualClock, moment: datetime) -> list[Due]:
    clock.set(moment)
    work = await scheduler(engine).tick(moment)
    await settle()
    return work


def aapl(side: str = "buy", quantity: str = "10", **fields: Any) -> dict[str, Any]:
    return {"strategy": "trend", "instrument": "AAPL", "side": side, "quantity": quantity, **fields}


@asynccontextmanager
async def long_aapl_flattened_before_the_close(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Engine]:
    """An engine that flattens equities 15 minutes before the close, long 10 AAPL."""
    async with session_engine(tmp_path, clock, sessions={"flatten_before_close": {"equity": 15}}) as engine:
        await engine.service.submit_signal(aapl())
        await settle()
        yield engine


def journal_of(data_dir: Path) -> list[JournalRecord]:
    return [record for _, record in sqlite_journal(data_dir / "journal.sqlite").replay()]


# --- outside the session: deny, or hold -----------------------------------------------------------


async def test_an_equity_order_on_thanksgiving_eve_is_denied_with_when_the_exchange_opens(
    tmp_path: Path,
) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    async with session_engine(tmp_path, clock) as engine:
        spy = VenueSpy(engine)
        result = await engine.service.submit_signal(aapl())
        assert result.outcome is SignalOutcome.DENIED
        assert result.reason_code == "session_closed"
        assert result.reason == "AAPL's session (XNYS) is closed: opens 2026-11-27 14:30 UTC"
        assert spy.submitted == []


async def test_crypto_trades_on_a_saturday_while_fx_is_closed(tmp_path: Path) -> None:
    clock = ManualClock(utc(11, 28, 12))
    async with session_engine(tmp_path, clock) as engine:
        crypto = await engine.service.submit_signal(
            {"strategy": "trend", "instrument": "BTC/USDT", "side": "buy", "quantity": "0.01"}
        )
        fx = await engine.service.submit_signal(
            {"strategy": "trend", "instrument": "EURUSD", "side": "buy", "quantity": "100000"}
        )
        assert crypto.outcome is SignalOutcome.ACCEPTED
        assert fx.outcome is SignalOutcome.DENIED
        assert fx.reason == "EURUSD's session (fx-24x5) is closed: opens 2026-11-29 22:00 UTC"


async def test_the_paper_venue_trades_around_the_clock_unless_its_sessions_are_on(tmp_path: Path) -> None:
    clock = ManualClock(utc(11, 26, 17))  # Thanksgiving, noon in New York
    async with session_engine(tmp_path, clock, paper={"sessions": False}) as engine:
        result = await engine.service.submit_signal(aapl())
        await settle()
        assert result.outcome is SignalOutcome.ACCEPTED
        assert engine.service.order(result.client_order_ids[0]).status is OrderStatus.FILLED


async def test_a_held_order_waits_unsent_and_goes_at_friday_s_open(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    async with session_engine(tmp_path, clock, sessions={"outside_session": "hold"}) as engine:
        spy = VenueSpy(engine)
        result = await engine.service.submit_signal(aapl())
        assert result.outcome is SignalOutcome.ACCEPTED
        assert result.reason_code == "order_held"
        assert result.reason == (
            "held until the open: AAPL's session (XNYS) is closed: opens 2026-11-27 14:30 UTC"
        )
        [order_id] = result.client_order_ids
        assert engine.service.order(order_id).status is OrderStatus.PENDING_NEW
        assert engine.manager.ledger.held[order_id].release_at == FRIDAY_OPEN
        assert await tick_at(engine, clock, utc(11, 26, 17)) == []
        assert spy.submitted == []

        work = await tick_at(engine, clock, FRIDAY_OPEN)
        assert [type(item) for item in work] == [ReleaseHeld]
        assert spy.submitted_ids == {order_id}
        assert engine.service.order(order_id).status is OrderStatus.FILLED
        assert order_id not in engine.manager.ledger.held


async def test_a_held_order_can_be_canceled_and_is_then_never_sent(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    async with session_engine(tmp_path, clock, sessions={"outside_session": "hold"}) as engine:
        spy = VenueSpy(engine)
        [order_id] = (await engine.service.submit_signal(aapl())).client_order_ids
        await engine.service.cancel_order(order_id, "trader")
        order = engine.service.order(order_id)
        assert order.status is OrderStatus.CANCELED
        assert order_id not in engine.manager.ledger.held
        assert await tick_at(engine, clock, FRIDAY_OPEN) == []
        assert spy.submitted == []


async def test_held_orders_survive_a_restart_and_are_not_rejected_as_never_sent(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    hold = {"outside_session": "hold"}
    async with session_engine(tmp_path, clock, sessions=hold) as engine:
        [order_id] = (await engine.service.submit_signal(aapl())).client_order_ids
        digest = engine.service.digest()
    clock.set(utc(11, 26, 12))
    async with session_engine(tmp_path, clock, sessions=hold) as engine:
        assert engine.service.digest() == digest
        assert engine.service.order(order_id).status is OrderStatus.PENDING_NEW
        assert set(engine.manager.ledger.held) == {order_id}
        await tick_at(engine, clock, FRIDAY_OPEN)
        assert engine.service.order(order_id).status is OrderStatus.FILLED
    held_records = [r for r in journal_of(tmp_path) if isinstance(r, OrderHeld)]
    assert [r.spec.client_order_id for r in held_records] == [order_id]


async def test_a_held_order_is_checked_again_at_the_open_and_canceled_unsent_if_refused(
    tmp_path: Path,
) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    async with session_engine(tmp_path, clock, sessions={"outside_session": "hold"}) as engine:
        spy = VenueSpy(engine)
        [order_id] = (await engine.service.submit_signal(aapl())).client_order_ids
        await engine.service.set_limits("portfolio", {"max_order_quantity": "5"}, "test")
        await tick_at(engine, clock, FRIDAY_OPEN)
        order = engine.service.order(order_id)
        assert order.status is OrderStatus.CANCELED
        assert order.reason is not None
        assert "refused when released at the open: order quantity 10 > limit 5" in order.reason
        assert spy.submitted == []


async def test_a_held_order_meets_the_kill_switch_engaged_before_the_open(tmp_path: Path) -> None:
    clock = ManualClock(WEDNESDAY_EVENING)
    async with session_engine(tmp_path, clock, sessions={"outside_session": "hold"}) as engine:
        spy = VenueSpy(engine)
        [order_id] = (await engine.service.submit_signal(aapl())).client_order_ids
        await engine.service.engage_kill_switch(
            "portfolio", "test", "holiday review", state=TradingState.HALTED, cancel_working=False
        )
        await tick_at(engine, clock, FRIDAY_OPEN)
        order = engine.service.order(order_id)
        assert order.status is OrderStatus.CANCELED
        assert order.reason is not None and "halted" in order.reason
        assert spy.submitted == []


# --- at the close -------------------------------------------------------------------------------


async def test_a_day_order_is_canceled_at_the_early_close_when_the_venue_does_not_expire_it(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(11, 27, 15))
    venue = VenueWithoutDayExpiry(PaperVenueConfig(tick_interval=None, seed=11, sessions=True), clock)
    async with session_engine(tmp_path, clock, venues={venue.venue: venue}) as engine:
        quote = engine.manager.quotes.get(InstrumentId("AAPL"))
        assert quote is not None
        resting = aapl(order_type="limit", limit_price=str(quote.bid - 1), time_in_force="day")
        [order_id] = (await engine.service.submit_signal(resting)).client_order_ids
        await settle()
        assert engine.service.order(order_id).status is OrderStatus.ACCEPTED
        assert await tick_at(engine, clock, utc(11, 27, 17, 59)) == []

        work = await tick_at(engine, clock, FRIDAY_EARLY_CLOSE)
        assert work == [
            ExpireDay(client_order_id=ClientOrderId(order_id), close=FRIDAY_EARLY_CLOSE, sent=True)
        ]
        assert engine.service.order(order_id).status is OrderStatus.CANCELED
        cancels = [r for r in journal_of(tmp_path) if isinstance(r, CancelOrder)]
        assert [(c.client_order_id, c.requested_by) for c in cancels] == [(order_id, DAY_EXPIRED)]


async def test_the_paper_venue_expires_day_orders_itself_so_the_engine_sends_no_cancel(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(11, 27, 15))
    async with session_engine(tmp_path, clock) as engine:
        quote = engine.manager.quotes.get(InstrumentId("AAPL"))
        assert quote is not None
        resting = aapl(order_type="limit", limit_price=str(quote.bid - 1), time_in_force="day")
        [order_id] = (await engine.service.submit_signal(resting)).client_order_ids
        assert await tick_at(engine, clock, FRIDAY_EARLY_CLOSE) == []
        await paper_of(engine).step()
        await settle()
        assert engine.service.order(order_id).status is OrderStatus.EXPIRED


async def test_a_position_is_flattened_fifteen_minutes_before_the_early_close_once(tmp_path: Path) -> None:
    clock = ManualClock(utc(11, 27, 15))
    async with long_aapl_flattened_before_the_close(tmp_path, clock) as engine:
        assert engine.manager.ledger.portfolio.account_quantity(ACCOUNT, InstrumentId("AAPL")) == 10
        spy = VenueSpy(engine)
        assert await tick_at(engine, clock, utc(11, 27, 17, 44)) == []

        work = await tick_at(engine, clock, utc(11, 27, 17, 45))
        assert [type(item) for item in work] == [FlattenBeforeClose]
        [flatten] = spy.submitted
        assert (flatten.side, flatten.quantity, flatten.reduce_only) == ("sell", Decimal(10), True)
        assert engine.manager.ledger.portfolio.account_quantity(ACCOUNT, InstrumentId("AAPL")) == 0
        await tick_at(engine, clock, utc(11, 27, 17, 46))
        assert len(spy.submitted) == 1


async def test_a_position_opened_after_the_flatten_is_flattened_again_before_the_same_close(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(11, 27, 15))
    async with long_aapl_flattened_before_the_close(tmp_path, clock) as engine:
        spy = VenueSpy(engine)
        await tick_at(engine, clock, utc(11, 27, 17, 45))
        clock.set(utc(11, 27, 17, 50))
        await engine.service.submit_signal(aapl(quantity="4"))
        await settle()

        await tick_at(engine, clock, utc(11, 27, 17, 51))
        await tick_at(engine, clock, utc(11, 27, 17, 52))
        assert [(o.side, o.quantity, o.reduce_only) for o in spy.submitted] == [
            ("sell", Decimal(10), True),
            ("buy", Decimal(4), False),
            ("sell", Decimal(4), True),
        ]
        assert engine.manager.ledger.portfolio.account_quantity(ACCOUNT, InstrumentId("AAPL")) == 0


async def test_a_refused_flatten_is_tried_three_times_before_the_close_not_at_every_tick(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(11, 27, 15))
    async with long_aapl_flattened_before_the_close(tmp_path, clock) as engine:
        await engine.service.engage_kill_switch(f"account:{ACCOUNT}", "risk officer", "halt")
        spy = VenueSpy(engine)
        for minute in range(45, 52):
            await tick_at(engine, clock, utc(11, 27, 17, minute))

        assert spy.submitted == []
        assert engine.manager.ledger.portfolio.account_quantity(ACCOUNT, InstrumentId("AAPL")) == 10
    denied = [r for r in journal_of(tmp_path) if isinstance(r, OrderDenied)]
    assert [(r.spec.side, r.spec.quantity, r.reason_code) for r in denied] == [
        ("sell", Decimal(10), "trading_halted")
    ] * FLATTEN_TRIES


async def test_fx_positions_roll_over_at_17_00_new_york_before_and_after_the_us_dst_change(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(10, 27, 12))  # Europe already on winter time, New York not yet
    eurusd = InstrumentId("EURUSD")
    async with session_engine(tmp_path, clock) as engine:
        await engine.service.submit_signal(
            {"strategy": "carry", "instrument": "EURUSD", "side": "buy", "quantity": "100000"}
        )
        await settle()
        assert await tick_at(engine, clock, utc(10, 27, 20, 59)) == []
        [rolled] = await tick_at(engine, clock, utc(10, 27, 21))
        assert isinstance(rolled, RollOver)
        record = engine.manager.ledger.rollovers[(ACCOUNT, eurusd)]
        assert (record.quantity, record.session, record.boundary) == (
            Decimal(100000),
            date(2026, 10, 27),
            utc(10, 27, 21),
        )
        assert record.calendar == "fx-24x5" and record.mark_price is not None

        caught_up = await tick_at(engine, clock, utc(11, 2, 21, 59))
        assert [item.boundary for item in caught_up if isinstance(item, RollOver)] == [
            utc(10, 28, 21),
            utc(10, 29, 21),
            utc(10, 30, 21),  # Friday: then nothing over the weekend
        ]
        [after_dst] = await tick_at(engine, clock, utc(11, 2, 22))
        assert isinstance(after_dst, RollOver) and after_dst.session == date(2026, 11, 2)
    rolled_over = [r for r in journal_of(tmp_path) if isinstance(r, PositionRolledOver)]
    assert [r.boundary.hour for r in rolled_over] == [21, 21, 21, 21, 22]


async def test_a_flatten_window_for_something_that_does_not_exist_stops_the_engine_at_start(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc(11, 27, 15))
    with pytest.raises(ValueError, match=r"unknown keys \['equities'\].*asset class"):
        async with session_engine(tmp_path, clock, sessions={"flatten_before_close": {"equities": 15}}):
            pass
