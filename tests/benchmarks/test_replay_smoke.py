"""The replay benchmark still runs end to end on a tiny journal, so it cannot rot unnoticed.

It asserts what every run must produce (the checks, the cached journal), never how fast anything was.
"""

import asyncio
from pathlib import Path

import pytest

from benchmarks import replay
from tradewire.journal.backends import Backend


@pytest.mark.parametrize("backend", ["sqlite", "log"])
def test_the_replay_benchmark_checks_out_and_reuses_its_cached_journal(
    backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--records", "400", "--runs", "1", "--memory-orders", "40", "--journal", backend]
    replay.main([*arguments, "--cache-dir", str(tmp_path)])
    output = capsys.readouterr().out
    [journal] = tmp_path.glob(f"replay-400-*.{backend}")
    written = journal.stat().st_mtime_ns

    assert asyncio.run(replay.cached_journal(tmp_path, 400, backend)) == journal
    assert journal.stat().st_mtime_ns == written
    assert "writing 400 records" in output
    steps = [line for line in output.splitlines() if line.startswith(("journal replay", "Engine.start"))]
    assert len(steps) == 3
    assert all(line.rstrip().endswith(" ok") for line in steps), steps
    assert "the mix (as in 1.), with idempotency keys" in output
