"""How fast the SQLite journal makes records durable, per durability mode.

    .venv/bin/python -m benchmarks.journal_append      (or: .venv/bin/python benchmarks/journal_append.py)

For "fsync" and "os": the latency of one append + flush (the order hot path: journal, then send),
and throughput when appending bursts of 1, 10 and 100 records per flush; then what the loop thread
pays per `append`. Writes to a temporary directory; set TMPDIR to measure another disk. Prints
figures only: nothing here asserts on timing.
"""

import sys
import tempfile
from pathlib import Path
from typing import get_args

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tradewire` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchmarks.harness import (
    NS_PER_US,
    Distribution,
    environment_line,
    now_ns,
    number,
    per_second,
    print_table,
    run,
)
from tradewire.domain.enums import LiquiditySide, Side
from tradewire.domain.events import OrderFilled
from tradewire.domain.ids import (
    AccountId,
    ClientOrderId,
    EventId,
    FillId,
    InstrumentId,
    StrategyId,
    VenueId,
    VenueOrderId,
)
from tradewire.journal.codec import encode
from tradewire.journal.sqlite import sqlite_journal
from tradewire.journal.store import Durability

LATENCY_SAMPLES = 2_000
THROUGHPUT_RECORDS = 4_000
BURST_SIZES = (1, 10, 100)
APPEND_ROUNDS = 20_000
T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def fill(number: int) -> OrderFilled:
    return OrderFilled(
        event_id=EventId(f"event-{number}"),
        ts_event=T0 + timedelta(microseconds=number),
        ts_recorded=T0 + timedelta(microseconds=number),
        client_order_id=ClientOrderId(f"order-{number}"),
        venue_order_id=VenueOrderId(f"venue-{number}"),
        fill_id=FillId(f"fill-{number}"),
        venue=VenueId("paper"),
        account=AccountId("main"),
        strategy=StrategyId("trend"),
        instrument=InstrumentId("EURUSD.paper"),
        side=Side.BUY,
        quantity=Decimal("1000.00"),
        price=Decimal("1.10250"),
        fee=Decimal("0.10"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )


async def latency(path: Path, durability: Durability) -> tuple[Distribution, int]:
    """One append + flush at a time, as an order is journaled before it is sent."""
    records = [fill(n) for n in range(LATENCY_SAMPLES)]
    samples: list[int] = []
    async with sqlite_journal(path, durability) as journal:
        for record in records:
            started = now_ns()
            journal.append(record)
            await journal.flush()
            samples.append(now_ns() - started)
        commits = journal.commit_count
    return Distribution.of(samples), commits


async def throughput(path: Path, durability: Durability, burst: int) -> tuple[float, int]:
    """Records per second appending `burst` records per flush, and the commits that took."""
    records = [fill(n) for n in range(THROUGHPUT_RECORDS)]
    async with sqlite_journal(path, durability) as journal:
        started = now_ns()
        for first in range(0, THROUGHPUT_RECORDS, burst):
            for record in records[first : first + burst]:
                journal.append(record)
            await journal.flush()
        elapsed = now_ns() - started
        commits = journal.commit_count
    return per_second(THROUGHPUT_RECORDS, elapsed), commits


async def append_cost(path: Path) -> float:
    """Nanoseconds the loop thread spends in one `append` (encode + sequence + queue)."""
    records = [fill(n) for n in range(APPEND_ROUNDS)]
    journal = sqlite_journal(path, "os")  # not started: the writer does not compete for the GIL
    started = now_ns()
    for record in records:
        journal.append(record)
    elapsed = now_ns() - started
    await journal.close()
    return elapsed / APPEND_ROUNDS


def encode_cost() -> tuple[float, int]:
    """Nanoseconds to encode one fill (distinct records, as `append` sees), and its size in bytes."""
    records = [fill(n) for n in range(APPEND_ROUNDS)]
    started = now_ns()
    for record in records:
        encode(record)
    return (now_ns() - started) / APPEND_ROUNDS, len(encode(records[0]))


def main() -> None:
    latency_rows: list[list[str]] = []
    throughput_rows: list[list[str]] = []
    loop_name = ""
    with tempfile.TemporaryDirectory(prefix="tradewire-journal-") as directory:
        root = Path(directory)
        for durability in get_args(Durability):
            (figures, commits), loop_name = run(latency(root / f"latency-{durability}.db", durability))
            latency_rows.append(
                [
                    durability,
                    number(figures.count, 0),
                    number(figures.mean_us),
                    number(figures.median_us),
                    number(figures.p99_us),
                    number(figures.max_us),
                    number(commits, 0),
                ]
            )
            for burst in BURST_SIZES:
                path = root / f"burst-{durability}-{burst}.db"
                (rate, commits), _ = run(throughput(path, durability, burst))
                throughput_rows.append([durability, str(burst), number(rate, 0), number(commits, 0)])
        appended, _ = run(append_cost(root / "append.db"))
    encoded, size = encode_cost()

    print(environment_line(loop_name))
    print(f"journal files in {tempfile.gettempdir()}")
    print_table(
        "append + flush of one record (microseconds)",
        ["durability", "samples", "mean", "median", "p99", "max", "commits"],
        latency_rows,
    )
    print_table(
        f"throughput, {number(THROUGHPUT_RECORDS, 0)} records in bursts",
        ["durability", "per flush", "records/s", "commits"],
        throughput_rows,
    )
    print_table(
        "loop-thread cost per record (microseconds)",
        ["step", "cost"],
        [
            [f"encode one fill ({size} bytes)", number(encoded / NS_PER_US, 2)],
            ["append (encode + sequence + queue)", number(appended / NS_PER_US, 2)],
        ],
    )


if __name__ == "__main__":
    main()
