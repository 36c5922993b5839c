"""Small helpers shared by the benchmarks: timing, percentiles, tables and the environment line.

Benchmarks report figures; they never assert on them. Every figure is taken with
`time.perf_counter_ns` and converted only when printed.
"""

import asyncio
import importlib.metadata
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

now_ns: Callable[[], int] = time.perf_counter_ns
"""Monotonic nanoseconds; the one clock every benchmark times with."""

NS_PER_US = 1_000
NS_PER_S = 1_000_000_000


def percentile(sorted_samples: Sequence[int], fraction: float) -> int:
    """Nearest-rank percentile of samples already sorted ascending (`fraction` 0.99 is p99).

    With fewer than 1,000 samples p99.9 is the maximum; the sample count is printed beside it.
    """
    if not sorted_samples:
        raise ValueError("no samples")
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[min(rank, len(sorted_samples)) - 1]


@dataclass(frozen=True)
class Distribution:
    """Latency samples summarised, in microseconds."""

    count: int
    mean_us: float
    median_us: float
    p99_us: float
    p999_us: float
    max_us: float

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> "Distribution":
        ordered = sorted(samples_ns)
        return cls(
            count=len(ordered),
            mean_us=sum(ordered) / len(ordered) / NS_PER_US,
            median_us=percentile(ordered, 0.5) / NS_PER_US,
            p99_us=percentile(ordered, 0.99) / NS_PER_US,
            p999_us=percentile(ordered, 0.999) / NS_PER_US,
            max_us=ordered[-1] / NS_PER_US,
        )


def per_second(count: int, elapsed_ns: int) -> float:
    return count * NS_PER_S / elapsed_ns if elapsed_ns > 0 else math.inf


def ratio(value: float, reference: float) -> str:
    """`value / reference` as "2.31x"; "-" when there is no reference to compare with."""
    if reference == 0 or not math.isfinite(reference) or not math.isfinite(value):
        return "-"
    return f"{value / reference:.2f}x"


def number(value: float, decimals: int = 1) -> str:
    """Thousands separated, fixed decimals: 12,345.6."""
    return f"{value:,.{decimals}f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain-text table: first column left-aligned, the figures right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    print()
    print(title)
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def event_loop_factory(prefer_uvloop: bool = True) -> tuple[Callable[[], asyncio.AbstractEventLoop], str]:
    """uvloop's loop when it is installed and wanted, else asyncio's; with its name for the output."""
    if prefer_uvloop:
        try:
            import uvloop  # noqa: PLC0415 - optional: the `fast` extra
        except ImportError:
            pass
        else:
            factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
            return factory, f"uvloop {importlib.metadata.version('uvloop')}"
    return asyncio.new_event_loop, "asyncio (default loop)"


def run(main: Coroutine[Any, Any, T], prefer_uvloop: bool = True) -> tuple[T, str]:
    """Run `main` on a fresh loop; returns its result and the loop's name."""
    factory, name = event_loop_factory(prefer_uvloop)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main), name


def environment_line(loop_name: str) -> str:
    """One line saying what the figures were measured on; the load average shows a busy machine."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"environment: {platform.python_implementation()} {platform.python_version()}"
        f" | loop: {loop_name} | CPUs: {os.cpu_count()} | load average: {load}"
        f" | {platform.system()} {platform.machine()} | date: {time.strftime('%Y-%m-%d')}"
        f" | argv: {' '.join(sys.argv[1:]) or '(defaults)'}"
    )
