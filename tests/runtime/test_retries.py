"""Venue refusals end to end on the paper venue: a busy venue is retried a bounded number of times
and each retry journaled; a refusal or bad credentials is final; the kill switch and cancels are
honoured between tries; and nothing whose outcome is unknown is ever sent twice, across restarts."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.risk.fakes import passive_buy, settle, signal
from tests.runtime.engines import engine_settings, paper_of, running_engine
from tests.servers import require_redis, unique_prefix
from tradewire.domain.enums import OrderStatus, SignalOutcome, TradingState
from tradewire.domain.errors import VenueAuthFailed, VenueBusy, VenueRefused
from tradewire.domain.events import OrderSpec, VenueRequestRetried
from tradewire.domain.ids import ClientOrderId
from tradewire.journal.sqlite import sqlite_journal
from tradewire.oms.results import SignalResult
from tradewire.runtime.node import Engine
from tradewire.services.views import OrderView
from tradewire.venues.paper.client import PaperVenue

FAST_RETRIES = {"retries": {"attempts": 3, "base_delay": 0.001, "max_delay": 1.0}}


class Delivered:
    """The submits the paper venue took in (a busy refusal raises before it acts, so is not here)."""

    def __init__(self, paper: PaperVenue) -> None:
        self.orders: list[ClientOrderId] = []
        self.tries = 0
        self.refused = asyncio.Event()
        self.then_raise: BaseException | None = None
        """Raised after the venue took the next submit: a lost answer (unknown outcome)."""
        submit = paper.submit

        async def delivering(order: OrderSpec) -> None:
            self.tries += 1
            try:
                await submit(order)
            except VenueBusy:
                self.refused.set()
                raise
            self.orders.append(order.client_order_id)
            if self.then_raise is not None:
                error, self.then_raise = self.then_raise, None
                raise error

        paper.submit = delivering  # type: ignore[method-assign]


@asynccontextmanager
async def engine_with_retries(data_dir: Path, **overrides: Any) -> AsyncIterator[tuple[Engine, Delivered]]:
    async with running_engine(
        data_dir, venue_requests=overrides.pop("venue_requests", FAST_RETRIES)
    ) as engine:
        yield engine, Delivered(paper_of(engine))


async def retries_journaled(engine: Engine, data_dir: Path) -> list[VenueRequestRetried]:
    await engine.manager.journal.flush()
    journal = sqlite_journal(data_dir / "journal.sqlite")
    return [r for _, r in journal.replay() if isinstance(r, VenueRequestRetried)]


async def one_order(engine: Engine, payload: dict[str, Any]) -> tuple[SignalResult, OrderView]:
    result = await engine.service.submit_signal(payload)
    await settle()
    assert result.client_order_ids, result.reason
    return result, engine.service.order(result.client_order_ids[0])


# --- submit ---


async def test_a_venue_busy_twice_then_free_gets_the_order_once(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(2)
        result, order = await one_order(engine, signal("s", "buy", "1"))
        assert result.outcome is SignalOutcome.ACCEPTED
        assert order.status is OrderStatus.FILLED
        assert delivered.orders == [order.client_order_id]
        retries = await retries_journaled(engine, tmp_path)
    assert [(r.request, r.attempt, r.client_order_id) for r in retries] == [
        ("submit", 1, order.client_order_id),
        ("submit", 2, order.client_order_id),
    ]
    assert "busy" in retries[0].reason


async def test_a_venue_busy_at_every_try_rejects_the_order_saying_so(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(10)
        _, order = await one_order(engine, signal("s", "buy", "1"))
        assert order.status is OrderStatus.REJECTED
        assert order.reason == "not sent: venue busy 3 times: paper is busy (simulated rate limit)"
        assert delivered.orders == []
        assert len(await retries_journaled(engine, tmp_path)) == 2
        assert delivered.tries == 3
        assert await paper_of(engine).order_status(ClientOrderId(order.client_order_id)) is None


async def test_a_retry_after_longer_than_the_policy_allows_is_not_waited_for(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(1, retry_after=3600)
        _, order = await one_order(engine, signal("s", "buy", "1"))
        assert order.status is OrderStatus.REJECTED
        assert order.reason is not None and order.reason.startswith("not sent: venue busy once")
        assert delivered.orders == []


async def test_a_refusal_rejects_the_order_with_its_code_and_is_not_retried(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).fail_next_requests(
            VenueRefused("insufficient_funds", "balance 12 USD, order needs 230")
        )
        _, order = await one_order(engine, signal("s", "buy", "1"))
        assert order.status is OrderStatus.REJECTED
        assert order.reason == "insufficient_funds: balance 12 USD, order needs 230"
        assert delivered.orders == []
        assert await retries_journaled(engine, tmp_path) == []


async def test_refused_credentials_halt_the_venue_until_a_person_resumes_it(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).fail_next_requests(VenueAuthFailed("API key revoked"))
        _, order = await one_order(engine, signal("s", "buy", "1"))
        assert order.status is OrderStatus.REJECTED
        assert order.reason == "not sent: API key revoked"
        assert engine.manager.ledger.trading_states["venue:paper"] is TradingState.HALTED
        after = await engine.service.submit_signal(signal("s", "buy", "1"))
        assert after.outcome is SignalOutcome.DENIED
        assert delivered.orders == []


async def test_the_kill_switch_engaged_between_tries_stops_the_order(tmp_path: Path) -> None:
    retries = {"retries": {"attempts": 3, "base_delay": 0.001, "max_delay": 1.0}}
    async with engine_with_retries(tmp_path, venue_requests=retries) as (engine, delivered):
        paper_of(engine).simulate_busy(1, retry_after=0.05)
        sending = asyncio.create_task(engine.service.submit_signal(signal("s", "buy", "1")))
        await delivered.refused.wait()
        await engine.service.engage_kill_switch("portfolio", "risk officer", "test", cancel_working=False)
        result = await sending
        order = engine.service.order(result.client_order_ids[0])
        assert order.status is OrderStatus.CANCELED
        assert order.reason is not None and order.reason.startswith("not sent: trading is halted")
        assert delivered.orders == []


async def test_a_cancel_between_tries_cancels_the_order_here_and_it_is_never_sent(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(1, retry_after=0.05)
        sending = asyncio.create_task(engine.service.submit_signal(signal("s", "buy", "1")))
        await delivered.refused.wait()
        [working] = engine.manager.ledger.open_orders
        canceled = await engine.service.cancel_order(working, "trader")
        await sending
        assert canceled.status is OrderStatus.CANCELED
        assert (
            engine.service.order(working).reason
            == "not sent: canceled by trader while it waited for a busy venue"
        )
        assert delivered.orders == []


async def test_the_kill_switch_cancels_an_order_waiting_between_tries(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(1, retry_after=0.05)
        sending = asyncio.create_task(engine.service.submit_signal(signal("s", "buy", "1")))
        await delivered.refused.wait()
        engaged = await engine.service.engage_kill_switch("portfolio", "risk officer", "test")
        await sending
        [canceled] = engaged.canceled
        order = engine.service.order(canceled)
        assert order.status is OrderStatus.CANCELED
        assert order.reason == "not sent: canceled by risk officer while it waited for a busy venue"
        assert (delivered.tries, delivered.orders) == (1, [])


# --- cancel and amend ---


async def test_a_cancel_refused_as_busy_is_retried_and_cancels(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, _):
        _, order = await one_order(engine, passive_buy(engine, "s", "1"))
        assert order.status is OrderStatus.ACCEPTED
        paper_of(engine).simulate_busy(2)
        await engine.service.cancel_order(order.client_order_id, "trader")
        await settle()
        assert engine.service.order(order.client_order_id).status is OrderStatus.CANCELED
        retries = await retries_journaled(engine, tmp_path)
        assert [(r.request, r.attempt) for r in retries] == [("cancel", 1), ("cancel", 2)]


async def test_a_cancel_busy_at_every_try_is_rejected_and_the_order_keeps_working(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, _):
        _, order = await one_order(engine, passive_buy(engine, "s", "1"))
        paper_of(engine).simulate_busy(3)
        await engine.service.cancel_order(order.client_order_id, "trader")
        await settle()
        assert engine.service.order(order.client_order_id).status is OrderStatus.ACCEPTED
        reports = await paper_of(engine).open_orders()
        assert [r.client_order_id for r in reports] == [order.client_order_id]


async def test_an_amend_refused_as_busy_is_retried_and_applied(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, _):
        _, order = await one_order(engine, passive_buy(engine, "s", "1"))
        paper_of(engine).simulate_busy(1)
        await engine.service.modify_order(order.client_order_id, "trader", quantity=Decimal(2))
        await settle()
        assert engine.service.order(order.client_order_id).quantity == Decimal(2)
        [retry] = await retries_journaled(engine, tmp_path)
        assert (retry.request, retry.attempt) == ("modify", 1)


async def test_an_amend_refused_by_the_venue_is_rejected_with_its_code(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, _):
        _, order = await one_order(engine, passive_buy(engine, "s", "1"))
        paper_of(engine).fail_next_requests(VenueRefused("insufficient_funds", "margin"))
        await engine.service.modify_order(order.client_order_id, "trader", quantity=Decimal(2))
        await settle()
        after = engine.service.order(order.client_order_id)
        assert (after.status, after.quantity) == (OrderStatus.ACCEPTED, Decimal(1))


# --- rate budget ---


async def test_the_rate_budget_paces_order_entry_before_the_venue_is_asked(tmp_path: Path) -> None:
    requests = {
        **FAST_RETRIES,
        "rate_budget": {"max_wait": 0, "venues": {"paper": {"limits": [{"requests": 1, "seconds": 60}]}}},
    }
    async with engine_with_retries(tmp_path, venue_requests=requests) as (engine, delivered):
        _, first = await one_order(engine, signal("s", "buy", "1"))
        _, second = await one_order(engine, signal("s", "buy", "1"))
        assert first.status is OrderStatus.FILLED
        assert second.status is OrderStatus.REJECTED
        assert second.reason is not None and "rate budget paper is spent" in second.reason
        assert delivered.orders == [first.client_order_id]


# --- crashes and unknown outcomes ---


async def test_an_engine_stopped_between_tries_never_sends_the_order_after_restart(tmp_path: Path) -> None:
    retries = {"retries": {"attempts": 3, "base_delay": 0.001, "max_delay": 30.0}}
    async with engine_with_retries(tmp_path, venue_requests=retries) as (engine, delivered):
        paper_of(engine).simulate_busy(1, retry_after=20)
        sending = asyncio.create_task(engine.service.submit_signal(signal("s", "buy", "1")))
        await delivered.refused.wait()
        await engine.manager.journal.flush()
        [waiting] = engine.manager.ledger.open_orders
        sending.cancel()  # the process dies while the order waits to be tried again
        await asyncio.gather(sending, return_exceptions=True)
    async with running_engine(tmp_path) as restarted:
        again = Delivered(paper_of(restarted))
        await settle()
        order = restarted.service.order(waiting)
        assert order.status is OrderStatus.REJECTED
        assert order.reason == "not found at the venue: it never left this engine (not resent)"
        assert await paper_of(restarted).order_status(waiting) is None
        assert delivered.orders == again.orders == []


async def test_an_unknown_outcome_after_a_busy_try_is_never_tried_again(tmp_path: Path) -> None:
    async with engine_with_retries(tmp_path) as (engine, delivered):
        paper_of(engine).simulate_busy(1)
        delivered.then_raise = TimeoutError("the answer was lost")
        _, order = await one_order(engine, signal("s", "buy", "1"))
        assert delivered.orders == [order.client_order_id], "sent once, not again after the timeout"
        assert len(await retries_journaled(engine, tmp_path)) == 1
        assert order.status is OrderStatus.FILLED, "the venue's own reports settle it"
    async with Engine(engine_settings(tmp_path)) as restarted:
        again = Delivered(paper_of(restarted))
        await settle()
        assert restarted.service.order(order.client_order_id).status is OrderStatus.FILLED
        assert again.orders == []
        [position] = restarted.service.positions()
        assert position.quantity == Decimal(1)


async def test_two_engines_on_one_api_key_share_one_budget_through_redis(tmp_path: Path) -> None:
    budget = {
        "backend": "redis",
        "redis_url": require_redis(),
        "key_prefix": unique_prefix("engine-rate"),
        "max_wait": 0,
        "venues": {"paper": {"key": "shared-key", "limits": [{"requests": 1, "seconds": 60}]}},
    }
    requests = {**FAST_RETRIES, "rate_budget": budget}
    async with (
        engine_with_retries(tmp_path / "one", venue_requests=requests) as (one, one_delivered),
        engine_with_retries(tmp_path / "two", venue_requests=requests) as (two, two_delivered),
    ):
        _, first = await one_order(one, signal("s", "buy", "1"))
        _, second = await one_order(two, signal("s", "buy", "1"))
        assert first.status is OrderStatus.FILLED
        assert second.status is OrderStatus.REJECTED
        assert second.reason is not None and "rate budget shared-key is spent" in second.reason
        assert (len(one_delivered.orders), len(two_delivered.orders)) == (1, 0)
