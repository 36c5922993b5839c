"""The in-flight check end to end: an engine on the paper venue behind a `FaultyVenue` that loses the
chosen request (or its answer), on a manual clock, settled by one pass of `check_in_flight_once`
once the in-flight timeout has passed, while the engine keeps running (docs/recovery.md)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderStatus, VenueOrderStatus
from tradewire.domain.errors import VenueUnavailable
from tradewire.domain.events import CancelOrder, JournalRecord, OrderCancelRejected, OrderReplaceRejected
from tradewire.domain.ids import ClientOrderId, InstrumentId, VenueId
from tradewire.domain.orders import Order
from tradewire.domain.reports import OrderStatusReport
from tradewire.runtime.node import IN_FLIGHT_CHECK, Engine
from tradewire.runtime.settings import Settings
from tradewire.venues.faults import CALM, FaultPlan, FaultyVenue
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig

VENUE = VenueId("paper")
EURUSD = InstrumentId("EURUSD")
TICK = Decimal("0.00001")
LOST = FaultPlan(request_lost=1.0)


@dataclass
class Rig:
    engine: Engine
    paper: PaperVenue
    faulty: FaultyVenue
    clock: ManualClock

    def order(self, client_order_id: ClientOrderId) -> Order:
        return self.engine.manager.ledger.orders[client_order_id]

    async def pump(self) -> None:
        await self.faulty.pump()
        await asyncio.sleep(0)

    async def after_the_timeout(self) -> None:
        """Let the in-flight timeout pass and run one pass of the check."""
        self.clock.advance(self.engine.in_flight_timeout + timedelta(seconds=1))
        await self.engine.check_in_flight_once()
        await self.pump()

    async def resting_buy(self) -> ClientOrderId:
        quote = self.paper.current_quote(EURUSD)
        assert quote is not None
        result = await self.engine.service.submit_signal(
            {
                "strategy": "trend",
                "instrument": "EURUSD",
                "side": "buy",
                "quantity": "1000",
                "order_type": "limit",
                "limit_price": str(quote.bid - 20 * TICK),
            }
        )
        assert result.client_order_ids, result.reason
        await self.pump()
        return result.client_order_ids[0]

    async def journaled(self) -> list[JournalRecord]:
        await self.engine.manager.journal.flush()
        return [record for _, record in self.engine.manager.journal.replay()]


class StatusUnavailable(FaultyVenue):
    """A venue whose status query says it cannot be reached, though its connection looks up."""

    async def order_status(self, client_order_id: ClientOrderId) -> OrderStatusReport | None:
        raise VenueUnavailable("paper: the status query could not be sent")


@asynccontextmanager
async def rig(data_dir: Path, venue_class: type[FaultyVenue] = FaultyVenue) -> AsyncIterator[Rig]:
    clock = ManualClock()
    settings = Settings(
        data_dir=data_dir,
        journal={"durability": "os"},
        reconcile_interval=None,
        kill_switch={"venue_down_seconds": None, "reject_rate": None},
    )
    paper = PaperVenue(PaperVenueConfig(path=data_dir / "paper.sqlite", tick_interval=None, seed=11), clock)
    faulty = venue_class(paper, CALM, "in-flight")
    async with Engine(settings, clock, venues={VENUE: faulty}) as engine:
        await paper.step()
        for _ in range(100):
            await faulty.pump()
            if engine.venue_health.accepts_orders(VENUE):
                break
        assert engine.venue_health.accepts_orders(VENUE)
        yield Rig(engine, paper, faulty, clock)


async def test_a_submit_lost_on_the_way_is_rejected_once_the_timeout_passes_and_never_resent(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.faulty.plan = LOST
        client_order_id = await r.resting_buy()
        r.faulty.plan = CALM
        await r.engine.check_in_flight_once()
        assert r.order(client_order_id).status is OrderStatus.SUBMITTED, "not before the timeout"
        await r.after_the_timeout()
        order = r.order(client_order_id)
        assert order.status is OrderStatus.REJECTED
        assert (
            order.reason is not None and "the venue does not know the order: it never arrived" in order.reason
        )
        assert await r.paper.order_status(client_order_id) is None
        assert not r.faulty.submits_delivered, "a submit with an unknown outcome is never sent again"


async def test_a_submit_whose_answer_was_lost_takes_the_venue_s_status(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.faulty.plan = FaultPlan(request_timeout_after=1.0, drop=1.0)
        client_order_id = await r.resting_buy()
        r.faulty.plan = CALM
        assert r.order(client_order_id).status is OrderStatus.SUBMITTED
        await r.after_the_timeout()
        assert r.order(client_order_id).status is OrderStatus.ACCEPTED
        assert r.faulty.submits_delivered[client_order_id] == 1


async def test_a_cancel_lost_on_the_way_is_refused_then_sent_again_and_the_order_ends(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        client_order_id = await r.resting_buy()
        assert r.order(client_order_id).status is OrderStatus.ACCEPTED
        r.faulty.plan = LOST
        await r.engine.service.cancel_order(client_order_id, "trader")
        r.faulty.plan = CALM
        await r.pump()
        assert r.order(client_order_id).status is OrderStatus.PENDING_CANCEL
        await r.after_the_timeout()
        assert r.order(client_order_id).status is OrderStatus.CANCELED
        venue_order = await r.paper.order_status(client_order_id)
        assert venue_order is not None and venue_order.status is VenueOrderStatus.CANCELED
        records = [r for r in await r.journaled() if getattr(r, "client_order_id", None) == client_order_id]
        refusals = [r for r in records if isinstance(r, OrderCancelRejected)]
        assert [r.reason for r in refusals] == ["cancel got no answer in 6s; the venue still works the order"]
        assert [r.requested_by for r in records if isinstance(r, CancelOrder)] == ["trader", IN_FLIGHT_CHECK]


async def test_an_amend_lost_on_the_way_is_refused_and_the_order_keeps_its_old_terms(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        client_order_id = await r.resting_buy()
        r.faulty.plan = LOST
        await r.engine.service.modify_order(client_order_id, "trader", quantity=Decimal(3000))
        r.faulty.plan = CALM
        await r.pump()
        assert r.order(client_order_id).status is OrderStatus.PENDING_REPLACE
        await r.after_the_timeout()
        order = r.order(client_order_id)
        assert order.status is OrderStatus.ACCEPTED
        assert order.quantity == Decimal(1000)
        assert order.pending_quantity is None
        venue_order = await r.paper.order_status(client_order_id)
        assert venue_order is not None and venue_order.quantity == Decimal(1000)
        [refusal] = [r for r in await r.journaled() if isinstance(r, OrderReplaceRejected)]
        assert refusal.reason.startswith("amend got no answer in 6s")


async def test_a_venue_that_cannot_be_asked_leaves_the_order_for_the_next_pass(tmp_path: Path) -> None:
    async with rig(tmp_path, StatusUnavailable) as r:
        r.faulty.plan = LOST
        client_order_id = await r.resting_buy()
        r.faulty.plan = CALM
        await r.after_the_timeout()  # raises nothing: the check's task must survive this
        assert r.order(client_order_id).status is OrderStatus.SUBMITTED
