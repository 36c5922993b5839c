"""Recovery at the scale of issue 6: replay a journal of 1,000,000 records, reconcile, and the memory
a closed order keeps.

The journal is what a live engine writes, through the real codec and `Journal.append`, for a
mix of orders (filled market orders, limit orders canceled, limit orders filled in two parts,
orders denied by risk); it is written once into a cache directory (`--cache-dir`) keyed by its size
and the record schema, so reruns skip the minute it takes to write. The figures:

1. decode only: `Journal.replay()` iterated, nothing kept (file read + msgpack decode);
2. replay + ledger fold: a fresh `Ledger` folding every replayed record (`Ledger.replay`, what
   `Engine.start()` does first);
3. `Engine.start()`: replay + fold + journal writer start + paper venue connect + start-up
   reconciliation, on a copy of the journal (start-up writes to it). The paper venue is fresh, so
   the journal ends with nothing open and positions flat: reconciliation finds the venue agrees.

Each is the median of `--runs` runs (3), on the `--journal` backend (sqlite, the default, or log).
Then memory: `tracemalloc` around folding the records of `--memory-orders` closed orders (100,000),
decoded one at a time as on replay, after `gc.collect()`: retained bytes / orders, for the mix and
for filled market orders alone.
"""

import argparse
import asyncio
import gc
import hashlib
import shutil
import statistics
import tempfile
import tracemalloc
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import msgspec

from benchmarks.harness import NS_PER_S, environment_line, now_ns, number, per_second, print_table
from tradewire.domain import events, ids
from tradewire.domain.clock import LiveClock
from tradewire.domain.enums import LiquiditySide, OrderType, Side, SignalOutcome, TimeInForce
from tradewire.domain.signals import Signal
from tradewire.journal.backends import FILE_NAMES, Backend, open_journal
from tradewire.journal.codec import decode, encode
from tradewire.oms.ledger import Ledger
from tradewire.runtime.node import Engine
from tradewire.runtime.settings import JournalSettings, PaperSettings, Settings
from tradewire.venues.paper.client import PaperVenue
from tradewire.venues.paper.config import PaperVenueConfig

RECORDS = 1_000_000
MEMORY_ORDERS = 100_000
RUNS = 3
ACCOUNT = ids.AccountId("paper-1")
STRATEGY = ids.StrategyId("bench")
INSTRUMENT = ids.InstrumentId("AAPL")
VENUE = ids.VenueId("paper")
RECORDS_PER_CYCLE = 20
"""One cycle: a filled market order (5 records), a canceled limit order (7), a limit order filled
in two parts (6) and a denied order (2)."""
ORDERS_PER_CYCLE = 4
FLUSH_EVERY = 5_000


class _Cycle:
    """Builds the records of one cycle of four orders, stamped from `at`, with unique IDs."""

    def __init__(self, index: int, at: datetime, keys: bool = True) -> None:
        self.index = index
        self.at = at
        self.keys = keys
        self.event = 0
        # Sides alternate per cycle, and every cycle trades 3 (1 + 2), so an even number of cycles
        # leaves the position flat, which is what a fresh paper venue holds.
        self.side = Side.BUY if index % 2 == 0 else Side.SELL

    def header(self, micros: int) -> events.Header:
        self.event += 1
        moment = self.at + timedelta(microseconds=micros)
        return {
            "event_id": ids.EventId(f"E{self.index:07d}-{self.event:02d}"),
            "ts_event": moment,
            "ts_recorded": moment,
        }

    def signal_id(self, number: int) -> ids.SignalId:
        return ids.SignalId(f"Sbench{self.index:07d}{number}")

    def spec(self, number: int, order_type: OrderType, quantity: int, limit: str | None) -> events.OrderSpec:
        return events.OrderSpec(
            client_order_id=ids.ClientOrderId(f"TWbench{self.index:07d}{number}"),
            account=ACCOUNT,
            strategy=STRATEGY,
            instrument=INSTRUMENT,
            venue=VENUE,
            side=self.side,
            order_type=order_type,
            quantity=Decimal(quantity),
            time_in_force=TimeInForce.GTC if limit is None else TimeInForce.DAY,
            limit_price=None if limit is None else Decimal(limit),
            signal_id=self.signal_id(number),
            signal_price=Decimal("190.12"),
        )

    def opened(self, number: int, spec: events.OrderSpec, micros: int) -> list[events.JournalRecord]:
        """Created, signal handled, submitted, accepted: what every sent order writes first."""
        signal = Signal(
            strategy=STRATEGY,
            instrument=INSTRUMENT,
            side=spec.side,
            quantity=spec.quantity,
            order_type=spec.order_type,
            limit_price=spec.limit_price,
            idempotency_key=f"key-{spec.client_order_id}" if self.keys else None,
        )
        return [
            events.OrderCreated(**self.header(micros), spec=spec),
            events.SignalHandled(
                **self.header(micros),
                signal_id=self.signal_id(number),
                signal=signal,
                outcome=SignalOutcome.ACCEPTED,
                client_order_ids=(spec.client_order_id,),
            ),
            events.OrderSubmitted(**self.header(micros + 20), client_order_id=spec.client_order_id),
            events.OrderAccepted(
                **self.header(micros + 300),
                client_order_id=spec.client_order_id,
                venue_order_id=ids.VenueOrderId(f"PV-{spec.client_order_id}"),
            ),
        ]

    def fill(self, spec: events.OrderSpec, part: int, quantity: int, micros: int) -> events.OrderFilled:
        return events.OrderFilled(
            **self.header(micros),
            client_order_id=spec.client_order_id,
            venue_order_id=ids.VenueOrderId(f"PV-{spec.client_order_id}"),
            fill_id=ids.FillId(f"P-{spec.client_order_id}-{part}"),
            venue=VENUE,
            account=ACCOUNT,
            strategy=STRATEGY,
            instrument=INSTRUMENT,
            side=spec.side,
            quantity=Decimal(quantity),
            price=Decimal("190.00") + Decimal(self.index % 200) / 100,
            fee=Decimal("0.0035") * quantity,
            fee_currency="USD",
            liquidity=LiquiditySide.TAKER if spec.order_type is OrderType.MARKET else LiquiditySide.MAKER,
        )

    def filled_market(self) -> list[events.JournalRecord]:
        spec = self.spec(0, OrderType.MARKET, 1, None)
        return [*self.opened(0, spec, 0), self.fill(spec, 1, 1, 400)]

    def canceled_limit(self) -> list[events.JournalRecord]:
        spec = self.spec(1, OrderType.LIMIT, 5, "150.00")
        order_id = spec.client_order_id
        return [
            *self.opened(1, spec, 1000),
            events.CancelOrder(**self.header(5000), client_order_id=order_id, requested_by="api"),
            events.OrderPendingCancel(**self.header(5000), client_order_id=order_id),
            events.OrderCanceled(**self.header(5300), client_order_id=order_id),
        ]

    def filled_in_parts(self) -> list[events.JournalRecord]:
        spec = self.spec(2, OrderType.LIMIT, 2, "195.00")
        return [*self.opened(2, spec, 2000), self.fill(spec, 1, 1, 2400), self.fill(spec, 2, 1, 2900)]

    def denied(self) -> list[events.JournalRecord]:
        spec = self.spec(3, OrderType.MARKET, 1000, None)
        signal = Signal(strategy=STRATEGY, instrument=INSTRUMENT, side=spec.side, quantity=spec.quantity)
        return [
            events.OrderDenied(
                **self.header(3000),
                spec=spec,
                reason_code="max_order_quantity",
                reason="quantity 1000 is above the limit 100 of strategy bench",
            ),
            events.SignalHandled(
                **self.header(3000),
                signal_id=self.signal_id(3),
                signal=signal,
                outcome=SignalOutcome.DENIED,
                client_order_ids=(spec.client_order_id,),
                reason_code="max_order_quantity",
                reason="quantity 1000 is above the limit 100 of strategy bench",
            ),
        ]

    def records(self) -> list[events.JournalRecord]:
        return [*self.filled_market(), *self.canceled_limit(), *self.filled_in_parts(), *self.denied()]


def cycles(count: int, filled_only: bool = False, keys: bool = True) -> Iterator[events.JournalRecord]:
    """The records of `count` cycles, 10 ms apart, starting two days ago; `keys`: every sent
    order's signal carries an idempotency key (kept for the life of the engine)."""
    first = datetime.now(UTC) - timedelta(days=2)
    for index in range(count):
        cycle = _Cycle(index, first + timedelta(milliseconds=10 * index), keys)
        yield from cycle.filled_market() if filled_only else cycle.records()


def schema_tag() -> str:
    """Changes whenever a record type changes, so a cached journal is never read by another schema."""
    schema = msgspec.json.encode(msgspec.json.schema(events.JournalRecord))
    return hashlib.sha256(schema).hexdigest()[:12]


def _fresh(path: Path) -> Path:
    """`path`, its folder created and any file a broken earlier run left there removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return path


async def cached_journal(cache_dir: Path, records: int, backend: Backend) -> Path:
    """The journal of `records` records (rounded to an even number of cycles), written once."""
    count = records // RECORDS_PER_CYCLE // 2 * 2
    path = cache_dir / f"replay-{count * RECORDS_PER_CYCLE}-{schema_tag()}.{backend}"
    if path.exists():
        return path
    partial = _fresh(path.with_name(f"{path.name}.partial"))
    print(f"writing {count * RECORDS_PER_CYCLE:,} records to {path} (once; later runs reuse it)")
    async with open_journal(backend, partial, "os") as journal:
        for record in cycles(count):
            if journal.append(record) % FLUSH_EVERY == 0:
                await journal.flush()
    partial.rename(path)
    return path


# --- the timings -----------------------------------------------------------------------------------


def decode_only(path: Path, backend: Backend) -> tuple[int, int]:
    began = now_ns()
    count = 0
    for _ in open_journal(backend, path, "os").replay():
        count += 1
    return now_ns() - began, count


def replay_and_fold(path: Path, backend: Backend) -> tuple[int, Ledger]:
    began = now_ns()
    ledger = Ledger()
    ledger.replay(open_journal(backend, path, "os").replay())
    return now_ns() - began, ledger


async def engine_start(path: Path, backend: Backend) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="tradewire-replay-") as directory:
        settings = Settings(
            data_dir=Path(directory),
            journal=JournalSettings(backend=backend, durability="os"),
            paper=PaperSettings(tick_interval=None, seed=11),
        )
        shutil.copyfile(path, settings.journal_path)
        clock = LiveClock()
        venue = PaperVenue(PaperVenueConfig(tick_interval=None, seed=11), clock)
        engine = Engine(settings, clock=clock, venues={venue.venue: venue})
        began = now_ns()
        await engine.start()
        elapsed = now_ns() - began
        ledger = engine.manager.ledger
        problems = [
            text
            for failed, text in (
                (bool(ledger.open_orders), f"{len(ledger.open_orders)} orders open"),
                (bool(ledger.anomalies), f"{len(ledger.anomalies)} anomalies"),
                (not all(r.clean for r in engine.service.reconciliations), "reconciliation not clean"),
            )
            if failed
        ]
        await engine.stop()
    return elapsed, "; ".join(problems) or "ok"


def median_seconds(samples: Sequence[int]) -> float:
    return statistics.median(samples) / NS_PER_S


async def measure_replay(path: Path, backend: Backend, runs: int) -> None:
    decoded, folded, started = [], [], []
    count = 0
    digests: set[str] = set()
    check = "ok"
    for _ in range(runs):
        elapsed, count = decode_only(path, backend)
        decoded.append(elapsed)
        gc.collect()
        elapsed, ledger = replay_and_fold(path, backend)
        folded.append(elapsed)
        digests.add(ledger.digest())
        anomalies = len(ledger.anomalies)
        del ledger
        gc.collect()
        elapsed, check = await engine_start(path, backend)
        started.append(elapsed)
        gc.collect()
    if len(digests) != 1:
        check = "replays disagree"
    elif anomalies:
        check = f"{anomalies} anomalies"
    rows = []
    for what, samples in (
        (f"journal replay: {backend} read + msgpack decode", decoded),
        ("journal replay + ledger fold", folded),
        ("Engine.start(): replay + fold + venue connect + reconciliation", started),
    ):
        seconds = median_seconds(samples)
        spread = f"{min(samples) / NS_PER_S:.2f}-{max(samples) / NS_PER_S:.2f}"
        rate = number(per_second(count, int(statistics.median(samples))), 0)
        rows.append([what, f"{count:,}", f"{seconds:.2f}", spread, rate, check])
    print_table(
        f"1. Recovery: {count:,} records ({count // RECORDS_PER_CYCLE * ORDERS_PER_CYCLE:,} orders),"
        f" {backend} journal, median of {runs}",
        ["step", "records", "seconds", "min-max", "records/s", "check"],
        rows,
    )


# --- memory ----------------------------------------------------------------------------------------


def retained_per_order(
    orders: int, filled_only: bool, keys: bool
) -> tuple[float, float, list[tuple[str, float]]]:
    """Bytes the ledger keeps per closed order folded from decoded payloads, and the payload size."""
    count = orders if filled_only else orders // ORDERS_PER_CYCLE
    payloads = [encode(record) for record in cycles(count, filled_only, keys)]
    payload_bytes = sum(len(p) for p in payloads)
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    ledger = Ledger()
    for payload in payloads:
        ledger.apply(decode(payload))
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    folded = count if filled_only else count * ORDERS_PER_CYCLE
    if ledger.open_orders or len(ledger.orders) != folded:
        raise RuntimeError(f"expected {folded} closed orders, got {len(ledger.orders)}")
    sites = snapshot.statistics("lineno")
    top = [(_site(s.traceback[0]), s.size / folded) for s in sites[:6]]
    return (after - before) / folded, payload_bytes / folded, top


def _site(frame: tracemalloc.Frame) -> str:
    """A source line, named from the project's root (`decode` is msgspec's: its line is the caller's)."""
    path = frame.filename
    for root in ("/src/", "/benchmarks/"):
        if root in path:
            path = root.strip("/") + "/" + path.rsplit(root, 1)[-1]
            break
    return f"{path}:{frame.lineno}"


def measure_memory(orders: int) -> None:
    rows = []
    sites: list[tuple[str, float]] = []
    for what, filled_only, keys in (
        ("filled market orders (1 fill each), no idempotency keys", True, False),
        ("filled market orders, each signal with an idempotency key", True, True),
        ("the mix (as in 1.), with idempotency keys", False, True),
    ):
        retained, payload, top = retained_per_order(orders, filled_only, keys)
        sites = sites or top
        rows.append([what, f"{orders:,}", number(retained, 0), number(payload, 0)])
    print_table(
        f"2. Memory retained per closed order: tracemalloc around folding {orders:,} orders, after gc",
        ["orders", "count", "bytes/order", "journal payload bytes/order"],
        rows,
    )
    print_table(
        "   where the retained memory of filled orders without keys was allocated (top lines)",
        ["site", "bytes/order"],
        [[site, number(size, 0)] for site, size in sites],
    )


async def benchmark(arguments: argparse.Namespace) -> None:
    print(environment_line("asyncio (default loop)"))
    if not arguments.memory_only:
        path = await cached_journal(arguments.cache_dir, arguments.records, arguments.journal)
        await measure_replay(path, arguments.journal, arguments.runs)
    measure_memory(arguments.memory_orders)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.replay", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=RECORDS, help="journal size (default 1,000,000)")
    parser.add_argument(
        "--journal", choices=list(FILE_NAMES), default="sqlite", help="journal backend (default sqlite)"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per figure; the median is shown")
    parser.add_argument("--memory-orders", type=int, default=MEMORY_ORDERS, help="orders in section 2")
    parser.add_argument("--memory-only", action="store_true", help="skip section 1")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tradewire-bench-cache",
        help="where the generated journal is kept between runs",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(benchmark(parse(argv)))


if __name__ == "__main__":
    main()
