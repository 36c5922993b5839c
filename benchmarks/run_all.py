"""Run every benchmark in this folder that has a `main()`, one after the other, in this process.

    .venv/bin/python -m benchmarks.run_all [--only NAME ...]

Each benchmark runs with its own defaults (as if started with no arguments) and prints its own
figures. A benchmark that fails is reported and the rest still run; the exit status is 1 then.
"""

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from benchmarks.harness import NS_PER_S, now_ns

NOT_BENCHMARKS = frozenset(
    {"__init__", "__main__", "harness", "run_all", "nautilus_side", "profile_lifecycle"}
)
"""Helpers, not benchmarks: `nautilus_side` is `compare`'s worker; `profile_lifecycle` prints a profile."""


def benchmark_names() -> list[str]:
    folder = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if m.name not in NOT_BENCHMARKS)


def run_one(name: str) -> bool:
    """Import `benchmarks.<name>` and call its `main()`; False if it failed."""
    module = importlib.import_module(f"benchmarks.{name}")
    main = getattr(module, "main", None)
    if not callable(main):
        print(f"\n=== benchmarks.{name}: no main(), skipped")
        return True
    print(f"\n=== benchmarks.{name}")
    saved_argv = sys.argv
    sys.argv = [f"benchmarks.{name}"]  # a main() that reads sys.argv sees no arguments: its defaults
    began = now_ns()
    try:
        main()
    except Exception:  # one benchmark's failure is reported; the others still run
        traceback.print_exc()
        print(f"=== benchmarks.{name} FAILED")
        return False
    finally:
        sys.argv = saved_argv
    print(f"=== benchmarks.{name} done in {(now_ns() - began) / NS_PER_S:.1f} s")
    return True


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__.split("\n")[0])
    names = benchmark_names()
    parser.add_argument("--only", action="append", choices=names, help="run only this benchmark (repeatable)")
    arguments = parser.parse_args(argv)
    failed = [name for name in arguments.only or names if not run_one(name)]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
