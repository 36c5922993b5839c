"""Seeded fault injection on the ccxt adapter: the engine trades through `FaultyVenue(CcxtVenue)` at
the local fake exchange, and after healing its state must be the exchange's truth (the invariants of
`tests/chaos/faults/invariants.py`).

Unlike the paper scenarios, the wrapped venue here does real I/O on real time, so a run is not replayed
exactly from its seed (the seed fixes the faults and the workload, not the network's timing); a failure
prints the seed, the faults injected and the violations. No crashes here: crash recovery is proven on
the paper venue; this proves the adapter's answers (unknown outcomes, duplicates, a dropped stream)
let the engine converge.
"""

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.chaos.faults.invariants import check_invariants, replayed_digest, venue_truth
from tests.chaos.faults.scenario import random_plan
from tests.fakes.exchange import FakeExchange
from tests.venues.ccxt.on_fake import ACCOUNT, BOOK, fake_venue, subscribed, until
from tradewire.domain.clock import LiveClock
from tradewire.domain.enums import OPEN_STATUSES, OrderStatus
from tradewire.domain.errors import Conflict, InvalidInput, NotFound
from tradewire.domain.ids import ClientOrderId, VenueId
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings
from tradewire.venues.faults import FaultyVenue

EXCHANGE = "bybit"
VENUE = VenueId(EXCHANGE)
SEEDS = range(8)
ACTIONS = 6
IN_FLIGHT = frozenset(
    {OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE}
)


class SkippingClock(LiveClock):
    """Real time, which the heal step can move ahead so the in-flight timeout passes at once."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        return super().now() + self.ahead


async def quick_backoff(seconds: float) -> None:
    await asyncio.sleep(0.01)


async def run_seed(fake: FakeExchange, seed: int, directory: Path) -> list[str]:
    chance = random.Random(seed)
    api_key = f"chaos-{seed}"
    fake.add_account(api_key, {"USDT": Decimal(100_000)})
    fake.set_price(BOOK, Decimal(99), Decimal(101))
    inner = fake_venue(fake, EXCHANGE, directory, api_key=api_key, reconnect_delay=0.05)
    faulty = FaultyVenue(inner, random_plan(chance, lost_requests=False), seed)
    settings = Settings(
        data_dir=directory,
        paper={"enabled": False},
        accounts=[{"id": ACCOUNT, "venue": EXCHANGE, "currency": "USDT"}],
        journal={"durability": "os"},
        reconcile_interval=None,
        kill_switch={"venue_down_seconds": None, "reject_rate": None},
    )
    clock = SkippingClock()
    async with Engine(settings, clock, venues={VENUE: faulty}, backoff_sleep=quick_backoff) as engine:
        await until(subscribed(fake, EXCHANGE, api_key), "the user-data subscription")
        for _ in range(ACTIONS):
            await act(engine, fake, chance)
            await faulty.pump()
        faulty.heal()
        await faulty.drain()
        await until(lambda: faulty.connected, "the venue to come back")
        await engine.reconcile(VENUE)
        await faulty.drain()
        # A request lost on the way is settled by the in-flight check once its timeout has passed.
        clock.ahead += engine.in_flight_timeout + timedelta(seconds=1)
        await engine.check_in_flight_once()
        await faulty.drain()
        await until(
            lambda: not any(o.status in IN_FLIGHT for o in engine.manager.ledger.orders.values()),
            "every order to settle",
        )
        await engine.manager.journal.flush()
        ledger = engine.manager.ledger
        truth = await venue_truth(inner, ledger)
        at_venue = Counter(
            ClientOrderId(o.client_order_id) for o in fake.engine.orders_of(f"{EXCHANGE}:{api_key}")
        )
        violations = check_invariants(
            ledger, truth, venue=VENUE, submits=at_venue, replayed=replayed_digest(engine.manager.journal)
        )
        return [*violations, f"faults injected: {faulty.describe_injected()}"] if violations else []


async def act(engine: Engine, fake: FakeExchange, chance: random.Random) -> None:
    """One step of the workload: a market or resting limit signal, a cancel, or a market move."""
    action = chance.choice(["market", "market", "limit", "cancel", "move"])
    quantity = str(Decimal(chance.randint(1, 5)) / 100)
    try:
        if action == "market":
            side = chance.choice(["buy", "buy", "sell"])
            await engine.service.submit_signal(
                {"strategy": "chaos", "instrument": "BTC/USDT", "side": side, "quantity": quantity}
            )
        elif action == "limit":
            price = str(Decimal(chance.randint(950, 1000)) / 10)
            await engine.service.submit_signal(
                {
                    "strategy": "chaos",
                    "instrument": "BTC/USDT",
                    "side": "buy",
                    "quantity": quantity,
                    "order_type": "limit",
                    "limit_price": price,
                }
            )
        elif action == "cancel":
            working = [o for o in engine.manager.ledger.orders.values() if o.status in OPEN_STATUSES]
            if working:
                await engine.service.cancel_order(chance.choice(working).client_order_id, "chaos")
        else:
            bid = Decimal(chance.randint(960, 1000)) / 10
            fake.set_price(BOOK, bid, bid + 2)
    except (InvalidInput, Conflict, NotFound):
        pass  # refused with a clear error and nothing changed: part of what may happen


async def test_seeded_faults_around_the_ccxt_adapter_keep_every_invariant(tmp_path: Path) -> None:
    failures: list[str] = []
    async with FakeExchange() as fake:
        for seed in SEEDS:
            violations = await run_seed(fake, seed, tmp_path / f"seed-{seed}")
            failures += [f"seed {seed}: {violation}" for violation in violations]

    assert failures == []
