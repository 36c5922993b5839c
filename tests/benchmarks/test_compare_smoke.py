"""The side-by-side benchmark still runs end to end, so it cannot rot unnoticed between releases.

They assert what every run must produce (counts, checks), never how fast anything was. The full
comparison runs Tradewire's jobs in-process to stay quick; NautilusTrader always runs in
subprocesses, and one Tradewire job goes through the subprocess worker too.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.lifecycle import WARMUP

from benchmarks import compare

ORDERS = 50


def comparison(figures: dict[str, Any], workload: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in figures["comparisons"] if c["workload"] == workload)
    return found


def test_compare_runs_both_engines_and_every_tradewire_order_is_filled_or_canceled(tmp_path: Path) -> None:
    pytest.importorskip("nautilus_trader", reason="the `bench` extra is not installed")
    output = tmp_path / "figures.json"

    compare.main(
        [
            *("--n", str(ORDERS), "--repeat", "1", "--durability", "os"),
            *("--memory-orders", "20", "--replay-events", "500", "--json", str(output), "--in-process"),
        ]
    )

    figures = json.loads(output.read_text())
    assert figures["nautilus"]
    market, limit = comparison(figures, "market"), comparison(figures, "limit")
    for run in market["tradewire"]:
        assert run["orders"] == ORDERS
        assert run["fills"] == run["orders"]
        assert len(run["latency_ns"]) == ORDERS
        assert run["elapsed_ns"] > 0
        assert run["check"] == "ok"
    for run in limit["tradewire"]:
        assert run["canceled"] == ORDERS
        assert run["elapsed_ns"] > 0
        assert run["check"] == "ok"
    for run in market["nautilus"]:
        assert run["submitted"] == WARMUP + ORDERS
        assert run["filled"] == run["submitted"]
        assert run["position_events"] == run["submitted"]
        assert len(run["submit_ns"]) == ORDERS
        assert run["elapsed_ns"] > 0
    for run in limit["nautilus"]:
        assert run["canceled"] == run["submitted"] == WARMUP + ORDERS
        assert run["elapsed_ns"] > 0
    assert all(run["elapsed_ns"] > 0 for run in market["feed"])
    assert figures["memory"]["retained_bytes"] > 0
    assert figures["replay"]["records"] > 0
    assert figures["replay"]["check"] == "ok"


def test_a_tradewire_job_in_its_own_subprocess_reports_every_order_filled() -> None:
    arguments = compare.parse(["--n", "5", "--durability", "os"])

    figures = compare.tradewire("market", 5, arguments)

    assert figures["orders"] == 5
    assert figures["fills"] == 5
    assert len(figures["latency_ns"]) == 5
    assert figures["check"] == "ok"
