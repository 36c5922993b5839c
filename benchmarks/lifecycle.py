"""The engine's own cost, end to end in one process: throughput, latency, cancels, recovery, memory.

    .venv/bin/python -m benchmarks.lifecycle [--orders N] [--durability fsync|os|both]

The engine runs as in production (`Engine`, SQLite journal, the paper venue adapter) on a temporary
data directory. The paper venue is in manual mode: no background feed; the benchmark steps the feed
every `STEP_EVERY` orders so displayed size is restored and every one-share order fills in full.
Its own state is kept in memory by default (`--paper-store memory`): its per-order SQLite commit
is the simulated broker's cost, not the engine's. See benchmarks/README.md for what each figure
means exactly.
"""

import argparse
import asyncio
import cProfile
import gc
import pstats
import tempfile
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from benchmarks.harness import (
    NS_PER_S,
    NS_PER_US,
    Distribution,
    environment_line,
    now_ns,
    number,
    per_second,
    print_table,
    ratio,
    run,
)
from tradewire.domain import events, ids
from tradewire.domain.clock import LiveClock
from tradewire.domain.enums import LiquiditySide, OrderStatus, OrderType, Side, SignalOutcome, TimeInForce
from tradewire.domain.orders import Order
from tradewire.domain.signals import Signal
from tradewire.journal.backends import Backend, open_journal
from tradewire.journal.codec import encode
from tradewire.journal.group_commit import Journal
from tradewire.journal.store import Durability
from tradewire.oms.ledger import Ledger
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import JournalSettings, PaperSettings, Settings
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig

Mode = Literal["fsync", "os", "reference"]
REFERENCE_LABEL = "not awaited (reference, not safe)"
ACCOUNT = ids.AccountId("paper-1")
INSTRUMENT = "AAPL"
STRATEGY = "bench"
STEP_EVERY = 50
"""25 one-share buys between feed steps; an AAPL level displays at least 100 shares."""
BATCH = 100
"""Signals in flight at once in the concurrent mode."""
WARMUP = 200
RECOVERY_RECORDS = 200_000
RECORDS_PER_ORDER = 5
"""OrderCreated, SignalHandled, OrderSubmitted, OrderAccepted, OrderFilled: what a filled market
order writes (checked against a live run)."""
STALL_SECONDS = 30.0


class UnawaitedJournal:
    """The SQLite journal with a `flush` that returns at once: an order leaves before its record is
    durable. Only a reference to show what waiting for the journal costs; never a safe setting."""

    def __init__(self, inner: Journal) -> None:
        self._inner = inner

    @property
    def last_sequence(self) -> int:
        return self._inner.last_sequence

    @property
    def durable_sequence(self) -> int:
        return self._inner.durable_sequence

    def append(self, record: events.JournalRecord) -> int:
        return self._inner.append(record)

    async def flush(self, sequence: int | None = None) -> None:
        return None

    def replay(self, after: int = 0) -> Iterator[tuple[int, events.JournalRecord]]:
        return self._inner.replay(after)

    async def start(self) -> None:
        await self._inner.start()

    async def close(self) -> None:
        await self._inner.close()


@dataclass
class Bench:
    """A running engine plus what the benchmark expects of it."""

    engine: Engine
    venue: PaperVenue
    sent_ns: list[int]
    """`perf_counter_ns` at each entry into the paper venue's `submit` (t1)."""
    orders: int = 0
    expected_position: Decimal = Decimal(0)
    expected_filled: int = 0
    expected_canceled: int = 0
    feed_ns: int = 0
    """Time spent stepping the paper venue's feed inside `sequential` (the market data, not orders)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        return self.engine.manager.ledger

    def market_payloads(self, count: int) -> list[dict[str, Any]]:
        """One-share market signals alternating buy/sell, counted into what must hold afterwards."""
        payloads = []
        for _ in range(count):
            side = Side.BUY if self.orders % 2 == 0 else Side.SELL
            self.orders += 1
            self.expected_position += side.sign
            self.expected_filled += 1
            payloads.append(
                {"strategy": STRATEGY, "instrument": INSTRUMENT, "side": side.value, "quantity": "1"}
            )
        return payloads

    async def wait_until(self, done: Callable[[], bool], what: str) -> None:
        """Yield to the loop until `done()`; the venue's reports arrive on later loop iterations."""
        deadline = now_ns() + int(STALL_SECONDS * NS_PER_S)
        while not done():
            await asyncio.sleep(0)
            if now_ns() > deadline:
                raise RuntimeError(f"stalled waiting for {what}")

    async def wait_for_fills(self, count: int) -> None:
        fills = self.ledger.fills
        if len(fills) < count:
            await self.wait_until(lambda: len(fills) >= count, f"{count} fills")

    async def wait_for_status(self, order: Order, status: OrderStatus) -> None:
        if order.status is not status:
            await self.wait_until(lambda: order.status is status, f"{order.client_order_id} {status}")

    def check(self) -> str:
        """Cheap sanity after a run (not a timing assertion): "ok" or what is wrong."""
        ledger = self.ledger
        problems = list(self.problems)
        statuses = [o.status for o in ledger.orders.values()]
        position = ledger.portfolio.account_quantity(ACCOUNT, ids.InstrumentId(INSTRUMENT))
        if len(ledger.fills) != self.expected_filled:
            problems.append(f"{len(ledger.fills)} fills, expected {self.expected_filled}")
        if statuses.count(OrderStatus.FILLED) != self.expected_filled:
            problems.append(f"{statuses.count(OrderStatus.FILLED)} orders filled")
        if statuses.count(OrderStatus.CANCELED) != self.expected_canceled:
            problems.append(f"{statuses.count(OrderStatus.CANCELED)} canceled")
        if position != self.expected_position:
            problems.append(f"position {position}, expected {self.expected_position}")
        if ledger.open_orders:
            problems.append(f"{len(ledger.open_orders)} orders still open")
        if ledger.anomalies:
            problems.append(f"{len(ledger.anomalies)} anomalies, first: {ledger.anomalies[0].detail}")
        if self.engine.manager.unknown_reports:
            problems.append(f"{len(self.engine.manager.unknown_reports)} unknown reports")
        return "; ".join(problems) or "ok"


def stamp_submits(venue: PaperVenue, stamps: list[int]) -> None:
    """Record t1 as the venue's `submit` is entered, by wrapping the method on this instance only."""
    submit = venue.submit

    async def timed(order: events.OrderSpec) -> None:
        stamps.append(now_ns())
        await submit(order)

    venue.submit = timed  # type: ignore[method-assign]  # instrumentation of one instance


def engine_for(
    data_dir: Path, mode: Mode, store: str, backend: Backend = "sqlite"
) -> tuple[Engine, PaperVenue]:
    durability: Durability = "os" if mode == "reference" else mode
    settings = Settings(
        data_dir=data_dir,
        journal=JournalSettings(backend=backend, durability=durability),
        paper=PaperSettings(tick_interval=None, seed=11),
    )
    clock = LiveClock()
    path = settings.paper_path if store == "file" else None
    venue = PaperVenue(PaperVenueConfig(tick_interval=None, seed=11, path=path), clock)
    journal = (
        UnawaitedJournal(open_journal(backend, settings.journal_path, durability))
        if mode == "reference"
        else None
    )
    return Engine(settings, clock=clock, venues={venue.venue: venue}, journal=journal), venue


@asynccontextmanager
async def running(mode: Mode, store: str, backend: Backend = "sqlite") -> AsyncIterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="tradewire-bench-") as directory:
        engine, venue = engine_for(Path(directory), mode, store, backend)
        async with engine:
            venue.step_sync()
            stamps: list[int] = []
            stamp_submits(venue, stamps)
            yield Bench(engine, venue, stamps)


# --- the workloads ---------------------------------------------------------------------------------


async def sequential(bench: Bench, count: int) -> tuple[int, list[int]]:
    """One order at a time, each carried to its fill. Returns elapsed ns and t1 - t0 per order."""
    payloads = bench.market_payloads(count)
    submit = bench.engine.service.submit_signal
    fills = len(bench.ledger.fills)
    bench.sent_ns.clear()
    starts: list[int] = []
    began = now_ns()
    for index, payload in enumerate(payloads, start=1):
        starts.append(now_ns())
        await submit(payload)
        await bench.wait_for_fills(fills + index)
        if index % STEP_EVERY == 0:
            stepped = now_ns()
            bench.venue.step_sync()
            bench.feed_ns += now_ns() - stepped
    elapsed = now_ns() - began
    if len(bench.sent_ns) != count:
        bench.problems.append(f"{len(bench.sent_ns)} venue submits for {count} signals")
        return elapsed, []
    return elapsed, [sent - start for start, sent in zip(starts, bench.sent_ns, strict=True)]


async def concurrent(bench: Bench, count: int) -> int:
    """`BATCH` signals in flight at a time; elapsed ns until the last fill is in the position."""
    payloads = bench.market_payloads(count)
    submit = bench.engine.service.submit_signal
    fills = len(bench.ledger.fills)
    began = now_ns()
    for start in range(0, count, BATCH):
        await asyncio.gather(*(submit(p) for p in payloads[start : start + BATCH]))
        bench.venue.step_sync()
    await bench.wait_for_fills(fills + count)
    return now_ns() - began


async def submit_cancel(bench: Bench, pairs: int) -> tuple[int, list[int]]:
    """Limit buys far below the market (they rest), each canceled once acknowledged.

    Per pair: t0 before `submit_signal`, end when the ledger holds the order as canceled."""
    service = bench.engine.service
    orders = bench.ledger.orders
    market = {"strategy": STRATEGY, "instrument": INSTRUMENT, "side": "buy", "quantity": "1"}
    payload = {**market, "order_type": "limit", "limit_price": "50"}
    samples = []
    began = now_ns()
    for _ in range(pairs):
        start = now_ns()
        result = await service.submit_signal(payload)
        if result.outcome is not SignalOutcome.ACCEPTED:
            bench.problems.append(f"limit signal {result.outcome}: {result.reason}")
            break
        order = orders[result.client_order_ids[0]]
        await bench.wait_for_status(order, OrderStatus.ACCEPTED)
        await service.cancel_order(order.client_order_id, "benchmark")
        await bench.wait_for_status(order, OrderStatus.CANCELED)
        samples.append(now_ns() - start)
        bench.expected_canceled += 1
    return now_ns() - began, samples


# --- sections 1 to 3: one engine per journal mode ---------------------------------------------------


@dataclass
class ModeFigures:
    mode: Mode
    sequential_ns: int
    concurrent_ns: int
    latency: Distribution
    pairs_ns: int
    pairs: Distribution
    check: str
    backend: Backend


async def measure_mode(mode: Mode, orders: int, pairs: int, store: str, backend: Backend) -> ModeFigures:
    async with running(mode, store, backend) as bench:
        await sequential(bench, WARMUP)
        sequential_ns, latencies = await sequential(bench, orders)
        concurrent_ns = await concurrent(bench, orders)
        pairs_ns, pair_samples = await submit_cancel(bench, pairs)
        check = bench.check()
    latency, pair_figures = Distribution.of(latencies or [0]), Distribution.of(pair_samples or [0])
    return ModeFigures(mode, sequential_ns, concurrent_ns, latency, pairs_ns, pair_figures, check, backend)


JOURNAL_NAMES: Final[dict[str, str]] = {"sqlite": "SQLite", "log": "log file"}


def label(mode: Mode, backend: Backend = "sqlite") -> str:
    return REFERENCE_LABEL if mode == "reference" else f"{JOURNAL_NAMES[backend]}, durability={mode}"


def print_modes(figures: Sequence[ModeFigures], orders: int, pairs: int) -> None:
    reference = figures[-1]
    rows = []
    for f in figures:
        for name, elapsed, reference_ns in (
            ("sequential", f.sequential_ns, reference.sequential_ns),
            (f"concurrent K={BATCH}", f.concurrent_ns, reference.concurrent_ns),
        ):
            rows.append(
                [
                    label(f.mode, f.backend),
                    name,
                    number(per_second(orders, elapsed), 0),
                    number(elapsed / orders / NS_PER_US),
                    ratio(elapsed, reference_ns),
                    f.check,
                ]
            )
    print_table(
        f"1. Full lifecycle: {orders:,} market orders ({INSTRUMENT} x1, alternating buy/sell),"
        " signal -> risk -> journal -> submit -> ack -> fill -> position",
        ["journal", "mode", "orders/s", "mean us/order", "time vs ref", "check"],
        rows,
    )
    ref = reference.latency
    latency_rows, pair_rows = [], []
    for f in figures:
        vs_ref = [ratio(f.latency.median_us, ref.median_us), ratio(f.latency.p99_us, ref.p99_us)]
        latency_rows.append(
            [label(f.mode, f.backend), str(f.latency.count), *spread(f.latency), number(f.latency.max_us)]
        )
        latency_rows[-1].extend(vs_ref)
        rate = number(per_second(f.pairs.count, f.pairs_ns), 0)
        pair_rows.append(
            [label(f.mode, f.backend), rate, *spread(f.pairs), ratio(f.pairs_ns, reference.pairs_ns)]
        )
    print_table(
        "2. Signal accepted -> venue send (t0 before submit_signal, t1 on entry to venue.submit),"
        " sequential, us",
        ["journal", "samples", "median", "p99", "p99.9", "max", "median vs ref", "p99 vs ref"],
        latency_rows,
    )
    print_table(
        f"3. Limit submit + cancel pairs, sequential ({pairs:,} pairs; per pair: submit_signal ->"
        " ack -> cancel_order -> canceled in the ledger), us",
        ["journal", "pairs/s", "median", "p99", "p99.9", "time vs ref"],
        pair_rows,
    )


def spread(distribution: Distribution) -> list[str]:
    return [number(distribution.median_us), number(distribution.p99_us), number(distribution.p999_us)]


# --- section 4: recovery ---------------------------------------------------------------------------


def synthetic_order(index: int, at: datetime) -> list[events.JournalRecord]:
    """What one filled one-share market order writes, in the order the engine writes it."""
    side = Side.BUY if index % 2 == 0 else Side.SELL
    order_id = ids.ClientOrderId(f"TWbench-{index}")
    venue_order = ids.VenueOrderId(f"PV-{index}")
    signal_id = ids.SignalId(f"Sbench-{index}")
    quantity = Decimal(1)

    def event(offset: int) -> ids.EventId:
        return ids.EventId(f"Ebench-{index * RECORDS_PER_ORDER + offset}")

    spec = events.OrderSpec(
        client_order_id=order_id,
        account=ACCOUNT,
        strategy=ids.StrategyId(STRATEGY),
        instrument=ids.InstrumentId(INSTRUMENT),
        venue=ids.VenueId("paper"),
        side=side,
        order_type=OrderType.MARKET,
        quantity=quantity,
        time_in_force=TimeInForce.GTC,
        signal_id=signal_id,
    )
    signal = Signal(strategy=STRATEGY, instrument=INSTRUMENT, side=side, quantity=quantity)
    acked = at + timedelta(microseconds=300)
    return [
        events.OrderCreated(event_id=event(0), ts_event=at, ts_recorded=at, spec=spec),
        events.SignalHandled(
            event_id=event(1),
            ts_event=at,
            ts_recorded=at,
            signal_id=signal_id,
            signal=signal,
            outcome=SignalOutcome.ACCEPTED,
            client_order_ids=(order_id,),
        ),
        events.OrderSubmitted(event_id=event(2), ts_event=at, ts_recorded=at, client_order_id=order_id),
        events.OrderAccepted(
            event_id=event(3),
            ts_event=acked,
            ts_recorded=acked,
            client_order_id=order_id,
            venue_order_id=venue_order,
        ),
        events.OrderFilled(
            event_id=event(4),
            ts_event=acked,
            ts_recorded=acked,
            client_order_id=order_id,
            venue_order_id=venue_order,
            fill_id=ids.FillId(f"P-{index}"),
            venue=ids.VenueId("paper"),
            account=ACCOUNT,
            strategy=ids.StrategyId(STRATEGY),
            instrument=ids.InstrumentId(INSTRUMENT),
            side=side,
            quantity=quantity,
            price=Decimal("190.00") + Decimal(index % 200) / 100,
            fee=Decimal(0),
            fee_currency="USD",
            liquidity=LiquiditySide.TAKER,
        ),
    ]


async def write_journal(path: Path, records: int, backend: Backend = "sqlite") -> int:
    """A journal of filled orders (an even count, so the position ends flat), one ms apart."""
    orders = records // RECORDS_PER_ORDER // 2 * 2
    first = datetime.now(UTC) - timedelta(days=2)
    async with open_journal(backend, path, "os") as journal:
        for index in range(orders):
            for record in synthetic_order(index, first + timedelta(milliseconds=index)):
                journal.append(record)
            if index % 1000 == 999:
                await journal.flush()
    return orders * RECORDS_PER_ORDER


async def measure_recovery(records: int, store: str, backend: Backend = "sqlite") -> None:
    with tempfile.TemporaryDirectory(prefix="tradewire-recovery-") as directory:
        engine, _ = engine_for(Path(directory), "os", store, backend)
        written = await write_journal(engine.settings.journal_path, records, backend)
        decoded = [r for _, r in open_journal(backend, engine.settings.journal_path, "os").replay()]
        gc.collect()
        gc.freeze()  # the decoded list is the benchmark's, not the engine's: keep the GC off it
        began = now_ns()
        fold = Ledger()
        for record in decoded:
            fold.apply(record)
        fold_ns = now_ns() - began
        gc.unfreeze()
        del decoded
        began = now_ns()
        replayed = Ledger()
        for _, record in open_journal(backend, engine.settings.journal_path, "os").replay():
            replayed.apply(record)
        replay_ns = now_ns() - began
        began = now_ns()
        await engine.start()
        start_ns = now_ns() - began
        ledger = engine.manager.ledger
        clean = all(r.clean for r in engine.service.reconciliations)
        problems = [
            text
            for failed, text in (
                (ledger.records_applied != written, f"{ledger.records_applied} records applied"),
                (len(ledger.fills) != written // RECORDS_PER_ORDER, f"{len(ledger.fills)} fills"),
                (bool(ledger.anomalies), f"{len(ledger.anomalies)} anomalies"),
                (ledger.digest() != fold.digest(), "digest differs from the fold"),
                (not clean, "reconciliation not clean"),
            )
            if failed
        ]
        await engine.stop()
    check = "; ".join(problems) or "ok"
    rows = []
    for what, elapsed, result in (
        ("Engine.start(): replay + venue connect + reconciliation", start_ns, check),
        (f"journal replay ({JOURNAL_NAMES[backend]} read + decode) + ledger fold", replay_ns, "-"),
        ("ledger fold only, records decoded in memory (reference)", fold_ns, "-"),
    ):
        seconds = elapsed / NS_PER_S
        rate = number(per_second(written, elapsed), 0)
        million = f"{seconds * 1_000_000 / written:.1f}"
        rows.append([what, f"{written:,}", f"{seconds:.2f}", rate, million, ratio(elapsed, fold_ns), result])
    print_table(
        f"4. Recovery: a journal of {written:,} records ({written // RECORDS_PER_ORDER:,} filled orders)",
        ["step", "records", "seconds", "records/s", "1M records, s (extrapolated)", "time vs ref", "check"],
        rows,
    )


# --- section 5: memory -----------------------------------------------------------------------------


SIMULATED_VENUE: Final = "*/tradewire/venues/paper/memory.py"
"""Where the paper venue stores what it keeps of every order and fill (its in-memory store): the
simulated broker's memory, which a real broker keeps in its own process. Everything else the paper
venue allocated and is still alive (the IDs and reports it sent) is held by the engine, and counted
as the engine's."""


@dataclass
class Retained:
    """Memory still allocated after N orders were carried to FILLED and a full collection."""

    orders: int
    total: int
    venue: int
    """Of `total`, what the paper venue (the simulated broker) keeps: a real broker keeps it in its
    own process."""
    peak: int
    snapshot: tracemalloc.Snapshot

    @property
    def engine(self) -> int:
        return self.total - self.venue


def _venue_bytes(snapshot: tracemalloc.Snapshot) -> int:
    return sum(
        s.size
        for s in snapshot.filter_traces([tracemalloc.Filter(True, SIMULATED_VENUE)]).statistics("filename")
    )


async def retained_by(bench: Bench, orders: int) -> Retained:
    """tracemalloc around `orders` sequential market orders, after the journal's flush and a full
    collection on both sides."""
    journal = bench.engine.manager.journal
    await journal.flush()
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    venue_before = _venue_bytes(tracemalloc.take_snapshot())
    await sequential(bench, orders)
    await journal.flush()
    gc.collect()
    after, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return Retained(orders, after - before, _venue_bytes(snapshot) - venue_before, peak - before, snapshot)


async def measure_memory(orders: int, store: str, backend: Backend = "sqlite") -> None:
    async with running("os", store, backend) as bench:
        await sequential(bench, WARMUP)
        journal = bench.engine.manager.journal
        first_sequence = journal.last_sequence
        retained = await retained_by(bench, orders)
        check = bench.check()
        payload_bytes = sum(len(encode(r)) for _, r in journal.replay(first_sequence))
    payload = payload_bytes / orders
    count = f"{orders:,}"
    print_table(
        f"5. Memory retained per closed (FILLED) order: tracemalloc around {orders:,} orders, after gc",
        ["what", "orders", "bytes/order", "vs ref", "check"],
        [
            [
                "retained by the engine (ledger, portfolio, fills)",
                count,
                number(retained.engine / orders, 0),
                ratio(retained.engine / orders, payload),
                check,
            ],
            [
                "retained by the paper venue (the simulated broker)",
                count,
                number(retained.venue / orders, 0),
                "-",
                "-",
            ],
            ["peak while running, per order (both)", count, number(retained.peak / orders, 0), "-", "-"],
            ["journal payload, msgpack (reference)", count, number(payload, 0), "1.00x", "-"],
        ],
    )
    snapshot = retained.snapshot
    sites = snapshot.filter_traces(
        [tracemalloc.Filter(True, "*tradewire*"), tracemalloc.Filter(False, SIMULATED_VENUE)]
    ).statistics("lineno")
    print_table(
        "   where the engine's retained memory was allocated (top 5 lines)",
        ["site", "bytes/order"],
        [[_site(s.traceback[0]), number(s.size / orders, 0)] for s in sites[:5]],
    )


def _site(frame: tracemalloc.Frame) -> str:
    return f"{frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno}"


# --- the profile -----------------------------------------------------------------------------------


async def profile_sequential(orders: int, store: str, backend: Backend = "sqlite") -> None:
    """cProfile of the sequential lifecycle (durability=os): where the engine spends its time."""
    async with running("os", store, backend) as bench:
        await sequential(bench, WARMUP)
        profiler = cProfile.Profile()
        profiler.enable()
        await sequential(bench, orders)
        profiler.disable()
        print(f"\nprofile of {orders:,} sequential orders, durability=os; engine code only")
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(r"src/tradewire", 15)
        stats.sort_stats("cumulative").print_stats(r"src/tradewire", 25)


# --- the command -----------------------------------------------------------------------------------


async def benchmark(arguments: argparse.Namespace) -> None:
    loop = type(asyncio.get_running_loop())
    print(environment_line(f"{loop.__module__}.{loop.__name__}"))
    print(
        f"workload: paper venue, manual feed stepped every {STEP_EVERY} orders, its state in"
        f" {arguments.paper_store}; journal: {JOURNAL_NAMES[arguments.journal]} in a temporary directory;"
        f" warm-up {WARMUP} orders"
    )
    modes: list[Mode] = ["fsync", "os"] if arguments.durability == "both" else [arguments.durability]
    if arguments.profile:
        await profile_sequential(arguments.orders, arguments.paper_store, arguments.journal)
        return
    figures = [
        await measure_mode(mode, arguments.orders, arguments.pairs, arguments.paper_store, arguments.journal)
        for mode in [*modes, "reference"]
    ]
    print_modes(figures, arguments.orders, arguments.pairs)
    await measure_recovery(arguments.recovery_records, arguments.paper_store, arguments.journal)
    await measure_memory(arguments.orders, arguments.paper_store, arguments.journal)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser("python -m benchmarks.lifecycle", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=5_000, help="orders per run (default 5,000)")
    parser.add_argument("--durability", choices=["fsync", "os", "both"], default="both")
    parser.add_argument("--journal", choices=["sqlite", "log"], default="sqlite", help="journal backend")
    parser.add_argument("--pairs", type=int, default=2_000, help="limit submit+cancel pairs (default 2,000)")
    parser.add_argument("--recovery-records", type=int, default=RECOVERY_RECORDS)
    parser.add_argument(
        "--paper-store", choices=["memory", "file"], default="memory", help="paper venue state"
    )
    parser.add_argument("--asyncio", action="store_true", help="asyncio's loop even if uvloop is installed")
    parser.add_argument("--profile", action="store_true", help="only profile the sequential lifecycle")
    arguments = parser.parse_args(argv)
    if arguments.orders < 1 or arguments.pairs < 1 or arguments.recovery_records < 2 * RECORDS_PER_ORDER:
        parser.error("--orders and --pairs must be positive, --recovery-records at least 10")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse(argv)
    began = now_ns()
    _, loop_name = run(benchmark(arguments), prefer_uvloop=not arguments.asyncio)
    print(f"\nlifecycle benchmark took {(now_ns() - began) / NS_PER_S:.1f} s on {loop_name}")


if __name__ == "__main__":
    main()
