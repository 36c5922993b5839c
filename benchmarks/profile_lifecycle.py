"""Where the market-order lifecycle spends its time: a pyinstrument profile of the sequential run.

    .venv/bin/python -m benchmarks.profile_lifecycle [--orders N] [--durability fsync|os] [--top K]

The same workload as `benchmarks.compare`'s market row (benchmarks.lifecycle.sequential: signal ->
risk -> journal -> paper venue -> fill -> position, one order at a time) after the warm-up, sampled
by pyinstrument (wall clock, every 0.2 ms, the whole thread including the event loop) on asyncio's
own loop: under uvloop the time the C loop spends (waiting in epoll, running its callbacks) is
charged to whichever Python frame ran last, which showed the paper venue's 4 µs `_take` as 120 µs
per order. The throughput here is therefore asyncio's, not uvloop's. Printed:
the top K functions by own time (time in the function itself, not in what it calls) and by
inclusive time, each as a share of the profiled wall time; then a split by area of the code.
Waiting for the journal's fsync shows up as the event loop's `select`/`run_once` own time.
"""

import argparse
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pyinstrument import Profiler

from benchmarks.harness import NS_PER_S, environment_line, now_ns, print_table, run
from benchmarks.lifecycle import WARMUP, Mode, running, sequential

AREAS = (
    ("journal", ("tradewire/journal/",)),
    ("ledger / portfolio", ("tradewire/oms/ledger", "tradewire/portfolio/")),
    ("risk", ("tradewire/risk/", "tradewire/oms/risk_view", "tradewire/oms/controls")),
    ("order manager / reports", ("tradewire/oms/",)),
    ("sizing / routing / signals", ("tradewire/execution/", "tradewire/domain/signals")),
    ("domain (orders, values, events)", ("tradewire/domain/",)),
    ("paper venue", ("tradewire/venues/",)),
    ("services / runtime", ("tradewire/services/", "tradewire/runtime/")),
    ("benchmark driver", ("benchmarks/",)),
    ("asyncio / uvloop", ("asyncio/", "uvloop", "selectors")),
    ("decimal", ("decimal", "_pydecimal")),
)


def area(path: str) -> str:
    for name, markers in AREAS:
        if any(marker in path for marker in markers):
            return name
    return "other (stdlib, msgspec, builtins)"


def walk(
    frame: Any, caller: str, ancestors: frozenset[str], own: dict[str, float], inclusive: dict[str, float]
) -> None:
    """Sum own time per function, and inclusive time counted once per stack (recursion-safe).

    A built-in (C) function is named with its Python caller, since `SimpleQueue.put` says little
    until one knows who put."""
    key = f"{frame.file_path_short or '?'}:{frame.function}"
    own_key = f"{key} <- {caller}" if key.startswith("<built-in>") else key
    children = [child for child in frame.children if not child.is_synthetic]
    own[own_key] += frame.time - sum(child.time for child in children)
    if key not in ancestors:
        inclusive[key] += frame.time
    for child in children:
        walk(child, key, ancestors | {key}, own, inclusive)


async def profile(orders: int, durability: Mode) -> tuple[Any, int]:
    async with running(durability, "memory") as bench:
        await sequential(bench, WARMUP)
        profiler = Profiler(interval=0.0002, async_mode="disabled")
        began = now_ns()
        profiler.start()
        await sequential(bench, orders)
        profiler.stop()
        elapsed = now_ns() - began
        check = bench.check()
    if check != "ok":
        raise RuntimeError(f"the profiled run is wrong: {check}")
    return profiler.last_session, elapsed


def report(session: Any, elapsed: int, orders: int, top: int) -> None:
    root = session.root_frame()
    own: dict[str, float] = defaultdict(float)
    inclusive: dict[str, float] = defaultdict(float)
    walk(root, "", frozenset(), own, inclusive)
    total = root.time
    print(f"\n{orders:,} orders in {elapsed / NS_PER_S:.2f} s; {total:.2f} s sampled")
    for title, table in (("own time", own), ("inclusive time", inclusive)):
        ranked = sorted(table.items(), key=lambda item: item[1], reverse=True)[:top]
        print_table(
            f"top {top} by {title}",
            ["function", "%", "us/order"],
            [[key, f"{seconds / total:.1%}", f"{seconds * 1e6 / orders:.1f}"] for key, seconds in ranked],
        )
    areas: dict[str, float] = defaultdict(float)
    for key, seconds in own.items():
        areas[area(key.rsplit(" <- ", 1)[-1])] += seconds  # a built-in counts in its caller's area
    print_table(
        "own time by area",
        ["area", "%", "us/order"],
        [
            [name, f"{seconds / total:.1%}", f"{seconds * 1e6 / orders:.1f}"]
            for name, seconds in sorted(areas.items(), key=lambda item: item[1], reverse=True)
        ],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        "python -m benchmarks.profile_lifecycle", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--durability", choices=["fsync", "os"], default="os")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--uvloop",
        action="store_true",
        help="profile on uvloop: its C loop hides where waiting happens, so own times get misattributed",
    )
    arguments = parser.parse_args(argv)
    (session, elapsed), loop_name = run(
        profile(arguments.orders, arguments.durability), prefer_uvloop=arguments.uvloop
    )
    print(environment_line(loop_name))
    report(session, elapsed, arguments.orders, arguments.top)


if __name__ == "__main__":
    main()
