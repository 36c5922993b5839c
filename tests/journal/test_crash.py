"""A real crash: a child process appends, flushes, then kills itself with SIGKILL mid-stream."""

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tradewire.journal.backends import FILE_NAMES, Backend, open_journal
from tradewire.journal.store import Durability

from . import numbered_fill

TESTS_DIRECTORY = Path(__file__).resolve().parent.parent

CHILD = """
import asyncio, os, random, signal, sys
sys.path.insert(0, {tests!r})
from journal import numbered_fill
from tradewire.journal.backends import open_journal
from pathlib import Path

async def main():
    journal = open_journal({backend!r}, Path({path!r}), {durability!r})
    await journal.start()
    for number in range(1, {flushed} + 1):
        journal.append(numbered_fill(number))
        if number % 10 == 0:
            await journal.flush()
    await journal.flush()
    print("flushed", journal.durable_sequence, flush=True)
    for number in range({flushed} + 1, {flushed} + {unflushed} + 1):
        journal.append(numbered_fill(number))
        if number % 500 == 0:
            await asyncio.sleep(0)
    await asyncio.sleep(random.uniform(0, 0.004))  # so the kill can land mid-commit
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.parametrize(
    ("backend", "durability", "unflushed"),
    [
        ("sqlite", "fsync", 0),
        ("sqlite", "fsync", 2_050),
        ("sqlite", "os", 2_050),
        ("log", "fsync", 2_050),
        ("log", "os", 2_050),
    ],
)
async def test_every_flushed_record_survives_a_kill_and_the_journal_is_a_gap_free_prefix(
    tmp_path: Path, backend: Backend, durability: Durability, unflushed: int, attempt: int
) -> None:
    """Repeated because where the kill lands (before, during or after a commit) varies by run."""
    path = tmp_path / FILE_NAMES[backend]
    flushed = 300
    script = CHILD.format(
        tests=str(TESTS_DIRECTORY),
        backend=backend,
        path=str(path),
        durability=durability,
        flushed=flushed,
        unflushed=unflushed,
    )

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(child.communicate(), timeout=120)

    assert child.returncode == -signal.SIGKILL, stderr.decode()
    assert stdout.decode().splitlines() == [f"flushed {flushed}"]
    journal = open_journal(backend, path, "fsync")
    try:
        replayed = list(journal.replay())
        stored = len(replayed)
        assert flushed <= stored <= flushed + unflushed
        assert replayed == [(number, numbered_fill(number)) for number in range(1, stored + 1)]
        assert journal.last_sequence == stored
    finally:
        await journal.close()
