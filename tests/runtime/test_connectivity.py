"""The connectivity supervisor in a running engine on the paper venue: reconnect with backoff and
jitter, orders denied until the venue has reconciled, failover to a backup session.

The reconnect waits go through `Waits`, an injectable sleep that records each requested delay and
returns only when the test lets it: nothing here depends on how long anything takes.
"""

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.risk.fakes import settle, signal
from tests.runtime.engines import engine_settings
from tradewire.domain.enums import OrderStatus, SignalOutcome
from tradewire.domain.events import VenueHealthChanged
from tradewire.domain.health import VenueHealth, VenueStatus
from tradewire.domain.ids import AccountId, VenueId
from tradewire.domain.reports import OrderStatusReport
from tradewire.journal.sqlite import sqlite_journal
from tradewire.oms.results import SignalResult
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings
from tradewire.venues.failover import FailoverVenue
from tradewire.venues.paper.client import PaperVenue

PAPER = VenueId("paper")
WITH_BACKUP = {"max_attempts": 2, "backup_connections": {"paper": ["backup-1"]}}


class Waits:
    """An injectable sleep: records each delay asked for, and returns when the test releases it."""

    def __init__(self) -> None:
        self.requested: list[float] = []
        self._passes = asyncio.Semaphore(0)

    async def __call__(self, seconds: float) -> None:
        self.requested.append(seconds)
        await self._passes.acquire()

    def release(self) -> None:
        self._passes.release()

    async def asked(self, count: int) -> None:
        """Until `count` waits have been asked for."""
        await eventually(lambda: len(self.requested) >= count)


async def eventually(condition: Callable[[], bool], rounds: int = 1000) -> None:
    """Let the engine work (journal writes finish on a thread) until `condition` holds."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.005)
    assert condition()


@asynccontextmanager
async def supervised_engine(
    tmp_path: Path, waits: Waits, seed: int = 7, **overrides: Any
) -> AsyncIterator[Engine]:
    settings = engine_settings(tmp_path, **overrides)
    async with Engine(settings, backoff_sleep=waits, jitter_random=random.Random(seed)) as engine:
        await active_paper(engine).step()
        yield engine


def active_paper(engine: Engine) -> PaperVenue:
    """The paper session the engine talks to now (through the failover wrapper when there is one)."""
    venue = engine.manager.venues[PAPER]
    client = venue.active if isinstance(venue, FailoverVenue) else venue
    assert isinstance(client, PaperVenue)
    return client


def status(engine: Engine) -> VenueStatus:
    found = engine.venue_health.get(PAPER)
    assert found is not None
    return found


async def buy(engine: Engine, quantity: str = "1") -> SignalResult:
    return await engine.service.submit_signal(signal("s", "buy", quantity))


# --- backoff ---


async def test_reconnect_waits_double_per_attempt_up_to_the_cap_without_jitter(tmp_path: Path) -> None:
    waits = Waits()
    connectivity = {"backoff_base": 1, "backoff_cap": 4, "jitter": False}
    async with supervised_engine(tmp_path, waits, connectivity=connectivity) as engine:
        active_paper(engine).simulate_outage()
        for attempt in range(1, 6):
            await waits.asked(attempt)
            waits.release()  # the attempt fails: the outage lasts
        await waits.asked(6)

        assert waits.requested == [1, 2, 4, 4, 4, 4]
        assert status(engine).attempt == 6, "without a backup it keeps trying at the cap"


async def test_reconnect_waits_are_jittered_reproducibly_with_a_seeded_random(tmp_path: Path) -> None:
    waits = Waits()
    connectivity = {"backoff_base": 1, "backoff_cap": 4}
    async with supervised_engine(tmp_path, waits, seed=3, connectivity=connectivity) as engine:
        active_paper(engine).simulate_outage()
        for attempt in range(1, 5):
            await waits.asked(attempt)
            waits.release()
        await waits.asked(5)

    ceilings = [1, 2, 4, 4, 4]
    same_seed = random.Random(3)
    assert waits.requested == [ceiling * same_seed.random() for ceiling in ceilings]
    assert all(0 <= wait < ceiling for wait, ceiling in zip(waits.requested, ceilings, strict=True))


async def test_a_venue_that_comes_back_by_itself_ends_the_wait_and_reconciles(tmp_path: Path) -> None:
    waits = Waits()
    async with supervised_engine(tmp_path, waits) as engine:
        paper = active_paper(engine)
        paper.simulate_disconnect()
        await waits.asked(1)
        paper.reconnect()

        await eventually(lambda: status(engine).health is VenueHealth.CONNECTED)
        assert len(waits.requested) == 1, "never released: the wait ended because the venue came back"
        assert (await buy(engine)).outcome is SignalOutcome.ACCEPTED


# --- orders while the venue recovers ---


async def test_orders_are_denied_while_reconnecting_and_reconciling_and_flow_after(tmp_path: Path) -> None:
    waits = Waits()
    async with supervised_engine(tmp_path, waits) as engine:
        paper = active_paper(engine)
        paper.simulate_outage()
        await waits.asked(1)

        first = await buy(engine)
        assert (first.outcome, first.reason_code) == (SignalOutcome.DENIED, "venue_not_ready")
        assert first.reason == "venue paper is reconnecting (attempt 1); orders resume after it reconciles"

        waits.release()
        await waits.asked(2)
        second = await buy(engine)
        assert second.reason == "venue paper is reconnecting (attempt 2); orders resume after it reconciles"

        # The next attempt connects; hold the reconciliation at its first question to the venue.
        answer = asyncio.Event()
        open_orders = paper.open_orders

        async def held_open_orders(account: AccountId | None = None) -> list[OrderStatusReport]:
            await answer.wait()
            return await open_orders(account)

        paper.open_orders = held_open_orders  # type: ignore[method-assign]
        paper.end_outage()
        waits.release()
        await eventually(lambda: status(engine).health is VenueHealth.RECONCILING)
        reconciling = await buy(engine)
        assert reconciling.outcome is SignalOutcome.DENIED
        assert reconciling.reason == (
            "venue paper is reconciling after it connected; orders resume after it reconciles"
        )

        answer.set()
        await eventually(lambda: status(engine).health is VenueHealth.CONNECTED)
        after = await buy(engine)
        assert after.outcome is SignalOutcome.ACCEPTED
        await settle()
        assert engine.service.order(after.client_order_ids[0]).status is OrderStatus.FILLED
        assert status(engine).last_reconciliation == "clean"


async def test_a_failed_reconciliation_after_a_reconnect_is_retried_before_orders_flow(
    tmp_path: Path,
) -> None:
    waits = Waits()
    async with supervised_engine(tmp_path, waits) as engine:
        paper = active_paper(engine)
        open_orders = paper.open_orders
        failures = [TimeoutError()]

        async def flaky_open_orders(account: AccountId | None = None) -> list[OrderStatusReport]:
            if failures:
                raise failures.pop()
            return await open_orders(account)

        paper.open_orders = flaky_open_orders  # type: ignore[method-assign]
        paper.simulate_disconnect()
        await waits.asked(1)
        waits.release()  # attempt 1 connects; its reconciliation times out

        await waits.asked(2)
        assert status(engine).health is VenueHealth.RECONCILING
        assert status(engine).last_reconciliation == "failed: TimeoutError"
        assert (await buy(engine)).reason_code == "venue_not_ready"
        waits.release()

        await eventually(lambda: status(engine).health is VenueHealth.CONNECTED)
        assert (await buy(engine)).outcome is SignalOutcome.ACCEPTED


# --- failover ---


async def test_after_max_attempts_it_fails_over_to_the_backup_and_recovers_the_lost_fill(
    tmp_path: Path,
) -> None:
    waits = Waits()
    async with supervised_engine(tmp_path, waits, connectivity=WITH_BACKUP) as engine:
        venue = engine.manager.venues[PAPER]
        assert isinstance(venue, FailoverVenue)
        primary = active_paper(engine)
        result = await buy(engine, "3")
        primary.simulate_outage()  # the venue fills the order; the reports are lost with the link
        await settle()
        order_id = result.client_order_ids[0]
        assert engine.service.order(order_id).status is OrderStatus.SUBMITTED

        for attempt in (1, 2):
            await waits.asked(attempt)
            waits.release()
        await waits.asked(3)
        assert (status(engine).connection, status(engine).attempt) == ("backup-1", 1)
        assert (await buy(engine)).reason == (
            "venue paper is reconnecting (attempt 1 on backup connection backup-1); "
            "orders resume after it reconciles"
        )
        waits.release()

        await eventually(lambda: status(engine).health is VenueHealth.DEGRADED)
        assert active_paper(engine) is not primary and venue.active_name == "backup-1"
        assert engine.service.order(order_id).status is OrderStatus.FILLED
        assert [f.inferred for f in engine.service.fills()] == [True]
        assert [p.quantity for p in engine.service.positions()] == [3]
        assert status(engine).reason == "running on backup connection backup-1"

        follow_up = await buy(engine)
        assert follow_up.outcome is SignalOutcome.ACCEPTED
        await settle()
        assert engine.service.order(follow_up.client_order_ids[0]).status is OrderStatus.FILLED

    journaled = [
        (record.health, record.connection)
        for _, record in sqlite_journal(tmp_path / "journal.sqlite").replay()
        if isinstance(record, VenueHealthChanged)
    ]
    assert journaled == [
        (VenueHealth.RECONCILING, "primary"),
        (VenueHealth.CONNECTED, "primary"),
        (VenueHealth.DOWN, "primary"),
        (VenueHealth.DOWN, "backup-1"),
        (VenueHealth.RECONCILING, "backup-1"),
        (VenueHealth.DEGRADED, "backup-1"),
    ]


async def test_when_the_backup_fails_too_it_goes_round_to_a_new_primary_session(tmp_path: Path) -> None:
    waits = Waits()
    async with supervised_engine(tmp_path, waits, connectivity=WITH_BACKUP) as engine:
        active_paper(engine).simulate_outage()
        for attempt in (1, 2):
            await waits.asked(attempt)
            waits.release()
        await waits.asked(3)
        waits.release()
        await eventually(lambda: status(engine).health is VenueHealth.DEGRADED)
        active_paper(engine).simulate_outage()
        for attempt in (4, 5):
            await waits.asked(attempt)
            waits.release()
        await waits.asked(6)
        assert status(engine).connection == "primary" and not status(engine).on_backup
        waits.release()

        await eventually(lambda: status(engine).health is VenueHealth.CONNECTED)
        assert (await buy(engine)).outcome is SignalOutcome.ACCEPTED


# --- settings ---


def test_a_backup_for_a_venue_that_is_not_configured_is_refused(tmp_path: Path) -> None:
    settings = engine_settings(tmp_path, connectivity={"backup_connections": {"nowhere": ["b"]}})

    with pytest.raises(ValueError, match=r"names \['nowhere'\], which are not configured venues"):
        asyncio.run(Engine(settings).start())


def test_a_cap_below_the_base_is_refused() -> None:
    with pytest.raises(ValidationError, match="backoff_cap"):
        Settings(connectivity={"backoff_base": 5, "backoff_cap": 1})


def test_a_backup_may_not_be_called_primary() -> None:
    with pytest.raises(ValidationError, match="not 'primary'"):
        Settings(connectivity={"backup_connections": {"paper": ["primary"]}})
