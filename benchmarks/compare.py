"""Tradewire and NautilusTrader side by side: the same workloads, one invocation, both figures and
their ratio.

    .venv/bin/python -m benchmarks.compare --n 10000 [--n 100000] [--durability fsync|os] [--repeat R]

Workloads, at each N:

- market: N market orders, buy and sell alternating on one instrument, one at a time, each carried
  to its fill and position update (Tradewire: `benchmarks.lifecycle.sequential`; NautilusTrader:
  `benchmarks.nautilus_side`, one order per quote tick).
- limit: N limit orders that rest, each submitted and, once acknowledged, cancelled.

Every run is its own subprocess (a fresh interpreter, so neither engine inherits the other's heap,
and NautilusTrader's process-wide logger is set once per run), and repetitions alternate which
engine goes first. Throughput is the median over repetitions. Also measured for Tradewire:
signal accepted -> venue send latency (all repetitions pooled), memory retained per closed order
(tracemalloc), and the replay of a journal of `--replay-events` records split into SQLite read,
decode and ledger apply, then `Engine.start()` (replay + reconciliation against the paper venue).
See benchmarks/README.md for what each figure means exactly.
"""

import argparse
import gc
import importlib.metadata
import importlib.util
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
from benchmarks.lifecycle import (
    JOURNAL_NAMES,
    WARMUP,
    engine_for,
    retained_by,
    running,
    sequential,
    submit_cancel,
    write_journal,
)
from tradewire.journal.backends import Backend, open_journal
from tradewire.journal.codec import decode
from tradewire.journal.log import read_frames
from tradewire.oms.ledger import Ledger

WORKLOADS = ("market", "limit")
REPLAY_EVENTS = 1_000_000
READ_CHUNK = 10_000
WORKER_TIMEOUT_S = 3_600
REPOSITORY = Path(__file__).resolve().parent.parent
"""Where `python -m benchmarks....` finds this package, whatever directory we were started from."""
INSTALL_HINT = (
    "NautilusTrader is not importable: install the `bench` extra (`uv sync --extra bench`)"
    " to compare; only Tradewire's figures follow."
)


# --- Tradewire's jobs: each returns plain figures, run in a subprocess (or here, --in-process) -----


async def tradewire_workload(workload: str, orders: int, durability: str, backend: Backend) -> dict[str, Any]:
    """One engine (the `backend` journal with `durability`, paper venue in memory), warm-up, then N
    orders."""
    async with running("fsync" if durability == "fsync" else "os", "memory", backend) as bench:
        feed_ns = 0
        if workload == "market":
            await sequential(bench, WARMUP)
            fed = bench.feed_ns
            elapsed, samples = await sequential(bench, orders)
            feed_ns = bench.feed_ns - fed
        else:
            await submit_cancel(bench, WARMUP)
            elapsed, _ = await submit_cancel(bench, orders)
            samples = []
        ledger = bench.ledger
        return {
            "workload": workload,
            "orders": orders,
            "elapsed_ns": elapsed,
            "feed_ns": feed_ns,
            "latency_ns": samples,
            "fills": len(ledger.fills) - (WARMUP if workload == "market" else 0),
            "canceled": bench.expected_canceled - (WARMUP if workload == "limit" else 0),
            "check": bench.check(),
        }


async def tradewire_memory(orders: int, durability: str, backend: Backend) -> dict[str, Any]:
    """Bytes still allocated per FILLED order after N orders and a full collection (tracemalloc)."""
    async with running("fsync" if durability == "fsync" else "os", "memory", backend) as bench:
        await sequential(bench, WARMUP)
        retained = await retained_by(bench, orders)
        return {
            "orders": orders,
            "retained_bytes": retained.engine,
            "venue_bytes": retained.venue,
            "peak_bytes": retained.peak,
        }


def payload_chunks(path: Path, backend: Backend) -> Iterator[list[Any]]:
    """The stored payloads, `READ_CHUNK` at a time, read the way the backend's replay reads them."""
    if backend == "log":
        with path.open("rb") as file:
            file.seek(8)  # the file header
            chunk: list[Any] = []
            for _, payload in read_frames(file, path):
                chunk.append(payload)
                if len(chunk) == READ_CHUNK:
                    yield chunk
                    chunk = []
            yield chunk
        return
    connection = sqlite3.connect(path)
    try:
        cursor = connection.execute("SELECT payload FROM journal ORDER BY sequence")
        while rows := cursor.fetchmany(READ_CHUNK):
            yield [payload for (payload,) in rows]
    finally:
        connection.close()


async def tradewire_replay(records: int, backend: Backend) -> dict[str, Any]:
    """Write a journal of filled orders, then time its replay in parts and `Engine.start()` whole."""
    with tempfile.TemporaryDirectory(prefix="tradewire-compare-") as directory:
        engine, _ = engine_for(Path(directory), "os", "memory", backend)
        path = engine.settings.journal_path
        written = await write_journal(path, records, backend)
        read_ns = decode_ns = apply_ns = 0
        split = Ledger()
        chunks = payload_chunks(path, backend)
        while True:
            began = now_ns()
            payloads = next(chunks, None)
            read_ns += now_ns() - began
            if not payloads:
                break
            began = now_ns()
            decoded = [decode(payload) for payload in payloads]
            decode_ns += now_ns() - began
            began = now_ns()
            for record in decoded:
                split.apply(record)
            apply_ns += now_ns() - began
        del split
        gc.collect()
        began = now_ns()
        replayed = Ledger()
        replayed.replay(open_journal(backend, path, "os").replay())
        replay_ns = now_ns() - began
        del replayed
        gc.collect()
        began = now_ns()
        await engine.start()
        start_ns = now_ns() - began
        ledger = engine.manager.ledger
        clean = all(report.clean for report in engine.service.reconciliations)
        applied, anomalies = ledger.records_applied, len(ledger.anomalies)
        await engine.stop()
    check = "; ".join(
        text
        for failed, text in (
            (applied < written, f"{applied} of {written} records applied"),
            (anomalies > 0, f"{anomalies} anomalies"),
            (not clean, "reconciliation not clean"),
        )
        if failed
    )
    return {
        "records": written,
        "read_ns": read_ns,
        "decode_ns": decode_ns,
        "apply_ns": apply_ns,
        "replay_ns": replay_ns,
        "start_ns": start_ns,
        "check": check or "ok",
    }


def job(kind: str, n: int, durability: str, backend: Backend) -> dict[str, Any]:
    """One Tradewire job, run in this process on a fresh event loop; `n` is orders, or records to
    replay for the replay job."""
    if kind == "memory":
        figures, _ = run(tradewire_memory(n, durability, backend))
    elif kind == "replay":
        figures, _ = run(tradewire_replay(n, backend))
    else:
        figures, _ = run(tradewire_workload(kind, n, durability, backend))
    return figures


def worker(arguments: argparse.Namespace) -> None:
    """The subprocess side: run one job, write its figures as JSON to `--output`."""
    figures = job(arguments.worker, arguments.n[0], arguments.durability, arguments.journal)
    arguments.output.write_text(json.dumps(figures))


# --- the orchestrator --------------------------------------------------------------------------------


def spawn(module: str, *arguments: str) -> dict[str, Any]:
    """Run `python -m module arguments --output FILE` and return the JSON object it wrote there.

    A file, not stdout: the engines may log to stdout from other threads while the figures are
    written, which would split the JSON."""
    with tempfile.TemporaryDirectory(prefix="tradewire-compare-") as directory:
        output = Path(directory) / "figures.json"
        command = [sys.executable, "-m", module, *arguments, "--output", str(output)]
        done = subprocess.run(  # noqa: S603 - our own modules, run by this interpreter
            command, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False, cwd=REPOSITORY
        )
        if done.returncode != 0 or not output.exists():
            raise RuntimeError(
                f"{' '.join(command[2:])} exited {done.returncode}: {(done.stderr + done.stdout)[-2000:]}"
            )
        figures: dict[str, Any] = json.loads(output.read_text())
    return figures


def tradewire(kind: str, n: int, arguments: argparse.Namespace) -> dict[str, Any]:
    """A Tradewire job in its own subprocess, or here with `--in-process` (quicker, less isolated)."""
    if arguments.in_process:
        return job(kind, n, arguments.durability, arguments.journal)
    return spawn(
        "benchmarks.compare",
        *(
            "--worker",
            kind,
            "--n",
            str(n),
            "--durability",
            arguments.durability,
            "--journal",
            arguments.journal,
        ),
    )


def nautilus(workload: str, orders: int, log_level: str) -> dict[str, Any]:
    return spawn(
        "benchmarks.nautilus_side", "--workload", workload, "--orders", str(orders), "--log-level", log_level
    )


@dataclass
class Comparison:
    """Every run of one workload at one N, for both engines."""

    workload: str
    orders: int
    tradewire: list[dict[str, Any]] = field(default_factory=list)
    nautilus: list[dict[str, Any]] = field(default_factory=list)
    feed: list[dict[str, Any]] = field(default_factory=list)
    """NautilusTrader's idle runs: the same ticks, no orders."""

    def median_ns(self, runs: list[dict[str, Any]]) -> float:
        return statistics.median(r["elapsed_ns"] for r in runs) if runs else 0.0

    @property
    def tradewire_net_ns(self) -> float:
        """Tradewire's elapsed time less its paper venue's feed steps (every 50 market orders), as
        NautilusTrader's is net of its quote ticks."""
        runs = self.tradewire
        return statistics.median(r["elapsed_ns"] - r.get("feed_ns", 0) for r in runs) if runs else 0.0

    @property
    def nautilus_net_ns(self) -> float:
        """Nautilus' elapsed time less its data feed's (one quote tick per order)."""
        return self.median_ns(self.nautilus) - self.median_ns(self.feed)


def compare(arguments: argparse.Namespace, with_nautilus: bool) -> list[Comparison]:
    comparisons = []
    for orders in arguments.n:
        for workload in WORKLOADS:
            comparison = Comparison(workload, orders)
            for repetition in range(arguments.repeat):
                nautilus_first = repetition % 2 == 1
                if with_nautilus and nautilus_first:
                    comparison.nautilus.append(nautilus(workload, orders, arguments.nautilus_log_level))
                comparison.tradewire.append(tradewire(workload, orders, arguments))
                if with_nautilus and not nautilus_first:
                    comparison.nautilus.append(nautilus(workload, orders, arguments.nautilus_log_level))
                if with_nautilus and workload == WORKLOADS[0]:
                    comparison.feed.append(nautilus("idle", orders, arguments.nautilus_log_level))
            comparisons.append(comparison)
            print(f"  measured: {workload} x {orders:,}", flush=True)
    for comparison in comparisons:  # both workloads feed the same ticks: one idle figure per N
        if not comparison.feed:
            comparison.feed = next(c.feed for c in comparisons if c.orders == comparison.orders)
    return comparisons


def print_comparisons(comparisons: list[Comparison], durability: str, with_nautilus: bool) -> None:
    rows = []
    for c in comparisons:
        tradewire_ns = c.tradewire_net_ns
        checks = {r["check"] for r in c.tradewire}
        row = [
            c.workload,
            f"{c.orders:,}",
            number(per_second(c.orders, round(tradewire_ns)), 0),
            number(tradewire_ns / c.orders / NS_PER_US),
            number(per_second(c.orders, round(c.median_ns(c.tradewire))), 0),
        ]
        if with_nautilus:
            gross, net = c.median_ns(c.nautilus), c.nautilus_net_ns
            row += [
                number(per_second(c.orders, round(net)), 0),
                number(net / c.orders / NS_PER_US),
                number(per_second(c.orders, round(gross)), 0),
                ratio(net, tradewire_ns),
            ]
        else:
            row += ["-", "-", "-", "-"]
        rows.append([*row, ", ".join(sorted(checks))])
    print_table(
        f"Throughput, median of repetitions (Tradewire: {durability}); both net of their market data"
        " feed (Tradewire's paper venue steps, NautilusTrader's quote ticks); ratio = Tradewire /"
        " NautilusTrader",
        [
            "workload",
            "N",
            "Tradewire orders/s",
            "TW us/order",
            "TW incl. feed/s",
            "Nautilus orders/s",
            "NT us/order",
            "NT incl. feed/s",
            "ratio",
            "Tradewire check",
        ],
        rows,
    )
    latency_rows = []
    for c in comparisons:
        if c.workload != "market":
            continue
        pooled = [s for r in c.tradewire for s in r["latency_ns"]]
        latency_rows.append(["Tradewire signal -> venue send", f"{c.orders:,}", *_spread(pooled)])
        if with_nautilus:
            submits = [s for r in c.nautilus for s in r["submit_ns"]]
            latency_rows.append(["NautilusTrader submit_order call", f"{c.orders:,}", *_spread(submits)])
    print_table(
        "Latency per market order, all repetitions pooled, us",
        ["what", "N", "samples", "median", "p99", "p99.9", "max"],
        latency_rows,
    )


def _spread(samples_ns: list[int]) -> list[str]:
    if not samples_ns:
        return ["0", "-", "-", "-", "-"]
    d = Distribution.of(samples_ns)
    return [f"{d.count:,}", number(d.median_us), number(d.p99_us), number(d.p999_us), number(d.max_us)]


def print_memory_and_replay(memory: dict[str, Any], replay: dict[str, Any], journal: str) -> None:
    orders = memory["orders"]
    print_table(
        f"Memory per retained closed (FILLED) order, Tradewire: tracemalloc around {orders:,} orders,"
        " after gc",
        ["what", "bytes/order"],
        [
            [
                "retained by the engine (ledger, portfolio, fills)",
                number(memory["retained_bytes"] / orders, 0),
            ],
            ["retained by the paper venue (the simulated broker)", number(memory["venue_bytes"] / orders, 0)],
            ["peak while running (both)", number(memory["peak_bytes"] / orders, 0)],
        ],
    )
    records = replay["records"]
    rows = []
    for what, key in (
        (f"{journal} read (payloads, {READ_CHUNK:,} at a time)", "read_ns"),
        ("decode (msgspec, JournalRecord)", "decode_ns"),
        ("ledger apply", "apply_ns"),
        ("Journal.replay() + Ledger.replay, as recovery runs it", "replay_ns"),
        ("Engine.start(): replay + venue connect + reconciliation", "start_ns"),
    ):
        seconds = replay[key] / NS_PER_S
        rows.append([what, f"{seconds:.2f}", number(per_second(records, replay[key]), 0)])
    print_table(
        f"Journal replay, Tradewire ({journal}): {records:,} records ({records // 5:,} filled orders);"
        f" check: {replay['check']}",
        ["step", "seconds", "records/s"],
        rows,
    )


def orchestrate(arguments: argparse.Namespace) -> dict[str, Any]:
    version = _nautilus_version()
    with_nautilus = version is not None and not arguments.no_nautilus
    where = "Tradewire's jobs in this process" if arguments.in_process else "each run in its own subprocess"
    print(environment_line(f"uvloop when installed ({where})"))
    nautilus_line = (
        f"NautilusTrader {version}: BacktestEngine, SIM venue NETTING margin, EUR/USD, log level"
        f" {arguments.nautilus_log_level}, warm-up {WARMUP}"
        if with_nautilus
        else "NautilusTrader: not run"
    )
    print(
        f"Tradewire: journal {JOURNAL_NAMES[arguments.journal]}, durability={arguments.durability},"
        " paper venue in memory,"
        f" warm-up {WARMUP} | {nautilus_line} | repetitions: {arguments.repeat},"
        " alternating which engine runs first"
    )
    if version is None:
        print(INSTALL_HINT)
    comparisons = compare(arguments, with_nautilus)
    print_comparisons(
        comparisons,
        f"{JOURNAL_NAMES[arguments.journal]} journal, durability={arguments.durability}",
        with_nautilus,
    )
    memory = tradewire("memory", arguments.memory_orders, arguments)
    replay = tradewire("replay", arguments.replay_events, arguments)
    print_memory_and_replay(memory, replay, JOURNAL_NAMES[arguments.journal])
    return {
        "nautilus": version,
        "comparisons": [asdict(c) for c in comparisons],
        "memory": memory,
        "replay": replay,
    }


def _nautilus_version() -> str | None:
    if importlib.util.find_spec("nautilus_trader") is None:
        return None
    return importlib.metadata.version("nautilus_trader")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser("python -m benchmarks.compare", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--n", type=int, action="append", help="orders per workload (repeatable; default 10,000)"
    )
    parser.add_argument("--durability", choices=["fsync", "os"], default="fsync", help="Tradewire's journal")
    parser.add_argument(
        "--journal", choices=["sqlite", "log"], default="sqlite", help="Tradewire's journal backend"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="repetitions per engine and workload (default 3)"
    )
    parser.add_argument("--memory-orders", type=int, default=10_000, help="orders for the memory figure")
    parser.add_argument("--replay-events", type=int, default=REPLAY_EVENTS, help="journal records to replay")
    parser.add_argument("--nautilus-log-level", default="ERROR", help="NautilusTrader's log level (ERROR)")
    parser.add_argument("--no-nautilus", action="store_true", help="only Tradewire's figures")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run Tradewire's jobs in this process, not one subprocess each (quicker start, less isolation)",
    )
    parser.add_argument("--worker", choices=["market", "limit", "memory", "replay"], help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    arguments.n = arguments.n or [10_000]
    if min(arguments.n) < 2 or arguments.repeat < 1 or arguments.memory_orders < 1:
        parser.error("--n must be at least 2, --repeat and --memory-orders at least 1")
    if arguments.replay_events < 10:
        parser.error("--replay-events must be at least 10 (one pair of filled orders)")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse(argv)
    if arguments.worker:
        if arguments.output is None:
            parser_error = "--worker needs --output FILE (it is how benchmarks.compare runs its subprocesses)"
            raise SystemExit(parser_error)
        worker(arguments)
        return
    began = now_ns()
    figures = orchestrate(arguments)
    if arguments.json:
        arguments.json.write_text(json.dumps(figures))
    print(f"\ncomparison took {(now_ns() - began) / NS_PER_S:.1f} s")


if __name__ == "__main__":
    main()
