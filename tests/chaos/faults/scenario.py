"""One seeded fault scenario: an in-process engine on a faulty paper venue, crashed and healed.

From its seed alone a scenario draws its fault plan, a workload of 10-30 actions (market and limit
signals, cancels, amends), market steps between them, and at most one crash: either at an action
boundary or at a named probe inside the order path (after the order is journaled, after it is
sent, when a fill arrives). A crash loses whatever the journal was never asked to flush (a seeded
prefix of it survives), drops everything on the wire, and the engine restarts on the same data
directory against the same venue. Then the harness heals (no more faults, connection back, held
reports delivered, one reconciliation, the in-flight check once its timeout has passed) and checks
the invariants in `invariants.py`.

Everything runs on the test's event loop with a manual clock; the faulty venue's `pump` is the
only way reports move, so the same seed replays the same run.
"""

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.chaos.faults.invariants import check_invariants, replayed_digest, venue_truth
from tests.chaos.faults.journal import CrashableJournal
from tradewire.domain.clock import ManualClock
from tradewire.domain.enums import OrderStatus, OrderType
from tradewire.domain.errors import Conflict, InvalidInput, NotFound
from tradewire.domain.ids import ClientOrderId, InstrumentId, VenueId
from tradewire.journal.errors import JournalClosedError
from tradewire.journal.sqlite import sqlite_journal
from tradewire.oms.manager import no_probe
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import Settings
from tradewire.venues.faults import FaultPlan, FaultyVenue, total_injected
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig

SEED_VARIABLE = "TRADEWIRE_FAULT_SEED"
VENUE = VenueId("paper")
PROBES = ("order.journaled", "order.sent", "fill.received")
MARKET_STEP = timedelta(milliseconds=20)
"""Small enough that a whole run stays inside the engine's in-flight timeout (6 s): its own loop
wakes on real time and would make the run depend on the machine's speed, so only the heal step
runs the check (`Engine.check_in_flight_once`), after moving the manual clock past the timeout."""
RESTART_PAUSE = timedelta(milliseconds=100)
IN_FLIGHT_MARGIN = timedelta(seconds=1)
RECOVERY_TASKS = ("connectivity-", "reconcile-")
SETTLE_TIMEOUT = 10.0
# Quantity unit and a price band (in ticks) around the touch for limit orders, per instrument.
WORKLOAD: dict[str, tuple[Decimal, int]] = {
    "EURUSD": (Decimal(1000), 12),
    "BTC/USDT": (Decimal("0.001"), 150),
}
STRATEGIES = ("trend", "meanrev")

EngineHook = Callable[[Engine], None]


def rerun_command(seed: int, lost_requests: bool) -> str:
    variant = "lost_requests" if lost_requests else "default"
    return (
        f"{SEED_VARIABLE}={seed} .venv/bin/pytest tests/chaos/test_fault_injection.py "
        f'-k "replay_seed and {variant}"'
    )


def random_plan(chance: random.Random, *, lost_requests: bool) -> FaultPlan:
    """A fault mix for one scenario: some runs are gentle, some rough.

    Requests lost on the way are in every mix (the in-flight check settles them while the engine
    runs); `lost_requests` makes them more frequent, and those runs heal with a restart as well."""
    lost = chance.choice([0.0, 0.03])
    return FaultPlan(
        drop=chance.choice([0.0, 0.05, 0.15]),
        delay=chance.choice([0.0, 0.1, 0.3]),
        duplicate=chance.choice([0.0, 0.1, 0.25]),
        reorder=chance.choice([0.0, 0.2, 0.5]),
        cut=chance.choice([0.0, 0.03, 0.08]),
        request_unavailable=chance.choice([0.0, 0.03]),
        request_timeout_after=chance.choice([0.0, 0.05, 0.1]),
        request_lost=min(lost * 3, 0.1) if lost_requests else lost,
        query_failure=chance.choice([0.0, 0.05]),
    )


class SimulatedCrash(BaseException):
    """The engine process died here: nothing after this point happens in it.

    A `BaseException`, like the signal that kills a process, so no `except Exception` swallows it.
    """


@dataclass
class ScenarioResult:
    seed: int
    lost_requests: bool
    violations: list[str]
    injected: Counter[str]
    crashes: int
    orders: int
    fills: int
    anomalies: int
    digest: str
    trace: list[str] = field(default_factory=list)

    def failure(self) -> str:
        lines = [f"fault scenario seed {self.seed} broke {len(self.violations)} invariant(s):"]
        lines += [f"  - {violation}" for violation in self.violations[:20]]
        lines.append("what happened (last 60 actions and faults):")
        lines += [f"  {line}" for line in self.trace[-60:]]
        lines.append(f"rerun: {rerun_command(self.seed, self.lost_requests)}")
        return "\n".join(lines)


class Scenario:
    """Run with `await Scenario(seed, data_dir).run()`; the hooks plant bugs for the self-tests."""

    def __init__(
        self,
        seed: int,
        data_dir: Path,
        *,
        plan: FaultPlan | None = None,
        lost_requests: bool = False,
        venue_class: type[FaultyVenue] = FaultyVenue,
        after_start: EngineHook | None = None,
        crash: bool | None = None,
    ) -> None:
        self.seed = seed
        self.data_dir = data_dir
        self.chance = random.Random(seed)
        self.plan = plan if plan is not None else random_plan(self.chance, lost_requests=lost_requests)
        self._venue_class = venue_class
        self.lost_requests = lost_requests
        self.heal_with_restart = lost_requests
        """After healing, restart cleanly too: start-up reconciliation must agree with the in-flight check."""
        self._after_start = after_start
        self._crash = crash
        self.clock = ManualClock()
        self.settings = Settings(
            data_dir=data_dir,
            journal={"durability": "os"},
            reconcile_interval=None,
            kill_switch={"venue_down_seconds": None, "reject_rate": None},
        )
        self.paper_config = PaperVenueConfig(
            path=data_dir / "paper-venue.sqlite", tick_interval=None, seed=seed
        )
        self.trace: list[str] = []
        self.submits: Counter[ClientOrderId] = Counter()
        self.injected: Counter[str] = Counter()
        self.crashes = 0
        self.incarnation = 0
        self.dead = False
        self._engine: Engine | None = None
        self._paper: PaperVenue | None = None
        self._faulty: FaultyVenue | None = None
        self._journal: CrashableJournal | None = None
        self._unanswered: list[dict[str, Any]] = []
        self._parked = 0
        self._signals = 0

    # --- the run -----------------------------------------------------------------------------

    async def run(self) -> ScenarioResult:
        chance = self.chance
        actions = chance.randint(10, 30)
        crash_at = chance.randrange(actions) if (self._crash is None and chance.random() < 0.4) else None
        if self._crash:
            crash_at = chance.randrange(actions)
        await self._start()
        try:
            for index in range(actions):
                if index == crash_at:
                    self._arm_crash()
                    if self.dead:
                        await self._restart()
                try:
                    await self._act()
                    await self._advance()
                except (SimulatedCrash, JournalClosedError):
                    if not self.dead:
                        raise
                if self.dead:
                    await self._restart()
            await self._heal()
            return await self._check()
        finally:
            await self._stop()

    @property
    def engine(self) -> Engine:
        assert self._engine is not None
        return self._engine

    @property
    def paper(self) -> PaperVenue:
        assert self._paper is not None
        return self._paper

    @property
    def faulty(self) -> FaultyVenue:
        assert self._faulty is not None
        return self._faulty

    # --- engine lifecycle --------------------------------------------------------------------

    async def _start(self) -> None:
        """Start an engine incarnation on the data directory; the venue is the same broker as before.

        A start-up reconciliation that fails (a query fault) leaves the venue recovering in the
        background, as the engine does; it retries on the next pump."""
        self._paper = PaperVenue(self.paper_config, self.clock)
        self._faulty = self._venue_class(self._paper, self.plan, f"{self.seed}:{self.incarnation}")
        self._journal = CrashableJournal(sqlite_journal(self.settings.journal_path, "os"))
        self._engine = Engine(
            self.settings,
            self.clock,
            venues={VENUE: self._faulty},
            journal=self._journal,
            backoff_sleep=self._backoff,
        )
        await self._engine.start()
        if self._after_start is not None:
            self._after_start(self._engine)
        self._note(f"engine {self.incarnation} started")
        await self.paper.step()
        await self.faulty.pump()
        await self._engine_tasks()

    def _arm_crash(self) -> None:
        chance = self.chance
        if chance.random() < 0.4:
            self._note("crash now")
            self._die()
            return
        point, nth = chance.choice(PROBES), chance.randint(1, 3)
        self._note(f"crash armed at {point} #{nth}")
        passes = 0

        def probe(name: str) -> None:
            nonlocal passes
            if name != point or self.dead:
                return
            passes += 1
            if passes == nth:
                self._note(f"crash at {point} #{nth}")
                self._die()
                raise SimulatedCrash(f"{point} #{nth}")

        self.engine.manager.probe = probe

    def _die(self) -> None:
        """The process is gone: the journal keeps what it keeps, nothing more reaches the venue."""
        assert self._journal is not None
        self.dead = True
        self.crashes += 1
        self._journal.crash(self.chance)
        self._note(f"journal lost {self._journal.lost} unflushed records")

    async def _restart(self) -> None:
        await self._stop()
        self.dead = False
        self.incarnation += 1
        self.clock.advance(RESTART_PAUSE)
        await self._start()
        await self._resend_unanswered()

    async def _stop(self) -> None:
        if self._engine is None:
            return
        engine, self._engine = self._engine, None
        await engine.stop()
        self._collect_venue()

    def _collect_venue(self) -> None:
        """Keep what the harness learned from the faulty venue so far (it is replaced on restart)."""
        if self._faulty is None:
            return
        self.submits.update(self._faulty.submits_delivered)
        self.injected.update(total_injected([self._faulty]))
        self.trace += [
            f"engine {self.incarnation} step {i.step}: fault {i.fault} {i.detail}"
            for i in self._faulty.injected
        ]
        self._faulty.submits_delivered.clear()
        self._faulty.injected.clear()

    # --- the workload ------------------------------------------------------------------------

    async def _act(self) -> None:
        draw = self.chance.random()
        if draw < 0.55:
            await self._signal(self._new_signal())
        elif draw < 0.72:
            await self._cancel()
        elif draw < 0.85:
            await self._amend()

    def _new_signal(self) -> dict[str, Any]:
        chance = self.chance
        instrument = chance.choice(sorted(WORKLOAD))
        unit, band = WORKLOAD[instrument]
        side = chance.choice(["buy", "sell"])
        self._signals += 1
        signal: dict[str, Any] = {
            "strategy": chance.choice(STRATEGIES),
            "instrument": instrument,
            "side": side,
            "quantity": str(unit * chance.randint(1, 5)),
            "idempotency_key": f"fault-{self.seed}-{self._signals}",
        }
        quote = self.paper.current_quote(InstrumentId(instrument))
        if quote is not None and chance.random() < 0.6:
            tick = self.paper_tick(instrument)
            away = tick * chance.randint(-band // 4, band)  # mostly resting, some marketable
            price = quote.ask - away if side == "buy" else quote.bid + away
            signal |= {"order_type": "limit", "limit_price": str(price)}
        return signal

    def paper_tick(self, instrument: str) -> Decimal:
        return next(i.tick_size for i in self.paper.instruments() if i.instrument_id == instrument)

    async def _signal(self, signal: dict[str, Any]) -> None:
        """Send a signal; one the crash left unanswered is sent again after the restart, with its
        idempotency key, as a careful client would."""
        try:
            result = await self.engine.service.submit_signal(signal)
        except (SimulatedCrash, JournalClosedError):
            self._unanswered.append(signal)
            raise
        self._note(
            f"signal {signal['side']} {signal['quantity']} {signal['instrument']} "
            f"{signal.get('limit_price', 'market')} -> {result.outcome} {list(result.client_order_ids)}"
        )

    async def _resend_unanswered(self) -> None:
        while self._unanswered and not self.dead:
            signal = self._unanswered.pop(0)
            self._note(f"resend unanswered signal {signal['idempotency_key']}")
            await self._signal(signal)

    def _pick(self, statuses: frozenset[OrderStatus]) -> ClientOrderId | None:
        candidates = sorted(
            cid for cid, order in self.engine.manager.ledger.open_orders.items() if order.status in statuses
        )
        return self.chance.choice(candidates) if candidates else None

    async def _cancel(self) -> None:
        target = self._pick(
            frozenset({OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
        )
        if target is None:
            return
        try:
            order = await self.engine.service.cancel_order(target, "fault-harness")
        except (Conflict, NotFound) as error:
            self._note(f"cancel {target}: {error}")
            return
        self._note(f"cancel {target} -> {order.status}")

    async def _amend(self) -> None:
        target = self._pick(frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED}))
        if target is None:
            return
        order = self.engine.manager.ledger.orders[target]
        unit, band = WORKLOAD[order.instrument]
        chance = self.chance
        quantity = limit_price = None
        if chance.random() < 0.5 or order.limit_price is None or order.order_type is not OrderType.LIMIT:
            quantity = order.filled_quantity + unit * chance.randint(1, 5)
        else:
            tick = self.paper_tick(order.instrument)
            limit_price = order.limit_price + tick * chance.randint(-band // 3, band // 3)
            if limit_price <= 0:
                return
        try:
            result = await self.engine.service.modify_order(
                target, "fault-harness", quantity=quantity, limit_price=limit_price
            )
        except (Conflict, NotFound, InvalidInput) as error:
            self._note(f"amend {target}: {error}")
            return
        self._note(f"amend {target} to {quantity} at {limit_price} -> denied={result.denied}")

    async def _advance(self) -> None:
        """Move the market a little, then let the faulty venue deliver what is due."""
        if self.chance.random() < 0.6:
            for _ in range(self.chance.randint(1, 3)):
                self.clock.advance(MARKET_STEP)
                await self.paper.step()
        await self.faulty.pump()
        await self._engine_tasks()

    async def _backoff(self, seconds: float) -> None:
        """The engine's reconnect and re-reconcile waits last until the next pump, not `seconds`."""
        self._parked += 1
        try:
            await self.faulty.next_step()
        finally:
            self._parked -= 1

    async def _engine_tasks(self) -> None:
        """Wait until the engine's own recovery (reconnect, reconcile) is done or waits for the next
        pump, so the next action does not race it and the run stays reproducible. (The supervisor
        sleeps in a task of its own: a recovery with a sleeper parked on the pump is waiting.)"""
        deadline = asyncio.get_running_loop().time() + SETTLE_TIMEOUT
        while True:
            busy = [
                task
                for task in asyncio.all_tasks()
                if task.get_name().startswith(RECOVERY_TASKS) and not task.done()
            ]
            if len(busy) <= self._parked:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the engine's recovery did not settle: {busy}")
            await asyncio.sleep(0.0005)

    # --- healing and the verdict -------------------------------------------------------------

    async def _heal(self) -> None:
        """No more faults, the connection back, what was held delivered, one reconciliation, then
        one pass of the in-flight check once its timeout has passed (it settles a request lost on
        the way); with `heal_with_restart`, then a clean restart."""
        self.engine.manager.probe = no_probe
        self._note("heal")
        self.faulty.heal()
        await self._engine_tasks()
        await self.faulty.drain()
        await self.faulty.pump()  # wakes a recovery waiting to retry, now without faults
        await self._engine_tasks()
        await self.engine.reconcile(VENUE)
        await self.faulty.drain()
        await self._check_in_flight()
        await self.engine.manager.journal.flush()
        if self.heal_with_restart:
            self._note("clean restart")
            await self._stop()
            self.plan = FaultPlan()
            self.incarnation += 1
            self.clock.advance(RESTART_PAUSE)
            await self._start()
            await self.faulty.drain()
            await self.engine.manager.journal.flush()

    async def _check_in_flight(self) -> None:
        """Let the in-flight timeout pass on the manual clock and run the check, twice: a cancel
        it sends again is answered (drained) before the second pass looks."""
        for _ in range(2):
            self.clock.advance(self.engine.in_flight_timeout + IN_FLIGHT_MARGIN)
            await self.engine.check_in_flight_once()
            await self.faulty.drain()
            await self.faulty.pump()
        self._note("in-flight check")

    async def _check(self) -> ScenarioResult:
        ledger = self.engine.manager.ledger
        truth = await venue_truth(self.paper, ledger)
        self._collect_venue()
        violations = check_invariants(
            ledger,
            truth,
            venue=VENUE,
            submits=self.submits,
            replayed=replayed_digest(self.engine.manager.journal),
        )
        return ScenarioResult(
            seed=self.seed,
            lost_requests=self.lost_requests,
            violations=violations,
            injected=self.injected,
            crashes=self.crashes,
            orders=len(ledger.orders),
            fills=len(ledger.fills),
            anomalies=len(ledger.anomalies),
            digest=ledger.digest(),
            trace=self.trace,
        )

    def _note(self, what: str) -> None:
        self._collect_venue()
        step = self._faulty.steps if self._faulty is not None else 0
        self.trace.append(f"engine {self.incarnation} step {step}: {what}")
